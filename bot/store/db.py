"""One engine per process, one session per unit of work, and the migrations that shape the database."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

import models
from bot.files import private_file, private_folder, tighten
from bot.store import totals

MIGRATIONS = Path(models.__file__).resolve().parent / "migrations"
SIDE_FILES = ("-wal", "-shm", "-journal")


class DatabaseNotReady(Exception):
    """The database is missing migrations; the message says the one command that fixes it."""


class DatabaseInUse(Exception):
    """Another process already serves this SQLite file."""


def _database_file(database: str | None) -> Path | None:
    """The file behind an SQLite URL's database part; None for memory and `file:` URIs."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs: WAL and foreign keys on SQLite.

    An SQLite file is made with mode 0600 before SQLite opens it (its WAL and shared-memory files take
    that mode), and one left readable by others by an older version is tightened. The sessions of
    the process keep the aggregates (bot/store/totals.py) from here on.
    """
    totals.register_listeners()
    parsed = make_url(url)
    # Errors must not carry the statement's values (phones, message text) into logs.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        database = _database_file(parsed.database)
        if database is not None:
            private_folder(database.parent)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        if database is not None:

            @event.listens_for(engine, "do_connect")
            def _private(*_args: Any) -> None:
                # SQLite gives its -wal, -shm and -journal files the mode of the database file.
                # A folder it cannot write to makes SQLite fail next, with its own one-line reason.
                with contextlib.suppress(OSError):
                    private_file(database)
                    for suffix in SIDE_FILES:
                        tighten(database.with_name(database.name + suffix))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")  # erased personal data is overwritten, not freed
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    cfg = _alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_migrated(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the database is at the newest migration."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "not migrated" if current is None else f"at migration {current}, code wants {head}"
        raise DatabaseNotReady(f"the database is {state}: run `fieldbot db upgrade` first")


class SqliteProcessLock:
    """Only one serving process per SQLite file: the second is refused with a clear message."""

    def __init__(self, engine: Engine):
        database = engine.url.database
        self.path = Path(f"{database}.lock") if database and database != ":memory:" else None
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(
                f"another Fieldbot process is already serving {self.path.with_suffix('')}; "
                "one process per SQLite file — use PostgreSQL (FIELDBOT_DATABASE_URL) "
                "to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
