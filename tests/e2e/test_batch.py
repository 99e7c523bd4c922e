"""Reports handled in batches answer and store exactly what one-by-one handling does."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

from bot.app import build_core
from bot.config import Settings
from bot.core.batch import Batcher, batchable
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.phones import normalize_phone
from bot.roster.read import read_table
from bot.store import inbound, people, reports
from bot.store.db import session_scope
from models import (
    DailyReport,
    InboundMessage,
    Person,
    PrivacyNotice,
    ReportChange,
    ReportingDays,
    ReportValue,
    SenderRate,
    UnitDayReported,
    UnitDayTotal,
)
from tests.conftest import CHANNELS, SAMPLE, USHA, at

UNKNOWN = "9000000001"
INACTIVE = "7622075049"  # Pushpa Rawat, inactive in the sample roster
LIMIT = 6  # messages a minute, low so that the run meets it

# Report texts a worker sends, with what each exercises.
REPORTS = (
    "आवेदन {a} कार्ड {c}",  # named values, replacing
    "{a} {c} {h}",  # bare numbers in the configured order
    "कार्ड +{n}",  # an addition
    "apps {a} cards {c} ghar {h}",  # English words
    "कल कार्ड {c}",  # yesterday
    "आवेदन २{n} कार्ड {n}",  # Devanagari digits
    "कार्ड 9999",  # over the ceiling: refused, nothing changes
    "25/11 कार्ड {n}",  # a future day: refused
    "01/10 कार्ड {n}",  # past the back-dating window: refused
    "0 0",  # zero counts as reported
)


def field_phones() -> list[str]:
    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    return [r["phone"] for _, r in table if r["role"] in ("asha", "anm") and r["active"] == "true"]


def one_each(tag: str, phones: Sequence[str], texts: Sequence[str]) -> list[Inbound]:
    """One report from each phone, at the same moment, keyed `sim:TAG:i`."""
    return [
        Inbound("simulator", f"sim:{tag}:{i}", at(23, 18), p, body, phone=p, source_key=f"sim:{tag}:{i}")
        for i, (p, body) in enumerate(zip(phones, texts, strict=True))
    ]


def conversation(seed: int, workers: Sequence[str]) -> list[Inbound]:
    """An evening's messages in arrival order: mostly reports, some of everything else."""
    rng = random.Random(seed)
    messages: list[Inbound] = []
    for i in range(70):
        phone = rng.choice(workers)
        roll = rng.random()
        if roll < 0.05:
            phone, body = UNKNOWN, "आवेदन 5 कार्ड 4"
        elif roll < 0.08:
            phone, body = INACTIVE, "कार्ड 3"
        elif roll < 0.11:
            phone, body = USHA, "कार्ड 7"  # a supervisor cannot report
        elif roll < 0.14:
            body = rng.choice(("/status", "/undo", "नमस्ते दीदी"))
        else:
            body = rng.choice(REPORTS).format(
                a=rng.randint(1, 40), c=rng.randint(0, 30), h=rng.randint(5, 60), n=rng.randint(1, 9)
            )
        key = f"sim:{seed}:{i}"
        if messages and rng.random() < 0.06:
            key = rng.choice(messages).dedup_key  # a delivery repeated
            earlier = next(m for m in messages if m.dedup_key == key)
            messages.append(earlier)
            continue
        messages.append(
            Inbound(
                channel="simulator",
                dedup_key=key,
                source_key=key,
                sent_at=at(23, 18, i % 60),
                chat_id=phone,
                phone=phone,
                text=body,
            )
        )
    return messages


def batches(messages: Sequence[Inbound], rng: random.Random) -> list[list[Inbound]]:
    out, i = [], 0
    while i < len(messages):
        size = rng.randint(1, 12)
        out.append(list(messages[i : i + size]))
        i += size
    return out


def ordered(rows: Any) -> list[Any]:
    return sorted(rows, key=repr)


def snapshot(engine: Engine) -> dict[str, Any]:
    """What the messages left in the database, without ids and clock times that differ by run."""
    with Session(engine) as session:
        reports = {r.id: (r.person_id, r.day) for r in session.exec(select(DailyReport)).all()}
        return {
            "values": ordered(
                (*reports[v.report_id], v.metric, v.value)
                for v in session.exec(select(ReportValue)).all()
            ),
            "changes": ordered(
                (c.person_id, c.day, c.metric, c.old_value, c.new_value, c.kind, c.source_key, c.undone)
                for c in session.exec(select(ReportChange)).all()
            ),
            "inbound": ordered(
                (m.dedup_key, m.person_id, m.replies) for m in session.exec(select(InboundMessage)).all()
            ),
            "totals": ordered(
                (t.level, t.unit_id, t.day, t.metric, t.value)
                for t in session.exec(select(UnitDayTotal)).all()
                if t.value
            ),
            "reported": ordered(
                (r.level, r.unit_id, r.day, r.reported)
                for r in session.exec(select(UnitDayReported)).all()
                if r.reported
            ),
            "days": ordered(
                (d.sector_id, d.bucket, d.workers)
                for d in session.exec(select(ReportingDays)).all()
                if d.workers
            ),
            "rates": ordered((r.sender, r.count) for r in session.exec(select(SenderRate)).all()),
            "notices": ordered(
                (n.person_id, n.channel) for n in session.exec(select(PrivacyNotice)).all()
            ),
        }


