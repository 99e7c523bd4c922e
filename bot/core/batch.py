"""Daily reports that arrive together, stored in one transaction and answered after it commits.

Most messages on a campaign evening are plain reports from field workers. Handled one transaction
each, every report pays for its own round trips and commit; here the reports in flight at the same
moment (concurrent webhook requests, one getUpdates batch) share them. Each message gets exactly the
answer `Fieldbot.handle` would give it, and nothing is answered before the commit that stores it.
Anything unusual takes the one-message path: commands, photos, edits, unknown or inactive senders,
officers, a message seen twice in one batch; and if the batch's transaction fails, every message in
it is handled again one by one (each is still new, since nothing of the batch was kept).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from bot import checks, leave, others, privacy
from bot.config import Settings
from bot.core import floods, identity, questions
from bot.core.contracts import Refused
from bot.core.messages import Inbound, Reply
from bot.core.reporting import check_ceilings, confirmation_reply, resolve_day
from bot.i18n import t
from bot.parser import Report, ReportParser
from bot.problems import mentions_problem
from bot.store import inbound as inbound_store
from bot.store import people, reports
from bot.store.db import session_scope

log = logging.getLogger("fieldbot.batch")
MAX_BATCH = 200


class Core(Protocol):
    """What the batch path uses of the core (`bot.core.service.Fieldbot`): its parts, the day and
    language of a message, and `handle` for a message that goes alone."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def parser(self) -> ReportParser: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...

    @property
    def retry_pauses(self) -> tuple[float, ...]: ...

    def message_day(self, inbound: Inbound) -> dt.date: ...

    def language_of(self, inbound: Inbound) -> str: ...

    def remember_language(self, inbound: Inbound, language: str) -> None: ...

    def handle(self, inbound: Inbound) -> list[Reply]: ...


def batchable(core: Core, inbound: Inbound) -> bool:
    """Whether a message reads as a plain daily report, the kind a batch stores (no database read)."""
    text = inbound.text
    if (
        not text
        or inbound.is_edit
        or inbound.location is not None
        or inbound.photo is not None
        or inbound.photo_refused
        or inbound.document_name is not None
        or inbound.unsupported
        or inbound.contact_phone is not None
        or identity.nameless(inbound)
        # With several bots, which bot may serve her is checked message by message.
        or (inbound.via is not None and bool(core.settings.telegram.bots))
        or len(text) > core.settings.reporting.max_message_chars
        or mentions_problem(text)  # a problem beside the report: routed, one message alone
    ):
        return False
    if leave.read_leave(text, dt.date.today()) is not None:
        return False  # leave: the one-message path reads it
    addressed = others.addressed(text)
    if addressed is not None and (
        addressed.command or not isinstance(core.parser.parse(f"{addressed.who} 1"), Report)
    ):
        return False  # maybe a report for someone else (`सुनीता: कार्ड 10`), not `कार्ड: 10`
    return isinstance(core.parser.parse(text), Report)


@dataclass
class _Item:
    index: int
    inbound: Inbound
    sender: str  # identity.sender_key
    person: people.Sender
    report: Report
    today: dt.date
    replies: list[Reply] | None = None
    notice: bool = False
    day: dt.date | None = None


def handle_batch(core: Core, inbounds: Sequence[Inbound]) -> list[list[Reply]]:
    """The replies to each message, in order; reports stored together, the rest one by one.

    A lost database connection is retried for the whole batch with `Fieldbot.handle`'s pauses; if
    the database stays away, every sender is told to send again, in her language, at once rather
    than after each message's own retries. Any other failure hands each message to
    `Fieldbot.handle`, which answers it as it would alone.
    """
    for pause in (*core.retry_pauses, None):
        results: list[list[Reply] | None] = [None] * len(inbounds)
        try:
            with session_scope(core.engine) as session:
                alone = _store(core, session, inbounds, results)
        except DBAPIError as exc:
            lost = exc.connection_invalidated or isinstance(exc, OperationalError)
            if not lost:
                return _one_by_one(core, inbounds, exc)
            if pause is None:
                log.error("database unavailable; %d reports answered with a resend", len(inbounds))
                return [[Reply(t(core.language_of(m), "internal_error"))] for m in inbounds]
            log.warning(
                "database unavailable (%s) for a batch of %d reports; retrying in %.2f s",
                type(exc.orig or exc).__name__,
                len(inbounds),
                pause,
            )
            time.sleep(pause)
            continue
        except Exception as exc:  # noqa: BLE001 - each message is handled alone, logging its cause
            return _one_by_one(core, inbounds, exc)
        for index in alone:
            results[index] = core.handle(inbounds[index])
        return [r if r is not None else [] for r in results]
    raise AssertionError("unreachable: the last pause returns")


