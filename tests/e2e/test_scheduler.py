"""The day's rhythm: who gets what, when, exactly once, and how the outbox goes out."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

import scheduler
from bot.channels.simulator.channel import SimulatorChannel
from bot.channels.telegram.sending import TelegramChannel
from bot.config import Settings
from bot.delivery import leases
from bot.delivery.sender import Limits, OutboxSender
from bot.store.db import session_scope
from models import JobRun, Lease, Outbox, Person
from tests.conftest import SUNITA, Chat, at
from tests.fakes.telegram_api import FakeTelegramAPI

NOV23 = dt.date(2026, 11, 23)
FIELD_WORKERS_ACTIVE = 39  # 40 in the sample, one inactive


def outbox_rows(engine: Engine) -> list[Outbox]:
    with Session(engine) as session:
        return list(session.exec(select(Outbox).order_by(col(Outbox.id))).all())


def roles_by_job(engine: Engine) -> dict[str, Counter[str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(Outbox.job, Person.role).join(Person, col(Person.id) == col(Outbox.person_id))
        ).all()
    out: dict[str, Counter[str]] = {}
    for job, role in rows:
        out.setdefault(job, Counter())[role] += 1
    return out


def live_day(
    engine: Engine,
    settings: Settings,
    start: dt.datetime,
    end: dt.datetime,
    during: dict[dt.datetime, object] | None = None,
) -> list[tuple[dt.datetime, str]]:
    """Step the clock a minute at a time and run whatever is due, as the scheduler would."""
    fired = []
    now = start
    while now <= end:
        action = (during or {}).get(now)
        if callable(action):
            action()
        for job in scheduler.run_due(engine, settings, now):
            fired.append((now, job))
        now += dt.timedelta(minutes=1)
    return fired


def test_a_day_of_the_sample_district(chat: Chat, district: Engine, settings: Settings) -> None:
    reporters = [SUNITA, "7339325088", "+91 97697 57560"]

    def reports() -> None:
        for phone in reporters:
            chat.say(phone, "आवेदन 10 कार्ड 8", at(23, 12))

    fired = live_day(district, settings, at(23, 8), at(23, 21), {at(23, 12): reports})
    assert fired == [
        (at(23, 9), "start_message"),
        (at(23, 17), "reminder"),
        (at(23, 17, 30), "problem_notice"),  # runs, with no problems to tell of
        (at(23, 18, 30), "supervisor_digest"),
        (at(23, 19), "bmo_digest"),
        (at(23, 20), "district_digest"),
    ]
    by_job = roles_by_job(district)
    assert by_job["start_message"] == Counter({"asha": 33, "anm": 6})
    assert sum(by_job["start_message"].values()) == FIELD_WORKERS_ACTIVE
    assert sum(by_job["reminder"].values()) == FIELD_WORKERS_ACTIVE - len(reporters)
    assert by_job["supervisor_digest"] == Counter({"supervisor": 3})
    assert by_job["bmo_digest"] == Counter({"bmo": 2})
    assert by_job["district_digest"] == Counter({"district_officer": 1})

    rows = outbox_rows(district)
    with Session(district) as session:
        names = {p.id: p for p in session.exec(select(Person))}
    sunita = [r for r in rows if names[r.person_id or 0].name == "Sunita Devi"]
    assert [r.job for r in sunita] == ["start_message"]  # she reported: no reminder
    assert "सुप्रभात Sunita Devi जी" in sunita[0].text and "कार्ड 10" in sunita[0].text
    pooja = next(r for r in rows if names[r.person_id or 0].name == "Pooja Shukla")
    assert "Good morning Pooja Shukla" in pooja.text  # in her language
    usha = next(
        r
        for r in rows
        if r.job == "supervisor_digest" and names[r.person_id or 0].name == "Usha Srivastava"
    )
    assert "Hardoi/Sandila/Sandila-1" in usha.text and "Hardoi/Sandila/Sandila-2" in usha.text
    assert "रिपोर्ट भेजी: 2/9" in usha.text and "73393 25088" not in usha.text  # Rekha reported
    assert "Kiran Pal (Malhaura) — 61846 53067" in usha.text  # missing, with a phone to call
    bmo = next(
        r
        for r in rows
        if r.job == "bmo_digest" and names[r.person_id or 0].name == "Dr. Rajesh Kumar Singh"
    )
    assert "1. Sandila-1 — 16 (2/9)" in bmo.text and "2. Sandila-2 — 8 (1/10)" in bmo.text
    district_row = next(r for r in rows if r.job == "district_digest")
    assert district_row.attachment is not None and district_row.attachment[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1. Sandila — 24 (3/19)" in district_row.text
    # digests are reviews: none goes to a field worker, and none inside field hours
    assert all(
        names[r.person_id or 0].role in ("supervisor", "bmo", "district_officer")
        for r in rows
        if r.job.endswith("digest")
    )

    # the same day run again (a second scheduler, a restart) queues nothing more
    assert live_day(district, settings, at(23, 8), at(23, 21)) == []
    assert len(outbox_rows(district)) == len(rows)


def test_restart_within_grace_sends_once_and_late_restart_does_not(
    district: Engine, settings: Settings
) -> None:
    assert scheduler.run_due(district, settings, at(23, 14)) == {}  # 09:00 is long past
    assert scheduler.run_due(district, settings, at(24, 9, 5)) == {"start_message": 39}
    assert scheduler.run_due(district, settings, at(24, 9, 6)) == {}
    assert Counter(r.day for r in outbox_rows(district)) == Counter({dt.date(2026, 11, 24): 39})


def test_nothing_outside_the_campaign(district: Engine, settings: Settings) -> None:
    assert scheduler.run_job(district, settings, "start_message", at(31, 9, month=10)) is None
    assert (
        scheduler.run_job(
            district, settings, "reminder", dt.datetime(2027, 1, 2, 17, tzinfo=at(1).tzinfo)
        )
        is None
    )
    assert outbox_rows(district) == []


def test_two_schedulers_at_once_fire_each_job_once(district: Engine, settings: Settings) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda _: scheduler.run_job(district, settings, "start_message", at(23, 9)), range(4)
            )
        )
    assert sorted(results, key=lambda r: r or 0) == [None, None, None, 39]
    with Session(district) as session:
        assert len(session.exec(select(JobRun)).all()) == 1
    assert len(outbox_rows(district)) == 39


def test_only_one_process_holds_the_scheduler_lease(district: Engine, settings: Settings) -> None:
    ttl = dt.timedelta(seconds=0.5)
    first = scheduler.Scheduler(district, settings, None, holder="a", lease_ttl=ttl)
    second = scheduler.Scheduler(district, settings, None, holder="b", lease_ttl=ttl)

    async def both() -> None:
        await first.keep_lease()
        await second.keep_lease()

    asyncio.run(both())
    assert first.leader and not second.leader
    asyncio.run(both())
    assert first.leader and not second.leader  # renewed in time: kept
    time.sleep(0.6)  # the first process died: its lease expires
    asyncio.run(second.keep_lease())
    assert second.leader
    asyncio.run(first.keep_lease())
    assert not first.leader  # it came back: it stands by


def test_a_skewed_process_clock_neither_steals_nor_loses_the_lease(
    district: Engine, settings: Settings
) -> None:
    """The lease is judged by the database's clock, whatever each process believes the time is."""
    minutes = dt.timedelta(minutes=10)
    slow = scheduler.Scheduler(
        district, settings, None, clock=lambda: dt.datetime.now(dt.UTC) - minutes, holder="slow"
    )
    fast = scheduler.Scheduler(
        district, settings, None, clock=lambda: dt.datetime.now(dt.UTC) + minutes, holder="fast"
    )
    right = scheduler.Scheduler(district, settings, None, holder="right")

    async def rounds() -> None:
        for _ in range(3):
            await slow.keep_lease()  # ten minutes behind: its renewal must not look long lapsed
            await fast.keep_lease()  # ten minutes ahead: the lease must not look expired to it
            await right.keep_lease()

    asyncio.run(rounds())
    assert slow.leader and not fast.leader and not right.leader
    with Session(district) as session:
        lease = session.get_one(Lease, leases.SCHEDULER)
        assert lease.holder == "slow"
        left = lease.expires_at - leases.database_now(session)
    assert dt.timedelta(seconds=10) < left <= scheduler.LEASE_TTL