def start_over(engine: Engine, new_faces: Sequence[str]) -> None:
    """Empty what messages write; everyone has seen the privacy notice but `new_faces`."""
    kept = {"person", "person_phone", "district", "block", "sector", "village", "post"}
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in kept and table.name != "alembic_version":
                conn.execute(table.delete())
    with session_scope(engine) as session:
        new = set()
        for phone in new_faces:
            person = people.person_by_phone(session=session, phone=normalize_phone(phone))
            assert person is not None
            new.add(person.id)
        for person in session.exec(select(Person)).all():
            if person.id not in new:
                for channel in CHANNELS:
                    session.add(PrivacyNotice(person_id=person.id, channel=channel))


def limited(settings: Settings) -> Settings:
    data = settings.model_dump(exclude={"base_dir"})
    data["floods"] = {**data["floods"], "messages_per_minute": LIMIT}
    return Settings.model_validate({**data, "base_dir": settings.base_dir})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_answer_and_store_as_one_by_one(district: Engine, settings: Settings, seed: int) -> None:
    workers = field_phones()[:8]
    messages = conversation(seed, workers)
    core = build_core(limited(settings), district, clock=lambda: at(23, 23, 59))
    new_faces = workers[:2]

    start_over(district, new_faces)
    alone = [[(r.text, r.request_contact) for r in core.handle(m)] for m in messages]
    expected = snapshot(district)

    start_over(district, new_faces)
    together: list[list[tuple[str, str | None]]] = []
    for batch in batches(messages, random.Random(seed)):
        for replies in core.handle_many(batch):
            together.append([(r.text, r.request_contact) for r in replies])
    got = snapshot(district)

    for i, (one, many) in enumerate(zip(alone, together, strict=True)):
        assert many == one, (i, messages[i].phone, messages[i].text)
    for key in expected:
        assert got[key] == expected[key], key
    # The run met what it is meant to: refusals, floods, notices, stored reports.
    flat = "\n".join(text for replies in alone for text, _ in replies)
    assert "✅" in flat and "9,999" in flat
    assert len(expected["notices"]) > 0 and len(expected["values"]) > 10


