"""INSERT statements that work on both databases: every insert with ON CONFLICT goes through here.

`dialect_insert` gives the PostgreSQL or the SQLite `insert` for the session's database (both offer
`on_conflict_do_nothing`, `on_conflict_do_update`, `excluded` and `returning`); `insert_many` writes
many rows in one statement.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, Text, bindparam, cast, func
from sqlalchemy import column as sa_column
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Table) -> Any:
    """`insert(table)` of the session's database, PostgreSQL or SQLite (typed Any: the two differ)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_MANY: dict[tuple[str, str, tuple[str, ...]], Any] = {}  # built statements, see insert_many


def insert_many(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Callable[[Any], Any] | None = None,
    *,
    name: str = "",
) -> None:
    """INSERT many rows (all with the same keys) in one statement, `conflict` adding ON CONFLICT.

    On PostgreSQL the rows go as one JSON array that the server reads with json_to_recordset: one
    statement, one parameter and one round trip whatever their number, in the rows' order. SQLite
    takes them by executemany. The statement is built once per `name` (which must be given with
    `conflict`) and columns.
    """
    if not rows:
        return
    assert conflict is None or name, "a statement with ON CONFLICT needs a name to be kept by"
    dialect = session.get_bind().dialect.name
    names = tuple(rows[0])
    key = (dialect, name or table.name, names)
    stmt = _MANY.get(key)
    if stmt is None:
        if dialect == "postgresql":
            records = (
                func.json_to_recordset(cast(bindparam("many", type_=Text()), postgresql.JSON))
                .table_valued(*(sa_column(n, table.c[n].type) for n in names))
                .render_derived(name="many", with_types=True)
            )
            source = sa_select(*(records.c[n] for n in names))
            stmt = postgresql.insert(table).from_select(list(names), source)
        else:
            stmt = sqlite.insert(table)
        stmt = _MANY[key] = conflict(stmt) if conflict else stmt
    if dialect == "postgresql":
        session.execute(stmt, {"many": json.dumps(rows, default=_json_value, ensure_ascii=False)})
    else:
        session.execute(stmt, rows)


def _json_value(value: object) -> str:
    """Dates and times as PostgreSQL reads them from JSON text (ISO 8601, with the zone)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a timezone-aware column")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")
