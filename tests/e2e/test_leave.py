"""Leave and holidays: a worker off is not messaged, not missing, not in "reported x of y", and a
report she sends anyway counts; a holiday of a whole unit is no working day for its target."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import scheduler
from bot.app import build_core
from bot.config import Settings
from bot.rollups.export_table import export_rows
from bot.rollups.figures import Figures
from bot.rollups.figures import figures as rollup_figures
from bot.store.units import Unit, resolve_units
from models import Holiday, Leave, Outbox, Person
from tests.conftest import RAJESH, ROOT, SUNITA, USHA, Chat, at, child_url

REKHA = "7339325088"  # ASHA, Hardoi/Sandila/Sandila-1
NIRMALA = "8480346261"  # ANM, Hardoi/Sandila/Sandila-1
PREETI = "09673759019"  # ASHA, Hardoi/Bilgram/Bilgram-2
SANDILA_1 = 9  # active field workers in Sandila-1
FIELDBOT = Path(sys.executable).parent / "fieldbot"


def outbox(engine: Engine, job: str, name: str | None = None) -> list[str]:
    """Texts queued for a job (to one person, by name)."""
    with Session(engine) as session:
        query = select(Outbox.text, Person.name).join(Person, col(Person.id) == col(Outbox.person_id))
        rows = session.exec(query.where(Outbox.job == job).order_by(col(Outbox.id))).all()
    return [text for text, who in rows if name is None or who == name]


def sector(engine: Engine, path: str = "Hardoi/Sandila/Sandila-1") -> Unit:
    with Session(engine) as session:
        (found,) = resolve_units(session, path, "Uttar Pradesh")
    return found


def figures(engine: Engine, settings: Settings, path: str, day: dt.date) -> Figures:
    with Session(engine) as session:
        return rollup_figures(
            session=session, settings=settings, unit=sector(engine, path), start=day, end=day
        )


def test_a_worker_on_leave_gets_no_message_is_not_missing_nor_counted(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    reply = chat.say(SUNITA, "छुट्टी", at(23, 8))
    assert "छुट्टी दर्ज: 23/11 (1 दिन)" in reply and "छुट्टी रद्द" in reply
    scheduler.run_job(district, settings, "start_message", at(23, 9))
    assert outbox(district, "start_message", "Sunita Devi") == []
    assert outbox(district, "start_message", "Rekha Verma")
    scheduler.run_job(district, settings, "reminder", at(23, 17))
    assert outbox(district, "reminder", "Sunita Devi") == []
    assert outbox(district, "reminder", "Rekha Verma")
    scheduler.run_job(district, settings, "supervisor_digest", at(23, 18, 30))
    (digest,) = outbox(district, "supervisor_digest", "Usha Srivastava")
    sandila_1 = digest.split("\n\n")[0]
    assert f"रिपोर्ट भेजी: 0/{SANDILA_1 - 1}" in sandila_1
    assert "छुट्टी पर: 1" in sandila_1 and "आज छुट्टी पर: Sunita Devi" in sandila_1
    missing = sandila_1.split("आज छुट्टी पर")[0]
    assert "Sunita Devi" not in missing and "Rekha Verma" in missing
    fig = figures(district, settings, "Hardoi/Sandila/Sandila-1", dt.date(2026, 11, 23))
    assert (fig.workers, fig.reported, fig.on_leave) == (SANDILA_1 - 1, 0, 1)
    # The day after, she is back.
    scheduler.run_job(district, settings, "start_message", at(24, 9))
    assert len(outbox(district, "start_message", "Sunita Devi")) == 1
    # Her 09:00 target is zero on her day off, in the worker export.
    with Session(district) as session:
        _, rows = export_rows(
            session=session,
            settings=settings,
            level="worker",
            start=dt.date(2026, 11, 23),
            end=dt.date(2026, 11, 24),
            within=sector(district),
        )
    targets = {(r[0], r[4]): r[-2] for r in rows if r[4] == "Sunita Devi"}
    assert targets[("2026-11-23", "Sunita Devi")] in (0, "")
    assert targets[("2026-11-24", "Sunita Devi")] not in (0, "")


def test_a_report_sent_on_leave_counts(chat: Chat, district: Engine, settings: Settings) -> None:
    chat.say(SUNITA, "छुट्टी", at(23, 8))
    assert chat.say(SUNITA, "कार्ड 5", at(23, 15)).startswith("✅")
    fig = figures(district, settings, "Hardoi/Sandila/Sandila-1", dt.date(2026, 11, 23))
    assert (fig.workers, fig.reported, fig.totals["cards"], fig.on_leave) == (SANDILA_1, 1, 5, 1)
    scheduler.run_job(district, settings, "supervisor_digest", at(23, 18, 30))
    (digest,) = outbox(district, "supervisor_digest", "Usha Srivastava")
    assert f"रिपोर्ट भेजी: 1/{SANDILA_1}" in digest.split("\n\n")[0]


def test_leave_for_days_ahead_and_cancelled(chat: Chat, district: Engine, settings: Settings) -> None:
    assert "24/11 (1 दिन)" in chat.say(SUNITA, "छुट्टी कल", at(23, 8))
    assert "25/11 से 27/11 (3 दिन)" in chat.say(SUNITA, "छुट्टी 25/11 से 27/11", at(23, 8, 1))
    assert "23/11 (1 दिन)" in chat.say(SUNITA, "/leave", at(23, 8, 2))
    with Session(district) as session:
        days = {(x.first_day.day, x.last_day.day) for x in session.exec(select(Leave))}
    assert days == {(24, 24), (25, 27), (23, 23)}
    for day in (24, 26):
        scheduler.run_job(district, settings, "start_message", at(day, 9))
    assert outbox(district, "start_message", "Sunita Devi") == []
    cancelled = chat.say(SUNITA, "छुट्टी रद्द", at(23, 10))
    assert cancelled.startswith("✅ छुट्टी रद्द") and "25/11 से 27/11" in cancelled
    assert "कोई छुट्टी दर्ज नहीं" in chat.say(SUNITA, "छुट्टी रद्द", at(23, 10, 1))
    with Session(district) as session:
        # The day already begun stays leave; the days ahead are given back.
        kept = session.exec(select(Leave).where(col(Leave.cancelled_at).is_(None))).all()
    assert [(x.first_day, x.last_day) for x in kept] == []
    english = build_core(settings, district, clock=lambda: at(23, 23, 59))
    Chat(english).say(SUNITA, "/lang en")
    assert "I could not read that date." in Chat(english).say(SUNITA, "leave 31/2")
    assert "At most 31 days" in Chat(english).say(SUNITA, "leave 1/12 to 20/1")
    assert "first day first" in Chat(english).say(SUNITA, "leave 27/11 to 25/11")


def test_a_supervisor_enters_sees_and_cancels_leave_in_her_sector(
    chat: Chat, district: Engine, settings: Settings
) -> None:
    saved = chat.say(USHA, "छुट्टी सुनीता कल", at(23, 8))
    assert saved.startswith("🏖️ Sunita Devi की छुट्टी दर्ज: 24/11")
    (notice,) = outbox(district, "leave_for_you", "Sunita Devi")
    assert "Usha Srivastava" in notice and "24/11" in notice and "\n" not in notice
    listed = chat.say(USHA, "छुट्टी", at(23, 8, 1))
    assert "• Sunita Devi: 24/11" in listed
    assert chat.say(USHA, "/leave Rekha 25/11 to 26/11", at(23, 8, 2)).startswith("🏖️ Rekha Verma")
    assert "• Rekha Verma: 25/11 से 26/11" in chat.say(USHA, "छुट्टी", at(23, 8, 3))
    # Outside her sectors nobody is found; a BMO does not enter leave.
    assert "«प्रीति»" in chat.say(USHA, "छुट्टी प्रीति कल", at(23, 8, 4))
    assert chat.say(RAJESH, "छुट्टी सुनीता कल", at(23, 8, 5)).startswith("छुट्टी आशा/एएनएम खुद")
    bmo_list = chat.say(RAJESH, "छुट्टी", at(23, 8, 6))
    assert "Sunita Devi: 24/11" in bmo_list and "Rekha Verma" in bmo_list
    cancelled = chat.say(USHA, "छुट्टी रद्द सुनीता", at(23, 9))
    assert cancelled.startswith("✅ Sunita Devi की छुट्टी रद्द: 24/11")
    assert len(outbox(district, "leave_for_you", "Sunita Devi")) == 2
    assert "Sunita Devi" not in chat.say(USHA, "छुट्टी", at(23, 9, 1))
    scheduler.run_job(district, settings, "start_message", at(24, 9))
    assert outbox(district, "start_message", "Sunita Devi")


def with_holidays(settings: Settings, holidays: list[dict[str, object]]) -> Settings:
    data = settings.model_dump(exclude={"base_dir"})
    data["holidays"] = holidays
    data["targets"] = {
        **data["targets"],
        "sector": {"cards": {"daily": 100, "campaign_total": 6100}},
    }
    return Settings.model_validate({**data, "base_dir": ROOT})


def test_a_block_holiday_is_no_working_day_for_its_target_nor_its_workers(
    district: Engine, settings: Settings
) -> None:
    cfg = with_holidays(
        settings, [{"date": "2026-11-24", "name": "हाट", "district": "Hardoi", "block": "Sandila"}]
    )
    day = dt.date(2026, 11, 24)
    scheduler.run_job(district, cfg, "start_message", at(24, 9))
    assert outbox(district, "start_message", "Sunita Devi") == []
    assert outbox(district, "start_message", "Preeti Nishad")  # Bilgram works
    off = figures(district, cfg, "Hardoi/Sandila/Sandila-1", day)
    on = figures(district, cfg, "Hardoi/Bilgram/Bilgram-2", day)
    assert (off.target, off.workers, off.on_leave) == (None, 0, SANDILA_1)
    assert on.target == 100 and on.on_leave == 0
    # 25 Nov to 31 Dec is 37 days; without the holiday on the 24th, 38 from the 24th.
    before = figures(district, cfg, "Hardoi/Sandila/Sandila-1", dt.date(2026, 11, 23))
    assert before.days_left == 37 and before.required_daily == -(-6100 // 37)
    plain = figures(
        district, with_holidays(settings, []), "Hardoi/Sandila/Sandila-1", dt.date(2026, 11, 23)
    )
    assert plain.days_left == 38
    scheduler.run_job(district, cfg, "supervisor_digest", at(24, 18, 30))
    (digest,) = outbox(district, "supervisor_digest", "Usha Srivastava")
    assert "आज अवकाश: हाट" in digest and "सबकी रिपोर्ट आ गई" in digest


def fieldbot(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "FIELDBOT_"))
    }
    env["FIELDBOT_DATABASE_URL"] = child_url(engine)
    return subprocess.run(
        [str(FIELDBOT), "--config", str(ROOT / "config.yaml"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_holidays_import_checks_every_row_and_status_counts_who_is_off(
    chat: Chat, district: Engine, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "date,district,block,name\n"
        "2026-11-24,Hardoi,Sandila,हाट\n"
        "31/02/2026,,,Nothing\n"
        "2026-11-25,Nowhere,,Fair\n"
        "2026-11-26,,Sandila,Fair\n"
        "2026-11-27,,,\n",
        encoding="utf-8",
    )
    refused = fieldbot(district, "holidays", "import", str(bad))
    assert refused.returncode == 1
    for row in ("row 3: date", "row 4: no district 'Nowhere'", "row 5: a block's", "row 6: name"):
        assert row in refused.stderr, refused.stderr
    assert "nothing imported: 4 problem(s)" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(
        "date,district,block,name\n2026-11-23,Hardoi,Sandila,हाट\n15/11/2026,,,गुरु नानक जयंती\n",
        encoding="utf-8",
    )
    checked = fieldbot(district, "holidays", "import", str(good), "--dry-run")
    assert checked.returncode == 0 and "dry run" in checked.stdout, checked.stderr
    with Session(district) as session:
        assert session.exec(select(Holiday)).all() == []
    done = fieldbot(district, "holidays", "import", str(good))
    assert done.returncode == 0 and "imported 2 holidays: 2 new" in done.stdout, done.stderr
    chat.say(PREETI, "छुट्टी", at(23, 8))
    status = fieldbot(
        district, "status", "Hardoi", "--from", "2026-11-23", "--to", "2026-11-23", "--json"
    )
    assert status.returncode == 0, status.stderr
    found = json.loads(status.stdout)
    with Session(district) as session:
        sandila = len(
            session.exec(
                select(Person).where(
                    col(Person.active).is_(True),
                    col(Person.role).in_(("asha", "anm")),
                    Person.block_id == sector(district, "Hardoi/Sandila").block_id,
                )
            ).all()
        )
    assert found["on_leave"] == sandila + 1  # Sandila's holiday, and Preeti's leave


@pytest.mark.parametrize("text", ["छुट्टी", "छुट्टी कल", "छुट्टी 25/11 से 27/11", "छुट्टी रद्द"])
def test_leave_words_from_an_anm_are_hers(chat: Chat, text: str) -> None:
    reply = chat.say(NIRMALA, text, at(23, 8))
    assert reply.startswith(("🏖️ छुट्टी दर्ज", "आज या आगे"))


def test_a_whole_state_of_workers_is_read_without_listing_them(
    chat: Chat, district: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `MANY_IDS` people the leave of the range is read whole and sorted out in Python."""
    from bot import leave

    monkeypatch.setattr(leave, "MANY_IDS", 0)
    chat.say(SUNITA, "छुट्टी", at(23, 8))
    cfg = with_holidays(
        settings, [{"date": "2026-11-23", "name": "हाट", "district": "Hardoi", "block": "Bilgram"}]
    )
    chat.say(PREETI, "कार्ड 3", at(23, 9))  # on her block's holiday, and counted
    scheduler.run_job(district, cfg, "start_message", at(23, 9))
    assert outbox(district, "start_message", "Sunita Devi") == []
    assert outbox(district, "start_message", "Preeti Nishad") == []
    assert outbox(district, "start_message", "Rekha Verma")
    mine = figures(district, cfg, "Hardoi/Sandila/Sandila-1", dt.date(2026, 11, 23))
    assert (mine.workers, mine.on_leave) == (SANDILA_1 - 1, 1)
    bilgram = figures(district, cfg, "Hardoi/Bilgram/Bilgram-2", dt.date(2026, 11, 23))
    assert bilgram.reported == 1 and bilgram.workers == 1 and bilgram.target is None
