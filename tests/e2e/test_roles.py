"""Who may do what: every role against every command, each answer kept inside the asker's units.

A field worker sees only herself, a supervisor her sectors, a BMO his block, a district officer his
district; nobody sees a worker's name or number outside that. An unknown phone gets the same polite
refusal to everything, and nothing it sends is stored.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.core.messages import Inbound, Location, Reply
from bot.core.service import Fieldbot
from bot.i18n import t
from bot.phones import local_phone, normalize_phone
from bot.roster.read import read_table
from models import InboundMessage, Person, Proof, ReportChange, ReportValue
from tests.conftest import ADMIN, NASREEN, RAJESH, SAMPLE, SUNITA, USHA, VIVEK, at
from tests.images import photo

NIRMALA = "8480346261"  # ANM, Hardoi/Sandila/Sandila-1
PREETI = "09673759019"  # ASHA, Hardoi/Bilgram/Bilgram-2
REKHA = "7339325088"  # ASHA, Hardoi/Sandila/Sandila-1
STRANGER = "9000000002"  # on no roster


@dataclass(frozen=True)
class Worker:
    name: str
    phone: str  # E.164
    block: str
    sector: str


def _workers() -> list[Worker]:
    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    return [
        Worker(r["name"], normalize_phone(r["phone"]), r["block"], r["sector"])
        for _, r in table
        if r["role"] in ("asha", "anm")
    ]


WORKERS = _workers()

# Who each asker is, and which field workers' names and numbers they may ever see.
ROLES: dict[str, tuple[str, Callable[[Worker], bool]]] = {
    "asha": (SUNITA, lambda w: w.name == "Sunita Devi"),
    "anm": (NIRMALA, lambda w: w.name == "Nirmala Gupta"),
    "supervisor": (USHA, lambda w: w.sector in ("Sandila-1", "Sandila-2")),
    "bmo": (RAJESH, lambda w: w.block == "Sandila"),
    "bmo_bilgram": (NASREEN, lambda w: w.block == "Bilgram"),
    "district_officer": (VIVEK, lambda w: True),
    "admin": (ADMIN, lambda w: True),
}
FOR_SUNITA = "/for Sunita कार्ड 5"  # a report for a worker of Sandila-1
# Who may report for Sunita: her supervisor and the ANM of her sector; it names her to them.
MAY_ENTER = {"supervisor", "anm"}
COMMANDS = [
    "/status",
    "/status Bilgram",
    "/status campaign",
    "/missing",
    "/missing Bilgram",
    "/top",
    "/top campaign",
    "/export",
    "/export Bilgram",
    "/photos",
    "/photos Bilgram",
    "/help",
    "/privacy",
    "कार्ड 5",
    "/undo",
    FOR_SUNITA,
    "/lang en",
]
OUT_OF_SCOPE = "आप सिर्फ़ अपने क्षेत्र"


def ask(core: Fieldbot, phone: str, text: str | None, minute: int = 0, **extra: Any) -> list[Reply]:
    inbound = Inbound(
        channel="simulator",
        dedup_key=f"roles:{phone}:{text}:{minute}:{len(extra)}",
        sent_at=at(23, 12, minute),
        chat_id=phone,
        phone=phone,
        text=text,
        **extra,
    )
    return core.handle(inbound)


def visible(replies: list[Reply]) -> str:
    """Everything an asker gets to read: the texts and every cell of any file."""
    parts = [r.text for r in replies]
    for reply in replies:
        if reply.document is not None:
            book = load_workbook(io.BytesIO(reply.document.content), read_only=True)
            for sheet in book.worksheets:
                for row in sheet.iter_rows(values_only=True):
                    parts.append(" ".join(str(v) for v in row if v is not None))
    return "\n".join(parts)


def leaked(text: str, may_see: Callable[[Worker], bool]) -> list[str]:
    """Names or numbers of workers outside the asker's units that appear in what she read."""
    out = []
    for worker in WORKERS:
        if may_see(worker):
            continue
        digits = worker.phone.removeprefix("+91")
        for trace in (worker.name, digits, local_phone(worker.phone)):
            if trace in text:
                out.append(f"{worker.name} ({trace})")
    return out


def snapshot(engine: Engine) -> dict[str, Any]:
    with Session(engine) as session:
        return {
            "values": sorted(
                (v.report_id, v.metric, v.value) for v in session.exec(select(ReportValue))
            ),
            "changes": session.exec(select(func.count()).select_from(ReportChange)).one(),
            "inbound": session.exec(select(func.count()).select_from(InboundMessage)).one(),
            "people": sorted(
                (p.id, p.language, p.telegram_user_id) for p in session.exec(select(Person))
            ),
        }


@pytest.fixture()
def field_day(core: Fieldbot, district: Engine) -> Fieldbot:
    """Reports in both blocks, and a field-photo proof in each."""
    assert "✅" in ask(core, SUNITA, "आवेदन 25 कार्ड 20", 1)[0].text
    assert "✅" in ask(core, REKHA, "कार्ड 11", 2)[0].text
    assert "✅" in ask(core, PREETI, "cards 7", 3)[0].text
    for index, (phone, lat, lon) in enumerate(
        [(SUNITA, 27.095652, 80.484237), (PREETI, 27.135512, 80.051743)]
    ):
        ask(core, phone, None, 10 + index, photo=photo(40 + index))
        ask(core, phone, None, 12 + index, location=Location(lat, lon, 10))
    with Session(district) as session:
        assert session.exec(select(func.count()).select_from(Proof)).one() == 2
    return core


