"""Which job ran for which day (`job_run`), and when the scheduler last ran (for /healthz)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from bot.store.insert import dialect_insert
from models import JobRun, ServiceState

LAST_RUN_KEY = "scheduler_last_run"


def claim(*, session: Session, job: str, day: dt.date, now: dt.datetime) -> bool:
    """Mark the job as run for the day; False if it already was (by this or another process)."""
    table = JobRun.__table__  # type: ignore[attr-defined]
    claimed = session.execute(
        dialect_insert(session, table)
        .values(job=job, day=day, ran_at=now, messages=0)
        .on_conflict_do_nothing()
        .returning(table.c.job)
    ).first()
    return claimed is not None


def set_messages(*, session: Session, job: str, day: dt.date, messages: int) -> None:
    """How many messages a claimed run queued."""
    run = session.get_one(JobRun, (job, day))
    run.messages = messages
    session.add(run)


def last_run(session: Session) -> str | None:
    """When the scheduler last ran (ISO time), for /healthz."""
    row = session.get(ServiceState, LAST_RUN_KEY)
    return row.value if row else None


def record_run(session: Session, now: dt.datetime) -> None:
    row = session.get(ServiceState, LAST_RUN_KEY) or ServiceState(key=LAST_RUN_KEY, value="")
    row.value, row.updated_at = now.isoformat(timespec="seconds"), now
    session.add(row)
