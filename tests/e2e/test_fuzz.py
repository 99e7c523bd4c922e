"""Hostile input, generated: Telegram updates, Twilio forms, roster files and any text a worker sends.

Each property has a bounded budget (`max_examples`) so CI stays fast; a failure prints the smallest
input that breaks it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from telegram import Bot, Update
from twilio.request_validator import RequestValidator

from bot.app import build_core
from bot.channels.telegram.updates import to_inbound as telegram_inbound
from bot.channels.whatsapp.inbound import to_inbound as twilio_inbound
from bot.channels.whatsapp.routes import WhatsAppEndpoints
from bot.channels.whatsapp.settings import TwilioSettings
from bot.config import Settings
from bot.config_sections import Floods
from bot.core.messages import Inbound
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.roster import read
from bot.roster.apply import import_roster
from bot.roster.read import OPTIONAL, REQUIRED, RosterInvalid
from bot.store.db import session_scope
from bot.web import create_app
from models import InboundMessage
from tests.conftest import SUNITA, at
from tests.fakes.live import serving

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SMALL = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BOT = Bot("123456:fuzz-token")
HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["=cmd|' /C calc'!A0", "+91 98765 43210", "@SUM(1+1)", "-2+3", "\x00", "\ufeff"]),
    st.text(alphabet=st.characters(categories=["Mn", "Cf", "Zs", "Nd"]), max_size=50),
    st.builds(lambda n: "कार्ड " * n, st.integers(0, 400)),
)
INTS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, -1, 2**31, 10**15]))


# ---------------------------------------------------------------- Telegram updates


def _user() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": INTS, "is_bot": st.booleans(), "first_name": HOSTILE_TEXT},
        optional={"last_name": HOSTILE_TEXT, "language_code": st.text(max_size=5)},
    )


def _message() -> st.SearchStrategy[dict[str, Any]]:
    chat = st.fixed_dictionaries(
        {"id": INTS, "type": st.sampled_from(["private", "group", "supergroup", "channel", "x"])}
    )
    location = st.fixed_dictionaries(
        {
            "latitude": st.floats(allow_nan=True, allow_infinity=True),
            "longitude": st.floats(allow_nan=True, allow_infinity=True),
        },
        optional={
            "horizontal_accuracy": st.floats(min_value=0, max_value=1e6),
            "live_period": st.integers(0, 2**31),
        },
    )
    contact = st.fixed_dictionaries(
        {"phone_number": HOSTILE_TEXT, "first_name": HOSTILE_TEXT},
        optional={"user_id": INTS},
    )
    document = st.fixed_dictionaries(
        {"file_id": st.text(max_size=20), "file_unique_id": st.text(max_size=20)},
        optional={"mime_type": st.text(max_size=30), "file_size": st.integers(0, 2**40)},
    )
    # Dates Telegram could send: 1970 to 2100 (de_json itself refuses years past 9999).
    dates = st.integers(0, 4_102_444_800)
    return st.fixed_dictionaries(
        {"message_id": INTS, "date": dates, "chat": chat},
        optional={
            "from": _user(),
            "text": HOSTILE_TEXT,
            "caption": HOSTILE_TEXT,
            "edit_date": dates,
            "location": location,
            "contact": contact,
            "document": document,
            "voice": st.just({"file_id": "v", "file_unique_id": "v", "duration": 3}),
            "sticker": st.just(
                {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            ),
        },
    )


@FUZZ
@given(
    INTS,
    st.sampled_from(["message", "edited_message", "channel_post", "edited_channel_post"]),
    _message(),
)
def test_telegram_translator_takes_any_update(
    update_id: int, kind: str, message: dict[str, Any]
) -> None:
    # An update carries one of these, as Telegram sends them.
    data = {"update_id": update_id, kind: message}
    update = Update.de_json(data, BOT)
    assert update is not None
    inbound = telegram_inbound(update)
    if inbound is None:
        return
    assert inbound.channel == "telegram" and inbound.account is not None
    assert inbound.sent_at.tzinfo is not None
    assert inbound.dedup_key.startswith(inbound.source_key or "?")
    assert inbound.is_edit == (kind == "edited_message")
    assert inbound.is_group == (message["chat"]["type"] in ("group", "supergroup"))


# ---------------------------------------------------------------- Twilio forms

TWILIO_FIELDS = [
    "MessageSid",
    "SmsMessageSid",
    "From",
    "WaId",
    "Body",
    "MessageType",
    "Latitude",
    "Longitude",
    "NumMedia",
    "MediaContentType0",
    "MediaUrl0",
    "ProfileName",
]
FORM_VALUES = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "whatsapp:+917973321377",
            "NaN",
            "inf",
            "-91",
            "1e400",
            "999999999999999999999",
            "image/jpeg",
            "audio/ogg",
            "sticker",
            "document",
            "https://api.twilio.com/x",
        ]
    ),
)
TWILIO_FORMS = st.dictionaries(
    st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(max_size=10)), FORM_VALUES, max_size=12
)


@FUZZ
@given(TWILIO_FORMS)
@example({"MessageSid": "SM1", "From": "whatsapp:+1", "Latitude": "NaN", "Longitude": "1"})
@example({"MessageSid": "SM1", "WaId": "91x", "NumMedia": "-5", "MediaUrl0": ""})
def test_twilio_translator_takes_any_form(form: dict[str, str]) -> None:
    translated = twilio_inbound(form, dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC))
    if translated is None:
        return
    inbound, media = translated
    assert inbound.channel == "whatsapp" and inbound.dedup_key.startswith("wa:")
    assert inbound.phone
    if inbound.location is not None:
        assert math.isfinite(inbound.location.lat) and -90 <= inbound.location.lat <= 90
        assert math.isfinite(inbound.location.lon) and -180 <= inbound.location.lon <= 180
    if media is not None:
        assert media.url and media.content_type.startswith("image/")


PUBLIC = "https://fieldbot.example.org"
TWILIO = TwilioSettings(
    account_sid="AC" + "0" * 32,
    auth_token="fuzz-auth-token",
    whatsapp_from="whatsapp:+14155238886",
    api_base_url="http://127.0.0.1:9",  # never reached: nothing here is fetched
    public_url=PUBLIC,
)


@pytest.fixture()
def twilio_client(core: Fieldbot) -> Any:
    with (
        serving(create_app(core, whatsapp=WhatsAppEndpoints(core, TWILIO))) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(InboundMessage)).one())


@SMALL
@given(
    TWILIO_FORMS,
    st.one_of(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)),
)
def test_twilio_webhook_refuses_any_forgery_and_stores_nothing(
    twilio_client: Any, district: Engine, form: dict[str, str], signature: str | None
) -> None:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    response = twilio_client.post("/twilio/whatsapp", data=form, headers=headers)
    # A form over the 64 KiB cap is refused for its size before its signature is read.
    assert response.status_code in (403, 413), response.text
    assert _stored(district) == 0


@SMALL
@given(TWILIO_FORMS.map(lambda f: {k: v for k, v in f.items() if k not in ("MediaUrl0", "NumMedia")}))
def test_twilio_webhook_answers_any_signed_form_without_crashing(
    twilio_client: Any, form: dict[str, str]
) -> None:
    signature = RequestValidator(TWILIO.auth_token).compute_signature(f"{PUBLIC}/twilio/whatsapp", form)
    response = twilio_client.post(
        "/twilio/whatsapp", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code in (200, 400, 413), response.text  # 413: over the 64 KiB form cap
    if response.status_code == 200:
        assert response.text.startswith("<?xml")
        assert t("hi", "internal_error") not in response.text


# ---------------------------------------------------------------- any text, end to end


@FUZZ
@given(st.one_of(HOSTILE_TEXT, st.text(min_size=900, max_size=1200)))
def test_no_text_from_a_worker_breaks_the_core(district: Engine, settings: Settings, text: str) -> None:
    unlimited = settings.model_copy(update={"floods": Floods(messages_per_minute=1000)})
    core = build_core(unlimited, district, clock=lambda: at(23, 23, 59))
    inbound = Inbound(
        channel="simulator",
        dedup_key=f"fuzz:{uuid.uuid4().hex}",
        sent_at=at(23, 12),
        chat_id=SUNITA,
        phone=SUNITA,
        text=text,
    )
    replies = core.handle(inbound)
    assert replies and all(r.text for r in replies)
    assert t("hi", "internal_error") not in [r.text for r in replies]


# ---------------------------------------------------------------- roster files

HEADER = REQUIRED + OPTIONAL
GOOD = {
    "name": "Fuzz Devi",
    "phone": "9876543210",
    "role": "asha",
    "district": "Hardoi",
    "block": "Sandila",
    "sector": "Sandila-1",
    "village": "Atwa",
    "lat": "27.09",
    "lon": "80.48",
    "language": "hi",
    "worker_id": "",
    "alt_phones": "",
    "active": "true",
}
CELLS = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(['=HYPERLINK("http://x")', "@cmd", "+1", "1e999", "nan", "-inf", "91-98765-43211"]),
    st.builds(lambda n: "x" * n, st.integers(150, 5000)),
)
ROWS = st.lists(
    st.dictionaries(st.sampled_from(HEADER), CELLS, max_size=4).map(lambda bad: {**GOOD, **bad}),
    min_size=0,
    max_size=6,
)


def _csv(rows: list[dict[str, str]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue()


def _check_import(engine: Engine, path: Path) -> None:
    """Either every row imports, or every problem names its row; nothing else may happen."""
    try:
        with session_scope(engine) as session:
            import_roster(session, path, dry_run=True, progress=False)
    except RosterInvalid as invalid:
        assert invalid.errors
        for error in invalid.errors:
            assert isinstance(error.row, int) and error.row >= 0 and error.message
            assert str(error).startswith(f"row {error.row}: ")


@SMALL
@given(
    ROWS,
    st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-8-sig", "utf-16", "cp1252"]),
    st.sampled_from(["\r\n", "\n", "\r"]),
    st.permutations(list(HEADER)),
    st.binary(max_size=64),
)
@example(
    [{**GOOD, "name": "=cmd|' /C calc'!A0"}, {**GOOD, "village": "x" * 5000, "phone": "+1"}],
    "utf-8-sig",
    "\r\n",
    list(HEADER),
    b"",
)
@example([{**GOOD, "name": "Sunīta Dévi"}, GOOD], "cp1252", "\n", list(HEADER), b"\xff\xfe")
@example([GOOD, {**GOOD, "phone": "9876543211", "worker_id": "W2"}], "utf-8", "\r", list(HEADER), b"")
def test_hostile_csv_gives_row_numbered_errors_or_imports(
    db: Engine,
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, str]],
    encoding: str,
    newline: str,
    header: list[str],
    junk: bytes,
) -> None:
    text = _csv(rows, header).replace("\r\n", newline)
    data = text.encode(encoding, errors="replace")
    path = tmp_path_factory.mktemp("fuzz") / "roster.csv"
    path.write_bytes(data + (junk if rows and rows[0]["active"] == "junk" else b""))
    _check_import(db, path)
    path.write_bytes(data[: len(data) // 2] + junk)  # cut off mid-row, garbage after
    _check_import(db, path)


def _xlsx(rows: list[dict[str, Any]], header: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h, "") for h in header])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_CELLS = st.one_of(
    CELLS.map(lambda s: "".join(c for c in s if c.isprintable())[:2000]),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.sampled_from(["=1+1", "=A1", '=HYPERLINK("http://x","y")', "=SUM(A:A)"]),
)


@SMALL
@given(
    st.lists(
        st.dictionaries(st.sampled_from(HEADER), XLSX_CELLS, max_size=4).map(
            lambda bad: {**GOOD, **bad}
        ),
        max_size=5,
    ),
    st.integers(0, 3),
)
def test_hostile_xlsx_gives_row_numbered_errors_or_imports(
    db: Engine, tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]], damage: int
) -> None:
    data = _xlsx(rows, list(HEADER))
    if damage == 1:
        data = data[: len(data) // 2]  # a truncated upload
    elif damage == 2:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:  # a zip that is not a workbook
            archive.writestr("xl/workbook.xml", "<not-a-workbook")
        data = buffer.getvalue()
    path = tmp_path_factory.mktemp("fuzz") / "roster.xlsx"
    path.write_bytes(data)
    _check_import(db, path)


def test_roster_file_over_the_cap_is_refused_unread(
    db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(_csv([GOOD] * 50, list(HEADER)), encoding="utf-8")
    monkeypatch.setattr(read, "MAX_FILE_BYTES", 1024)
    monkeypatch.setattr(read, "csv_rows", lambda p: pytest.fail("a file over the cap was read"))
    with pytest.raises(RosterInvalid) as refused, session_scope(db) as session:
        import_roster(session, path, dry_run=True, progress=False)
    (error,) = refused.value.errors
    assert error.row == 0 and "at most" in error.message
