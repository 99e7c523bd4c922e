"""PostgreSQL stopped and started again under load, on a private server of the test's own.

`fieldbot run` keeps serving, retries what it can, and tells a sender to resend exactly the
messages it could not store; after the restart reports flow again.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.i18n import t
from bot.phones import normalize_phone
from bot.roster.apply import import_roster
from bot.roster.read import read_table
from bot.store.db import make_engine, session_scope, upgrade
from models import InboundMessage
from tests.conftest import SAMPLE, greet_everyone
from tests.e2e.test_crash import AUTH, start
from tests.fakes.live import free_port

DOWN_SECONDS = 4.5  # longer than the bot's retries (3.75 s in all): some messages must be refused
POOJA = normalize_phone("+91 97697 57560")  # reads English


class PrivatePostgres:
    """initdb + pg_ctl in a temp folder, run as the `postgres` user when the test runs as root."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="fieldbot-pg-"))
        self.data = self.folder / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
            self.prefix = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture()
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl") or ""]
    if not found[-1]:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    server = PrivatePostgres(Path(found[-1]).parent)
    try:
        server.init()
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(server.folder, ignore_errors=True)
        pytest.skip(f"cannot run a private PostgreSQL here: {exc}")
    try:
        yield server
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def workers() -> list[str]:
    table = read_table(SAMPLE)
    assert not isinstance(table, list)
    return [
        normalize_phone(r["phone"])
        for _, r in table
        if r["role"] in ("asha", "anm") and r["active"] == "true"
    ]


def test_database_restart_under_load(private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    engine = make_engine(private_postgres.url)
    upgrade(engine)
    with session_scope(engine) as session:
        import_roster(session, SAMPLE, progress=False)
    greet_everyone(engine)  # everyone has had the privacy notice: answers are just the answers

    port = free_port()
    bot = start(private_postgres.url, tmp_path, port)
    phones = workers()
    answers: dict[str, tuple[str, str]] = {}  # id -> (phone, answer)
    stop = threading.Event()

    def load(lane: int) -> None:
        count = 0
        while not stop.is_set():
            send(phones[(lane * 7 + count) % len(phones)], f"load-{lane}-{count}")
            count += 1
            time.sleep(0.05)

    def send(phone: str, key: str) -> None:
        body = {"phone": phone, "text": "cards +1" if phone == POOJA else "कार्ड +1", "id": key}
        response = httpx.post(
            f"http://127.0.0.1:{port}/simulator/messages", json=body, headers=AUTH, timeout=30
        )
        assert response.status_code == 200
        answers[key] = (phone, "\n".join(r["text"] for r in response.json()["replies"]))

    def send_soon(phone: str, key: str) -> threading.Thread:
        thread = threading.Thread(target=send, args=(phone, key), daemon=True)
        thread.start()
        return thread

    lanes = [threading.Thread(target=load, args=(lane,), daemon=True) for lane in range(4)]
    try:
        for lane in lanes:
            lane.start()
        send(POOJA, "before")  # the bot has seen her: it knows her language
        time.sleep(0.5)
        private_postgres.stop()
        # Sent as the database goes: its retries run out before the server is back.
        early = send_soon(POOJA, "early-in-outage")
        time.sleep(DOWN_SECONDS - 2.0)
        # Sent late in the outage: a retry lands after the restart and stores it.
        late = send_soon(phones[0], "late-in-outage")
        time.sleep(2.0)
        assert bot.poll() is None, "the bot died with its database"
        private_postgres.start()
        early.join(30)
        late.join(30)
        stop.set()
        for lane in lanes:
            lane.join(40)
        after = httpx.post(
            f"http://127.0.0.1:{port}/simulator/messages",
            json={"phone": phones[1], "text": "कार्ड +1", "id": "after-restart"},
            headers=AUTH,
            timeout=30,
        )
        assert bot.poll() is None
    finally:
        stop.set()
        bot.terminate()
        bot.wait(10)
    assert "✅" in after.json()["replies"][0]["text"]

    resend = {"hi": t("hi", "internal_error"), "en": t("en", "internal_error")}
    saved = {k for k, (_, text) in answers.items() if "✅" in text or "Report saved" in text}
    refused = {k for k, (_, text) in answers.items() if text in resend.values()}
    assert saved | refused == set(answers), [a for k, a in answers.items() if k not in saved | refused][
        :3
    ]
    # In her language, even though the database that knows it was what failed.
    assert answers["early-in-outage"][1] == resend["en"]
    assert "late-in-outage" in saved, answers["late-in-outage"]
    for key in refused:
        phone, text = answers[key]
        assert text == resend["en" if phone == POOJA else "hi"]

    with session_scope(engine) as session:
        stored = {k.removeprefix("sim:") for k in session.exec(select(InboundMessage.dedup_key)).all()}
    engine.dispose()
    assert saved <= stored, "a message answered as saved is missing"
    assert not refused & stored, "a message she was told to resend was stored"
