"""`fieldbot backup`: a consistent copy of an SQLite database, taken while the bot keeps serving."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.files import private_folder
from bot.store.db import is_sqlite

PG_DUMP_HINT = (
    "backup copies SQLite databases; for PostgreSQL use pg_dump "
    "(e.g. `pg_dump --format=custom --file=fieldbot.dump DBNAME`)"
)


class BackupError(Exception):
    """The copy could not be made; the message is one line for the operator."""


@dataclass(frozen=True)
class Copied:
    path: Path
    pages: int
    size: int


def sqlite_path(engine: Engine) -> Path:
    """The database file behind an engine, or BackupError when it is not a file SQLite serves."""
    if not is_sqlite(engine):
        raise BackupError(PG_DUMP_HINT)
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory: there is no file to copy")
    path = Path(database)
    if not path.exists():
        raise BackupError(f"no database at {path}")
    return path


def backup(engine: Engine, out: Path) -> Copied:
    """Copy the live database to `out` with SQLite's online backup API, check it, then move it in.

    The copy is one snapshot: the backup runs in a single step under a read transaction, and in WAL
    mode that blocks no writer. It is written beside `out` first, so a failed copy never leaves a
    half file under the name an operator restores from; it holds personal data, so it is 0600.
    """
    source = sqlite_path(engine)
    if out.resolve() == source.resolve():
        raise BackupError("the backup would overwrite the database itself; choose another --out")
    if out.is_dir():
        raise BackupError(f"{out} is a folder; give a file name")
    private_folder(out.parent)
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)  # every page in one step: one consistent snapshot
            # A copy that stands alone: no -wal file next to it is needed to read it.
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchall()
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        if check != [("ok",)]:
            raise BackupError(f"the copy failed its integrity check: {check[0][0]}")
        os.replace(partial, out)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Copied(out, pages, out.stat().st_size)