def test_digest_inside_field_hours_is_a_config_error(base_settings: Settings) -> None:
    from bot.config import ConfigError, parse_settings

    data = base_settings.model_dump(exclude={"base_dir"})
    data["schedule"]["bmo_digest"] = "12:00"
    with pytest.raises(ConfigError, match=r"schedule\.bmo_digest.*inside field hours"):
        parse_settings(data, base_settings.base_dir)


# ---------------------------------------------------------------- sending


@pytest.fixture()
def api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI(max_hold=0.2) as fake:
        yield fake


def link_everyone(engine: Engine) -> None:
    """Give every person a Telegram chat, as if all had shared their number."""
    with session_scope(engine) as session:
        for person in session.exec(select(Person)):
            person.telegram_chat_id = person.telegram_user_id = 7000 + (person.id or 0)
            session.add(person)


def later_clock() -> Callable[[], dt.datetime]:
    """Real time, moved past the test day: jobs run at 19:00 on 23 Nov are due whenever tests run."""
    offset = max(at(24, 0) - dt.datetime.now(dt.UTC), dt.timedelta(0))
    return lambda: dt.datetime.now(dt.UTC) + offset


def drain(engine: Engine, settings: Settings, api: FakeTelegramAPI) -> int:
    """Run the sender until nothing is pending, waiting out retries as the real one does."""
    clock = later_clock()

    async def go() -> int:
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        async with bot:
            sender = OutboxSender(
                engine,
                settings,
                {"telegram": TelegramChannel(bot), "simulator": SimulatorChannel()},
                clock=clock,
            )
            total = 0
            for _ in range(20):
                total += await sender.drain_once()
                with Session(engine) as session:
                    waiting = session.exec(select(Outbox).where(Outbox.status == "pending")).all()
                if not waiting:
                    return total
                soonest = min(w.next_attempt_at for w in waiting)
                await asyncio.sleep(min(30.0, max(0.0, (soonest - clock()).total_seconds())))
            return total

    return asyncio.run(go())


