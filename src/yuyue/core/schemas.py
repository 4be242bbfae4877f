"""Shapes shared by the API's bodies."""

from __future__ import annotations

from typing import Any, ClassVar

from ninja import Schema
from pydantic import model_validator


class PatchSchema(Schema):
    """A PATCH body: a field left out is unchanged; a field sent as null is refused unless it is
    one of `NULLABLE` (where null means "none": a hall's location, a slot's capacity...). Without
    this an explicit null would reach a column that cannot hold it."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

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
