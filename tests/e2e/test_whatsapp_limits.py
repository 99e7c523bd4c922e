"""WhatsApp's messaging limit (people per rolling 24 hours) and opt-in, through Twilio's real paths."""
# ruff: noqa: F811 - the fixtures of test_whatsapp are imported and then named as arguments

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.channels.whatsapp.settings import TwilioSettings
from bot.i18n import t
from bot.store.contacts import record_contact
from models import Outbox, Person
from scheduler import run_job
from tests.conftest import at
from tests.e2e.test_whatsapp import (  # noqa: F401 - the fixtures
    CONTENT,
    MEENA,
    POONAM,
    REKHA,
    SUNITA,
    SpyCore,
    app,
    clock,
    drain,
    say,
    twilio,
    twilio_api,
    wa_core,
    with_templates,
)
from tests.fakes.twilio_api import FakeTwilioAPI

WROTE = (SUNITA, REKHA, MEENA, POONAM)


def wrote_two_days_ago(core: SpyCore) -> None:
    """Four workers wrote on 22/11: opted in, and outside their 24-hour window on 24/11."""
    with Session(core.engine) as session:
        for phone in WROTE:
            person = session.exec(select(Person).where(Person.phone == phone)).one()
            record_contact(session=session, person_id=person.id or 0, address=phone, at=at(22, 10))
        session.commit()


def limited(core: SpyCore, limit: int) -> SpyCore:
    data = core.settings.model_dump(exclude={"base_dir"})
    data["whatsapp"]["messaging_limit"] = limit
    settings = with_templates(core.settings, whatsapp=data["whatsapp"])
    return SpyCore(settings, core.engine, core.clock)  # type: ignore[arg-type]


def rows(core: SpyCore, job: str) -> list[Outbox]:
    with Session(core.engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.job == job)).all())


def test_past_the_limit_templates_wait_then_fail_at_day_end_and_officers_hear_once(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    core = limited(wa_core, 2)
    wrote_two_days_ago(core)
    assert run_job(core.engine, core.settings, "start_message", at(24, 9)) is not None
    drain(core, twilio, at(24, 9, 1))
    templates = [m for m in twilio_api.messages if m.content_sid == CONTENT["start_message"]]
    assert len(templates) == 2 and len({m.to for m in templates}) == 2
    start = {r.address: r for r in rows(core, "start_message")}
    opted = [start[phone] for phone in WROTE]
    assert sorted(r.status for r in opted) == ["pending", "pending", "sent", "sent"]
    waiting = [r for r in opted if r.status == "pending"]
    assert all("messaging limit" in (r.last_error or "") for r in waiting)
    # Those who never wrote to the business number have not opted in: no template for them.
    never = [r for phone, r in start.items() if phone not in WROTE]
    assert never and {r.status for r in never} == {"failed"}
    assert all("not opted in" in (r.last_error or "") for r in never)
    # The admin and the district officer are told, in their language, once.
    notices = rows(core, "whatsapp_limit")
    with Session(core.engine) as session:
        roles = sorted(
            session.exec(
                select(Person.role).where(col(Person.id).in_([n.person_id for n in notices]))
            ).all()
        )
    assert roles == ["admin", "district_officer"]
    assert all(
        n.text == t("hi", "whatsapp_limit_reached", limit="2", job=t("hi", "wa_job_start_message"))
        for n in notices
    )
    drain(core, twilio, at(24, 14))  # still within the day, still over the limit
    assert len([m for m in twilio_api.messages if m.content_sid == CONTENT["start_message"]]) == 2
    assert len(rows(core, "whatsapp_limit")) == 2
    # At the day's end what still did not fit is marked failed, with the reason.
    drain(core, twilio, dt.datetime(2026, 11, 24, 18, 31, tzinfo=dt.UTC))
    start = {r.address: r for r in rows(core, "start_message")}
    assert sorted(start[p].status for p in WROTE) == ["failed", "failed", "sent", "sent"]
    assert len([m for m in twilio_api.messages if m.content_sid == CONTENT["start_message"]]) == 2


def test_stop_opts_out_of_templates_and_start_opts_back_in(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    wrote_two_days_ago(wa_core)
    assert say(twilio_api, SUNITA, "बंद") == t("hi", "whatsapp_stopped")
    wa_core.clock.now = at(24, 9)  # type: ignore[attr-defined]
    run_job(wa_core.engine, wa_core.settings, "start_message", at(25, 9))
    drain(wa_core, twilio, at(25, 9, 1))
    start = {r.address: r for r in rows(wa_core, "start_message")}
    assert start[SUNITA].status == "failed" and "not opted in" in (start[SUNITA].last_error or "")
    assert start[REKHA].status == "sent"
    assert say(twilio_api, SUNITA, "START") == t("hi", "whatsapp_started")
    run_job(wa_core.engine, wa_core.settings, "start_message", at(27, 9))
    drain(wa_core, twilio, at(27, 9, 1))
    with Session(wa_core.engine) as session:
        latest = session.exec(
            select(Outbox).where(
                Outbox.address == SUNITA,
                Outbox.job == "start_message",
                Outbox.day == dt.date(2026, 11, 27),
            )
        ).one()
    assert latest.status == "sent"
