"""Paging parameters shared by every list endpoint."""

from ninja import Query

# Far past any real list, and safely inside a 64-bit integer with the limit added: the databases
# take OFFSET as a bigint, and SQLite reads a larger literal as a float ("datatype mismatch").
MAX_OFFSET = 1_000_000_000


def offset_param():
    """`offset: int = offset_param()`: how many rows to skip, 0 to MAX_OFFSET."""
    return Query(0, ge=0, le=MAX_OFFSET)
