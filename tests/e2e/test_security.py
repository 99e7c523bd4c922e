"""Floods, a database that drops its connection, and backups taken while the bot writes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from bot.app import build_core
from bot.backup import PG_DUMP_HINT, BackupError, backup
from bot.cli import main as cli_main
from bot.config import Settings
from bot.config_sections import Floods
from bot.core import identity
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.store import inbound, people, reports
from bot.store.db import make_engine, upgrade
from models import InboundMessage, Person, SenderRate
from tests.conftest import SUNITA, Chat, at, child_url

LIMIT = 5
POOJA = "+91 97697 57560"  # ASHA of Sandila-2 who reads English
STRANGER = "9000000001"  # on no roster


class Clock:
    """The bot's clock, moved by hand."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture()
def clock() -> Clock:
    return Clock(at(23, 11, 0))


@pytest.fixture()
def limited(settings: Settings) -> Settings:
    return settings.model_copy(update={"floods": Floods(messages_per_minute=LIMIT)})


@pytest.fixture()
def flood_chat(district: Engine, limited: Settings, clock: Clock) -> Chat:
    return Chat(build_core(limited, district, clock=clock))


def cards_of(engine: Engine, phone: str, day: dt.date = dt.date(2026, 11, 23)) -> dict[str, int]:
    with Session(engine) as session:
        person = people.person_by_phone(session=session, phone=phone)
        assert person is not None and person.id is not None
        return reports.report_values(session=session, person_id=person.id, day=day)


def count_rows(engine: Engine, table: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


SLOW_HI = t("hi", "slow_down", limit=LIMIT)
SLOW_EN = t("en", "slow_down", limit=LIMIT)


# ---------------------------------------------------------------- floods


def test_a_flood_gets_one_slow_down_then_silence_and_only_its_count_is_stored(
    flood_chat: Chat, district: Engine, clock: Clock
) -> None:
    answers = [flood_chat.say(SUNITA, "कार्ड +1", at(23, 11)) for _ in range(LIMIT + 4)]
    assert all("✅" in a for a in answers[:LIMIT])
    assert answers[LIMIT] == SLOW_HI
    assert answers[LIMIT + 1 :] == ["", "", ""]
    assert cards_of(district, "+917973321377") == {"cards": LIMIT}
    assert count_rows(district, InboundMessage) == LIMIT  # refused messages leave no trace
    with Session(district) as session:
        assert [r.count for r in session.exec(select(SenderRate))] == [LIMIT + 4]

    clock.advance(60)  # a new minute: she is heard again
    assert "✅" in flood_chat.say(SUNITA, "कार्ड +1", at(23, 11, 1))
    assert cards_of(district, "+917973321377") == {"cards": LIMIT + 1}


def test_slow_down_is_in_her_language(flood_chat: Chat) -> None:
    answers = [flood_chat.say(POOJA, "cards +1", at(23, 11)) for _ in range(LIMIT + 1)]
    assert answers[-1] == SLOW_EN


def test_an_unknown_phone_flooding_gets_refusals_then_quiet_and_leaves_no_number(
    flood_chat: Chat, district: Engine
) -> None:
    people = count_rows(district, Person)
    answers = [flood_chat.say(STRANGER, "कार्ड 5", at(23, 11)) for _ in range(LIMIT + 3)]
    assert all("सूची में नहीं है" in a for a in answers[:LIMIT])
    assert answers[LIMIT:] == [SLOW_HI, "", ""]
    assert count_rows(district, Person) == people
    assert count_rows(district, InboundMessage) == 0
    with Session(district) as session:
        (row,) = session.exec(select(SenderRate)).all()
    assert "9000000001" not in row.sender and not row.sender.isdigit()


def test_refused_reports_count_too(flood_chat: Chat, district: Engine) -> None:
    """A report refused for its value rolls back its work; its count must survive the rollback."""
    answers = [flood_chat.say(SUNITA, "कार्ड 999", at(23, 11)) for _ in range(LIMIT + 1)]
    assert all("बहुत ज़्यादा" in a for a in answers[:LIMIT])
    assert answers[LIMIT] == SLOW_HI
    assert cards_of(district, "+917973321377") == {}


def test_a_redelivered_message_is_not_counted_again(flood_chat: Chat) -> None:
    first = flood_chat.say(SUNITA, "कार्ड 3", at(23, 11), key="tg:same")
    again = [flood_chat.say(SUNITA, "कार्ड 3", at(23, 11), key="tg:same") for _ in range(LIMIT * 2)]
    assert set(again) == {first}
    fresh = [flood_chat.say(SUNITA, "कार्ड +1", at(23, 11)) for _ in range(LIMIT - 1)]
    assert all("✅" in a for a in fresh)


def test_the_limit_is_shared_by_every_process(district: Engine, limited: Settings, clock: Clock) -> None:
    """Two `fieldbot run` processes on one database: their own engines, the same count."""
    other_engine = make_engine(child_url(district))
    try:
        bots = [
            Chat(build_core(limited, district, clock=clock)),
            Chat(build_core(limited, other_engine, clock=clock)),
        ]
        answers = [bots[i % 2].say(SUNITA, "कार्ड +1", at(23, 11)) for i in range(LIMIT + 2)]
    finally:
        other_engine.dispose()
    assert all("✅" in a for a in answers[:LIMIT])
    assert answers[LIMIT:] == [SLOW_HI, ""]


def test_simultaneous_messages_are_counted_exactly(flood_chat: Chat, district: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: flood_chat.say(SUNITA, "कार्ड +1", at(23, 11)), range(12)))
    kinds = Counter("ok" if "✅" in a else a for a in answers)
    assert kinds == Counter({"ok": LIMIT, SLOW_HI: 1, "": 12 - LIMIT - 1})
    assert cards_of(district, "+917973321377") == {"cards": LIMIT}


