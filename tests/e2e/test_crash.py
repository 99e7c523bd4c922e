"""`fieldbot run` SIGKILLed in the middle of a burst of reports: nothing answered is lost, and a
resend of every message (same `id`) counts each exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.phones import normalize_phone
from bot.roster.read import read_table
from models import DailyReport, InboundMessage, Person, ReportValue
from tests.conftest import ROOT, SAMPLE, child_url
from tests.fakes.live import free_port

FIELDBOT = Path(sys.executable).parent / "fieldbot"
MESSAGES = 80
# `fieldbot run` serves the simulator only when the config turns it on, and then behind its token.
TOKEN = "crash-test-simulator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def active_workers() -> list[str]:
    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    return [
        normalize_phone(r["phone"])
        for _, r in table
        if r["role"] in ("asha", "anm") and r["active"] == "true"
    ]


def start(url: str, folder: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "FIELDBOT_"))
    }
    env["FIELDBOT_DATABASE_URL"] = url
    env["FIELDBOT_SIMULATOR_TOKEN"] = TOKEN
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["simulator"] = {"enabled": True}
    (folder / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    process = subprocess.Popen(
        [
            str(FIELDBOT),
            "--config",
            str(folder / "config.yaml"),
            "run",
            "--port",
            str(port),
            "--no-scheduler",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / f"run-{port}.err").open("wb"),
    )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, (folder / f"run-{port}.err").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "`fieldbot run` never answered"
        time.sleep(0.1)


def send(port: int, phone: str, message_id: str) -> str | None:
    """The bot's answer, or None when the process died before answering."""
    body = {"phone": phone, "text": "कार्ड +1", "id": message_id}
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}/simulator/messages", json=body, headers=AUTH, timeout=20
        )
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return "\n".join(r["text"] for r in response.json()["replies"])


def test_killed_mid_burst_loses_no_answered_report_and_a_resend_counts_once(
    district: Engine, tmp_path: Path
) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    workers = active_workers()
    plan = [(workers[i % len(workers)], f"burst-{seed}-{i}") for i in range(MESSAGES)]
    url = child_url(district)

    port = free_port()
    first = start(url, tmp_path, port)
    answered: dict[str, str] = {}
    kill_after = rng.randint(10, MESSAGES // 2)
    killed = threading.Event()

    def fire(item: tuple[str, str]) -> None:
        reply = send(port, *item) if not killed.is_set() else None
        if reply is not None:
            answered[item[1]] = reply
            if len(answered) >= kill_after and not killed.is_set():
                killed.set()
                first.send_signal(signal.SIGKILL)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fire, plan))
    finally:
        first.kill()
        first.wait(10)
    assert killed.is_set(), f"seed {seed}: the burst ended before the kill"
    assert 0 < len(answered) < MESSAGES, f"seed {seed}"
    assert all("✅" in reply for reply in answered.values()), f"seed {seed}"

    # Every message that was answered was already stored when its answer left.
    with Session(district) as session:
        stored = set(session.exec(select(InboundMessage.dedup_key)).all())
    lost = [key for key in answered if f"sim:{key}" not in stored]
    assert not lost, f"seed {seed}: answered but not stored: {lost[:5]}"

    # Restarted, every message is sent again: the stored ones answer as before and count once.
    port = free_port()
    second = start(url, tmp_path, port)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            again = dict(
                zip([k for _, k in plan], pool.map(lambda item: send(port, *item), plan), strict=True)
            )
    finally:
        second.terminate()
        second.wait(10)
    assert all(again[key] == reply for key, reply in answered.items()), f"seed {seed}"
    assert all(reply is not None and "✅" in reply for reply in again.values()), f"seed {seed}"

    expected = Counter(phone for phone, _ in plan)
    with Session(district) as session:
        rows = session.exec(
            select(Person.phone, ReportValue.value)
            .join(DailyReport, col(DailyReport.person_id) == col(Person.id))
            .join(ReportValue, col(ReportValue.report_id) == col(DailyReport.id))
            .where(ReportValue.metric == "cards")
        ).all()
        messages = session.exec(select(InboundMessage.dedup_key)).all()
    cards = Counter()
    for phone, value in rows:
        cards[phone] += value
    assert cards == expected, f"seed {seed}: lost or doubled reports"
    assert len(messages) == len(set(messages)) == MESSAGES