@pytest.mark.parametrize("role", list(ROLES))
def test_every_command_stays_inside_the_askers_units(
    role: str, field_day: Fieldbot, district: Engine
) -> None:
    phone, may_see = ROLES[role]
    is_worker = role in ("asha", "anm")
    answers: dict[str, list[Reply]] = {}
    for minute, command in enumerate(COMMANDS, start=20):
        before = snapshot(district)
        answers[command] = replies = ask(field_day, phone, command, minute)
        assert replies, f"{role} {command}: no answer"
        sees = may_see
        if command == FOR_SUNITA and role in MAY_ENTER:
            sees = lambda w: may_see(w) or w.name == "Sunita Devi"  # noqa: E731
        assert not leaked(visible(replies), sees), f"{role} {command}: {leaked(visible(replies), sees)}"
        after = snapshot(district)
        if command == FOR_SUNITA:
            changed = after["values"] != before["values"]
            assert changed == (role in MAY_ENTER), f"{role} {command}: {replies[0].text}"
        elif command not in ("कार्ड 5", "/undo", "/lang en"):
            # Queries read: only the message itself is recorded.
            assert {**after, "inbound": 0} == {**before, "inbound": 0}, f"{role} {command} changed data"
        if not is_worker and command in ("कार्ड 5", "/undo"):
            assert after["values"] == before["values"] and after["changes"] == before["changes"]

    text = {command: "\n".join(r.text for r in replies) for command, replies in answers.items()}
    files = {c: [r.document for r in rs if r.document is not None] for c, rs in answers.items()}

    if is_worker:
        name = "Sunita Devi" if role == "asha" else "Nirmala Gupta"
        # Her own figures, whatever unit she names; lists and files are not for her.
        for command in ("/status", "/status Bilgram", "/export", "/export Bilgram"):
            assert name in text[command] and "Bilgram" not in text[command]
        assert not any(files.values())
        assert text["/missing"] in (
            t("hi", "missing_worker_done", day="23/11"),
            t("hi", "missing_worker", day="23/11"),
        )
        assert text["कार्ड 5"].startswith("✅")
        if role == "asha":
            assert "20 → 5" in text["कार्ड 5"] and text["/undo"].startswith("↩️")
            assert "Atwa" in text["/photos"] or "Sunita Devi" in text["/photos"]
        else:
            assert text["/undo"].startswith("↩️")  # her own report of a moment ago, nothing else
    else:
        assert text["कार्ड 5"] == t("hi", "officer_no_report")
        assert text["/undo"] == t("hi", "nothing_to_undo")
        assert files["/export"], f"{role}: /export sent no file"
        bilgram_allowed = role in ("bmo_bilgram", "district_officer", "admin")
        for command in ("/status Bilgram", "/missing Bilgram", "/export Bilgram", "/photos Bilgram"):
            if bilgram_allowed:
                assert OUT_OF_SCOPE not in text[command], f"{role} {command}: {text[command]}"
                assert "Bilgram" in text[command]
            else:
                assert text[command].startswith(OUT_OF_SCOPE), f"{role} {command}: {text[command]}"
                assert not files[command]
        if role in ("supervisor", "bmo"):
            assert "Sandila" in text["/status"] and "Bilgram" not in text["/status"]
            assert "Preeti Nishad" not in text["/photos"]
            assert "Sunita Devi" in text["/photos"]
        if role == "bmo_bilgram":
            assert "Preeti Nishad" in text["/photos"] and "Sunita Devi" not in text["/photos"]
    if role in MAY_ENTER:
        assert text[FOR_SUNITA].startswith("📝 Sunita Devi के लिए:")
    else:
        assert text[FOR_SUNITA] == t("hi", "for_not_allowed")
    assert text["/lang en"] == t("en", "lang_set")
    assert text["/help"] and text["/privacy"].startswith("🔒")


def test_an_unknown_phone_gets_one_refusal_to_everything_and_nothing_is_stored(
    field_day: Fieldbot, district: Engine
) -> None:
    before = snapshot(district)
    refusal = t("hi", "unknown_phone", phone=normalize_phone(STRANGER))
    for minute, command in enumerate([*COMMANDS, "/start", "hello"], start=20):
        assert [r.text for r in ask(field_day, STRANGER, command, minute)] == [refusal]
    assert [r.text for r in ask(field_day, STRANGER, None, 40, photo=photo(50))] == [refusal]
    assert snapshot(district) == before


def test_an_inactive_worker_is_refused_and_changes_nothing(
    field_day: Fieldbot, district: Engine
) -> None:
    before = snapshot(district)
    for minute, command in enumerate(COMMANDS, start=20):
        (reply,) = ask(field_day, "7622075049", command, minute)  # Pushpa Rawat, inactive
        assert reply.text == t("hi", "inactive", name="Pushpa Rawat") and reply.document is None
    assert snapshot(district) == before


def test_a_workers_own_top_shows_no_other_names(field_day: Fieldbot) -> None:
    replies = ask(field_day, REKHA, "/top", 50)
    assert not leaked(visible(replies), lambda w: w.name == "Rekha Verma")
    assert "Sunita Devi" not in replies[0].text
