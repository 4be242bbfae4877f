"""China's resident ID numbers (居民身份证号码), for booking forms and providers' real names."""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as NumberInvalid

# ASCII digits only: \d would take full-width, Arabic-Indic, Devanagari or bold digits
_ID_RE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


def valid_id_number(value: str) -> bool:
    """GB 11643-1999 (python-stdnum's cn.ric: a real birth date, the ISO 7064 MOD 11-2 check
    digit), written in ASCII digits and X only, born in 1900 or later and not in the future."""
    value = value.upper()
    if not _ID_RE.fullmatch(value):
        return False
    try:
        ric.validate(value)
        birth = ric.get_birth_date(value)
    except NumberInvalid:
        return False
    return dt.date(1900, 1, 1) <= birth <= dt.date.today()
