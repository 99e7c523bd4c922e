"""Fieldbot.handle with a route table of the test's own: one message in, its replies out, one
transaction; a redelivery answered as before, a refusal rolled back, the privacy notice once per
channel, a database failure answered with "please resend" in her language."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot import privacy
from bot.config import Settings
from bot.core.contracts import Context, Refused
from bot.core.messages import Inbound, Reply
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.store import inbound as inbound_store
from bot.store.db import session_scope
from bot.store.reports import Change, apply_changes, report_values
from models import InboundMessage, Person, PrivacyNotice, ReportChange
from tests.conftest import at

SUNITA = "+917973321377"
POOJA = "+919769757560"  # writes in English
PUSHPA = "7622075049"  # not active
NOW = at(23, 23, 59)


class Recorder:
    """A route table: answers `ok:<text>`, writes a report on `write`, refuses on `refuse`."""

    def __init__(self) -> None:
        self.seen: list[Context] = []
        self.fail: list[Exception] = []

    def __call__(self, ctx: Context) -> list[Reply]:
        self.seen.append(ctx)
        if self.fail:
            raise self.fail.pop(0)
        text = ctx.inbound.text or ""
        if text in ("write", "refuse"):
            apply_changes(
                session=ctx.session,
                person=ctx.person,
                changes=[Change(ctx.today, "cards", None, 5)],
                kind="report",
                channel=ctx.inbound.channel,
                source_key=ctx.inbound.source_key,
            )
        if text == "refuse":
            raise Refused([Reply("refused: nothing saved")])
        return [Reply(f"ok:{text}:{ctx.person.name}")]


def welcome(_session: Session, person: Person, _settings: Settings) -> str:
    return f"welcome {person.name}"


@pytest.fixture()
def route() -> Recorder:
    return Recorder()


@pytest.fixture()
def bot(district: Engine, settings: Settings, route: Recorder) -> Fieldbot:
    core = Fieldbot(settings, district, route=route, welcome=welcome, clock=lambda: NOW)
    core.retry_pauses = ()
    return core


def message(text: str, phone: str = SUNITA, key: str | None = None, **fields: object) -> Inbound:
    values: dict[str, object] = {
        "channel": "simulator",
        "dedup_key": key or uuid.uuid4().hex,
        "sent_at": at(23, 20),
        "chat_id": phone,
        "phone": phone,
        "text": text,
        **fields,
    }
    return Inbound(**values)  # type: ignore[arg-type]


def texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


def count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def sunita_values(engine: Engine, day: dt.date = dt.date(2026, 11, 23)) -> dict[str, int]:
    with session_scope(engine) as session:
        person = session.execute(select(Person).where(Person.name == "Sunita Devi")).scalar_one()
        assert person.id is not None
        return report_values(session=session, person_id=person.id, day=day)


def test_the_route_given_by_the_caller_answers(bot: Fieldbot, route: Recorder) -> None:
    # `/status` is a command the product's route table knows; this one answers it its own way
    assert texts(bot.handle(message("/status"))) == ["ok:/status:Sunita Devi"]
    ctx = route.seen[0]
    assert ctx.person.name == "Sunita Devi" and ctx.now == NOW
    assert ctx.today == dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("sent_at", "day"),
    [
        (at(23, 0, 5), dt.date(2026, 11, 23)),
        (dt.datetime(2026, 11, 22, 18, 40, tzinfo=dt.UTC), dt.date(2026, 11, 23)),  # 00:10 IST
        (dt.datetime(2026, 11, 22, 18, 20, tzinfo=dt.UTC), dt.date(2026, 11, 22)),  # 23:50 IST
        (at(25, 9), dt.date(2026, 11, 23)),  # a clock ahead on her phone: never later than now
    ],
)
def test_the_message_counts_for_its_own_day_in_the_configured_zone(
    bot: Fieldbot, route: Recorder, sent_at: dt.datetime, day: dt.date
) -> None:
    bot.handle(message("hi", sent_at=sent_at))
    assert route.seen[-1].today == day
    assert bot.message_day(message("hi", sent_at=sent_at)) == day


def test_a_redelivery_is_answered_as_before_and_stored_once(
    district: Engine, bot: Fieldbot, route: Recorder
) -> None:
    first = bot.handle(message("write", key="k1", source_key="k1"))
    again = bot.handle(message("write", key="k1", source_key="k1"))
    assert again == first == [Reply("ok:write:Sunita Devi")]
    assert len(route.seen) == 1
    assert sunita_values(district) == {"cards": 5}
    assert count(district, InboundMessage) == 1
    assert count(district, ReportChange) == 1


def test_a_delivery_stored_meanwhile_by_another_process_is_answered_as_it_was(
    district: Engine, bot: Fieldbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes given the same delivery at once: the later commit fails on the dedup key."""
    with session_scope(district) as session:
        inbound_store.record_inbound(
            session=session,
            channel="simulator",
            dedup_key="k1",
            source_key="k1",
            person_id=None,
            sent_at=at(23, 20),
            replies=[Reply("the other process's answer")],
        )
    real = inbound_store.processed_replies
    looks = iter([None])  # the first look came before the other process committed

    def processed_replies(*, session: Session, dedup_key: str) -> list[Reply] | None:
        return next(looks, real(session=session, dedup_key=dedup_key))

    monkeypatch.setattr(inbound_store, "processed_replies", processed_replies)
    assert bot.handle(message("write", key="k1", source_key="k1")) == [
        Reply("the other process's answer")
    ]
    assert sunita_values(district) == {}  # what this process wrote was rolled back
    assert count(district, InboundMessage) == 1