def test_live_location_updates_do_not_count(flood_chat: Chat) -> None:
    from bot.core.messages import Inbound, Location

    flood_chat.core.handle(
        Inbound(
            channel="simulator",
            dedup_key="live:start",
            source_key="live",
            sent_at=at(23, 11),
            chat_id=SUNITA,
            phone=SUNITA,
            location=Location(27.0957, 80.4843, 10, live=True, live_period_s=3600),
        )
    )
    for minute in range(1, LIMIT * 2):
        flood_chat.core.handle(
            Inbound(
                channel="simulator",
                dedup_key=f"live:{minute}",
                source_key="live",
                sent_at=at(23, 11),
                chat_id=SUNITA,
                phone=SUNITA,
                is_edit=True,
                edited_at=at(23, 11, minute),
                location=Location(27.0957, 80.4843, 10, live=True),
            )
        )
    assert "✅" in flood_chat.say(SUNITA, "कार्ड 1", at(23, 11))


def test_sender_keys_hold_no_phone_and_tell_channels_apart() -> None:
    from bot.core.messages import Inbound

    def key(channel: str, phone: str) -> str:
        return identity.sender_key(
            Inbound(channel=channel, dedup_key="x", sent_at=at(23), chat_id=phone, phone=phone)
        )

    assert key("whatsapp", "+917973321377") == key("whatsapp", "07973321377")
    assert key("whatsapp", "+917973321377") != key("simulator", "+917973321377")
    assert "7973321377" not in key("whatsapp", "+917973321377")


# ---------------------------------------------------------------- a database that goes away


