"""Shared fixtures: every database test runs on SQLite and, where configured, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.app import build_core
from bot.channels.telegram.application import build_application
from bot.channels.telegram.settings import TelegramSettings
from bot.config import Settings, load_settings
from bot.core.messages import Inbound
from bot.core.service import Fieldbot
from bot.roster.apply import import_roster
from bot.roster.read import ImportSummary
from bot.store.db import make_engine, session_scope, upgrade
from bot.web import create_app
from models import Person, PrivacyNotice
from tests.fakes.live import serving
from tests.fakes.telegram_api import FakeTelegramAPI, contact_update, text_update

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample_district.csv"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
POSTGRES_URL = os.environ.get("FIELDBOT_TEST_POSTGRES_URL")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="FIELDBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped",
        ),
    ),
]


def _postgres_engine() -> tuple[Engine, str]:
    """A private schema on the test server, so runs never see each other's rows."""
    assert POSTGRES_URL
    schema = f"fieldbot_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    separator = "&" if "?" in POSTGRES_URL else "?"
    CHILD_URLS[id(engine)] = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    return engine, schema


# The URL another process (a CLI call, a crash test's child) uses to reach an engine's database.
CHILD_URLS: dict[int, str] = {}


def child_url(engine: Engine) -> str:
    return CHILD_URLS.get(id(engine)) or engine.url.render_as_string(hide_password=False)


# The message table's tally per class, filled by tests/test_parser.py: class -> {"rows", "read"}.
MESSAGE_TABLE: dict[str, Counter[str]] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """After a run that read the message table: how many messages of each class read as expected."""
    if not MESSAGE_TABLE:
        return
    terminalreporter.section("message table")
    for name, tally in sorted(MESSAGE_TABLE.items()):
        terminalreporter.write_line(f"{name:12} {tally['read']:4} of {tally['rows']:4} as expected")
    read = sum(t["read"] for t in MESSAGE_TABLE.values())
    rows = sum(t["rows"] for t in MESSAGE_TABLE.values())
    terminalreporter.write_line(f"{'all':12} {read:4} of {rows:4} as expected")


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of each kind, shared by the session and emptied after each test."""
    schema = None
    if request.param == "postgres":
        eng, schema = _postgres_engine()
    else:
        eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'fieldbot.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()
    if schema:
        assert POSTGRES_URL
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def db(engine: Engine) -> Iterator[Engine]:
    """The shared database, emptied when the test ends."""
    yield engine
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return load_settings(ROOT / "config.yaml")


@pytest.fixture()
def settings(base_settings: Settings, tmp_path: Path) -> Settings:
    """The sample config, with a campaign that covers the days tests use and a private photo folder."""
    data = base_settings.model_dump(exclude={"base_dir"})
    data["campaign"] = {"name": "test", "start": dt.date(2026, 11, 1), "end": dt.date(2026, 12, 31)}
    data["presence"] = {**data["presence"], "photo_dir": str(tmp_path / "photos")}
    data["uploads"] = {**data["uploads"], "dir": str(tmp_path / "uploads")}
    return Settings.model_validate({**data, "base_dir": ROOT})


def import_csv(engine: Engine, path: Path, **kwargs: bool) -> ImportSummary:
    with session_scope(engine) as session:
        return import_roster(session, path, progress=False, **kwargs)


CHANNELS = ("simulator", "telegram", "whatsapp")


def greet_everyone(engine: Engine) -> None:
    """Mark the privacy notice as already shown to everyone, so replies are just the answers."""
    with session_scope(engine) as session:
        shown = set(session.exec(select(PrivacyNotice.person_id, PrivacyNotice.channel)).all())
        for person_id in session.exec(select(Person.id)).all():
            assert person_id is not None
            for channel in CHANNELS:
                if (person_id, channel) not in shown:
                    session.add(PrivacyNotice(person_id=person_id, channel=channel))


# Rows of every table right after a fixture's loader ran on an empty database, per engine and loader.
_SNAPSHOTS: dict[tuple[int, str], list[tuple[Table, list[dict[str, Any]]]]] = {}


def ordered(table: Table) -> Any:
    return core_select(table).order_by(*table.primary_key.columns)


def load_once(engine: Engine, name: str, loader: Callable[[], object]) -> None:
    """Run `loader` on the empty database the first time; afterwards write back the rows it left.

    The rows, keys included, are the ones the loader wrote, so a test sees the same database
    either way, in a fraction of the time an import takes.
    """
    key = (id(engine), name)
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        loader()
        with engine.connect() as conn:
            tables = SQLModel.metadata.sorted_tables
            rows = [(t, [dict(r._mapping) for r in conn.execute(ordered(t))]) for t in tables]
        _SNAPSHOTS[key] = [(table, found) for table, found in rows if found]
        return
    with engine.begin() as conn:
        for table, found in snapshot:
            conn.execute(table.insert(), found)


@pytest.fixture()
def district(db: Engine) -> Engine:
    """The sample district loaded; everyone has been here before (see test_privacy for first contact)."""

    def load() -> None:
        import_csv(db, SAMPLE)
        greet_everyone(db)

    load_once(db, "district", load)
    return db


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> dt.datetime:
    """A moment in IST in the test campaign."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=IST)