def _one_by_one(core: Core, inbounds: Sequence[Inbound], exc: Exception) -> list[list[Reply]]:
    log.warning(
        "a batch of %d reports failed (%s); handling them one by one",
        len(inbounds),
        type(exc).__name__,
    )
    return [core.handle(m) for m in inbounds]


def _store(
    core: Core, session: Session, inbounds: Sequence[Inbound], results: list[list[Reply] | None]
) -> list[int]:
    """Store the batch's reports in `session`, fill `results`; return the messages left to do alone."""
    items, alone = _sort_out(core, session, inbounds, results)
    items = _within_limit(core, session, items, results)
    _apply(core, session, items)
    _answer(core, session, items, results)
    return alone


def _sort_out(
    core: Core, session: Session, inbounds: Sequence[Inbound], results: list[list[Reply] | None]
) -> tuple[list[_Item], list[int]]:
    """The batch's plain reports from active field workers, and the messages to handle alone.

    A message already processed gets its stored answer. A sender with any other message here has
    all of hers handled one by one, in order, so each sees the ones she sent before it.
    """
    stored = inbound_store.replies_for(session=session, dedup_keys=[m.dedup_key for m in inbounds])
    seen_keys: set[str] = set()
    fresh: list[int] = []
    alone: set[int] = set()
    for index, inbound in enumerate(inbounds):
        if inbound.dedup_key in stored:
            results[index] = stored[inbound.dedup_key]
        elif inbound.dedup_key in seen_keys:
            alone.add(index)  # the same delivery twice: answered from the first once it is in
        else:
            seen_keys.add(inbound.dedup_key)
            fresh.append(index)
    candidates: list[_Item] = []
    people = identity.senders(session, [inbounds[i] for i in fresh])
    for index, person in zip(fresh, people, strict=True):
        inbound = inbounds[index]
        parsed = core.parser.parse(inbound.text or "")
        usual = person is not None and person.active and person.is_field_worker
        if (
            person is None
            or not usual
            or not isinstance(parsed, Report)
            or mentions_problem(inbound.text or "")
        ):
            alone.add(index)
        else:
            sender = identity.sender_key(inbound)
            today = core.message_day(inbound)
            candidates.append(_Item(index, inbound, sender, person, parsed, today))
    # A sender with a question waiting goes alone: her message may be its answer (`1` is one).
    asked = questions.people_with_questions(
        session=session, person_ids=[item.person.id for item in candidates]
    )
    alone.update(item.index for item in candidates if item.person.id in asked)
    set_aside = {identity.sender_key(inbounds[i]) for i in alone}
    items = []
    for item in candidates:
        if item.sender in set_aside:
            alone.add(item.index)
        else:
            items.append(item)
    return items, sorted(alone)


def _within_limit(
    core: Core, session: Session, items: list[_Item], results: list[list[Reply] | None]
) -> list[_Item]:
    """The items under the flood limit, counted as `Fieldbot._flood_check` counts, in one upsert.

    The first message over the limit in a minute is told to slow down; later ones get nothing.
    """
    limit = core.settings.floods.messages_per_minute
    per_sender = Counter(item.sender for item in items)
    counts = floods.count_many(session=session, senders=per_sender, now=core.clock())
    taken: Counter[str] = Counter()
    kept: list[_Item] = []
    for item in items:
        sender = item.sender
        taken[sender] += 1
        seen = counts[sender] - per_sender[sender] + taken[sender]
        core.remember_language(item.inbound, item.person.language)
        if seen <= limit:
            kept.append(item)
        elif seen > limit + 1 or item.inbound.is_group:
            results[item.index] = []
        else:
            log.warning("sender %s sent over %d messages a minute; refusing", sender, limit)
            results[item.index] = [Reply(t(item.person.language, "slow_down", limit=limit))]
    return kept


