"""Several WhatsApp sender numbers sharing the load: a lane and a rate per number, the number she
wrote to answering inside her window, one messaging limit across them all."""
# ruff: noqa: F811 - the fixtures of test_whatsapp are imported and then named as arguments

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.app import whatsapp_channels
from bot.channels.base import parse_senders, whatsapp_senders
from bot.channels.whatsapp.sending import WhatsAppChannel
from bot.channels.whatsapp.settings import TwilioSettings
from bot.config import ConfigError
from bot.delivery import wa_limits
from bot.delivery.sender import OutboxSender
from bot.store.contacts import contact
from models import Outbox, Person
from scheduler import run_job
from tests.conftest import at
from tests.e2e.test_whatsapp import (  # noqa: F401 - the fixtures
    CONTENT,
    PUBLIC,
    SpyCore,
    clock,
    opt_in_everyone,
    say,
    twilio,
    twilio_api,
    wa_core,
    whatsapp_app,
)
from tests.e2e.test_whatsapp_limits import limited
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI

SECOND = "whatsapp:+14155238887"
BOTH = (WHATSAPP_FROM, SECOND)
LANES = {"whatsapp:+14155238886", "whatsapp:+14155238887"}
USHA = "+917285872429"  # supervisor of Sandila-1; her address alone would choose the first number


@pytest.fixture()
def two(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, monkeypatch: pytest.MonkeyPatch
) -> TwilioSettings:
    """Two sender numbers, listed the way an operator writes them (one without its prefix)."""
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", f" {WHATSAPP_FROM} , {SECOND.removeprefix('whatsapp:')}")
    twilio_api.senders = set(BOTH)  # Twilio refuses a From that is not the account's
    settings = TwilioSettings.from_env()
    assert settings is not None
    return settings


@pytest.fixture()
def app2(wa_core: SpyCore, two: TwilioSettings, twilio_api: FakeTwilioAPI) -> Iterator[str]:
    with whatsapp_app(wa_core, two, twilio_api) as url:
        yield url


def drain_all(core: SpyCore, when: dt.datetime) -> tuple[int, OutboxSender]:
    """The channels `run` builds from the environment (a lane per number), drained at `when`."""
    channels, _ = whatsapp_channels(core, scheduled=True)
    for channel in channels.values():
        assert isinstance(channel, WhatsAppChannel)
        channel.clock = lambda: when
    sender = OutboxSender(core.engine, core.settings, channels, clock=lambda: when)
    return asyncio.run(sender.drain_once()), sender


def rows(core: SpyCore, job: str) -> list[Outbox]:
    with Session(core.engine) as session:
        return list(session.exec(select(Outbox).where(Outbox.job == job)).all())


