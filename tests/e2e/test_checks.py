"""Numbers to double-check: a report far above the worker's own usual, or cards above applications
where the deployment says that cannot be, is stored, her confirmation asks her to check it, and the
supervisor's digest lists it under "check"."""

from __future__ import annotations

import uuid

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import scheduler
from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Inbound
from models import Outbox, Person
from tests.conftest import ROOT, SUNITA, Chat, at

REKHA = "7339325088"  # ASHA, Hardoi/Sandila/Sandila-1
CHECK = "⚠️ कृपया एक बार जाँच लें"


def usual_days(chat: Chat, phone: str, cards: int, days: range) -> None:
    for day in days:
        assert chat.say(phone, f"कार्ड {cards}", at(day, 18)).startswith("✅")


def digest(engine: Engine, settings: Settings) -> str:
    scheduler.run_job(engine, settings, "supervisor_digest", at(23, 18, 30))
    with Session(engine) as session:
        (text,) = session.exec(
            select(Outbox.text)
            .join(Person, col(Person.id) == col(Outbox.person_id))
            .where(Person.name == "Usha Srivastava", Outbox.job == "supervisor_digest")
        ).all()
    return text


def test_a_report_far_above_her_usual_is_stored_and_asked_to_check(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    usual_days(chat, SUNITA, 8, range(16, 21))  # five reported days of 8 cards
    usual_days(chat, REKHA, 8, range(18, 22))  # only four
    reply = chat.say(SUNITA, "कार्ड 95", at(23, 12))
    assert reply.startswith("✅") and "कार्ड: 95" in reply
    assert f"{CHECK}: कार्ड 95 (सामान्य 8)" in reply
    assert CHECK not in chat.say(REKHA, "कार्ड 95", at(23, 12))  # too few days to know her usual
    text = digest(district, settings).split("\n\n")[0]
    assert "⚠️ जाँच करें (1):" in text and "• Sunita Devi: कार्ड 95 (सामान्य 8)" in text
    assert "Rekha Verma: कार्ड" not in text


def test_a_small_number_is_never_asked_about(chat: Chat) -> None:
    usual_days(chat, SUNITA, 1, range(16, 22))
    assert CHECK not in chat.say(SUNITA, "कार्ड 9", at(23, 12))  # 9 times her usual, but only 9
    assert CHECK in chat.say(SUNITA, "कार्ड 11", at(23, 12, 1))


def impossible(settings: Settings) -> Settings:
    data = settings.model_dump(exclude={"base_dir"})
    data["checks"] = {**data["checks"], "not_above": {"cards": "applications"}}
    return Settings.model_validate({**data, "base_dir": ROOT})


def test_cards_above_applications_is_flagged_where_the_config_says_it_cannot_be(
    district: Engine, settings: Settings
) -> None:
    plain = Chat(build_core(settings, district, clock=lambda: at(23, 23, 59)))
    assert CHECK not in plain.say(SUNITA, "आवेदन 10 कार्ड 12", at(23, 12))
    strict = impossible(settings)
    chat = Chat(build_core(strict, district, clock=lambda: at(23, 23, 59)))
    reply = chat.say(SUNITA, "कार्ड 12", at(23, 12, 1))
    assert f"{CHECK}: कार्ड 12, आवेदन 10 से ज़्यादा" in reply
    assert CHECK not in chat.say(REKHA, "आवेदन 12 कार्ड 12", at(23, 12, 2))
    assert "• Sunita Devi: कार्ड 12, आवेदन 10 से ज़्यादा" in digest(district, strict)


def test_reports_stored_together_are_checked_the_same(district: Engine, settings: Settings) -> None:
    core = build_core(settings, district, clock=lambda: at(23, 23, 59))
    usual_days(Chat(core), SUNITA, 8, range(16, 21))

    def inbound(phone: str, text: str) -> Inbound:
        key = f"batch:{uuid.uuid4().hex}"
        return Inbound("simulator", key, at(23, 12), phone, text=text, phone=phone, source_key=key)

    batch = core.handle_many([inbound(SUNITA, "कार्ड 95"), inbound(REKHA, "कार्ड 95")])
    sunita, rekha = ("\n".join(r.text for r in replies) for replies in batch)
    assert f"{CHECK}: कार्ड 95 (सामान्य 8)" in sunita and CHECK not in rekha
