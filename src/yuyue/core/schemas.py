"""Shapes shared by the API's bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, model_validator


def whole(value: Any) -> Any:
    """A whole number as JSON has it: 100 or 100.0 (JSON Schema's integer), never true, "100"
    or 100.5. Money in fen, counts and points are taken this way."""
    if isinstance(value, bool | str):
        raise ValueError("a whole number is expected")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number is expected")
        return int(value)
    return value


# `int` in the document, taken as a whole number only (not text, not a truth value)
Whole = Annotated[int, BeforeValidator(whole)]


def _text_only(what: str):
    def check(value: Any) -> Any:
        """JSON has no dates: they come as text. A number is refused (pydantic would read it as
        seconds since 1970)."""
        if isinstance(value, bool | int | float):
            raise ValueError(f"{what} is expected, as text")
        return value

    return BeforeValidator(check)


# A date in a body: "2027-03-14"
Day = Annotated[dt.date, _text_only("a date YYYY-MM-DD")]
# An instant in a body, with its offset: "2027-03-14T09:30:00+08:00"
Moment = Annotated[dt.datetime, _text_only("a date and time with its offset")]
# A wall-clock time "HH:MM", 00:00 to 23:59
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# Some text that is not only spaces
WORDS = r"\S"
# A day of the week: 0 is Monday, 6 Sunday (Python's and our rules' numbering)
Weekday = Annotated[int, Field(ge=0, le=6)]


class PatchSchema(Schema):
    """A PATCH body: a field left out is unchanged; a field sent as null is refused unless it is
    one of `NULLABLE` (where null means "none": a hall's location, a slot's capacity...). Without
    this an explicit null would reach a column that cannot hold it."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @staticmethod
    def _document(schema: dict, model) -> None:
        """The document says the same: only NULLABLE fields take null."""
        for name, prop in schema.get("properties", {}).items():
            if name in model.NULLABLE or "anyOf" not in prop:
                continue
            kept = [branch for branch in prop["anyOf"] if branch.get("type") != "null"]
            if len(kept) == 1:
                del prop["anyOf"]
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept

    model_config = ConfigDict(json_schema_extra=_document)

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required_columns(cls, data: Any) -> Any:
        raw = getattr(data, "_obj", data)  # ninja hands the body over in a DjangoGetter
        if isinstance(raw, dict):
            nulls = sorted(
                k
                for k, v in raw.items()
                if v is None and k in cls.model_fields and k not in cls.NULLABLE
            )
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null: leave it out to keep it")
        return data