def test_outbox_goes_out_once_per_person(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "start_message", at(23, 9))
    assert drain(district, settings, api) == 39
    chats = Counter(c.params["chat_id"] for c in api.calls_for("sendMessage"))
    assert len(chats) == 39 and set(chats.values()) == {1}
    assert all(r.status == "sent" for r in outbox_rows(district))
    assert drain(district, settings, api) == 0  # nothing twice


def test_flood_control_is_honoured(district: Engine, settings: Settings, api: FakeTelegramAPI) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "bmo_digest", at(23, 19))
    api.fail_next("sendMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert drain(district, settings, api) == 2
    assert time.monotonic() - started >= 1.0  # waited as Telegram asked
    delivered = [c for c in api.calls_for("sendMessage") if c.ok]
    assert len(delivered) == 2 and len({c.params["chat_id"] for c in delivered}) == 2


def test_server_errors_back_off_and_retry(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "bmo_digest", at(23, 19))
    api.fail_next("sendMessage", status=502, times=2)
    assert drain(district, settings, api) == 2
    rows = outbox_rows(district)
    assert all(r.status == "sent" for r in rows)
    assert max(r.attempts for r in rows) >= 2


def test_blocked_bot_is_recorded_and_named_in_the_digest(
    chat: Chat, district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "reminder", at(23, 17))
    api.fail_next("sendMessage", status=403, times=1)
    drain(district, settings, api)
    failed = [r for r in outbox_rows(district) if r.status == "failed"]
    assert len(failed) == 1 and "blocked" in (failed[0].last_error or "")
    scheduler.run_job(district, settings, "supervisor_digest", at(23, 18, 30))
    with Session(district) as session:
        who = session.get_one(Person, failed[0].person_id).name
    digests = [r.text for r in outbox_rows(district) if r.job == "supervisor_digest"]
    assert any("संदेश नहीं पहुँचा (1): " + who in text for text in digests)


def test_people_without_a_chat_are_unreachable_not_lost(
    district: Engine, settings: Settings, base_settings: Settings
) -> None:
    from bot.channels.base import UnreachableChannel

    scheduler.run_job(district, settings, "reminder", at(23, 17))

    async def go() -> int:
        sender = OutboxSender(
            district,
            settings,
            {"simulator": UnreachableChannel("no Telegram chat linked")},
            clock=later_clock(),
        )
        return await sender.drain_once()

    assert asyncio.run(go()) == 0
    rows = outbox_rows(district)
    assert rows and all(r.status == "undeliverable" for r in rows)
    assert all(r.last_error == "no Telegram chat linked" for r in rows)


def test_stale_claims_of_a_dead_sender_are_sent_again(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "bmo_digest", at(23, 19))
    with session_scope(district) as session:  # a sender claimed them, then died
        session.execute(update(Outbox).values(status="sending", claimed_at=at(23, 19)))
    bot_sender = OutboxSender(district, settings, {}, clock=later_clock())
    assert bot_sender.recover() == 2
    assert drain(district, settings, api) == 2


def test_claims_of_a_live_lease_holder_stay_and_a_lapsed_ones_go_back(
    district: Engine, settings: Settings
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "bmo_digest", at(23, 19))
    with session_scope(district) as session:  # "b" holds the lease and is sending them
        assert leases.try_acquire(
            session=session, name=leases.SCHEDULER, holder="b", ttl=dt.timedelta(seconds=0.5)
        )
        session.execute(update(Outbox).values(status="sending", claimed_at=at(23, 19), claimed_by="b"))
    newcomer = OutboxSender(district, settings, {}, clock=later_clock(), holder="a")
    assert newcomer.recover() == 0
    assert {r.status for r in outbox_rows(district)} == {"sending"}
    time.sleep(0.6)  # "b" stopped renewing: its lease lapsed, its claims are a dead sender's
    assert newcomer.recover() == 2
    assert {(r.status, r.claimed_by) for r in outbox_rows(district)} == {("pending", None)}


def test_a_stopped_drain_ends_between_messages_and_leaves_the_rest_queued(
    district: Engine, settings: Settings, api: FakeTelegramAPI
) -> None:
    link_everyone(district)
    scheduler.run_job(district, settings, "bmo_digest", at(23, 19))
    stop = asyncio.Event()

    class StopAfterOne(SimulatorChannel):
        async def send(self, row: Outbox) -> None:
            stop.set()  # the lease is lost while this one goes out

    async def go() -> int:
        sender = OutboxSender(district, settings, {"telegram": StopAfterOne()}, clock=later_clock())
        return await sender.drain_once(stop)

    assert asyncio.run(go()) == 1
    rows = outbox_rows(district)
    assert sorted(r.status for r in rows) == ["pending", "sent"]
    waiting = next(r for r in rows if r.status == "pending")
    assert waiting.attempts == 0 and waiting.claimed_by is None


def test_rate_limits() -> None:
    now = [0.0]
    limits = Limits(per_second=30, chat_interval=1, group_per_minute=20, clock=lambda: now[0])
    for i in range(30):
        assert limits.wait_for(str(i), False) == 0
        limits.record(str(i), False)
    assert limits.wait_for("new", False) == pytest.approx(1.0)  # 30 in this second already
    now[0] = 1.0
    assert limits.wait_for("new", False) == 0
    limits.record("5", False)
    assert limits.wait_for("5", False) == pytest.approx(1.0)  # one a second per chat
    for _ in range(20):
        now[0] += 1.0
        limits.record("-100", True)
    assert limits.wait_for("-100", True) == pytest.approx(41.0)  # 20 a minute per group


def test_cron_jobs_have_stable_ids_times_and_misfire_rules(district: Engine, settings: Settings) -> None:
    runtime = scheduler.Scheduler(district, settings, None, holder="t")
    jobs = {job.id: job for job in runtime.aps.get_jobs()}
    assert set(jobs) == {
        "start_message",
        "reminder",
        "supervisor_digest",
        "bmo_digest",
        "district_digest",
        "problem_notice",
        "lease",
        "presence_expiry",
        "retention",
    }
    for job_id, hour, minute in [
        ("start_message", 9, 0),
        ("reminder", 17, 0),
        ("supervisor_digest", 18, 30),
        ("bmo_digest", 19, 0),
        ("district_digest", 20, 0),
        ("problem_notice", 17, 30),
    ]:
        job = jobs[job_id]
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["hour"], fields["minute"]) == (str(hour), str(minute))
        assert str(job.trigger.timezone) == "Asia/Kolkata"
        assert job.misfire_grace_time == 30 * 60 and job.coalesce is True