class Chat:
    """Talk to the bot as people of the roster do, through the neutral message type."""

    def __init__(self, core: Fieldbot):
        self.core = core

    def send(
        self,
        phone: str,
        text: str | None,
        when: dt.datetime | None = None,
        key: str | None = None,
        **extra: object,
    ) -> list[str]:
        extra.setdefault("source_key", key)
        inbound = Inbound(
            channel="simulator",
            dedup_key=key or f"test:{uuid.uuid4().hex}",
            sent_at=when or at(23),
            chat_id=phone,
            phone=phone,
            text=text,
            **extra,  # type: ignore[arg-type]
        )
        return [r.text for r in self.core.handle(inbound)]

    def say(self, phone: str, text: str | None, when: dt.datetime | None = None, **extra: object) -> str:
        return "\n".join(self.send(phone, text, when, **extra))


@pytest.fixture()
def core(district: Engine, settings: Settings) -> Fieldbot:
    # The bot's clock stands at the end of 23 Nov 2026 IST, whatever day the tests run on.
    return build_core(settings, district, clock=lambda: at(23, 23, 59))


@pytest.fixture()
def chat(core: Fieldbot) -> Chat:
    return Chat(core)


@pytest.fixture()
def session(db: Engine) -> Iterator[Session]:
    with Session(db) as s:
        yield s


# Phones from examples/sample_district.csv, as the roster writes them.
SUNITA = "07973321377"  # ASHA, Hardoi/Sandila/Sandila-1
USHA = "7285872429"  # supervisor of Sandila-1 and Sandila-2
RAJESH = "8124645116"  # BMO Sandila
NASREEN = "08209773026"  # BMO Bilgram
VIVEK = "+91 92668 36880"  # district officer Hardoi
ADMIN = "9901030882"


# ---------------------------------------------------------------- Telegram, over real HTTP

SUNITA_TG = 5001
SUNITA_PHONE = "+917973321377"
SECRET = "s3cret-token_for-webhook"


@pytest.fixture()
def api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI(max_hold=0.3) as fake:
        yield fake


def telegram_settings(api: FakeTelegramAPI, webhook: bool) -> TelegramSettings:
    return TelegramSettings(
        token=api.token,
        base_url=api.base_url,
        base_file_url=api.base_file_url,
        webhook_url="https://fieldbot.example.org/telegram/webhook" if webhook else None,
        webhook_secret=SECRET if webhook else None,
    )


@pytest.fixture()
def polling(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[FakeTelegramAPI]:
    """`fieldbot run` with Telegram in long-polling mode."""
    settings = telegram_settings(api, webhook=False)
    application = build_application(core, settings, webhook=False)
    with serving(create_app(core, telegram_app=application, telegram_settings=settings)):
        api.wait_for("getUpdates")
        yield api


def last_text(api: FakeTelegramAPI, chat_id: int, count: int) -> str:
    calls = api.wait_for("sendMessage", count)
    return str([c for c in calls if c.params.get("chat_id") == chat_id][-1].params["text"])


def link_sunita(api: FakeTelegramAPI) -> None:
    api.push_update(text_update("/start", user_id=SUNITA_TG))
    api.wait_for("sendMessage", 1)
    api.push_update(contact_update(SUNITA_PHONE, user_id=SUNITA_TG))
    api.wait_for("sendMessage", 2)
