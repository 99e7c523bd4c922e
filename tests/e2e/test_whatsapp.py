"""WhatsApp end to end: Twilio's signed webhooks into the real web app, the real twilio client out
to a fake Twilio REST server, status callbacks back, and the 24-hour window in between."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from twilio.request_validator import RequestValidator

import handlers
from bot.channels.base import split_text
from bot.channels.telegram.application import build_application
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.whatsapp.inbound import Media
from bot.channels.whatsapp.media import fetch_photo, media_token, read_media_token
from bot.channels.whatsapp.routes import Form, WhatsAppEndpoints
from bot.channels.whatsapp.sending import WhatsAppChannel, one_line
from bot.channels.whatsapp.settings import MAX_TEXT, TwilioSettings, check_templates, make_client
from bot.channels.whatsapp.twiml import twiml
from bot.config import ConfigError, Settings
from bot.core.messages import Document, Inbound, Location, Reply
from bot.core.service import Fieldbot
from bot.delivery import outbox
from bot.delivery.sender import OutboxSender
from bot.delivery.wa_limits import set_opt_in
from bot.digests import supervisor_digests
from bot.i18n import t
from bot.store.contacts import contact, record_contact
from bot.store.db import session_scope
from bot.web import create_app
from handlers import account
from models import (
    InboundMessage,
    Outbox,
    PendingQuestion,
    Person,
    Proof,
    ProviderMessage,
    ReportValue,
)
from scheduler import run_job
from tests.conftest import at
from tests.fakes.live import free_port, serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update
from tests.fakes.twilio_api import WHATSAPP_FROM, FakeTwilioAPI, inbound_form
from tests.images import photo

PUBLIC = "https://fieldbot.example.org"
SUNITA = "+917973321377"  # ASHA, Sandila-1
POOJA = "+919769757560"  # ASHA, Sandila-2; reads English
REKHA = "+917339325088"  # ASHA, Sandila-1; also writes from +919934650561
REKHA_ALT = "+919934650561"
MEENA = "+919723569578"  # ASHA, Sandila-1
POONAM = "+916406628073"  # ASHA, Sandila-1
RAJESH = "+918124645116"  # BMO Sandila
VIVEK = "+919266836880"  # district officer Hardoi
STRANGER = "+919000000001"
JOBS = ("start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest")
CONTENT = {job: f"HX{index:032x}" for index, job in enumerate(JOBS, 1)}
CONTENT_EN = {job: f"HX{index + 100:032x}" for index, job in enumerate(JOBS, 1)}


class Clock:
    """The bot's clock, moved by the test."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class SpyCore(Fieldbot):
    """The real core, noting every Inbound the channel built, to see what reached it."""

    def __init__(self, settings: Settings, engine: Engine, clock: Clock):
        super().__init__(settings, engine, route=handlers.route, welcome=account.linked, clock=clock)
        self.seen: list[Inbound] = []

    def handle(self, inbound: Inbound) -> list[Reply]:
        self.seen.append(inbound)
        return super().handle(inbound)


def with_templates(settings: Settings, **changes: object) -> Settings:
    data = settings.model_dump(exclude={"base_dir"})
    for job in JOBS:
        data["whatsapp"]["templates"][job].update(
            content_sid=CONTENT[job], content_sid_en=CONTENT_EN[job]
        )
    data.update(changes)
    return Settings.model_validate({**data, "base_dir": settings.base_dir})


@pytest.fixture()
def twilio_api() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI() as api:
        yield api


@pytest.fixture()
def twilio(twilio_api: FakeTwilioAPI, monkeypatch: pytest.MonkeyPatch) -> TwilioSettings:
    """WhatsApp switched on the way an operator does it: by the environment."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", twilio_api.account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", twilio_api.auth_token)
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", WHATSAPP_FROM)
    monkeypatch.setenv("TWILIO_API_BASE_URL", twilio_api.base_url)
    monkeypatch.setenv("FIELDBOT_PUBLIC_URL", PUBLIC + "/")
    settings = TwilioSettings.from_env()
    assert settings is not None
    return settings


@pytest.fixture()
def clock() -> Clock:
    return Clock(at(23, 12))


@pytest.fixture()
def wa_core(district: Engine, settings: Settings, clock: Clock) -> SpyCore:
    return SpyCore(with_templates(settings), district, clock)


@contextmanager
def whatsapp_app(
    core: Fieldbot, twilio: TwilioSettings, api: FakeTwilioAPI, **kw: object
) -> Iterator[str]:
    endpoints = WhatsAppEndpoints(core, twilio)
    with serving(create_app(core, whatsapp=endpoints, simulator=False, **kw)) as url:  # type: ignore[arg-type]
        api.proxy = (PUBLIC, url)  # the reverse proxy: Twilio calls PUBLIC, the app listens on url
        yield url


@pytest.fixture()
def app(wa_core: SpyCore, twilio: TwilioSettings, twilio_api: FakeTwilioAPI) -> Iterator[str]:
    with whatsapp_app(wa_core, twilio, twilio_api) as url:
        yield url


def parse(response: httpx.Response) -> list[tuple[str, list[str]]]:
    """TwiML <Message>s as (text, media URLs)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    out = []
    for message in ET.fromstring(response.text).findall("Message"):
        body = message.find("Body")
        text = body.text if body is not None else message.text
        out.append((text or "", [m.text or "" for m in message.findall("Media")]))
    return out


def send(api: FakeTwilioAPI, phone: str, body: str = "", **fields: object) -> httpx.Response:
    return api.post(f"{PUBLIC}/twilio/whatsapp", inbound_form(phone, body, **fields))  # type: ignore[arg-type]


