"""A sender killed in the middle of a fan-out, then restarted, sends each message exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.delivery import outbox
from bot.delivery.outbox import Message
from bot.store.db import session_scope
from models import Outbox, Person
from tests.conftest import ROOT, child_url
from tests.fakes.telegram_api import FakeTelegramAPI

PER_SECOND = 5  # slow enough that the kill lands between sends


def start_sender(config: Path, url: str, api: FakeTelegramAPI) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.sender_process", str(config), url, api.base_url, api.token],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def delivered(api: FakeTelegramAPI) -> list[int]:
    return [c.params["chat_id"] for c in api.calls_for("sendMessage") if c.ok]


def wait_until(check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_killed_sender_resumes_without_duplicates(district: Engine, tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["sending"]["telegram_per_second"] = PER_SECOND
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    url = child_url(district)

    with session_scope(district) as session:
        people = list(session.exec(select(Person)).all())
        for index, person in enumerate(people):
            person.telegram_chat_id = 9000 + index
            session.add(person)
        outbox.enqueue(
            session=session,
            job="reminder",
            day=dt.date(2026, 11, 23),
            messages=[Message(p, f"नमस्ते {p.name}") for p in people],
            now=dt.datetime.now(dt.UTC),
        )
    total = len(people)

    with FakeTelegramAPI(max_hold=0.2) as api:
        first = start_sender(config, url, api)
        try:
            wait_until(lambda: len(delivered(api)) >= 10, timeout=60)
            time.sleep(0.5 / PER_SECOND)  # between two sends: the rate limit holds the next one
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        killed_at = len(delivered(api))
        assert 10 <= killed_at < total

        second = start_sender(config, url, api)
        try:
            wait_until(lambda: len(delivered(api)) >= total, timeout=60)
            time.sleep(1.0)  # anything sent twice would arrive now
        finally:
            second.kill()
            second.wait(10)

        counts = Counter(delivered(api))
        assert len(counts) == total and set(counts.values()) == {1}
    with Session(district) as session:
        statuses = Counter(r.status for r in session.exec(select(Outbox)))
    assert statuses == Counter({"sent": total})
