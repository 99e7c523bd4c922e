"""The scheduler: timed jobs in the configured zone, with stable ids, run by one process."""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.db import session_scope
from bot.service import Fieldbot
from models import ServiceState, utcnow

log = logging.getLogger("fieldbot.scheduler")
LAST_RUN_KEY = "scheduler_last_run"


def last_run(session: Session) -> str | None:
    """When the scheduler last ran a job (ISO time), for /healthz."""
    row = session.get(ServiceState, LAST_RUN_KEY)
    return row.value if row else None


def record_run(engine: Engine, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.get(ServiceState, LAST_RUN_KEY) or ServiceState(key=LAST_RUN_KEY, value="")
        row.value, row.updated_at = now.isoformat(timespec="seconds"), now
        session.add(row)


async def heartbeat(engine: Engine) -> None:
    """Say the scheduler is alive, so /healthz can tell a stopped scheduler from a quiet one."""
    record_run(engine)


def build_scheduler(core: Fieldbot) -> AsyncIOScheduler:
    """Jobs with stable ids, coalesced, with an explicit misfire grace."""
    scheduler = AsyncIOScheduler(timezone=core.settings.tz)
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=60,
        args=[core.engine],
        id="heartbeat",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=30,
        next_run_time=dt.datetime.now(core.settings.tz),
    )
    return scheduler
