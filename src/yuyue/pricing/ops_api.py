"""Operators' pricing endpoints: the public-holiday schedule."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema

from yuyue.accounts.auth import operator_bearer
from yuyue.core.errors import DomainError
from yuyue.core.schemas import Day

from . import holidays

router = Router(tags=["operators"])


class PublicDayIn(Schema):
    date: Day
    kind: Literal["holiday", "workday"]
    name: str = Field("", max_length=60)


class PublicDayOut(PublicDayIn):
    pass


class CalendarOut(Schema):
    package_version: str
    package_years: list[int] = Field(description="First and last year chinese-calendar knows.")
    entered_years: list[int] = Field(description="Years with days entered by operators.")
    unknown_years: list[int] = Field(
        description="Years within the coming 12 months whose schedule nobody knows: their "
        "holidays are quoted as ordinary days (with a calendar_unknown line)."
    )


@router.get("/ops/public-days", response=CalendarOut, auth=operator_bearer)
def holiday_calendar(request):
    """Which years' public-holiday schedule is known, and from where."""
    return holidays.calendar_status()


@router.put("/ops/public-days/{year}", response=list[PublicDayOut], auth=operator_bearer)
def set_public_days(request, year: int, body: list[PublicDayIn]):
    """Enter (replace) a year's holidays and adjusted working days 调休, as announced."""
    if not 2000 <= year <= 2100:
        raise DomainError("invalid_input", "year is 2000 to 2100.")
    return holidays.set_year(actor=request.auth, year=year, days=[d.dict() for d in body])
