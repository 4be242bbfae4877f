"""Writing Excel sheets (openpyxl) that are safe to open and sort.

- **No text becomes a formula.** A name typed as `=HYPERLINK("http://x","王")` would be written
  by openpyxl as a formula and evaluated by Excel or LibreOffice (formula injection). Every text
  cell is written as text, and text that begins like a formula (`=`, `+`, `-`, `@`, a tab or a
  carriage return) is also marked with Excel's quote prefix, so editing the cell does not turn
  it into one either.
- **Dates and times are date cells**, in the zone the reader lives in (the merchant's): Excel
  has no zones, so an aware datetime is converted to that zone and written without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "hh:mm"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


class LocalTime:
    """A time of day read off an instant in the sheet's zone (a time cell, "hh:mm")."""

    def __init__(self, moment: dt.datetime | None):
        self.moment = moment


def _cell_value(value, tz: ZoneInfo | None):
    if isinstance(value, LocalTime):
        if value.moment is None:
            return None, None
        local = value.moment.astimezone(tz) if tz else value.moment
        return local.time().replace(second=0, microsecond=0, tzinfo=None), TIME_FORMAT
    if isinstance(value, dt.datetime):
        local = value.astimezone(tz) if tz and value.tzinfo else value
        return local.replace(tzinfo=None, microsecond=0), DATETIME_FORMAT
    if isinstance(value, dt.date):
        return value, DATE_FORMAT
    return value, None


def append_row(ws, values: Iterable, *, tz: ZoneInfo | None = None) -> None:
    """Append `values` as a row of `ws`: text as text, dates and times as date cells in `tz`."""
    converted = [_cell_value(v, tz) for v in values]
    ws.append([v for v, _ in converted])
    for cell, (value, number_format) in zip(ws[ws.max_row], converted, strict=True):
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl made "=…" a formula
            if value.startswith(FORMULA_LIKE):
                cell.quotePrefix = True
        elif number_format:
            cell.number_format = number_format
