"""Personal data: the notice at first contact, least exposure, retention, forget and access, logs."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from bot.app import build_core
from bot.config import Settings
from bot.core.messages import Inbound, Location
from bot.core.service import Fieldbot
from bot.logs import configure_logging, mask_numbers
from bot.presence import parts
from bot.privacy import _phone_forms, erase, erasing_pattern
from models import (
    DailyReport,
    InboundMessage,
    LiveTrack,
    Outbox,
    Person,
    PrivacyNotice,
    Proof,
    ReportValue,
    SenderRate,
    TrackPoint,
)
from scheduler import run_job, run_retention
from tests.conftest import (
    ROOT,
    SUNITA,
    SUNITA_TG,
    USHA,
    Chat,
    at,
    child_url,
    link_sunita,
)
from tests.fakes.telegram_api import FakeTelegramAPI, text_update
from tests.images import photo

SUNITA_DIGITS = "7973321377"
NEAR_ATWA = (27.0961, 80.4846)


@pytest.fixture()
def strangers(district: Engine) -> Engine:
    """The sample district before anyone has written to the bot."""
    with Session(district) as session:
        session.execute(delete(PrivacyNotice))
        session.commit()
    return district


def test_first_contact_gets_the_notice_once_per_channel_and_the_report_counts(
    core: Fieldbot, strangers: Engine
) -> None:
    chat = Chat(core)
    first = chat.send(SUNITA, "आवेदन 12 कार्ड 9", at(23, 10))
    assert "कार्ड: 9" in first[0]
    assert first[1].startswith("🔒 सूचना") and "90 दिन" in first[1] and "/privacy" in first[1]
    assert len(chat.send(SUNITA, "कार्ड 10", at(23, 11))) == 1
    whatsapp = Inbound(
        channel="whatsapp",
        dedup_key="wa:SM1",
        sent_at=at(23, 12),
        chat_id=SUNITA,
        phone=SUNITA,
        text="कार्ड 11",
    )
    replies = core.handle(whatsapp)
    assert "10 → 11" in replies[0].text and replies[1].text.startswith("🔒")
    with Session(strangers) as session:
        shown = session.exec(select(PrivacyNotice.channel)).all()
        assert sorted(shown) == ["simulator", "whatsapp"]
        values = session.exec(select(ReportValue.metric, ReportValue.value)).all()
    assert dict(values) == {"applications": 12, "cards": 11}


def test_a_group_never_gets_the_notice(core: Fieldbot, strangers: Engine) -> None:
    group = Inbound(
        channel="simulator",
        dedup_key="g1",
        sent_at=at(23, 10),
        chat_id="-100",
        phone=SUNITA,
        text="कार्ड 9",
        is_group=True,
    )
    assert all("🔒" not in r.text for r in core.handle(group))
    assert "🔒" in Chat(core).say(SUNITA, "/help", at(23, 11))  # the private chat still shows it


def test_telegram_shows_it_when_the_number_is_linked(
    polling: FakeTelegramAPI, strangers: Engine
) -> None:
    link_sunita(polling)
    texts = [c.params["text"] for c in polling.wait_for("sendMessage", 3)]
    assert "Sunita Devi" in texts[1] and texts[2].startswith("🔒")
    polling.push_update(text_update("कार्ड 9", user_id=SUNITA_TG))
    polling.wait_for("sendMessage", 4)
    time_limit = [c.params["text"] for c in polling.calls_for("sendMessage")]
    assert sum("🔒" in t for t in time_limit) == 1


def test_privacy_command_says_what_why_who_and_how_long(chat: Chat) -> None:
    hindi = chat.say(SUNITA, "/privacy", at(23, 10))
    for words in ("क्या रखा जाता है", "क्यों", "कौन देखता है", "90 दिन", "30 दिन", "DPMU"):
        assert words in hindi
    english = chat.say("+91 97697 57560", "/privacy", at(23, 10))
    assert "Who sees it" in english and "ask your supervisor" in english


def test_phone_lists_never_go_into_a_group(core: Fieldbot) -> None:
    missing = Inbound(
        channel="simulator",
        dedup_key="g2",
        sent_at=at(23, 19),
        chat_id="-100",
        phone=USHA,
        text="/missing",
        is_group=True,
    )
    [reply] = core.handle(missing)
    assert "निजी" in reply.text or "private" in reply.text.lower()
    assert "79733" not in reply.text


# ---------------------------------------------------------------- retention


def _proof_at(chat: Chat, when: dt.datetime, seed: int, live: bool = False) -> None:
    key = f"live:{seed}"
    if live:
        loc = Location(*NEAR_ATWA, 10.0, live=True, live_period_s=3600)
        chat.send(SUNITA, None, when, key=key, location=loc)
        later = Location(NEAR_ATWA[0] + 0.001, NEAR_ATWA[1], 10.0, live=True, live_period_s=3600)
        chat.send(
            SUNITA,
            None,
            when,
            key=f"{key}:1",
            source_key=key,
            location=later,
            is_edit=True,
            edited_at=when + dt.timedelta(minutes=30),
        )
        chat.send(SUNITA, None, when + dt.timedelta(minutes=1), photo=photo(seed))
    else:
        chat.send(SUNITA, None, when, photo=photo(seed))
        chat.send(SUNITA, None, when + dt.timedelta(minutes=1), location=Location(*NEAR_ATWA, 10.0))


def test_retention_deletes_exactly_what_has_expired(district: Engine, settings: Settings) -> None:
    now = at(23, 12)  # field hours, so the proofs themselves are verified
    chat = Chat(build_core(settings, district, clock=lambda: now))
    _proof_at(chat, now - dt.timedelta(days=95), 1)  # photo expired
    _proof_at(chat, now - dt.timedelta(days=40), 2, live=True)  # photo kept; unmatched point expired
    _proof_at(chat, now - dt.timedelta(days=5), 3, live=True)  # everything kept
    minute = int(now.timestamp()) // 60
    with Session(district) as session:
        session.add(SenderRate(sender="old", minute=minute - 3 * 1440, count=4))
        session.add(SenderRate(sender="recent", minute=minute - 5, count=2))
        session.commit()
        before = session.exec(select(Proof).order_by(col(Proof.id))).all()
    files = [Path(p.photo_path or "") for p in before]
    assert all(f.exists() for f in files)

    swept = run_retention(district, settings, now)

    assert (swept.photos, swept.proofs) == (1, 1)
    assert [f.exists() for f in files] == [False, True, True]
    with Session(district) as session:
        old, middle, recent = session.exec(select(Proof).order_by(col(Proof.id))).all()
        points = session.exec(select(TrackPoint).order_by(col(TrackPoint.at))).all()
        tracks = session.exec(select(LiveTrack)).all()
    # The old proof keeps its verdict, distance and hash, and nothing that places her.
    assert old.verdict == "verified" and old.distance_m is not None and old.photo_phash
    assert (old.photo_path, old.lat, old.lon) == (None, None, None)
    assert middle.lat is not None and recent.lat is not None
    # Of the 40-day-old live location, only the point matched to the photo is left.
    assert [(p.kept, p.at.date()) for p in points] == [
        (True, (now - dt.timedelta(days=40)).date()),
        (True, (now - dt.timedelta(days=5)).date()),
        (False, (now - dt.timedelta(days=5)).date()),
    ]
    assert len(tracks) == 2
    with Session(district) as session:
        senders = set(session.exec(select(SenderRate.sender)).all())
    assert "recent" in senders and "old" not in senders  # flood counts are kept a day
    assert run_retention(district, settings, now).proofs == 0  # nothing twice


# ---------------------------------------------------------------- forget and access


def _totals(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as session:
        rows = session.exec(
            select(
                DailyReport.sector_id, DailyReport.day, ReportValue.metric, func.sum(ReportValue.value)
            )
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .group_by(col(DailyReport.sector_id), col(DailyReport.day), col(ReportValue.metric))
            .order_by(col(DailyReport.sector_id), col(DailyReport.day), col(ReportValue.metric))
        ).all()
    return [tuple(r) for r in rows]


def _is_text(kind: object) -> bool:
    try:
        return kind.python_type is str  # type: ignore[attr-defined]
    except NotImplementedError:
        return False


def _every_text(engine: Engine) -> str:
    """Every string and text value in every table, as one haystack."""
    chunks = []
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if _is_text(c.type)]
            for row in conn.execute(table.select().with_only_columns(*columns)) if columns else []:
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks).replace(" ", "")  # 79733 21377 is the same number


def _file_holds(path: Path, *words: str) -> list[str]:
    """Which of `words` the bytes of `path` contain, read by a child process."""
    script = (
        "import json, sys; raw = open(sys.argv[1], 'rb').read(); "
        "print(json.dumps([w for w in sys.argv[2:] if w.encode() in raw]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(path), *words], capture_output=True, text=True, check=True
    )
    return list(json.loads(found.stdout))


def _cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env={"FIELDBOT_DATABASE_URL": child_url(engine), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_forget_keeps_every_total_and_leaves_no_trace(
    district: Engine, settings: Settings, tmp_path: Path
) -> None:
    chat = Chat(build_core(settings, district, clock=lambda: at(23, 23, 59)))
    chat.say(SUNITA, "आवेदन 12 कार्ड 9", at(22, 11))
    chat.say(SUNITA, "कार्ड 11", at(22, 12))
    chat.say("7339325088", "कार्ड 7", at(23, 11))
    _proof_at(chat, at(23, 10), 40, live=True)
    chat.say(USHA, "/missing", at(23, 19))  # her name and number go into Usha's reply
    run_job(district, settings, "supervisor_digest", at(23, 18, 30))  # and into the digest
    with Session(district) as session:
        proof = session.exec(select(Proof)).one()
        digest = session.exec(select(Outbox).where(Outbox.job == "supervisor_digest")).all()
    assert any(SUNITA_DIGITS[:5] in row.text for row in digest)
    photo_file = Path(proof.photo_path or "")
    before = _totals(district)
    assert SUNITA_DIGITS in _every_text(district)

    result = _cli(district, "forget", SUNITA, "--yes")
    assert result.returncode == 0, result.stderr
    assert "person #" in result.stdout and "1 proof(s)" in result.stdout

    assert _totals(district) == before
    haystack = _every_text(district)
    assert SUNITA_DIGITS not in haystack
    assert "Sunita" not in haystack
    assert not photo_file.exists()
    if district.dialect.name == "sqlite":
        # The file is read by another process: opening and closing it here would drop every SQLite lock
        # this process holds on it (POSIX locks are per process), and the next writer could then reset
        # the journal under connections still open.
        district.dispose()
        assert _file_holds(Path(str(district.url.database)), SUNITA_DIGITS, "Sunita") == []
    with Session(district) as session:
        person = session.exec(select(Person).where(col(Person.name).startswith("Anonymous"))).one()
        assert person.sector_id is not None and person.telegram_user_id is None
        assert session.exec(select(TrackPoint)).all() == []
    assert "79733" not in _cli(district, "forget", SUNITA, "--yes").stderr  # unknown now; masked
    # Reports she made stay in her unit's totals; the BMO's /status still adds them up.
    assert "कार्ड 18" in chat.say("8124645116", "/status Sandila-1 week", at(23, 20))


ERASURES = [
    # (name, text, what is left)
    ("Ram", "Ram, Ramesh and Rampur", "•••, Ramesh and Rampur"),
    ("Ram", "• Ram (Atwa) — 79733 21377\n• Ramesh (Atwa)", "• ••• (Atwa) — •••\n• Ramesh (Atwa)"),
    ("Ram", "Sitaram, Ram.", "Sitaram, •••."),
    ("Om", "Om Prakash, Omvati", "••• Prakash, Omvati"),
    ("Sunita Devi", "Sunita Devi; Sunita Devika", "•••; Sunita Devika"),
    ("राम", "राम, रामेश्वर, रामपुर", "•••, रामेश्वर, रामपुर"),
    ("राम", "रामा रामू राम्या रामकली", "रामा रामू राम्या रामकली"),  # a vowel sign or virama after
    ("राम", "श्रीराम, सीताराम", "श्रीराम, सीताराम"),
    ("राम", "राम। राम॥ (राम)", "•••। •••॥ (•••)"),  # a danda ends the word
    ("सीता", "सीताराम और सीता", "सीताराम और •••"),
    ("ज़रीना", "ज़रीना, ज़रीनाबी", "•••, ज़रीनाबी"),  # a nukta is part of the letter
]


@pytest.mark.parametrize(("name", "text", "left"), ERASURES)
def test_forget_erases_a_name_of_any_length_as_a_whole_word(name: str, text: str, left: str) -> None:
    pattern = erasing_pattern([name], _phone_forms("+917973321377"))
    assert pattern is not None
    assert erase(pattern, text) == left


def test_numbers_are_erased_wherever_they_stand() -> None:
    pattern = erasing_pattern(["Ram"], _phone_forms("+917973321377"))
    assert pattern is not None
    text = "+917973321377, 79733 21377, 07973321377, 917973321377"
    assert erase(pattern, text) == "•••, •••, •••, 91•••"


@pytest.mark.parametrize(
    ("short", "longer", "third"),
    [("Ram", "Ramesh", "Rampur Wali"), ("राम", "रामेश्वर", "रामपुर वाली")],
)
def test_a_short_name_leaves_every_digest_and_reply_sent_before(
    district: Engine, settings: Settings, short: str, longer: str, third: str
) -> None:
    renamed = {"Sunita Devi": short, "Rekha Verma": longer, "Poonam Yadav": third}
    with Session(district) as session:
        for person in session.exec(select(Person).where(col(Person.name).in_(renamed))).all():
            person.name = renamed[person.name]
            session.add(person)
        session.commit()
    chat = Chat(build_core(settings, district, clock=lambda: at(23, 23, 59)))
    chat.say(SUNITA, "कार्ड 9", at(22, 11))
    assert f"• {short} (Atwa)" in chat.say(USHA, "/missing", at(23, 19))
    run_job(district, settings, "supervisor_digest", at(23, 18, 30))

    result = _cli(district, "forget", SUNITA, "--yes")
    assert result.returncode == 0, result.stderr

    with Session(district) as session:
        usha = session.exec(select(Person).where(Person.name == "Usha Srivastava")).one()
        digest = session.exec(
            select(Outbox).where(Outbox.job == "supervisor_digest", Outbox.person_id == usha.id)
        ).one()
        asked = session.exec(
            select(InboundMessage).where(
                InboundMessage.person_id == usha.id, col(InboundMessage.replies).contains("Atwa")
            )
        ).one()
    missing = json.loads(asked.replies)[0]["text"]
    for sent in (digest.text, missing):
        assert f"• {short} (" not in sent
        assert "• ••• (Atwa) — •••" in sent
        assert f"• {longer} (Behta Gokul)" in sent and f"• {third} (Kasimpur)" in sent


def test_access_writes_what_is_held(district: Engine, settings: Settings, tmp_path: Path) -> None:
    chat = Chat(build_core(settings, district, clock=lambda: at(23, 23, 59)))
    chat.say(SUNITA, "आवेदन 12 कार्ड 9", at(23, 11))
    _proof_at(chat, at(23, 10), 41)
    out = tmp_path / "sunita.json"
    result = _cli(district, "access", SUNITA, "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["name"] == "Sunita Devi"
    assert data["phones"] == ["+917973321377"]
    assert data["reports"][0]["values"] == {"applications": 12, "cards": 9}
    assert data["proofs"][0]["verdict"] == "verified"
    assert out.stat().st_mode & 0o077 == 0
    assert _cli(district, "access", "9000000001", "--out", str(out)).returncode == 2


# ---------------------------------------------------------------- logs


def test_logs_never_hold_a_full_phone_number(core: Fieldbot, district: Engine) -> None:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream)
    try:
        chat = Chat(core)
        chat.say("9000000001", "कार्ड 5", at(23, 10))  # unknown phone: logged, masked
        chat.say(SUNITA, "कार्ड 5", at(23, 10))
        logging.getLogger("fieldbot").error("raw number in a message: +91 79733 21377 and 07973321377")
        with Session(district) as session:  # a database error carries no statement values
            try:
                session.execute(
                    text("INSERT INTO person_phone (phone, person_id) VALUES (:p, -1)"),
                    {"p": "+917973321377"},
                )
                session.commit()
            except Exception:
                logging.getLogger("fieldbot").exception("insert failed")
    finally:
        logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    assert "******0001" in output and "******1377" in output
    for raw in ("9000000001", SUNITA_DIGITS, "79733 21377"):
        assert raw not in output


def test_number_masking_covers_the_ways_numbers_are_written() -> None:
    for written in (
        "+919876543210",
        "919876543210",
        "09876543210",
        "9876543210",
        "+91 98765 43210",
        "98765-43210",
    ):
        assert mask_numbers(f"call {written} now") == "call ******3210 now"
    assert mask_numbers("order 1234567890123 of 2026-11-23") == "order 1234567890123 of 2026-11-23"


def test_a_photo_whose_message_failed_to_store_is_swept_after_a_grace_period(
    district: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = at(23, 12)
    chat = Chat(build_core(settings, district, clock=lambda: now))
    _proof_at(chat, now, 4)
    with Session(district) as session:
        [kept] = [Path(p) for p in session.exec(select(Proof.photo_path)).all() if p]

    def full_disk(**_: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(parts, "save_photo_part", full_disk)  # the transaction fails after the write
    for seed, minute in [(5, 30), (6, 45)]:
        reply = chat.say(SUNITA, None, now + dt.timedelta(minutes=minute), photo=photo(seed))
        assert "दोबारा भेजें" in reply
    folder = settings.resolve_path(settings.presence.photo_dir)
    orphans = sorted(p for p in folder.rglob("*.jpg") if p != kept)
    assert len(orphans) == 2  # written, and named by no row
    two_hours_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).timestamp()
    for path in (kept, orphans[0]):
        os.utime(path, (two_hours_ago, two_hours_ago))

    swept = run_retention(district, settings, now)

    assert swept.orphans == 1
    assert not orphans[0].exists()  # nobody will ever look for it
    assert orphans[1].exists()  # young: its message might still be on its way to the database
    assert kept.exists()  # a stored proof's photo stays, however old the file
