"""Money and durations as a customer reads them on the pages."""

import pytest
from django.template import Context, Template
from django.utils import translation

from yuyue.web.templatetags.display import duration
from yuyue.web.templatetags.money import fen


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "¥0.00"),
        (1, "¥0.01"),
        (12000, "¥120.00"),
        (12050, "¥120.50"),
        (123456, "¥1,234.56"),
        (10**12 + 7, "¥10,000,000,000.07"),  # exact far past a float's cents
        (-250, "-¥2.50"),
        ("12000", "¥120.00"),
        (None, ""),
        ("abc", ""),
    ],
)
def test_fen_shows_exact_yuan(value, shown):
    assert fen(value) == shown


def test_fen_in_a_template():
    rendered = Template("{% load money %}{{ p|fen }}").render(Context({"p": 32000}))
    assert rendered == "¥320.00"


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (120, "2 h"), (240, "4 h"), (None, "")],
)
def test_duration(minutes, shown):
    with translation.override("en"):
        assert duration(minutes) == shown


def test_duration_in_chinese():
    with translation.override("zh-hans"):
        assert [duration(m) for m in (45, 60, 90)] == ["45 分钟", "1 小时", "1 小时 30 分钟"]