def _apply(core: Core, session: Session, items: list[_Item]) -> None:
    """Each report applied in turn to its day as it stands, audited, and its confirmation made.

    A day or a value the rules refuse is answered and changes nothing (`bot.core.reporting`).
    """
    settings = core.settings
    for item in items:
        try:
            item.day = resolve_day(item.report.when, item.today, settings, item.person.language)
        except Refused as refusal:
            item.replies = refusal.replies
    people = {item.person.id: item.person for item in items}
    days = reports.lock_days(
        session=session,
        people=people,
        keys=[(item.person.id, item.day) for item in items if item.day is not None],
    )
    start = settings.campaign.start
    campaign = reports.people_totals(session=session, person_ids=people, start=start) if start else {}
    audit: list[dict[str, Any]] = []
    reported_days = [item.day for item in items if item.day is not None]
    last = max(reported_days, default=dt.date(2000, 1, 1))
    history = checks.History(session, people if reported_days else (), last + dt.timedelta(days=1))
    for item in items:
        if item.day is None:
            continue
        day = days[(item.person.id, item.day)]
        lang = item.person.language
        entries = ((e.metric, e.value, e.add) for e in item.report.entries)
        changes = reports.plan_changes(day.values, entries, item.day)
        try:
            check_ceilings(changes, settings, lang)
        except Refused as refusal:
            item.replies = refusal.replies
            continue
        group = uuid.uuid4().hex
        totals = campaign.get(item.person.id)
        for change in changes:
            assert change.new is not None
            old = reports.set_value(session, day, change.metric, change.new)
            if totals is not None and start is not None and item.day >= start:
                totals[change.metric] = totals.get(change.metric, 0) + change.new - (old or 0)
            audit.append(
                {
                    "report_id": day.report_id,
                    "person_id": item.person.id,
                    "day": item.day,
                    "metric": change.metric,
                    "old_value": old,
                    "new_value": change.new,
                    "kind": "report",
                    "change_group": group,
                    "source_key": item.inbound.source_key,
                    "channel": item.inbound.channel,
                    "undone": False,
                }
            )
        values = {item.day: dict(day.values)}
        so_far = dict(totals) if totals is not None else None
        usual = history.usual(settings, item.person.id, item.day)
        found = checks.flags(settings, values[item.day], usual)
        item.replies = [confirmation_reply(settings, lang, item.today, changes, values, so_far, found)]
    reports.write_days(session=session, days=days.values(), changes=audit)


def _answer(core: Core, session: Session, items: list[_Item], results: list[list[Reply] | None]) -> None:
    """Each item's replies, the privacy notice at first contact, the messages marked processed."""
    shown = privacy.notices_shown(session=session, person_ids={i.person.id for i in items})
    now = core.clock()
    for item in items:
        assert item.replies is not None
        key = (item.person.id, item.inbound.channel)
        if not item.inbound.is_group and key not in shown:
            # First contact on a channel: the answer first, the notice with it (never in a group).
            shown.add(key)
            privacy.record_notice(
                session=session, person_id=item.person.id, channel=item.inbound.channel, now=now
            )
            item.replies = [
                *item.replies,
                Reply(privacy.notice_text(core.settings, item.person.language)),
            ]
        results[item.index] = item.replies
    inbound_store.record_inbound_many(
        session=session,
        rows=[
            {
                "channel": item.inbound.channel,
                "dedup_key": item.inbound.dedup_key,
                "source_key": item.inbound.source_key,
                "person_id": item.person.id,
                "sent_at": item.inbound.sent_at,
                "replies": item.replies,
            }
            for item in items
        ],
    )


class Batcher:
    """Gathers the reports waiting at the same moment and hands them to `handle` together.

    Up to `lanes` batches are handled at once, each in a worker thread, so one batch's Python work
    overlaps another's wait for the database; what arrives meanwhile forms the next batch. At low
    traffic a batch is one message, handled as soon as it comes. Batches lock the rows they share in
    one order (sender counts, then report rows, then totals, each sorted), so lanes cannot deadlock.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[Inbound]], list[list[Reply]]],
        max_batch: int = MAX_BATCH,
        lanes: int = 2,
    ):
        self._handle = handle
        self.max_batch = max_batch
        self.lanes = lanes
        self._waiting: list[tuple[Inbound, asyncio.Future[list[Reply]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, inbound: Inbound) -> list[Reply]:
        future: asyncio.Future[list[Reply]] = asyncio.get_running_loop().create_future()
        self._waiting.append((inbound, future))
        if len(self._tasks) < self.lanes:
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                answers = await asyncio.to_thread(self._handle, [m for m, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to each waiting caller
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), replies in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(replies)
