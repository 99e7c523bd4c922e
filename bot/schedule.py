"""The scheduler: the day's rhythm (09:00 start, 17:00 reminder, evening digests), in one process.

Jobs are plain functions of (engine, settings, job, now): a test calls them at any moment it likes.
Which process fires them is decided by a lease in the database, so two schedulers never both do;
each job is also recorded per day (job_run) in the same transaction as its outbox messages, so a
job runs once a day whatever restarts or races happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine

from bot import privacy
from bot.config import Settings
from bot.delivery import leases, outbox, runs
from bot.delivery.sender import OutboxSender
from bot.digests import JOBS
from bot.i18n import t
from bot.presence.parts import expire_parts, photo_in_use
from bot.store.db import session_scope
from bot.uploads import sweep
from models import Person, utcnow

log = logging.getLogger("fieldbot.scheduler")
LEASE_TTL = dt.timedelta(seconds=15)
EXPIRY_INTERVAL = dt.timedelta(seconds=30)
RETENTION_AT = dt.time(2, 30)  # the quietest hour
STOP_GRACE = 5.0  # seconds a stopping sender loop gets to finish the message in flight


def job_times(settings: Settings) -> dict[str, dt.time]:
    """The jobs that are on, with their time of day."""
    schedule = settings.schedule
    times = {job: getattr(schedule, job) for job in JOBS}
    return {job: at for job, at in times.items() if at is not None}


def in_campaign(settings: Settings, day: dt.date) -> bool:
    campaign = settings.campaign
    return (campaign.start is None or day >= campaign.start) and (
        campaign.end is None or day <= campaign.end
    )


def run_job(engine: Engine, settings: Settings, job: str, now: dt.datetime) -> int | None:
    """Decide and queue a job's messages for `now`'s day; None if it already ran or is off-campaign."""
    day = now.astimezone(settings.tz).date()
    if not in_campaign(settings, day):
        return None
    with session_scope(engine) as session:
        if not runs.claim(session=session, job=job, day=day, now=now):
            return None
        messages = JOBS[job](session, settings, day)
        written = outbox.enqueue(
            session=session, job=job, day=day, messages=messages, now=now, settings=settings
        )
        runs.set_messages(session=session, job=job, day=day, messages=written)
        runs.record_run(session, now)
    log.info("job %s for %s: %d message(s) queued", job, day, written)
    return written


def expire_presence(engine: Engine, settings: Settings, now: dt.datetime) -> int:
    """Photos and locations whose other half never came: each gets one reminder; returns how many."""
    minutes = settings.presence.pair_minutes
    with session_scope(engine) as session:
        parts = expire_parts(session=session, now=now)
        messages = []
        files = []
        for part in parts:
            person = session.get(Person, part.person_id)
            if person is None or not person.active:
                continue
            sent = part.sent_at.astimezone(settings.tz)
            key = "photo_expired" if part.kind == "photo" else "location_expired"
            text = t(person.language, key, time=f"{sent:%H:%M}", minutes=minutes)
            messages.append(outbox.Message(person, text, key=f"presence_expired:{part.id}"))
            if part.photo_sha256 and part.photo_path:
                files.append((part.photo_sha256, part.photo_path))
        written = outbox.enqueue(
            session=session,
            job="presence_expired",
            day=now.astimezone(settings.tz).date(),
            messages=messages,
            now=now,
            settings=settings,
        )
        session.flush()
        # A photo that never became a proof is not kept.
        unused = [path for sha, path in files if not photo_in_use(session=session, sha256=sha)]
    for path in unused:
        Path(path).unlink(missing_ok=True)
    if parts:
        log.info("presence: %d waiting part(s) expired, %d reminder(s) queued", len(parts), written)
    return written


def sweep_uploads(engine: Engine, settings: Settings, now: dt.datetime) -> int:
    """District files sent in chat that no open import question waits on are removed."""
    with session_scope(engine) as session:
        removed = sweep(session, settings, now)
    if removed:
        log.info("uploads: %d file(s) sent in chat removed, their question answered or expired", removed)
    return removed


def run_retention(engine: Engine, settings: Settings, now: dt.datetime) -> privacy.Swept:
    """The nightly sweep: photos and live locations past their retention go; files after the commit."""
    with session_scope(engine) as session:
        swept = privacy.apply_retention(session=session, settings=settings, now=now)
    privacy.remove_files(swept.files)
    # Files no committed row names (a message whose transaction failed after its photo was written).
    folder = settings.resolve_path(settings.presence.photo_dir)
    with session_scope(engine) as session:
        orphans = privacy.orphan_photos(session=session, folder=folder, now=utcnow())
    swept.orphans = privacy.remove_files(orphans)
    log.info(
        "retention: %d photo(s), %d proof(s) reduced, %d track point(s), %d waiting part(s), "
        "%d unreferenced photo file(s) removed",
        swept.photos,
        swept.proofs,
        swept.points,
        swept.parts,
        swept.orphans,
    )
    return swept


def due_jobs(settings: Settings, now: dt.datetime) -> list[str]:
    """Jobs whose time today has passed by no more than the misfire grace."""
    local = now.astimezone(settings.tz)
    grace = dt.timedelta(minutes=settings.schedule.misfire_grace_minutes)
    due = []
    for job, at in job_times(settings).items():
        scheduled = dt.datetime.combine(local.date(), at, tzinfo=settings.tz)
        if scheduled <= local <= scheduled + grace:
            due.append(job)
    return sorted(due, key=lambda j: job_times(settings)[j])


def run_due(engine: Engine, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Run every job that is due and has not run today: a restart at 09:05 still sends 09:00's."""
    ran = {}
    for job in due_jobs(settings, now):
        written = run_job(engine, settings, job, now)
        if written is not None:
            ran[job] = written
    return ran