def test_the_variable_lists_numbers_each_checked_and_none_twice() -> None:
    base = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "FIELDBOT_PUBLIC_URL": PUBLIC}
    ready = TwilioSettings.from_env(
        {**base, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886,+14155238887"}
    )
    assert ready is not None and ready.senders == BOTH and ready.whatsapp_from == WHATSAPP_FROM
    one = TwilioSettings.from_env({**base, "TWILIO_WHATSAPP_FROM": "+14155238886"})
    assert one is not None and one.senders == (WHATSAPP_FROM,)
    with pytest.raises(ConfigError) as bad:
        TwilioSettings.from_env({**base, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886, 4155238887"})
    assert str(bad.value) == (
        "TWILIO_WHATSAPP_FROM '4155238887' is not a WhatsApp sender like whatsapp:+14155238886"
    )
    with pytest.raises(ConfigError, match="TWILIO_WHATSAPP_FROM '' is not"):
        TwilioSettings.from_env({**base, "TWILIO_WHATSAPP_FROM": "+14155238886,"})
    with pytest.raises(ConfigError) as twice:
        TwilioSettings.from_env(
            {**base, "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886,+14155238887,+14155238886"}
        )
    assert "whatsapp:+14155238886 twice" in str(twice.value) and "\n" not in str(twice.value)
    # The outbox reads the same list by the same rule.
    env = {**base, "TWILIO_WHATSAPP_FROM": "+14155238886 ,whatsapp:+14155238887"}
    assert whatsapp_senders(env) == BOTH and whatsapp_senders({}) == ()
    with pytest.raises(ValueError, match="twice"):
        parse_senders("+14155238886,whatsapp:+14155238886")


def test_start_messages_go_out_from_both_numbers_each_lane_at_its_own_rate(
    app2: str, two: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    opt_in_everyone(wa_core.engine)  # outside the window, but opted in: templates
    assert run_job(wa_core.engine, wa_core.settings, "start_message", at(24, 9)) is not None
    queued = rows(wa_core, "start_message")
    lanes = Counter(row.lane for row in queued)
    assert set(lanes) == LANES and min(lanes.values()) >= len(queued) // 4  # spread, not on one
    sent, sender = drain_all(wa_core, at(24, 9, 1))
    assert sent == len(queued) and twilio_api.rejected == []
    templates = twilio_api.messages  # in Hindi or English, each the approved template
    assert len(templates) == len(queued) and all(m.content_sid for m in templates)
    froms = Counter(m.from_ for m in templates)
    assert set(froms) == set(BOTH) and froms[WHATSAPP_FROM] == lanes["whatsapp:+14155238886"]
    # Each message went from the number of its lane.
    by_to = {m.to: m.from_ for m in templates}
    assert all(by_to[f"whatsapp:{row.address}"] == row.lane for row in queued)
    # Each number its own budget, at Twilio's rate for one sender.
    rate = wa_core.settings.sending.whatsapp_per_second
    first = sender.limits_for("whatsapp:+14155238886", "whatsapp")
    second = sender.limits_for("whatsapp:+14155238887", "whatsapp")
    assert first is not None and second is not None and first is not second
    assert first.per_second == second.per_second == rate


def test_she_gets_her_digest_in_her_window_from_the_number_she_wrote_to(
    app2: str, two: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    wa_core.clock.now = at(23, 19)  # type: ignore[attr-defined]
    say(twilio_api, USHA, "/help", to=SECOND)  # to the second number: its window is open
    with Session(wa_core.engine) as session:
        usha = session.exec(select(Person).where(Person.phone == USHA)).one()
        noted = contact(session=session, person_id=usha.id or 0)
    assert noted is not None and noted.business_number == "+14155238887"
    run_job(wa_core.engine, wa_core.settings, "supervisor_digest", at(23, 19, 30))
    (row,) = [r for r in rows(wa_core, "supervisor_digest") if r.address == USHA]
    assert row.lane == SECOND
    drain_all(wa_core, at(23, 19, 31))
    digest = twilio_api.messages_to(USHA)
    assert digest and all(m.from_ == SECOND and m.content_sid is None for m in digest)
    assert digest[0].body


def test_a_row_of_the_other_number_goes_as_a_template_outside_that_numbers_window(
    app2: str, two: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    """Queued for the first number before she wrote to the second: the first's window is shut."""
    opt_in_everyone(wa_core.engine)
    run_job(wa_core.engine, wa_core.settings, "supervisor_digest", at(23, 19, 30))
    (row,) = [r for r in rows(wa_core, "supervisor_digest") if r.address == USHA]
    assert row.lane == "whatsapp:+14155238886"  # chosen by her address
    wa_core.clock.now = at(23, 19, 40)  # type: ignore[attr-defined]
    say(twilio_api, USHA, "/help", to=SECOND)
    drain_all(wa_core, at(23, 19, 41))
    (template,) = twilio_api.messages_to(USHA)
    assert template.from_ == WHATSAPP_FROM
    assert template.content_sid == CONTENT["supervisor_digest"]


def test_the_messaging_limit_counts_across_both_numbers(
    app2: str,
    two: TwilioSettings,
    twilio_api: FakeTwilioAPI,
    wa_core: SpyCore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = limited(wa_core, 3)
    counted = wa_limits.opened

    def slow_count(*, session: Session, now: dt.datetime) -> int:
        found = counted(session=session, now=now)
        time.sleep(0.05)  # the other number's lane counts meanwhile: both must not take a place
        return found

    monkeypatch.setattr(wa_limits, "opened", slow_count)
    opt_in_everyone(core.engine)
    run_job(core.engine, core.settings, "start_message", at(24, 9))
    queued = rows(core, "start_message")
    assert set(Counter(row.lane for row in queued)) == LANES and len(queued) >= 6
    drain_all(core, at(24, 9, 1))
    templates = [m for m in twilio_api.messages if m.content_sid]  # Hindi or English
    assert len(templates) == 3 and len({m.to for m in templates}) == 3
    after = rows(core, "start_message")
    assert sum(r.status == "sent" for r in after) == 3
    assert all("messaging limit" in (r.last_error or "") for r in after if r.status == "pending")
    drain_all(core, at(24, 14))  # the 24 hours have not moved on: still three in all
    assert len([m for m in twilio_api.messages if m.content_sid]) == 3


def test_one_number_keeps_the_one_whatsapp_lane(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    channels, _ = whatsapp_channels(wa_core, scheduled=True)
    assert list(channels) == ["whatsapp"]
    opt_in_everyone(wa_core.engine)
    run_job(wa_core.engine, wa_core.settings, "start_message", at(24, 9))
    queued = rows(wa_core, "start_message")
    assert queued and {row.lane for row in queued} == {"whatsapp"}
    sent, sender = drain_all(wa_core, at(24, 9, 1))
    assert sent == len(queued)
    assert {m.from_ for m in twilio_api.messages} == {WHATSAPP_FROM}
    limits = sender.limits_for("whatsapp", "whatsapp")
    assert limits is not None and limits.per_second == wa_core.settings.sending.whatsapp_per_second
