"""The migrations build exactly the tables the code expects, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.store.db import DatabaseNotReady, current_revision, head_revision, make_engine, require_migrated


def test_migrated_schema_matches_the_models(db: Engine) -> None:
    with db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert current_revision(db) == head_revision()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_unmigrated_database_is_refused_with_the_fix(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    try:
        require_migrated(engine)
    except DatabaseNotReady as exc:
        assert "fieldbot db upgrade" in str(exc)
    else:
        raise AssertionError("an empty database passed as migrated")
    assert "person" not in inspect(engine).get_table_names()