class Flaky:
    """Makes the first `failures` reads of processed_replies lose the database connection."""

    def __init__(self, failures: int):
        self.failures = failures
        self.real = inbound.processed_replies

    def __call__(self, **kwargs: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError(
                "SELECT ...", {}, Exception("server closed the connection unexpectedly")
            )
        return self.real(**kwargs)


def test_a_dropped_connection_is_retried_and_the_report_stored_once(
    core: Fieldbot, district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    core.retry_pauses = (0, 0, 0)
    monkeypatch.setattr(inbound, "processed_replies", Flaky(2))
    reply = Chat(core).say(SUNITA, "कार्ड 7", at(23, 11))
    assert "✅" in reply
    assert cards_of(district, "+917973321377") == {"cards": 7}


def test_a_database_that_stays_down_gets_please_resend_and_nothing_stored(
    core: Fieldbot, district: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    core.retry_pauses = (0, 0)
    monkeypatch.setattr(inbound, "processed_replies", Flaky(10))
    reply = Chat(core).say(SUNITA, "कार्ड 7", at(23, 11))
    assert reply == t("hi", "internal_error")
    monkeypatch.undo()
    assert cards_of(district, "+917973321377") == {}
    assert count_rows(district, InboundMessage) == 0


# ---------------------------------------------------------------- backup


def _sqlite_db(tmp_path: Path) -> tuple[Engine, Path]:
    path = tmp_path / "live.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine, path


@pytest.fixture()
def writing(tmp_path: Path) -> Iterator[tuple[Engine, Path, Callable[[], int]]]:
    """A migrated SQLite database with a thread writing to it until the test ends.

    Each transaction adds a row to two tables: a consistent copy holds as many rows in each.
    """
    engine, path = _sqlite_db(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE left_half (n INTEGER PRIMARY KEY, pad TEXT)"))
        conn.execute(text("CREATE TABLE right_half (n INTEGER PRIMARY KEY, pad TEXT)"))
    stop = threading.Event()
    written = [0]

    def write() -> None:
        pad = "x" * 2000  # rows big enough that the copy spans many pages
        while not stop.is_set():
            with engine.begin() as conn:
                for table in ("left_half", "right_half"):
                    conn.execute(text(f"INSERT INTO {table} (pad) VALUES (:pad)"), {"pad": pad})
            written[0] += 1

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        while written[0] < 200:
            threading.Event().wait(0.01)
        yield engine, path, lambda: written[0]
    finally:
        stop.set()
        thread.join(10)
        engine.dispose()


def _check_copy(copy: Path) -> tuple[int, int]:
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        left = conn.execute("SELECT count(*) FROM left_half").fetchone()[0]
        right = conn.execute("SELECT count(*) FROM right_half").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM person").fetchone()[0] == 0  # the real schema
    return int(left), int(right)


def test_backup_while_the_bot_writes_is_consistent(
    writing: tuple[Engine, Path, Callable[[], int]], tmp_path: Path
) -> None:
    engine, _, written = writing
    seen = []
    for index in range(3):
        before = written()
        copy = tmp_path / f"copy{index}.db"
        backup(engine, copy)
        left, right = _check_copy(copy)
        assert left == right  # never one half of a transaction: one snapshot
        assert left >= before
        assert copy.stat().st_mode & 0o777 == 0o600
        seen.append(left)
    assert written() > seen[0]  # the writer kept going while copies were taken


def test_backup_command_copies_a_running_database(
    writing: tuple[Engine, Path, Callable[[], int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, path, _ = writing
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", f"sqlite:///{path}")
    out = tmp_path / "backups" / "fieldbot.db"
    assert cli_main(["backup", "--out", str(out)]) == 0
    assert "integrity check ok" in capsys.readouterr().out
    left, right = _check_copy(out)
    assert left == right > 0
    assert not list(out.parent.glob(".*partial"))


def test_backup_refuses_to_overwrite_the_database(tmp_path: Path) -> None:
    engine, path = _sqlite_db(tmp_path)
    with pytest.raises(BackupError, match="overwrite"):
        backup(engine, path)


def test_backup_on_postgresql_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FIELDBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert cli_main(["backup", "--out", "x.db"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fieldbot: {PG_DUMP_HINT}"]
