"""Named locks with an expiry in the database: one scheduler, one sender, whatever the processes."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models import Lease

SCHEDULER = "scheduler"


def process_id() -> str:
    """Who holds a lease, as an operator reads it: host, pid and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def try_acquire(
    *, session: Session, name: str, holder: str, ttl: dt.timedelta, now: dt.datetime
) -> bool:
    """Take or renew the lease; true while `holder` has it. Commits nothing itself."""
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
    dialect = session.get_bind().dialect.name
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
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


def holders(*, session: Session, now: dt.datetime) -> dict[str, str | None]:
    """Each lock and the process holding it (None where it has lapsed), for /healthz."""
    return {
        lease.name: lease.holder if lease.expires_at >= now else None
        for lease in session.exec(select(Lease).order_by(col(Lease.name))).all()
    }