def say(api: FakeTwilioAPI, phone: str, body: str = "", **fields: object) -> str:
    return "\n".join(text for text, _ in parse(send(api, phone, body, **fields)))


def jpeg(size: tuple[int, int] = (64, 48), noise: bool = False) -> bytes:
    image = (
        Image.effect_noise(size, 90).convert("RGB") if noise else Image.new("RGB", size, (200, 90, 40))
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def card_total(engine: Engine) -> int:
    with Session(engine) as session:
        total = session.exec(
            select(func.sum(ReportValue.value)).where(ReportValue.metric == "cards")
        ).one()
    return int(total or 0)


def drain(core: Fieldbot, twilio: TwilioSettings, when: dt.datetime) -> int:
    channel = WhatsAppChannel(core.engine, core.settings, twilio, clock=lambda: when)
    sender = OutboxSender(core.engine, core.settings, {"whatsapp": channel}, clock=lambda: when)
    return asyncio.run(sender.drain_once())


def opt_in_everyone(engine: Engine) -> None:
    """As a roster with `whatsapp_opt_in: true` for all: templates may go to everyone."""
    with session_scope(engine) as session:
        for person_id in session.exec(select(Person.id)).all():
            set_opt_in(
                session=session, person_id=person_id or 0, opted_in=True, source="roster", now=at(20)
            )


def outbox_row(engine: Engine, phone: str, job: str) -> Outbox:
    with Session(engine) as session:
        return session.exec(select(Outbox).where(Outbox.address == phone, Outbox.job == job)).one()


# ---------------------------------------------------------------- signatures


def test_twilio_published_signature_vector_passes_our_form() -> None:
    """twilio-python's own test vector (tests/unit/test_request_validator.py), through our Form."""
    validator = RequestValidator("12345")
    uri = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    assert validator.compute_signature(uri, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    form = Form(list(params.items()))
    assert validator.validate(uri, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not validator.validate(
        uri, Form([*params.items(), ("Body", "x")]), "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )
    # A field sent twice is signed with both values, as Twilio signs it.
    twice = Form([("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")])
    assert validator.validate(uri, twice, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_forged_requests_are_refused_and_nothing_is_stored(
    app: str, twilio_api: FakeTwilioAPI, district: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="fieldbot.whatsapp")
    url = f"{PUBLIC}/twilio/whatsapp"
    form = inbound_form(SUNITA, "आवेदन 12 कार्ड 9")
    forged = [
        twilio_api.post(url, form, signature=""),  # no signature
        twilio_api.post(url, form, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA="),  # a made-up one
        twilio_api.post(
            url, form, signature=twilio_api.signature(url, form, token="f" * 32)
        ),  # other key
        twilio_api.post(url, form, sign_as=twilio_api.local(url)),  # the proxied URL, not Twilio's
        twilio_api.post(url, {**form, "Body": "कार्ड 150"}, signature=twilio_api.signature(url, form)),
    ]
    assert [r.status_code for r in forged] == [403] * 5
    assert count(district, InboundMessage) == 0 and card_total(district) == 0
    refusals = [r for r in caplog.records if "signature" in r.getMessage()]
    assert len(refusals) == 5 and "missing" in refusals[0].getMessage()
    assert all("कार्ड" not in r.getMessage() for r in caplog.records)  # the body is never logged
    # The genuine request goes through.
    assert "कार्ड: 9" in say(twilio_api, SUNITA, "आवेदन 12 कार्ड 9")


# ---------------------------------------------------------------- reporting


@pytest.fixture()
def telegram_api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI(max_hold=0.3) as fake:
        yield fake


def test_roster_asha_reports_on_whatsapp_as_on_telegram_and_her_bmo_sees_it_on_both(
    wa_core: SpyCore, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, telegram_api: FakeTelegramAPI
) -> None:
    tg = TelegramSettings(
        telegram_api.token, telegram_api.base_url, telegram_api.base_file_url, None, None
    )
    application = build_application(wa_core, tg, webhook=False)
    noon = int(at(23, 12).timestamp())

    def telegram(update: dict[str, object], user_id: int) -> list[str]:
        """Everything the bot answered one Telegram update with."""
        before = len(telegram_api.sent_texts(user_id))
        telegram_api.push_update(update)
        deadline = time.monotonic() + 10
        while len(telegram_api.sent_texts(user_id)) <= before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the rest of the same answer
        return telegram_api.sent_texts(user_id)[before:]

    with whatsapp_app(wa_core, twilio, twilio_api, telegram_app=application, telegram_settings=tg):
        telegram_api.wait_for("getUpdates")
        # Sunita, on WhatsApp only, with no sign-up step.
        on_whatsapp = parse(send(twilio_api, SUNITA, "आवेदन 12 कार्ड 9"))[0][0]
        # Rekha, on Telegram, links her number and sends the same.
        assert telegram(contact_update(REKHA, user_id=5002), 5002)
        on_telegram = telegram(text_update("आवेदन 12 कार्ड 9", user_id=5002, date=noon), 5002)
        assert on_whatsapp == on_telegram[0]
        assert "आवेदन: 12" in on_whatsapp and "कार्ड: 9" in on_whatsapp and "23/11" in on_whatsapp
        # Their BMO asks on either channel and sees both reports.
        status_wa = parse(send(twilio_api, RAJESH, "/status"))[0][0]
        assert telegram(contact_update(RAJESH, user_id=5003), 5003)
        status_tg = telegram(text_update("/status", user_id=5003, date=noon), 5003)[0]
    assert status_wa == status_tg
    assert "कार्ड 18" in status_wa and "आवेदन 24" in status_wa
    assert "2/" in status_wa  # two of the block's workers reported


def test_a_retried_message_sid_changes_nothing_and_gets_the_same_answer(
    app: str, twilio_api: FakeTwilioAPI, district: Engine
) -> None:
    say(twilio_api, SUNITA, "कार्ड 20")
    form = inbound_form(SUNITA, "कार्ड +5")
    first = twilio_api.post(f"{PUBLIC}/twilio/whatsapp", form)
    again = twilio_api.post(f"{PUBLIC}/twilio/whatsapp", form)
    assert first.text == again.text and "20 + 5 = 25" in first.text
    assert card_total(district) == 25
    assert count(district, InboundMessage) == 2


def unreachable(engine: Engine, tmp_path: Path) -> Engine:
    """The same kind of database, gone: an SQLite file that cannot be opened, a server that is down."""
    if engine.dialect.name == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'fieldbot.db'}")
    return create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")


@pytest.mark.parametrize(
    ("phone", "before", "report", "language"),
    [(POOJA, "cards 3", "cards +4", "en"), (SUNITA, "कार्ड 3", "कार्ड +4", "hi")],
)
def test_a_database_outage_asks_her_to_send_again_in_her_language(
    app: str,
    twilio_api: FakeTwilioAPI,
    wa_core: SpyCore,
    district: Engine,
    tmp_path: Path,
    phone: str,
    before: str,
    report: str,
    language: str,
) -> None:
    assert "3" in say(twilio_api, phone, before)  # the bot has seen her: it knows her language
    wa_core.retry_pauses = (0.05, 0.05)
    form = inbound_form(phone, report)
    wa_core.engine = unreachable(district, tmp_path)
    try:
        during = parse(twilio_api.post(f"{PUBLIC}/twilio/whatsapp", form))  # type: ignore[arg-type]
    finally:
        wa_core.engine = district
    assert during == [(t(language, "internal_error"), [])]
    assert card_total(district) == 3
    # Nothing is lost: sent again (or retried by Twilio) once the database is back, it counts.
    after = say(twilio_api, phone, report, sid=form["MessageSid"])
    assert "3 + 4 = 7" in after
    assert card_total(district) == 7


def test_her_answer_still_goes_when_the_database_goes_away_after_her_message_is_stored(
    app: str,
    twilio_api: FakeTwilioAPI,
    wa_core: SpyCore,
    district: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handled = wa_core.handle

    def then_gone(inbound: Inbound) -> list[Reply]:
        replies = handled(inbound)
        wa_core.engine = unreachable(district, tmp_path)  # before her 24-hour window is noted
        return replies

    monkeypatch.setattr(wa_core, "handle", then_gone)
    try:
        answer = say(twilio_api, SUNITA, "/help")
    finally:
        wa_core.engine = district
    assert answer and answer != t("hi", "internal_error")
    assert count(district, InboundMessage) == 1


def test_unknown_number_is_refused_and_its_media_never_fetched(
    app: str, twilio_api: FakeTwilioAPI, district: Engine
) -> None:
    url = twilio_api.add_media(jpeg(), "image/jpeg")
    assert "सुपरवाइजर" in say(twilio_api, STRANGER, "कार्ड 20")
    assert "सुपरवाइजर" in say(twilio_api, STRANGER, media=[(url, "image/jpeg")])
    assert twilio_api.downloads == []
    assert count(district, InboundMessage) == 0


def test_long_replies_are_split_at_1500_characters_and_files_go_as_links() -> None:
    long = "\n".join(f"{n}. Sandila-{n} — कार्ड {n * 7}" for n in range(300))
    links = []

    def link(document: Document) -> str:
        links.append(document.filename)
        return f"{PUBLIC}/media/x"

    messages = ET.fromstring(
        twiml([Reply(long), Reply("📎 फ़ाइल", Document("a.xlsx", b"PK"))], link)
    ).findall("Message")
    texts = [m.text or (m.findtext("Body") or "") for m in messages]
    assert all(len(text) <= MAX_TEXT for text in texts)
    assert "\n".join(texts[:-1]) == long  # cut at line breaks, nothing lost
    assert (
        messages[-1].findtext("Body") == "📎 फ़ाइल"
        and messages[-1].findtext("Media") == f"{PUBLIC}/media/x"
    )
    assert links == ["a.xlsx"]
    assert ET.fromstring(twiml([], link)).findall("Message") == []


def test_export_goes_as_a_signed_link_that_expires(
    app: str, twilio_api: FakeTwilioAPI, clock: Clock
) -> None:
    messages = parse(send(twilio_api, RAJESH, "/export"))
    link = next(media[0] for _, media in messages if media)
    assert link.startswith(f"{PUBLIC}/media/")
    fetched = httpx.get(twilio_api.local(link))
    assert fetched.status_code == 200 and fetched.content[:2] == b"PK"
    assert "spreadsheetml" in fetched.headers["content-type"]
    assert ".xlsx" in fetched.headers["content-disposition"]
    token = link.rsplit("/", 1)[1]
    file_id, expiry, signature = token.split(".")
    tampered = [
        f"{int(file_id) + 1}.{expiry}.{signature}",  # another file
        f"{file_id}.{int(expiry) + 86400}.{signature}",  # a longer life
        f"{file_id}.{expiry}.{signature[:-2]}AA",
        "nothing",
    ]
    for bad in tampered:
        assert httpx.get(f"{app}/media/{bad}").status_code == 404
    clock.now += dt.timedelta(minutes=61)
    assert httpx.get(twilio_api.local(link)).status_code == 410


def test_media_tokens_name_one_file_until_they_expire() -> None:
    key = b"k" * 32
    expiry = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
    token = media_token(key, 7, expiry)
    assert read_media_token(key, token, expiry - dt.timedelta(seconds=1)) == (7, False)
    assert read_media_token(key, token, expiry) == (7, True)
    assert read_media_token(b"x" * 32, token, expiry) == (None, False)


# ---------------------------------------------------------------- photos, locations, other media


def test_photo_is_fetched_with_the_account_credentials_and_reaches_the_core(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    photo = jpeg()
    url = twilio_api.add_media(photo, "image/jpeg")
    reply = say(twilio_api, SUNITA, media=[(url, "image/jpeg")])
    assert reply  # answered, whatever presence says about a photo
    seen = wa_core.seen[-1]
    assert seen.photo == photo and seen.photo_refused is None and seen.photo_file is False
    assert seen.channel == "whatsapp" and seen.phone == SUNITA and seen.dedup_key.startswith("wa:SM")
    api_get, cdn_get = twilio_api.downloads
    assert api_get.authorization and api_get.authorization.startswith("Basic ")
    assert cdn_get.authorization is None  # the credentials stay with Twilio's API host
    # Once here, the photo is deleted from Twilio: one copy, ours.
    assert twilio_api.wait_for_deletes(1) == [url.rsplit("/", 1)[1]]


def test_photo_sent_as_a_document_keeps_its_exif(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    url = twilio_api.add_media(jpeg(), "image/jpeg")
    say(twilio_api, SUNITA, media=[(url, "image/jpeg")], message_type="document")
    assert wa_core.seen[-1].photo_file is True and wa_core.seen[-1].photo is not None


def test_media_that_is_not_a_photo_is_refused_without_fetching(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    pdf = twilio_api.add_media(b"%PDF-1.4 ...", "application/pdf")
    assert say(twilio_api, SUNITA, media=[(pdf, "application/pdf")], message_type="document")
    assert wa_core.seen[-1].photo_refused == "not_image" and wa_core.seen[-1].photo is None
    voice = twilio_api.add_media(b"OggS", "audio/ogg")
    reply = say(twilio_api, SUNITA, media=[(voice, "audio/ogg")])
    assert "लिखकर" in reply  # please type the report
    assert wa_core.seen[-1].unsupported == "voice"
    assert twilio_api.downloads == []


def test_a_photo_served_as_something_else_is_not_stored(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    url = twilio_api.add_media(b"<html>login</html>", "text/html")
    say(twilio_api, SUNITA, media=[(url, "image/jpeg")])
    assert wa_core.seen[-1].photo is None and wa_core.seen[-1].photo_refused == "not_image"


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "undeclared"])
async def test_too_large_photo_is_refused_before_it_is_all_read(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, chunked: bool
) -> None:
    big = jpeg((400, 400), noise=True)
    assert len(big) > 20_000
    url = twilio_api.add_media(big, "image/jpeg", chunked=chunked)
    assert await fetch_photo(twilio, Media(url, "image/jpeg"), max_bytes=10_000) == (None, "too_large")
    assert await fetch_photo(twilio, Media(url, "image/jpeg"), max_bytes=len(big)) == (big, None)


async def test_media_is_fetched_only_from_twilio(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI
) -> None:
    url = twilio_api.add_media(jpeg(), "image/jpeg").replace("127.0.0.1", "localhost")
    assert await fetch_photo(twilio, Media(url, "image/jpeg"), max_bytes=10**6) == (None, "unavailable")
    gone = twilio_api.add_media(jpeg(), "image/jpeg").rsplit("/", 1)[0] + "/ME" + "0" * 32
    assert await fetch_photo(twilio, Media(gone, "image/jpeg"), max_bytes=10**6) == (None, "unavailable")
    assert len(twilio_api.downloads) == 1  # only the request to Twilio's own host


def test_a_location_pin_reaches_the_core_as_a_static_location(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    assert say(twilio_api, SUNITA, latitude=27.0957, longitude=80.4842, Address="Atwa", Label="Atwa")
    assert wa_core.seen[-1].location == Location(27.0957, 80.4842, None, live=False)


def test_a_live_location_is_answered_in_her_language(
    app: str, twilio_api: FakeTwilioAPI, wa_core: SpyCore, district: Engine
) -> None:
    assert "लाइव लोकेशन" in say(twilio_api, SUNITA)
    say(twilio_api, SUNITA, "/lang en")
    reply = say(twilio_api, SUNITA)
    assert "live location" in reply and "Send your current location" in reply
    assert "सुपरवाइजर" in say(twilio_api, STRANGER)  # a stranger is still only refused
    assert count(district, ReportValue) == 0


# ---------------------------------------------------------------- scheduled messages


def test_reminder_goes_free_inside_the_window_and_as_the_template_outside(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    opt_in_everyone(wa_core.engine)  # the roster marks everyone whatsapp_opt_in: true
    engine, settings = wa_core.engine, wa_core.settings
    clock.now = at(23, 10)
    say(twilio_api, SUNITA, "/help")  # inside the window at 17:00
    say(twilio_api, REKHA_ALT, "/help")  # from her second SIM
    clock.now = at(22, 17, 5)
    say(twilio_api, POONAM, "/help")  # 23h56m before 17:01: too close to the window's end
    assert run_job(engine, settings, "reminder", at(23, 17)) == 39  # active field workers, none reported
    assert drain(wa_core, twilio, at(23, 17, 1)) == 39

    free = twilio_api.messages_to(SUNITA)[0]
    assert free.from_ == WHATSAPP_FROM and free.content_sid is None
    assert free.body and free.body.startswith("⏰ Sunita Devi जी")
    assert free.status_callback == f"{PUBLIC}/twilio/status"
    assert twilio_api.messages_to(REKHA_ALT)[0].body  # where she writes from, not the roster number
    assert twilio_api.messages_to(REKHA) == []
    template = twilio_api.messages_to(MEENA)[0]
    assert template.body is None and template.content_sid == CONTENT["reminder"]
    assert template.content_variables == {"1": "Meena Kumari", "2": "23/11"}
    assert twilio_api.messages_to(POONAM)[0].content_sid == CONTENT["reminder"]
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.job == "reminder")).all()
        assert {r.channel for r in rows} == {"whatsapp"} and {r.status for r in rows} == {"sent"}
        assert session.exec(select(func.count()).select_from(ProviderMessage)).one() == 39


def test_template_follows_the_persons_language(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    opt_in_everyone(wa_core.engine)  # the roster marks everyone whatsapp_opt_in: true
    clock.now = at(20, 10)
    say(twilio_api, MEENA, "/lang en")
    run_job(wa_core.engine, wa_core.settings, "start_message", at(23, 9))
    drain(wa_core, twilio, at(23, 9, 1))
    english = twilio_api.messages_to(MEENA)[0]
    assert english.content_sid == CONTENT_EN["start_message"]
    assert english.content_variables == {"1": "Meena Kumari", "2": "23 Nov", "3": "cards 10"}
    hindi = twilio_api.messages_to(SUNITA)[0]
    assert hindi.content_sid == CONTENT["start_message"]
    assert hindi.content_variables == {"1": "Sunita Devi", "2": "23/11", "3": "कार्ड 10"}


def test_status_callbacks_record_delivery_and_failures_reach_the_supervisor_digest(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    opt_in_everyone(wa_core.engine)  # the roster marks everyone whatsapp_opt_in: true
    engine, settings = wa_core.engine, wa_core.settings
    clock.now = at(23, 10)
    say(twilio_api, SUNITA, "/help")
    run_job(engine, settings, "reminder", at(23, 17))
    drain(wa_core, twilio, at(23, 17, 1))
    sunita = twilio_api.messages_to(SUNITA)[0].sid
    meena = twilio_api.messages_to(MEENA)[0].sid
    for status in ("sent", "delivered", "read"):
        assert twilio_api.send_status(sunita, status).status_code == 200
    twilio_api.send_status(sunita, "sent")  # a late, out-of-order callback
    assert twilio_api.send_status(meena, "failed", 63003).status_code == 200
    # A forged callback changes nothing.
    forged = {"MessageSid": sunita, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    assert twilio_api.post(f"{PUBLIC}/twilio/status", forged, signature="bad").status_code == 403
    # A status for a message that is not the outbox's (a TwiML reply) is taken and ignored.
    unknown = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "AccountSid": "x"}
    assert twilio_api.post(f"{PUBLIC}/twilio/status", unknown).status_code == 200

    read = outbox_row(engine, SUNITA, "reminder")
    assert (read.status, read.delivery_status, read.error_code) == ("sent", "read", None)
    failed = outbox_row(engine, MEENA, "reminder")
    assert (failed.status, failed.delivery_status, failed.error_code) == ("failed", "failed", 63003)
    assert failed.last_error and "not on WhatsApp" in failed.last_error
    with session_scope(engine) as session:
        usha = next(m for m in supervisor_digests(session, settings, dt.date(2026, 11, 23)))
        assert "संदेश नहीं पहुँचा (1): Meena Kumari" in usha.text


def test_undelivered_before_the_sender_finishes_still_counts(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    """Twilio may report a failure before the sender has written 'sent': the failure stands."""
    opt_in_everyone(wa_core.engine)  # the roster marks everyone whatsapp_opt_in: true
    engine, settings = wa_core.engine, wa_core.settings
    run_job(engine, settings, "reminder", at(23, 17))

    class ReportsAtOnce(WhatsAppChannel):
        async def send(self, row: Outbox) -> None:
            await super().send(row)
            sid = twilio_api.messages[-1].sid
            await asyncio.to_thread(twilio_api.send_status, sid, "undelivered", 63016)

    channel = ReportsAtOnce(engine, settings, twilio, clock=lambda: at(23, 17, 1))
    sender = OutboxSender(engine, settings, {"whatsapp": channel}, clock=lambda: at(23, 17, 1))
    asyncio.run(sender.drain_once())
    row = outbox_row(engine, MEENA, "reminder")
    assert (row.status, row.error_code) == ("failed", 63016)
    assert row.last_error and "24-hour window" in row.last_error


def test_district_chart_goes_as_a_link_inside_the_window_and_one_line_outside(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    engine, settings = wa_core.engine, wa_core.settings
    say(twilio_api, SUNITA, "आवेदन 12 कार्ड 9")
    clock.now = at(23, 19)
    say(twilio_api, VIVEK, "/help")
    run_job(engine, settings, "district_digest", at(23, 20))
    drain(wa_core, twilio, at(23, 20, 1))
    digest = twilio_api.messages_to(VIVEK)
    assert digest[0].media_urls and digest[0].media_urls[0].startswith(f"{PUBLIC}/media/")
    assert digest[0].body and "Hardoi" in digest[0].body
    chart = twilio_api.wait_for_fetches(1)[0]
    assert chart.status == 200 and chart.content_type == "image/png"
    assert chart.content.startswith(b"\x89PNG")

    # The next day, outside the window: the approved template, the digest in one line.
    run_job(engine, settings, "district_digest", at(24, 20))
    drain(wa_core, twilio, at(24, 20, 1))
    template = twilio_api.messages_to(VIVEK)[-1]
    assert template.content_sid == CONTENT["district_digest"] and template.media_urls == []
    variables = template.content_variables or {}
    assert variables["1"] == "Vivek Tripathi" and variables["2"] == "24/11"
    assert "Hardoi" in variables["3"] and "\n" not in variables["3"] and len(variables["3"]) <= 700


def test_long_free_text_is_split_into_messages_twilio_accepts(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    with Session(wa_core.engine) as session:
        sunita = session.exec(select(Person).where(Person.phone == SUNITA)).one()
        record_contact(session=session, person_id=sunita.id or 0, address=SUNITA, at=at(23, 16))
        text = "\n".join(f"पंक्ति {n}: " + "क" * 80 for n in range(60))
        outbox.enqueue(
            session=session,
            job="supervisor_digest",
            day=dt.date(2026, 11, 23),
            messages=[outbox.Message(sunita, text)],
            now=at(23, 17),
            whatsapp=True,
        )
        session.commit()
    drain(wa_core, twilio, at(23, 17, 1))
    parts = twilio_api.messages_to(SUNITA)
    assert len(parts) == 4 and all(len(p.body or "") <= MAX_TEXT for p in parts)
    assert "\n".join(p.body or "" for p in parts) == text
    assert twilio_api.rejected == []


def test_a_message_in_three_parts_resumes_at_the_part_that_failed(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    with Session(wa_core.engine) as session:
        sunita = session.exec(select(Person).where(Person.phone == SUNITA)).one()
        record_contact(session=session, person_id=sunita.id or 0, address=SUNITA, at=at(23, 16))
        text = "\n".join(f"पंक्ति {n}: " + "क" * 80 for n in range(40))
        outbox.enqueue(
            session=session,
            job="supervisor_digest",
            day=dt.date(2026, 11, 23),
            messages=[outbox.Message(sunita, text)],
            now=at(23, 17),
            whatsapp=True,
        )
        session.commit()
    pieces = split_text(text, MAX_TEXT)
    assert len(pieces) == 3
    twilio_api.fail_next(500, 20500, "Internal Server Error", after=1)  # part 2 is refused once
    assert drain(wa_core, twilio, at(23, 17, 1)) == 0
    assert [p.body for p in twilio_api.messages_to(SUNITA)] == pieces[:1]
    assert drain(wa_core, twilio, at(23, 17, 5)) == 1  # after the backoff: parts 2 and 3 only
    assert [p.body for p in twilio_api.messages_to(SUNITA)] == pieces
    row = outbox_row(wa_core.engine, SUNITA, "supervisor_digest")
    assert row.status == "sent" and row.parts_sent == 3
    with Session(wa_core.engine) as session:
        sids = session.exec(select(ProviderMessage.sid).where(ProviderMessage.outbox_id == row.id))
        assert len(sids.all()) == 3  # each part's status callback finds the message


def test_twilio_refusals_retry_or_fail_as_they_should(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    opt_in_everyone(wa_core.engine)  # the roster marks everyone whatsapp_opt_in: true
    engine, settings = wa_core.engine, wa_core.settings
    run_job(engine, settings, "reminder", at(23, 17))
    twilio_api.fail_next(429, 20429, "Too Many Requests")
    drain(wa_core, twilio, at(23, 17, 1))
    with Session(engine) as session:
        waiting = session.exec(select(Outbox).where(Outbox.status == "pending")).all()
    assert len(waiting) == 39 and any("429" in (r.last_error or "") for r in waiting)  # all paused
    twilio_api.fail_next(500, 20500, "Internal Server Error")
    twilio_api.fail_next(400, 21211, "Invalid 'To' Phone Number")
    drain(wa_core, twilio, at(23, 17, 5))
    with Session(engine) as session:
        statuses = sorted(r.status for r in session.exec(select(Outbox)).all())
    assert statuses.count("failed") == 1 and statuses.count("pending") == 1
    assert statuses.count("sent") == 37


def test_no_template_for_a_job_outside_the_window_fails_clearly(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore
) -> None:
    with Session(wa_core.engine) as session:
        meena = session.exec(select(Person).where(Person.phone == MEENA)).one()
        outbox.enqueue(
            session=session,
            job="presence_expired",
            day=dt.date(2026, 11, 23),
            messages=[outbox.Message(meena, "📷 ...")],
            now=at(23, 17),
            whatsapp=True,
        )
        session.commit()
    drain(wa_core, twilio, at(23, 17, 1))
    row = outbox_row(wa_core.engine, MEENA, "presence_expired")
    assert row.status == "failed" and "no template for presence_expired" in (row.last_error or "")
    assert twilio_api.messages == []


# ---------------------------------------------------------------- where a person is reached


def test_channel_follows_where_she_last_wrote(district: Engine) -> None:
    with session_scope(district) as session:
        sunita = session.exec(select(Person).where(Person.phone == SUNITA)).one()
        sunita.telegram_user_id, sunita.telegram_chat_id = 5001, 5001
        session.add(sunita)
        session.flush()
        assert outbox.channel_of(sunita, session=session, whatsapp=True) == ("telegram", "5001")
        record_contact(session=session, person_id=sunita.id or 0, address=SUNITA, at=at(23, 10))
        session.add(
            InboundMessage(
                channel="telegram",
                dedup_key="tg:1",
                person_id=sunita.id,
                sent_at=at(23, 9),
                received_at=at(23, 9),
            )
        )
        session.flush()
        assert outbox.channel_of(sunita, session=session, whatsapp=True) == ("whatsapp", SUNITA)
        session.add(
            InboundMessage(
                channel="telegram",
                dedup_key="tg:2",
                person_id=sunita.id,
                sent_at=at(23, 11),
                received_at=at(23, 11),
            )
        )
        session.flush()
        assert outbox.channel_of(sunita, session=session, whatsapp=True) == ("telegram", "5001")
        # An older WhatsApp time never overwrites a newer one.
        record_contact(session=session, person_id=sunita.id or 0, address="+910000000000", at=at(22, 10))
        found = contact(session=session, person_id=sunita.id or 0)
        assert found is not None and (found.address, found.last_inbound_at) == (SUNITA, at(23, 10))
        assert outbox.channel_of(sunita, session=session, whatsapp=False) == ("telegram", "5001")
        meena = session.exec(select(Person).where(Person.phone == MEENA)).one()
        assert outbox.channel_of(meena, session=session, whatsapp=True) == ("whatsapp", MEENA)
        assert outbox.channel_of(meena, session=session, whatsapp=False) == ("simulator", MEENA)


# ---------------------------------------------------------------- configuration


def test_whatsapp_environment_is_all_or_nothing() -> None:
    assert TwilioSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM not set"):
        TwilioSettings.from_env({"TWILIO_ACCOUNT_SID": "AC1"})
    full = {
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_WHATSAPP_FROM": "+14155238886",
    }
    with pytest.raises(ConfigError, match="FIELDBOT_PUBLIC_URL"):
        TwilioSettings.from_env(full)
    with pytest.raises(ConfigError, match="TWILIO_WHATSAPP_FROM"):
        TwilioSettings.from_env({**full, "TWILIO_WHATSAPP_FROM": "abc", "FIELDBOT_PUBLIC_URL": PUBLIC})
    ready = TwilioSettings.from_env({**full, "FIELDBOT_PUBLIC_URL": PUBLIC + "/"})
    assert ready is not None
    assert ready.whatsapp_from == "whatsapp:+14155238886" and ready.public_url == PUBLIC
    assert ready.api_base_url == "https://api.twilio.com"
    assert make_client(ready).api.base_url == "https://api.twilio.com"


def test_a_missing_template_stops_start_up_naming_the_key(settings: Settings) -> None:
    with pytest.raises(ConfigError) as error:
        check_templates(settings)  # the sample config.yaml: no content_sid filled in yet
    assert "whatsapp.templates.start_message.content_sid" in str(error.value)
    assert "\n" not in str(error.value)
    ready = with_templates(settings)
    check_templates(ready)
    data = ready.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["bmo_digest"]["content_sid"] = None
    gap = Settings.model_validate({**data, "base_dir": ready.base_dir})
    with pytest.raises(ConfigError, match=re.escape("whatsapp.templates.bmo_digest.content_sid")):
        check_templates(gap)
    data["schedule"]["bmo_digest"] = None  # a job that is off needs no template
    check_templates(Settings.model_validate({**data, "base_dir": ready.base_dir}))


def test_template_config_is_validated(settings: Settings) -> None:
    from bot.config import parse_settings

    data = settings.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["reminder"] = {"content_sid": "HX12", "variables": {}}
    with pytest.raises(ConfigError, match=re.escape("whatsapp.templates.reminder.content_sid")):
        parse_settings(data, settings.base_dir)
    data["whatsapp"]["templates"]["reminder"] = {
        "content_sid": CONTENT["reminder"],
        "variables": {"1": "phone"},
    }
    with pytest.raises(ConfigError, match=re.escape("whatsapp.templates.reminder.variables.1")):
        parse_settings(data, settings.base_dir)
    data["whatsapp"]["templates"]["reminder"] = {
        "content_sid": CONTENT["reminder"],
        "variables": {"a": "name"},
    }
    with pytest.raises(ConfigError, match="numbered"):
        parse_settings(data, settings.base_dir)


def test_cli_refuses_to_send_with_whatsapp_half_configured(
    tmp_path: Path,
    twilio: TwilioSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main
    from bot.store.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(make_engine(url))
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", url)
    code = main(["digest", "--date", "2026-11-23", "--role", "bmo", "--send"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "whatsapp.templates.start_message.content_sid" in err
    assert count(make_engine(url), Outbox) == 0


def test_one_line_keeps_a_template_variable_legal() -> None:
    text = "📋 Hardoi — 23/11\n\n• Sunita Devi (Atwa) — 79733 21377\n\tकुल:   कार्ड 9"
    assert one_line(text) == "📋 Hardoi — 23/11 · Sunita Devi (Atwa) — 79733 21377 · कुल: कार्ड 9"
    long = one_line("\n".join(f"Sandila-{n}: कार्ड {n}" for n in range(200)))
    assert len(long) <= 700 and long.endswith(" …") and "\n" not in long


def test_the_sample_config_documents_the_whatsapp_section() -> None:
    from tests.conftest import ROOT

    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "whatsapp:" in text and "media_link_minutes" in text and "content_sid_en" in text


def test_twilio_client_really_talks_to_the_fake(
    twilio: TwilioSettings, twilio_api: FakeTwilioAPI
) -> None:
    client = make_client(dataclasses.replace(twilio, auth_token="wrong"))
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as error:
        client.messages.create(from_=WHATSAPP_FROM, to=f"whatsapp:{SUNITA}", body="x")
    assert error.value.status == 401 and error.value.code == 20003
    message = make_client(twilio).messages.create(
        from_=WHATSAPP_FROM, to=f"whatsapp:{SUNITA}", body="नमस्ते"
    )
    assert message.sid == twilio_api.messages[0].sid and message.status == "queued"
    assert twilio_api.messages[0].body == "नमस्ते"


def test_the_fake_refuses_what_twilio_refuses(twilio: TwilioSettings, twilio_api: FakeTwilioAPI) -> None:
    from twilio.base.exceptions import TwilioRestException

    messages = make_client(twilio).messages
    to = f"whatsapp:{SUNITA}"
    bad: list[tuple[dict[str, object], int]] = [
        ({"body": "क" * 1601}, 21617),
        ({}, 21619),
        ({"content_sid": "HX1"}, 21655),
        ({"content_sid": CONTENT["reminder"], "content_variables": '{"1": "a\\nb"}'}, 21656),
        ({"body": "x", "to": SUNITA}, 63007),  # WhatsApp sender, SMS recipient
    ]
    for kwargs, code in bad:
        with pytest.raises(TwilioRestException) as error:
            messages.create(**{"from_": WHATSAPP_FROM, "to": to, **kwargs})
        assert (error.value.status, error.value.code) == (400, code)
    assert twilio_api.messages == [] and len(twilio_api.rejected) == len(bad)


def test_a_whatsapp_pin_needs_review_and_a_forwarded_one_says_so(
    app: str, twilio_api: FakeTwilioAPI, district: Engine, clock: Clock
) -> None:
    for hour, number, extra in [(10, 131, {}), (11, 132, {"Forwarded": "true"})]:
        clock.now = at(23, hour)
        url = twilio_api.add_media(photo(number), "image/jpeg")
        assert "लोकेशन भेजें" in say(twilio_api, SUNITA, media=[(url, "image/jpeg")])
        reply = say(twilio_api, SUNITA, latitude=27.0957, longitude=80.4842, **extra)
        assert "नक्शे पर" in reply
    with Session(district) as session:
        pin, forwarded = session.exec(select(Proof).order_by(col(Proof.id))).all()
    assert (pin.verdict, pin.reasons) == ("needs_review", "no_accuracy")
    assert (forwarded.verdict, forwarded.reasons) == ("needs_review", "forwarded;no_accuracy")


# ---------------------------------------------------------------- asking back

YES, NO = "✅ हाँ, सही है", "✏️ नहीं"


def value_total(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.coalesce(func.sum(ReportValue.value), 0))).one())


def test_whatsapp_numbered_answers_and_a_number_answers(
    app: str, twilio_api: FakeTwilioAPI, district: Engine
) -> None:
    asked = say(twilio_api, SUNITA, "भ्रमन 25")
    assert asked.endswith(f"1. {YES}\n2. {NO}") and value_total(district) == 0
    assert "घर: 25" in say(twilio_api, SUNITA, "1")
    assert value_total(district) == 25 and count(district, PendingQuestion) == 0
    say(twilio_api, SUNITA, "कार्डस 12")
    assert "कुछ दर्ज नहीं" in say(twilio_api, SUNITA, "नहीं")
    assert value_total(district) == 25


# ---------------------------------------------------------------- notices to a worker reported for


def test_reported_for_you_goes_in_the_window_as_its_template_and_fails_clearly_without(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    usha = "+917285872429"  # supervisor of Sandila-1
    opt_in_everyone(wa_core.engine)  # the roster says they agreed to the business's messages
    clock.now = at(23, 10)
    say(twilio_api, SUNITA, "/help")  # her 24-hour window is open
    clock.now = at(23, 19)
    assert say(twilio_api, usha, "सुनीता: कार्ड 10").startswith("📝 Sunita Devi")
    assert say(twilio_api, usha, "/for Meena कार्ड 4").startswith("📝 Meena Kumari")
    drain(wa_core, twilio, at(23, 19, 1))
    (free,) = twilio_api.messages_to(SUNITA)
    assert free.body and "Usha Srivastava" in free.body and free.content_sid is None
    # Meena has not written in 24 hours and this deployment has no template for the notice:
    # it is marked failed with the reason; nothing else waits on it.
    row = outbox_row(wa_core.engine, MEENA, "reported_for_you")
    assert row.status == "failed" and "no template for reported_for_you" in (row.last_error or "")
    assert twilio_api.messages_to(MEENA) == []
    data = wa_core.settings.model_dump(exclude={"base_dir"})
    data["whatsapp"]["templates"]["reported_for_you"]["content_sid"] = "HX" + "ab" * 16
    ready = Settings.model_validate({**data, "base_dir": wa_core.settings.base_dir})
    wa_core.settings = ready
    assert say(twilio_api, usha, "/for Poonam कार्ड 2").startswith("📝 Poonam Yadav")
    drain(wa_core, twilio, at(23, 19, 2))
    (template,) = twilio_api.messages_to(POONAM)
    assert template.content_sid == "HX" + "ab" * 16
    assert template.content_variables == {
        "1": "Poonam Yadav",
        "2": "23/11",
        "3": "📝 Usha Srivastava ने आपकी 23/11 की रिपोर्ट दर्ज की: कार्ड 2। गलत हो तो /undo भेजें।",
    }


def test_leave_on_whatsapp_and_no_reminder_that_day(
    app: str, twilio: TwilioSettings, twilio_api: FakeTwilioAPI, wa_core: SpyCore, clock: Clock
) -> None:
    clock.now = at(23, 8)
    assert "23/11 (1 दिन)" in say(twilio_api, SUNITA, "छुट्टी")
    assert "25/11 से 27/11" in say(twilio_api, SUNITA, "छुट्टी 25/11-27/11")
    say(twilio_api, REKHA, "/help")
    assert run_job(wa_core.engine, wa_core.settings, "reminder", at(23, 17)) == 38  # not Sunita
    drain(wa_core, twilio, at(23, 17, 1))
    assert twilio_api.messages_to(SUNITA) == [] and twilio_api.messages_to(REKHA)
