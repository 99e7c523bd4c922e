"""The outbox sender: drains due messages within each channel's limits, in the one process that may."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import col

from bot.channels.base import Channel, SendFailed, UnreachableChannel
from bot.config import Settings
from bot.delivery import leases, outbox
from bot.store.db import session_scope
from models import Outbox, utcnow

log = logging.getLogger("fieldbot.sender")
MAX_BACKOFF = dt.timedelta(minutes=10)
LANE_CHECK = 1.0  # seconds between looks for lanes that fell due while others drain
RETRY_SOON = dt.timedelta(seconds=5)
STORE_RETRY = (0.1, 2.0)  # first and longest wait between tries to write down a message's outcome


@dataclass
class Limits:
    """Sliding-window rate limits: overall, per chat, per group."""

    per_second: float
    chat_interval: float
    group_per_minute: int
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.sent: deque[float] = deque()
        self.last_to_chat: dict[str, float] = {}
        self.group_sent: dict[str, deque[float]] = {}
        # Sent but not answered yet: they count against the limits until their answer comes.
        self.in_flight: dict[str, int] = {}
        self.flying = 0

    def start(self, address: str) -> None:
        self.in_flight[address] = self.in_flight.get(address, 0) + 1
        self.flying += 1

    def finish(self, address: str, is_group: bool) -> None:
        left = self.in_flight.get(address, 1) - 1
        if left:
            self.in_flight[address] = left
        else:
            self.in_flight.pop(address, None)
        self.flying -= 1
        self.record(address, is_group)

    def wait_for(self, address: str, is_group: bool) -> float:
        """Seconds to wait before the next message to `address` keeps every limit."""
        now = self.clock()
        while self.sent and now - self.sent[0] >= 1:
            self.sent.popleft()
        waits = [0.0]
        if len(self.sent) + self.flying >= self.per_second:
            waits.append(1 - (now - self.sent[0]) if self.sent else 0.005)
        if address in self.in_flight:
            waits.append(0.005)  # the one before to this chat is still on its way
        last = self.last_to_chat.get(address)
        if last is not None:
            waits.append(self.chat_interval - (now - last))
        if is_group:
            window = self.group_sent.setdefault(address, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= self.group_per_minute:
                waits.append(60 - (now - window[0]))
        return max(waits)

    def record(self, address: str, is_group: bool) -> None:
        now = self.clock()
        self.sent.append(now)
        self.last_to_chat[address] = now
        if is_group:
            self.group_sent.setdefault(address, deque()).append(now)


Outcome = tuple[Outbox, Channel, SendFailed | None, dt.datetime]


class OutboxSender:
    """Claims due messages and sends them, lane by lane; each outcome is written before its lane's
    next message goes (up to `sending.in_flight_per_lane` await their answer at once)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        channels: dict[str, Channel],
        clock: Callable[[], dt.datetime] = utcnow,
        holder: str | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.channels = channels
        self.clock = clock
        # Who claims rows: the scheduler sets its lease holder id, so a successor knows whose they are.
        self.holder = holder or leases.process_id()
        sending = settings.sending
        # Each lane's budget, made when the lane first sends (`limits_for`): the one bot's lane
        # too, so its paid rate counts from the first message; a WhatsApp lane is one sender number.
        self.channel_limits: dict[str, Limits] = {}
        self.paused_until: dict[str, dt.datetime] = {}
        self.in_flight_per_lane = sending.in_flight_per_lane
        self.wake = asyncio.Event()

    def recover(self) -> int:
        """On starting: queue again the claims of senders that are gone.

        A claim of another process that holds the scheduler lease now (by the database's clock) is
        that live sender's and stays; everything else (a dead process, an earlier loop of this one,
        which has ended before this runs) goes back to the queue.
        """
        with session_scope(self.engine) as session:
            live = leases.live_holder(session=session, name=leases.SCHEDULER)
            keep = live if live != self.holder else None
            return outbox.release_claims(session=session, now=self.clock(), keep=keep)

    def limits_for(self, lane: str, channel: str) -> Limits | None:
        """The lane's own budget: each bot its 30 a second, each WhatsApp sender number its rate."""
        found = self.channel_limits.get(lane)
        if found is not None or channel == "simulator":
            return found
        sending = self.settings.sending
        if channel == "telegram":
            carrier = self.channels.get(lane)
            # A bot with Telegram's paid broadcasts (TelegramChannel.paid) has the higher rate.
            paid = bool(getattr(carrier, "paid", False))
            rate = self.settings.telegram.paid_per_second if paid else sending.telegram_per_second
            found = Limits(
                rate, sending.telegram_chat_interval_seconds, sending.telegram_group_per_minute
            )
        elif channel == "whatsapp":
            # Each lane is one sender number, at Twilio's rate for a number; no per-chat or group
            # limit. (WhatsApp's messaging limit is the business's, counted in bot/delivery/wa_limits.)
            found = Limits(sending.whatsapp_per_second, 0, 1)
        else:
            return None
        self.channel_limits[lane] = found
        return found

    def _paused(self, lane: str, channel: str) -> dt.datetime | None:
        now = self.clock()
        for key in (lane, channel) if lane != channel else (lane,):
            until = self.paused_until.get(key)
            if until is not None and until > now:
                return until
        return None

    async def drain_once(self, stop: asyncio.Event | None = None) -> int:
        """Send everything due now, every lane at once at its own limits, until `stop` is set.

        Each lane (a Telegram bot, WhatsApp, the simulator) is drained by its own task, so a slow
        or paused bot never holds up another; a lane that falls due meanwhile starts within a
        second. Returns how many went out.
        """
        outcomes = _Outcomes(self, stop)
        running: dict[str, asyncio.Task[int]] = {}
        sent = 0
        try:
            while stop is None or not stop.is_set():
                try:
                    lanes = await asyncio.to_thread(self._due_lanes)
                except (OperationalError, InterfaceError):
                    if not running:
                        raise
                    lanes = []
                for lane in lanes:
                    if lane not in running and self._paused(lane, lane.partition(":")[0]) is None:
                        running[lane] = asyncio.create_task(self._drain_lane(lane, stop, outcomes))
                if not running:
                    break
                done, _ = await asyncio.wait(
                    running.values(), timeout=LANE_CHECK, return_when=asyncio.FIRST_COMPLETED
                )
                for lane, task in list(running.items()):
                    if task in done:
                        del running[lane]
                        sent += task.result()
        finally:
            if running:
                results = await asyncio.gather(*running.values(), return_exceptions=True)
                sent += sum(r for r in results if isinstance(r, int))
            await outcomes.flush()
        return sent

    def _due_lanes(self) -> list[str]:
        with session_scope(self.engine) as session:
            return outbox.due_lanes(session=session, now=self.clock())

    def _claim(self, lane: str, limit: int) -> list[Outbox]:
        with session_scope(self.engine) as session:
            return outbox.claim_due(
                session=session, now=self.clock(), holder=self.holder, limit=limit, lane=lane
            )

    async def _drain_lane(self, lane: str, stop: asyncio.Event | None, outcomes: _Outcomes) -> int:
        """Send one lane's due messages at its limits, claimed a batch at a time.

        Each message's outcome is written before the lane sends its next, but together with
        every other lane's outcomes of the moment, in one transaction (group commit): only the
        message in flight can go out twice after a crash, and 75 bots do not cost 75 commits.
        """
        channel_name = lane.partition(":")[0]
        limits = self.limits_for(lane, channel_name)
        rate = limits.per_second if limits is not None else 200.0
        batch = int(max(10, min(200, rate)))
        sent = 0
        flying: set[asyncio.Task[int]] = set()
        while stop is None or not stop.is_set():
            try:
                rows = await asyncio.to_thread(self._claim, lane, batch)
            except (OperationalError, InterfaceError):
                log.warning("cannot claim messages of %s; trying again soon", lane)
                return sent
            if not rows:
                return sent
            for index, row in enumerate(rows):
                while len(flying) >= self.in_flight_per_lane:
                    done, flying = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                    sent += sum(task.result() for task in done)
                paused = self._paused(lane, row.channel)
                if paused is not None or (stop is not None and stop.is_set()):
                    # Paused by flood control, or stopped: the rest goes back unsent.
                    if flying:
                        sent += sum(await asyncio.gather(*flying))
                    await self._store(partial(self._requeue, rows[index:], paused or self.clock()), stop)
                    return sent
                address = row.address or ""
                is_group = address.startswith("-")
                if limits is not None:
                    while (wait := limits.wait_for(address, is_group)) > 0:
                        await asyncio.sleep(wait)
                    limits.start(address)
                flying.add(asyncio.create_task(self._send_counted(row, lane, stop, outcomes, limits)))
            if flying:
                sent += sum(await asyncio.gather(*flying))
                flying = set()
        return sent

    async def _send_counted(
        self,
        row: Outbox,
        lane: str,
        stop: asyncio.Event | None,
        outcomes: _Outcomes,
        limits: Limits | None,
    ) -> int:
        address = row.address or ""
        try:
            return await self._send_batched(row, lane, stop, outcomes)
        finally:
            if limits is not None:
                # Counted from when the provider answered: it judges by when a message arrived.
                limits.finish(address, address.startswith("-"))

    async def _send_batched(
        self, row: Outbox, lane: str, stop: asyncio.Event | None, outcomes: _Outcomes
    ) -> int:
        channel = (
            self.channels.get(lane)
            or self.channels.get(row.channel)
            or UnreachableChannel(f"no {lane or row.channel} channel is configured")
        )
        outcome: SendFailed | None = None
        try:
            await channel.send(row)
        except SendFailed as failure:
            outcome = failure
        except SQLAlchemyError as exc:
            log.warning("message %s not sent: %s", row.id, type(exc).__name__)
            await self._store(lambda: self._requeue([row], self.clock() + RETRY_SOON), stop)
            return 0
        now = self.clock()
        if outcome is not None and outcome.retry_after is not None:
            self.paused_until[lane] = now + dt.timedelta(seconds=outcome.retry_after)
        await outcomes.write((row, channel, outcome, now))
        return 1 if outcome is None else 0

    async def _store(self, write: Callable[[], None], stop: asyncio.Event | None) -> None:
        """Write down an outcome, trying again while the database is away.

        A message that went out must not be sent again because its row could not be written: the
        outcome is kept here and written once the database answers. Only a stop (the lease lost)
        gives up, leaving the row claimed for whoever takes over.
        """
        wait, longest = STORE_RETRY
        while True:
            try:
                await asyncio.to_thread(write)
                return
            except (OperationalError, InterfaceError):  # locked, or the server away: not for long
                if stop is not None and stop.is_set():
                    raise
                log.warning("cannot write to the database; trying again in %.1f s", wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, longest)

    def _requeue(self, rows: list[Outbox], at: dt.datetime) -> None:
        with session_scope(self.engine) as session:
            for row in rows:
                fresh = session.get(Outbox, row.id)
                if fresh is None:  # erased meanwhile (a person forgotten): nothing to send
                    continue
                fresh.status, fresh.next_attempt_at, fresh.claimed_by = "pending", at, None
                fresh.attempts = max(fresh.attempts - 1, 0)
                session.add(fresh)

    def _write_outcomes(
        self, items: list[tuple[Outbox, Channel, SendFailed | None, dt.datetime]]
    ) -> None:
        """Many outcomes in one transaction: the sent ones in one statement, the rest row by row."""
        sent = [(row, now) for row, _, outcome, now in items if outcome is None]
        with session_scope(self.engine) as session:
            if sent:
                at = max(now for _, now in sent)
                ids = [row.id for row, _ in sent]
                # The provider's failure report that came in before this write stands.
                session.execute(
                    update(Outbox)
                    .where(
                        col(Outbox.id).in_(ids),
                        col(Outbox.delivery_status).is_(None)
                        | col(Outbox.delivery_status).not_in(("failed", "undelivered")),
                    )
                    .values(status="sent", sent_at=at, last_error=None, claimed_by=None)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(Outbox)
                    .where(
                        col(Outbox.id).in_(ids),
                        col(Outbox.delivery_status).in_(("failed", "undelivered")),
                    )
                    .values(status="failed", sent_at=at, claimed_by=None)
                    .execution_options(synchronize_session=False)
                )
        for row, channel, outcome, now in items:
            if outcome is not None:
                self._write_outcome(row, channel, outcome, now)

    def _write_outcome(
        self, row: Outbox, channel: Channel, outcome: SendFailed | None, now: dt.datetime
    ) -> None:
        with session_scope(self.engine) as session:
            fresh = session.get(Outbox, row.id)
            if fresh is None:  # erased while it went out (a person forgotten): nothing to note
                return
            if outcome is None and fresh.delivery_status in ("failed", "undelivered"):
                # The provider's failure report came in before this write: it stands.
                fresh.status, fresh.sent_at = "failed", now
            elif outcome is None:
                fresh.status, fresh.sent_at, fresh.last_error = "sent", now, None
            elif outcome.defer_until is not None:
                fresh.status, fresh.next_attempt_at = "pending", outcome.defer_until
                fresh.attempts = max(fresh.attempts - 1, 0)
                fresh.last_error = outcome.reason
            elif outcome.retry_after is not None:
                # Flood control: this message and its lane wait as told. A bot's limit is its own,
                # so another bot's lane goes on; Twilio's applies to the whole account.
                until = now + dt.timedelta(seconds=outcome.retry_after)
                self.paused_until[row.channel if row.channel == "whatsapp" else row.lane] = until
                fresh.status, fresh.next_attempt_at = "pending", until
                fresh.attempts = max(fresh.attempts - 1, 0)
                fresh.last_error = outcome.reason
            elif outcome.permanent or fresh.attempts >= self.settings.sending.max_attempts:
                fresh.status = "undeliverable" if isinstance(channel, UnreachableChannel) else "failed"
                fresh.last_error = outcome.reason
                log.warning(
                    "message %s to %s %s: %s", fresh.id, fresh.channel, fresh.status, outcome.reason
                )
            else:
                backoff = min(dt.timedelta(seconds=2**fresh.attempts), MAX_BACKOFF)
                fresh.status, fresh.next_attempt_at = "pending", now + backoff
                fresh.last_error = outcome.reason
            if fresh.status != "sending":
                fresh.claimed_by = None
            session.add(fresh)

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Drain until stopped; `wake` cuts the idle wait short when a job has queued messages."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.recover)
                break
            except Exception:
                log.exception("outbox recovery failed; retrying")
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait([stopped], timeout=idle)
                stopped.cancel()
        while not stop.is_set():
            try:
                await self.drain_once(stop)
            except Exception:
                log.exception("outbox drain failed; retrying")
            self.wake.clear()
            waits = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for task in waits:
                task.cancel()


class _Outcomes:
    """Group commit of outcomes: whatever every lane has to write at the moment, in one transaction.

    A lane hands its outcome over and waits until it is written; the writes come one after the
    other, each taking all that arrived during the one before. While the database is away the
    write is retried, and the lanes wait with it.
    """

    def __init__(self, sender: OutboxSender, stop: asyncio.Event | None):
        self.sender, self.stop = sender, stop
        self.pending: list[tuple[Outcome, asyncio.Future[None]]] = []
        self.writing: asyncio.Task[None] | None = None

    async def write(self, item: Outcome) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((item, done))
        if self.writing is None or self.writing.done():
            self.writing = asyncio.create_task(self._write_all())
        await done

    async def _write_all(self) -> None:
        while self.pending:
            taken, self.pending = self.pending, []
            try:
                await self.sender._store(
                    partial(self.sender._write_outcomes, [item for item, _ in taken]), self.stop
                )
            except Exception as exc:  # noqa: BLE001 - each waiting lane gets the failure
                for _, done in taken:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in taken:
                if not done.done():
                    done.set_result(None)

    async def flush(self) -> None:
        if self.writing is not None:
            await asyncio.gather(self.writing, return_exceptions=True)