class Scheduler:
    """APScheduler cron jobs plus the outbox sender, active only while this process holds the lease."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        sender: OutboxSender | None,
        clock: Callable[[], dt.datetime] = utcnow,
        holder: str | None = None,
        lease_ttl: dt.timedelta = LEASE_TTL,
    ):
        self.engine, self.settings, self.sender, self.clock = engine, settings, sender, clock
        self.holder = holder or leases.process_id()
        self.lease_ttl = lease_ttl
        self.leader = False
        # Until when (time.monotonic) the lease is surely ours: the start of the last renewal plus
        # the TTL, which the database's expiry is never earlier than.
        self._held_until = 0.0
        self._due_pending = False
        self._stop = asyncio.Event()
        self._sender_task: asyncio.Task[None] | None = None
        if sender is not None:
            sender.holder = self.holder  # its claims carry the lease holder's name
        grace = settings.schedule.misfire_grace_minutes * 60
        self.aps = AsyncIOScheduler(timezone=settings.tz)
        for job, at in job_times(settings).items():
            self.aps.add_job(
                self.fire,
                CronTrigger(hour=at.hour, minute=at.minute, timezone=settings.tz),
                args=[job],
                id=job,
                replace_existing=True,
                misfire_grace_time=grace,
                coalesce=True,
                max_instances=1,
            )
        self.aps.add_job(
            self.keep_lease,
            "interval",
            seconds=lease_ttl.total_seconds() / 3,
            id="lease",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=dt.datetime.now(settings.tz),
        )

        self.aps.add_job(
            self.sweep,
            CronTrigger(hour=RETENTION_AT.hour, minute=RETENTION_AT.minute, timezone=settings.tz),
            id="retention",
            replace_existing=True,
            misfire_grace_time=6 * 3600,
            coalesce=True,
            max_instances=1,
        )
        self.aps.add_job(
            self.expire,
            "interval",
            seconds=EXPIRY_INTERVAL.total_seconds(),
            id="presence_expiry",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        self.aps.start()

    def shutdown(self, wait: bool = False) -> None:
        self._stop.set()
        self.aps.shutdown(wait=wait)
        if self.leader:
            with session_scope(self.engine) as session:
                leases.release(session=session, name=leases.SCHEDULER, holder=self.holder)
            self.leader = False

    def _acquire(self) -> bool:
        with session_scope(self.engine) as session:
            return leases.try_acquire(
                session=session, name=leases.SCHEDULER, holder=self.holder, ttl=self.lease_ttl
            )

    async def keep_lease(self) -> None:
        """Take or renew the lease; start work on winning it, stop only once it is really lost.

        A failed check (the database locked or away for a moment) is not a lost lease: while the
        last renewal's TTL runs, this process still holds it and goes on working.
        """
        started = time.monotonic()
        try:
            held = await asyncio.to_thread(self._acquire)
        except Exception:
            if self.leader and time.monotonic() < self._held_until:
                left = self._held_until - time.monotonic()
                log.warning("scheduler lease check failed; still held for %.0f s", left)
                return
            log.exception("scheduler lease check failed")
            held = False
        if held:
            self._held_until = started + self.lease_ttl.total_seconds()
        if held and not self.leader:
            self.leader = True
            log.info("scheduler lease taken by %s", self.holder)
            await self.stop_sender()  # never two sender loops: an old one has ended first
            if self.sender is not None:
                self._stop = asyncio.Event()
                self._sender_task = asyncio.create_task(self.sender.run(self._stop))
            self._due_pending = True
        elif not held and self.leader:
            self.leader = False
            log.warning("scheduler lease lost by %s; standing by", self.holder)
            await self.stop_sender()
        if not self.leader:
            return
        try:
            if self._due_pending:
                await asyncio.to_thread(run_due, self.engine, self.settings, self.clock())
                self._due_pending = False
            with session_scope(self.engine) as session:
                runs.record_run(session, self.clock())
        except Exception:
            log.exception("scheduler could not run due jobs; trying again at the next lease check")

    async def stop_sender(self) -> None:
        """Stop the sender loop and wait for it to end (it finishes the message in flight)."""
        task, self._sender_task = self._sender_task, None
        self._stop.set()
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=STOP_GRACE)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def sweep(self) -> None:
        """Nightly: delete what has outlived its retention period."""
        if not self.leader:
            return
        try:
            await asyncio.to_thread(run_retention, self.engine, self.settings, self.clock())
        except Exception:
            log.exception("retention sweep failed")

    async def expire(self) -> None:
        """Every half minute: remind people whose photo or location waited in vain; remove district
        files sent in chat whose import question is no longer open."""
        if not self.leader:
            return
        try:
            await asyncio.to_thread(sweep_uploads, self.engine, self.settings, self.clock())
        except Exception:
            log.exception("removing files sent in chat failed")
        try:
            written = await asyncio.to_thread(expire_presence, self.engine, self.settings, self.clock())
        except Exception:
            log.exception("presence expiry failed")
            return
        if written and self.sender is not None:
            self.sender.wake.set()

    async def fire(self, job: str) -> None:
        """A cron trigger: run the job if this process is the scheduler."""
        if not self.leader:
            return
        await asyncio.to_thread(run_job, self.engine, self.settings, job, self.clock())
        if self.sender is not None:
            self.sender.wake.set()