def test_a_refusal_rolls_back_what_the_handler_wrote(
    district: Engine, bot: Fieldbot, route: Recorder
) -> None:
    assert texts(bot.handle(message("refuse", key="r1"))) == ["refused: nothing saved"]
    assert sunita_values(district) == {}
    assert count(district, ReportChange) == 0
    # the refusal is the message's answer: a redelivery is told the same, without handling it again
    assert texts(bot.handle(message("refuse", key="r1"))) == ["refused: nothing saved"]
    assert len(route.seen) == 1
    assert count(district, InboundMessage) == 1


def forget_notices(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(delete(PrivacyNotice))


def test_the_privacy_notice_comes_once_per_channel(
    district: Engine, bot: Fieldbot, settings: Settings
) -> None:
    forget_notices(district)
    notice = privacy.notice_text(settings, "hi")
    assert texts(bot.handle(message("one"))) == ["ok:one:Sunita Devi", notice]
    assert texts(bot.handle(message("two"))) == ["ok:two:Sunita Devi"]
    whatsapp = message("three", channel="whatsapp", chat_id=f"whatsapp:{SUNITA}")
    assert texts(bot.handle(whatsapp)) == ["ok:three:Sunita Devi", notice]
    assert texts(bot.handle(message("four", channel="whatsapp", chat_id=f"whatsapp:{SUNITA}"))) == [
        "ok:four:Sunita Devi"
    ]


def test_the_privacy_notice_comes_with_a_refusal_and_not_in_a_group(
    district: Engine, bot: Fieldbot, settings: Settings
) -> None:
    forget_notices(district)
    assert texts(bot.handle(message("in the group", is_group=True))) == ["ok:in the group:Sunita Devi"]
    assert texts(bot.handle(message("refuse"))) == [
        "refused: nothing saved",
        privacy.notice_text(settings, "hi"),
    ]
    assert texts(bot.handle(message("again"))) == ["ok:again:Sunita Devi"]


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+919812345678", t("hi", "unknown_phone", phone="+919812345678")),
        (PUSHPA, t("hi", "inactive", name="Pushpa Rawat")),
    ],
    ids=["not on the roster", "inactive"],
)
def test_someone_we_cannot_let_in_is_told_why_and_nothing_is_stored(
    district: Engine, bot: Fieldbot, route: Recorder, phone: str, expected: str
) -> None:
    assert texts(bot.handle(message("write", phone=phone))) == [expected]
    assert bot.handle(message("write", phone=phone, is_group=True)) == []
    assert route.seen == []
    assert count(district, InboundMessage) == 0


def database_error() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.mark.parametrize(("phone", "language"), [(SUNITA, "hi"), (POOJA, "en")])
def test_a_database_error_is_answered_with_please_resend_in_her_language(
    district: Engine, bot: Fieldbot, route: Recorder, phone: str, language: str
) -> None:
    route.fail.append(database_error())
    assert texts(bot.handle(message("write", phone=phone, key="e1"))) == [t(language, "internal_error")]
    assert count(district, InboundMessage) == 0  # not marked processed: her resend is handled
    assert texts(bot.handle(message("write", phone=phone, key="e1")))[0].startswith("ok:write:")


def test_a_lost_connection_is_retried_and_the_message_handled_once(
    district: Engine, bot: Fieldbot, route: Recorder
) -> None:
    bot.retry_pauses = (0.0, 0.0)
    route.fail += [database_error(), database_error()]
    assert texts(bot.handle(message("write"))) == ["ok:write:Sunita Devi"]
    assert len(route.seen) == 3
    assert sunita_values(district) == {"cards": 5}
    assert count(district, ReportChange) == 1


def test_when_the_database_is_gone_she_is_answered_in_the_language_last_seen(
    bot: Fieldbot,
) -> None:
    assert texts(bot.handle(message("hello", phone=POOJA))) == ["ok:hello:Pooja Shukla"]
    bot.engine = create_engine("sqlite:////nonexistent-folder/fieldbot.db")
    assert texts(bot.handle(message("hello again", phone=POOJA))) == [t("en", "internal_error")]
    assert texts(bot.handle(message("hello", phone=SUNITA))) == [t("hi", "internal_error")]
    assert not bot.knows(message("hello", phone=POOJA))


def test_any_other_failure_is_answered_with_please_resend(
    district: Engine, bot: Fieldbot, route: Recorder
) -> None:
    route.fail.append(RuntimeError("a handler's bug"))
    assert texts(bot.handle(message("write", phone=POOJA))) == [t("en", "internal_error")]
    assert count(district, InboundMessage) == 0


def test_who_may_have_files_fetched(bot: Fieldbot) -> None:
    assert bot.knows(message("photo"))
    assert not bot.knows(message("photo", phone=PUSHPA))
    assert not bot.knows(message("photo", phone="+919812345678"))
