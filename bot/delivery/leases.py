"""Named locks with an expiry in the database: one scheduler, one sender, whatever the processes."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import case, text, update
from sqlmodel import Session, col, select

from bot.store.insert import dialect_insert
from models import Lease

SCHEDULER = "scheduler"


def process_id() -> str:
    """Who holds a lease, as an operator reads it: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def database_now(session: Session) -> dt.datetime:
    """The database's own clock, so every process judges a lease by the same time.

    PostgreSQL's server clock; SQLite's file lives on one machine, whose clock all its processes read.
    """
    if session.get_bind().dialect.name == "postgresql":
        value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC)
    raw = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return dt.datetime.fromisoformat(str(raw)).replace(tzinfo=dt.UTC)


def try_acquire(*, session: Session, name: str, holder: str, ttl: dt.timedelta) -> bool:
    """Take or renew the lease by the database's clock; true while `holder` has it.

    Commits nothing itself.
    """
    now = database_now(session)
    expires = now + ttl
    renewed = session.execute(
        update(Lease)
        .where(col(Lease.name) == name, (col(Lease.holder) == holder) | (col(Lease.expires_at) < now))
        .values(
            holder=holder,
            expires_at=expires,
            acquired_at=case((col(Lease.holder) == holder, col(Lease.acquired_at)), else_=now),
        )
        .returning(col(Lease.name))
    ).first()
    if renewed is not None:
        return True
    table = Lease.__table__  # type: ignore[attr-defined]
    insert = dialect_insert(session, table)
    created = session.execute(
        insert.values(name=name, holder=holder, expires_at=expires, acquired_at=now)
        .on_conflict_do_nothing()
        .returning(table.c.name)
    ).first()
    return created is not None


def release(*, session: Session, name: str, holder: str) -> None:
    lease = session.get(Lease, name)
    if lease is not None and lease.holder == holder:
        session.delete(lease)


def current(*, session: Session, name: str) -> Lease | None:
    return session.get(Lease, name)


def live_holder(*, session: Session, name: str) -> str | None:
    """Who holds the lease now by the database's clock; None if nobody or it has lapsed."""
    lease = session.get(Lease, name)
    if lease is None or lease.expires_at < database_now(session):
        return None
    return lease.holder


def holders(*, session: Session, now: dt.datetime | None = None) -> dict[str, str | None]:
    """Each lock and the process holding it (None where it has lapsed), for /healthz."""
    now = database_now(session) if now is None else now
    return {
        lease.name: lease.holder if lease.expires_at >= now else None
        for lease in session.exec(select(Lease).order_by(col(Lease.name))).all()
    }