def test_a_job_turned_off_in_config_never_runs(district: Engine, base_settings: Settings) -> None:
    data = base_settings.model_dump(exclude={"base_dir"})
    data["schedule"]["reminder"] = None
    data["campaign"] = {"name": "t", "start": dt.date(2026, 11, 1), "end": dt.date(2026, 12, 31)}
    settings = Settings.model_validate({**data, "base_dir": base_settings.base_dir})
    assert "reminder" not in scheduler.job_times(settings)
    assert scheduler.run_due(district, settings, at(23, 17)) == {}


def test_digest_command_prints_and_sends(
    district: Engine, settings: Settings, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from bot.cli import main
    from tests.conftest import ROOT, child_url

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["campaign"] = {"name": "t", "start": "2026-11-01", "end": "2026-12-31"}
    config = Path(str(tmp_path)) / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = {"FIELDBOT_DATABASE_URL": child_url(district)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
        assert main(["--config", str(config), "digest", "--date", "2026-11-23", "--role", "bmo"]) == 0
        printed = capsys.readouterr().out
        assert "Dr. Rajesh Kumar Singh" in printed and "Dr. Nasreen Fatima" in printed
        assert "2 digest(s) for 2026-11-23" in printed
        assert outbox_rows(district) == []  # printing sends nothing
        assert (
            main(["--config", str(config), "digest", "--date", "2026-11-23", "--role", "bmo", "--send"])
            == 0
        )
        assert "2 queued" in capsys.readouterr().out
        # the 19:00 job later that day finds them already queued: nothing twice
        assert (
            main(["--config", str(config), "digest", "--date", "2026-11-23", "--role", "bmo", "--send"])
            == 0
        )
        assert "0 queued" in capsys.readouterr().out
    assert len(outbox_rows(district)) == 2
