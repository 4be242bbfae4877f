"""Hot-path statements built once, not on every call.

The ORM builds and compiles its SQL anew for every queryset call (lookups, joins, select lists,
ordering): for a hall-slot booking that was most of the request's time, far more than the
database's own work. These helpers build each statement once per model (and database vendor)
from the models' metadata, and convert values with the fields' own methods, so encrypted and
JSON fields, aware datetimes and booleans read and write exactly as through the ORM. They work
on SQLite and PostgreSQL alike (both have RETURNING) and leave every guard where it was: in the
database's constraints and conditional statements. An insert sends `pre_save` and `post_save`
as `save()` does, when anything listens (django-tasks-db does, for its job rows). Statements run
on the driver's own cursor (`cursor()`), or on Django's while anything watches statements.

Use them only where a request's cost matters; everywhere else the ORM is clearer.

The package: `base` (connections, names, `execute`, `fetch_one`), `writes` (inserts), `reads`
(selects); everything is used as `sql.<name>`.
"""

from .base import column, cursor, default_db, execute, fetch_one, param, qn, table
from .reads import id_list, integers, one_of, select, select_one, values
from .writes import (
    insert,
    insert_many,
    insert_select,
    insert_together,
    insert_unless_taken,
    row_values,
    source_rows,
)

__all__ = [
    "column",
    "cursor",
    "default_db",
    "execute",
    "fetch_one",
    "insert",
    "insert_many",
    "insert_select",
    "insert_together",
    "insert_unless_taken",
    "id_list",
    "integers",
    "one_of",
    "param",
    "qn",
    "row_values",
    "select",
    "select_one",
    "source_rows",
    "table",
    "values",
]
