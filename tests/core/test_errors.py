"""Every refusal code has a status and a message in both languages."""

import re

import pytest

from yuyue.core.errors import CATALOGUE, DomainError


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_speaks_both_languages(code):
    status, en, zh = CATALOGUE[code]
    assert 400 <= status < 600
    assert en and zh and en != zh
    assert re.search(r"[\u4e00-\u9fff]", zh), "the zh-Hans message must be Chinese"
    assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh))


def test_unknown_codes_are_a_bug():
    with pytest.raises(ValueError):
        DomainError("no_such_code")