def test_a_batch_that_fails_is_handled_one_by_one(
    core: Fieldbot, district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stores one of the batch's messages first: the batch's commit fails, nothing
    of it is kept, and each message is handled alone, the taken one answered as it was there."""
    if district.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: no other process can store while a batch writes")
    workers = field_phones()[:3]
    messages = one_each("race", workers, [f"कार्ड {i + 1}" for i in range(3)])
    taken = messages[1]
    write_days = reports.write_days

    def meanwhile(**kwargs: Any) -> None:
        write_days(**kwargs)
        with session_scope(district) as other:
            inbound.record_inbound(
                session=other,
                channel="simulator",
                dedup_key=taken.dedup_key,
                source_key=taken.source_key,
                person_id=None,
                sent_at=taken.sent_at,
                replies=[Reply("answered elsewhere")],
            )

    monkeypatch.setattr(reports, "write_days", meanwhile)
    replies = core.handle_many(messages)
    assert [r.text for r in replies[1]] == ["answered elsewhere"]
    assert "✅" in replies[0][0].text and "✅" in replies[2][0].text
    with Session(district) as session:
        cards = sorted(
            v.value for v in session.exec(select(ReportValue).where(ReportValue.metric == "cards"))
        )
        stored = session.exec(select(InboundMessage)).all()
    assert cards == [1, 3]  # the taken message's own report was never applied here
    assert len(stored) == 3


def test_reports_from_one_worker_in_one_batch_add_up_in_order(core: Fieldbot, district: Engine) -> None:
    phone = field_phones()[0]
    messages = [
        Inbound("simulator", f"sim:add:{i}", at(23, 18, i), phone, "कार्ड +2", phone=phone)
        for i in range(5)
    ]
    replies = [r[0].text for r in core.handle_many(messages)]
    assert ["2 + 2 = 4" in replies[1], "8 + 2 = 10" in replies[4]] == [True, True]
    with Session(district) as session:
        trail = session.exec(select(ReportChange).order_by(ReportChange.id)).all()  # type: ignore[arg-type]
        total = session.execute(
            text("SELECT value FROM unit_day_total WHERE level = 'district' AND metric = 'cards'")
        ).scalar_one()
    assert [(c.old_value, c.new_value) for c in trail] == [(None, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert total == 10


def test_only_plain_reports_are_batched(core: Fieldbot) -> None:
    def message(text: str | None, **extra: Any) -> Inbound:
        return Inbound("simulator", "k", at(23), "1", text, phone="1", **extra)

    assert batchable(core, message("आवेदन 25 कार्ड 20"))
    assert batchable(core, message("25 20 40"))
    for other in (message("/status"), message("नमस्ते"), message(None), message("कार्ड 5", is_edit=True)):
        assert not batchable(core, other)
    assert not batchable(core, message("कार्ड 5", photo=b"\xff\xd8"))
    assert not batchable(core, message("कार्ड 5 " + "x" * 5000))


def test_batcher_groups_what_waits_and_answers_each() -> None:
    seen: list[int] = []

    def handle(inbounds: Sequence[Inbound]) -> list[list[Reply]]:
        seen.append(len(inbounds))
        return [[Reply(f"got {m.text}")] for m in inbounds]

    async def run() -> list[list[Reply]]:
        batcher = Batcher(handle, max_batch=10, lanes=1)
        messages = [Inbound("simulator", str(i), at(23), "1", str(i)) for i in range(25)]
        return await asyncio.gather(*(batcher.submit(m) for m in messages))

    answers = asyncio.run(run())
    assert [a[0].text for a in answers] == [f"got {i}" for i in range(25)]
    assert seen == [10, 10, 5]  # what waited together went together, at most max_batch at a time


def test_batcher_hands_a_failure_to_every_waiting_caller() -> None:
    def handle(inbounds: Sequence[Inbound]) -> list[list[Reply]]:
        raise RuntimeError("database gone")

    async def run() -> list[BaseException | list[Reply]]:
        batcher = Batcher(handle)
        messages = [Inbound("simulator", str(i), at(23), "1", "x") for i in range(3)]
        return await asyncio.gather(*(batcher.submit(m) for m in messages), return_exceptions=True)

    outcomes = asyncio.run(run())
    assert all(isinstance(o, RuntimeError) for o in outcomes)


def test_day_refusals_in_a_batch_still_count_the_message(core: Fieldbot, district: Engine) -> None:
    phone = field_phones()[0]
    later = at(23, 18) + dt.timedelta(minutes=1)
    replies = core.handle_many(
        [
            Inbound("simulator", "sim:f1", later, phone, "25/11 कार्ड 4", phone=phone),
            Inbound("simulator", "sim:f2", later, phone, "कार्ड 4", phone=phone),
        ]
    )
    assert "✅" not in replies[0][0].text and "✅" in replies[1][0].text
    with Session(district) as session:
        assert session.exec(select(SenderRate)).one().count == 2
        assert len(session.exec(select(InboundMessage)).all()) == 2


def _lost_connection() -> OperationalError:
    return OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))


def test_a_lost_connection_is_retried_for_the_whole_batch(
    core: Fieldbot, district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = one_each("drop", field_phones()[:3], ["कार्ड 4"] * 3)
    replies_for = inbound.replies_for
    failures = iter([_lost_connection()])

    def flaky(**kwargs: Any) -> dict[str, list[Reply]]:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return replies_for(**kwargs)

    monkeypatch.setattr(inbound, "replies_for", flaky)
    alone: list[Inbound] = []
    handle = core.handle
    monkeypatch.setattr(core, "handle", lambda inbound: alone.append(inbound) or handle(inbound))
    core.retry_pauses = (0.01,)
    replies = core.handle_many(messages)
    assert all("✅" in r[0].text for r in replies)
    assert alone == []  # stored by the batch's second attempt, not one by one
    with Session(district) as session:
        assert len(session.exec(select(InboundMessage)).all()) == 3


def test_a_database_that_stays_away_gets_every_sender_a_resend_at_once(
    core: Fieldbot, district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = one_each("down", field_phones()[:4], ["कार्ड 4"] * 4)
    core.handle_many(messages[:1])  # her language is known from before

    def down(**kwargs: Any) -> dict[str, list[Reply]]:
        raise _lost_connection()

    alone: list[Inbound] = []
    monkeypatch.setattr(inbound, "replies_for", down)
    monkeypatch.setattr(core, "handle", lambda inbound: alone.append(inbound) or [])
    core.retry_pauses = (0.01, 0.01)
    replies = core.handle_many(messages[1:])
    assert [r[0].text for r in replies] == [t("hi", "internal_error")] * 3
    assert alone == []  # not retried again message by message
    with Session(district) as session:
        assert len(session.exec(select(InboundMessage)).all()) == 1
