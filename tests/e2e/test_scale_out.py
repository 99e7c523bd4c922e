"""Scaled out on PostgreSQL: three `run` processes behind one URL list, two schedulers, one database.

Webhook requests are spread over the processes, one worker reports to two processes at the same
moment, and the scheduler holding the lease is SIGKILLed in the middle of a fan-out; afterwards every
count and every message is checked.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.delivery import leases
from bot.store import reports
from bot.store.db import session_scope
from models import Lease, Outbox, Person, ReportChange
from tests.conftest import ROOT, child_url
from tests.fakes.telegram_api import FakeTelegramAPI, text_update

SECRET = "scale-out-secret"
WORKERS = 9
FANOUT = 120
LEASE_SECONDS = 6  # the schedulers' lease here (15 s in production): renewed every 2 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["schedule"] = {job: None for job in data["schedule"] if job != "misfire_grace_minutes"}
    data["presence"]["photo_dir"] = str(tmp_path / "photos")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture()
def cluster(
    district: Engine, config: Path, api: FakeTelegramAPI
) -> Iterator[tuple[list[int], dict[int, subprocess.Popen[bytes]]]]:
    """Three web processes and two schedulers on the test database, talking to the fake Bot API."""
    if district.dialect.name != "postgresql":
        pytest.skip(
            "scaling out needs PostgreSQL; SQLite refuses a second process (test_cli checks that)"
        )
    env = {
        **os.environ,
        "FIELDBOT_CONFIG": str(config),
        "FIELDBOT_DATABASE_URL": child_url(district),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_BASE_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://fieldbot.example.org/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    cli = [sys.executable, "-m", "bot.cli"]
    ports = [free_port() for _ in range(3)]
    processes: dict[int, subprocess.Popen[bytes]] = {}
    for port in ports:
        cmd = [*cli, "run", "--port", str(port), "--no-scheduler"]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        processes[proc.pid] = proc
    for _ in range(2):
        cmd = [sys.executable, "-m", "tests.fakes.short_lease", str(LEASE_SECONDS), "scheduler"]
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        processes[proc.pid] = proc
    try:
        try:
            wait_until(lambda: all(healthy(p) for p in ports), 90, "three healthy web processes")
        except AssertionError:
            dead = [p for p in processes.values() if p.poll() is not None]
            raise AssertionError(
                "; ".join((p.stderr.read() if p.stderr else b"").decode()[-500:] for p in dead)
            ) from None
        yield ports, processes
    finally:
        for proc in processes.values():
            proc.kill()
            proc.wait(10)


def link_workers(engine: Engine) -> list[Person]:
    with session_scope(engine) as session:
        workers = list(
            session.exec(
                select(Person)
                .where(Person.role == "asha", col(Person.active).is_(True))
                .order_by(Person.id)
            ).all()
        )[:WORKERS]
        for index, person in enumerate(workers):
            person.telegram_user_id = person.telegram_chat_id = 70_000 + index
            session.add(person)
    return workers


def post(port: int, update: dict[str, object]) -> int:
    response = httpx.post(
        f"http://127.0.0.1:{port}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=10,
    )
    return response.status_code


def test_reports_spread_over_processes_and_a_killed_scheduler_hands_over(
    district: Engine, api: FakeTelegramAPI, cluster: tuple[list[int], dict[int, subprocess.Popen[bytes]]]
) -> None:
    ports, processes = cluster
    workers = link_workers(district)
    now = int(time.time())
    update_id = iter(range(1, 10_000))

    def report(index: int, text: str) -> dict[str, object]:
        user = 70_000 + index
        return {"update_id": next(update_id), **text_update(text, user_id=user, date=now)}

    # Each worker's first report goes to one of the three processes.
    firsts = [report(i, f"आवेदन {i + 10} कार्ड {i + 1}") for i in range(WORKERS)]
    assert [post(ports[i % 3], u) for i, u in enumerate(firsts)] == [200] * WORKERS
    # Then two additions from each worker reach two processes at the same moment.
    pairs = [(i, report(i, "कार्ड +1"), report(i, "कार्ड +1")) for i in range(WORKERS)]
    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(post, ports[i % 3], a) for i, a, _ in pairs]
        jobs += [pool.submit(post, ports[(i + 1) % 3], b) for i, _, b in pairs]
        assert [job.result() for job in jobs] == [200] * (2 * WORKERS)
    # A redelivery of a first report to another process changes nothing.
    assert post(ports[2], firsts[0]) == 200

    today = (
        dt.datetime.fromtimestamp(now, dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=5.5))).date()
    )
    wait_until(lambda: len(api.calls_for("sendMessage")) >= 3 * WORKERS + 1, 20, "every reply")
    with Session(district) as session:
        for index, worker in enumerate(workers):
            assert worker.id is not None
            values = reports.report_values(session=session, person_id=worker.id, day=today)
            assert values == {"applications": index + 10, "cards": index + 3}, worker.name
            changes = session.exec(
                select(ReportChange).where(
                    ReportChange.person_id == worker.id, ReportChange.metric == "cards"
                )
            ).all()
            steps = sorted((c.new_value or 0, c.old_value) for c in changes)
            assert [(old, new) for new, old in steps] == [
                (None, index + 1),
                (index + 1, index + 2),
                (index + 2, index + 3),
            ]

    # Fan-out: messages decided by a job go out through whichever scheduler holds the lease.
    with session_scope(district) as session:
        for k in range(FANOUT):
            session.add(
                Outbox(
                    idempotency_key=f"fanout:{k}",
                    job="reminder",
                    day=today,
                    channel="telegram",
                    address=str(80_000 + k),
                    text=f"fanout {k}",
                )
            )

    def fanned() -> list[str]:
        return [
            str(c.params["text"])
            for c in api.calls_for("sendMessage")
            if c.ok and "fanout" in str(c.params["text"])
        ]

    wait_until(lambda: len(fanned()) >= 25, 30, "the fan-out to start")
    with Session(district) as session:
        lease = session.get(Lease, leases.SCHEDULER)
        assert lease is not None
    holder_pid = int(lease.holder.split(":")[1])
    processes[holder_pid].send_signal(signal.SIGKILL)
    processes[holder_pid].wait(10)
    killed_at = len(fanned())
    assert killed_at < FANOUT

    # The other scheduler takes over once the lease lapses and finishes the fan-out.
    wait_until(lambda: len(set(fanned())) >= FANOUT, 60, "the other scheduler to finish the fan-out")
    time.sleep(1.0)
    counts = Counter(fanned())
    assert set(counts) == {f"fanout {k}" for k in range(FANOUT)}
    # Only a message in flight at the moment of the kill can have gone twice.
    assert sum(n - 1 for n in counts.values()) <= 1
    with Session(district) as session:
        statuses = Counter(
            r.status for r in session.exec(select(Outbox).where(col(Outbox.text).startswith("fanout")))
        )
        new_holder = session.get(Lease, leases.SCHEDULER)
    assert statuses == Counter({"sent": FANOUT})
    assert new_holder is not None and new_holder.holder != lease.holder
    health = httpx.get(f"http://127.0.0.1:{ports[0]}/healthz", timeout=5).json()
    assert health["locks"][leases.SCHEDULER] == new_holder.holder
    assert health["outbox_backlog"] == 0
