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
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import leases, outbox
from bot.config import Settings
from bot.db import session_scope
from bot.phones import mask_phone
from models import Outbox, utcnow

log = logging.getLogger("fieldbot.sender")
MAX_BACKOFF = dt.timedelta(minutes=10)
RETRY_SOON = dt.timedelta(seconds=5)
STORE_RETRY = (0.1, 2.0)  # first and longest wait between tries to write down a message's outcome


class SendFailed(Exception):
    """A channel refused a message: `retry_after` to wait, `permanent` to give up."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class Channel(Protocol):
    async def send(self, row: Outbox) -> None:
        """Deliver one message or raise SendFailed."""


class SimulatorChannel:
    """The simulator's inbox is the outbox itself: a sent row is what the chat page shows."""

    async def send(self, row: Outbox) -> None:
        return None


class UnreachableChannel:
    """A person with no way to reach them: recorded, so digests can say who was not reached."""

    def __init__(self, reason: str):
        self.reason = reason

    async def send(self, row: Outbox) -> None:
        raise SendFailed(self.reason, permanent=True)


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class TelegramChannel:
    """Sends through the Bot API; Telegram's refusals become SendFailed."""

    def __init__(self, bot: Bot):
        self.bot = bot

    async def send(self, row: Outbox) -> None:
        chat_id = int(row.address or 0)
        try:
            if row.attachment is not None:
                await self.bot.send_photo(chat_id, photo=row.attachment, caption=row.text[:1024])
                if len(row.text) > 1024:
                    await self.bot.send_message(chat_id, row.text)
            else:
                from bot.telegram import split_text

                for piece in split_text(row.text):
                    await self.bot.send_message(chat_id, piece)
        except RetryAfter as exc:
            raise SendFailed(
                "telegram asked to slow down", retry_after=_seconds(exc.retry_after)
            ) from None
        except Forbidden as exc:
            raise SendFailed(f"blocked or left: {exc.message}", permanent=True) from None
        except BadRequest as exc:
            raise SendFailed(f"refused: {exc.message}", permanent=True) from None
        except (NetworkError, TelegramError) as exc:
            raise SendFailed(f"network: {exc}") from None


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

    def wait_for(self, address: str, is_group: bool) -> float:
        """Seconds to wait before the next message to `address` keeps every limit."""
        now = self.clock()
        while self.sent and now - self.sent[0] >= 1:
            self.sent.popleft()
        waits = [0.0]
        if len(self.sent) >= self.per_second:
            waits.append(1 - (now - self.sent[0]))
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


class OutboxSender:
    """Claims due messages and sends them; every outcome is written back before the next one."""

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
        self.limits = Limits(
            sending.telegram_per_second,
            sending.telegram_chat_interval_seconds,
            sending.telegram_group_per_minute,
        )
        # WhatsApp: only an overall rate (Twilio queues per sender); no per-chat or group limit.
        self.channel_limits = {
            "telegram": self.limits,
            "whatsapp": Limits(sending.whatsapp_per_second, 0, 1),
        }
        self.paused_until: dict[str, dt.datetime] = {}
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

    async def drain_once(self, stop: asyncio.Event | None = None) -> int:
        """Send everything due now, until `stop` is set; return how many went out."""
        sent = 0
        while stop is None or not stop.is_set():
            now = self.clock()
            with session_scope(self.engine) as session:
                rows = outbox.claim_due(session=session, now=now, holder=self.holder, limit=50)
            if not rows:
                return sent
            for index, row in enumerate(rows):
                paused = self.paused_until.get(row.channel)
                if paused is not None and paused > self.clock():
                    await self._store(partial(self._requeue, rows[index:], paused), stop)
                    return sent
                if stop is not None and stop.is_set():
                    # Stopped between messages: what is left goes back to the queue, unsent.
                    await self._store(partial(self._requeue, rows[index:], now), stop)
                    return sent
                sent += await self._send_one(row, stop)
        return sent

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

    async def _send_one(self, row: Outbox, stop: asyncio.Event | None = None) -> int:
        channel = self.channels.get(row.channel) or UnreachableChannel(
            f"no {row.channel} channel is configured"
        )
        address = row.address or ""
        is_group = address.startswith("-")
        limits = self.channel_limits.get(row.channel)
        if limits is not None:
            wait = limits.wait_for(address, is_group)
            if wait > 0:
                await asyncio.sleep(wait)
        outcome: SendFailed | None = None
        try:
            await channel.send(row)
        except SendFailed as failure:
            outcome = failure
        except SQLAlchemyError as exc:
            # The channel could not even try (its database reads failed): again soon, not counted.
            log.warning("message %s not sent: %s", row.id, type(exc).__name__)
            await self._store(lambda: self._requeue([row], self.clock() + RETRY_SOON), stop)
            return 0
        if limits is not None:
            limits.record(address, is_group)
        now = self.clock()
        await self._store(lambda: self._write_outcome(row, channel, outcome, now), stop)
        if outcome is None:
            log.debug(
                "sent %s to %s", row.job, mask_phone(address) if address.startswith("+") else row.channel
            )
        return 1 if outcome is None else 0

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
            elif outcome.retry_after is not None:
                # Flood control: this message and the whole channel wait as told.
                until = now + dt.timedelta(seconds=outcome.retry_after)
                self.paused_until[row.channel] = until
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
