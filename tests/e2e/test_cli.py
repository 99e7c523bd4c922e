"""The `fieldbot` command line as an operator uses it: the real console script, in a subprocess,
with its own config file and database (SQLite, and PostgreSQL where FIELDBOT_TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, func, select

from bot.app import build_core
from bot.config import load_settings
from bot.core.messages import Inbound
from bot.phones import normalize_phone
from bot.roster.apply import import_roster
from bot.store import people, reports
from bot.store.db import current_revision, head_revision, make_engine, session_scope, upgrade
from models import DailyReport, District, Person
from tests.conftest import ROOT, SAMPLE, at

FIELDBOT = Path(sys.executable).parent / "fieldbot"
POSTGRES_URL = os.environ.get("FIELDBOT_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="FIELDBOT_TEST_POSTGRES_URL is not set: PostgreSQL CLI tests skipped",
        ),
    ),
]
METRICS = ["applications", "cards", "households", "elderly_cards", "rejected"]
HEADER = [
    "date",
    "district",
    "block",
    "sector",
    "worker",
    "phone",
    "workers",
    "reported",
    *METRICS,
    "target",
    "achievement_pct",
]
NUMERIC = {"workers", "reported", *METRICS, "target", "achievement_pct"}
STATUS_KEYS = {
    "unit",
    "level",
    "from",
    "to",
    "primary_metric",
    "workers",
    "reported",
    "totals",
    "target",
    "achievement_pct",
    "coverage_pct",
    "required_daily",
    "projected_finish",
    "rank",
    "of",
    "official",
    "official_gap",
    "official_gap_pct",
    "problems_open",
    "on_leave",
}
TIMEOUT = 60  # seconds any one command may take before the test fails
PARALLEL = 4  # commands run side by side where a test has several


# ---------------------------------------------------------------- running the console script


def _env(url: str) -> dict[str, str]:
    """The caller's environment without channel credentials or Fieldbot settings, plus the DB."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "FIELDBOT_"))
    }
    env["FIELDBOT_DATABASE_URL"] = url
    return env


@dataclass
class Site:
    """One deployment as an operator sets it up: a folder, a config file and a database."""

    folder: Path
    config: Path
    url: str
    engines: list[Engine] = field(default_factory=list)

    def command(self, *args: str) -> list[str]:
        return [str(FIELDBOT), "--config", str(self.config), *args]

    def run(self, *args: str, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
        return _run(self.command(*args), self.folder, self.url, timeout)

    def run_all(self, *commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
        """Several commands side by side, to keep the file fast; answers in the same order."""
        return _run_all([self.command(*args) for args in commands], self.folder, self.url)

    def engine(self) -> Engine:
        engine = make_engine(self.url)
        self.engines.append(engine)
        return engine

    def count(self, table: type) -> int:
        with Session(self.engine()) as session:
            return int(session.exec(select(func.count()).select_from(table)).one())

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


def _run(
    command: list[str], cwd: Path, url: str, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """One command, bounded: a command that hangs is killed and fails the test."""
    return subprocess.run(
        command, cwd=cwd, env=_env(url), capture_output=True, text=True, timeout=timeout, check=False
    )


def _run_all(commands: list[list[str]], cwd: Path, url: str) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        return list(pool.map(lambda command: _run(command, cwd, url), commands))


def _lines(stream: str) -> list[str]:
    return [line for line in stream.splitlines() if line.strip()]


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = _lines(result.stderr)
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    return lines[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(site: Site, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, Path]]:
    """`fieldbot ARGS --port P`, serving until the block ends: the port and its stdout file."""
    port = _free_port()
    out_path, err_path = site.folder / f"serve-{port}.out", site.folder / f"serve-{port}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            site.command(*args, "--port", str(port)),
            cwd=site.folder,
            env={**_env(site.url), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, (
                    f"`fieldbot {' '.join(args)}` exited with {process.returncode}:\n"
                    + err_path.read_text()
                )
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, f"`fieldbot {' '.join(args)}` never answered"
                    time.sleep(0.2)
            yield port, out_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    """An empty database of the kind: an SQLite file, or a private PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'fieldbot.db'}"
        return
    assert POSTGRES_URL
    schema = f"fieldbot_cli_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)  # ...?options=-csearch_path%3D<schema>
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _write_config(folder: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """The sample config.yaml, copied (and, if asked, changed) into the folder."""
    target = folder / "config.yaml"
    source = (ROOT / "config.yaml").read_text(encoding="utf-8")
    if edit is None:
        target.write_text(source, encoding="utf-8")
    else:
        data = yaml.safe_load(source)
        edit(data)
        target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


@contextmanager
def _site(
    kind: str, folder: Path, edit: Callable[[dict[str, Any]], None] | None = None
) -> Iterator[Site]:
    with _database(kind, folder) as url:
        site = Site(folder, _write_config(folder, edit), url)
        try:
            yield site
        finally:
            site.close()


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    """A fresh, un-migrated database and the sample config."""
    with _site(request.param, tmp_path) as s:
        yield s


@pytest.fixture()
def migrated(site: Site) -> Site:
    upgrade(site.engine())
    return site


# ---------------------------------------------------------------- what the reports should add up to

# People added to the sample district: a second district with a block and a sector of the same
# names as Hardoi's, so that a bare `Sandila` (or `Sandila-1`) is ambiguous.
EXTRA_ROSTER = [
    "Kavita Gautam,9415000001,asha,Unnao,Sandila,Sandila-1,Rasoolpur,26.55,80.49,hi,UNO-SDL-0001,,true",
    "Lalita Rawat,9415000002,asha,Unnao,Sandila,Sandila-1,Rasoolpur,26.55,80.49,hi,UNO-SDL-0002,,true",
]

SUNITA, REKHA = "07973321377", "7339325088"  # Hardoi/Sandila/Sandila-1
RANI, POOJA = "6582022368", "+91 97697 57560"  # Hardoi/Sandila/Sandila-2
ASHA_K, KAMLA = "06774096392", "7150720958"  # Hardoi/Bilgram/Bilgram-1
KAVITA = "9415000001"  # Unnao/Sandila/Sandila-1

# (phone, when, message, the day's values after it)
REPORTS: list[tuple[str, dt.datetime, str, dict[str, int]]] = [
    (SUNITA, at(21), "कार्ड 9", {"cards": 9}),  # before the exported range
    (SUNITA, at(22), "आवेदन 25 कार्ड 20", {"applications": 25, "cards": 20}),
    (POOJA, at(22), "apps 3", {"applications": 3}),
    (SUNITA, at(23, 11), "कार्ड 30 घर 40", {"cards": 30, "households": 40}),
    (SUNITA, at(23, 15), "कार्ड 33", {"cards": 33, "households": 40}),  # replaces 30
    (REKHA, at(23), "cards 10", {"cards": 10}),
    (RANI, at(23), "apps 7 cards 5", {"applications": 7, "cards": 5}),
    (ASHA_K, at(23), "cards 80", {"cards": 80}),
    (KAMLA, at(23), "cards 0", {"cards": 0}),  # a 0 counts as reported
    (KAVITA, at(23), "cards 12 elderly 2", {"cards": 12, "elderly_cards": 2}),
]
FROM, TO = dt.date(2026, 11, 22), dt.date(2026, 11, 23)
BLOCK_TARGET = {"daily": 250, "campaign_total": 5000}


@dataclass(frozen=True)
class Member:
    name: str
    phone: str
    role: str
    place: tuple[str, str, str]  # district, block, sector ("" where the row has none)
    active: bool

    @property
    def field_worker(self) -> bool:
        return self.role in ("asha", "anm")


@dataclass
class Expected:
    """The oracle: the roster file and the reports, added up by hand."""

    people: list[Member]
    values: dict[tuple[str, dt.date], dict[str, int]]  # (E.164 phone, day) -> the day's values
    targets: dict[str, int | None]  # level -> daily target of the primary metric

    def export(self, level: str, start: dt.date, end: dt.date) -> list[dict[str, str]]:
        depth = {"state": 0, "district": 1, "block": 2, "sector": 3, "worker": 3}[level]
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        workers = [p for p in self.people if p.field_worker and p.active]
        if level == "worker":
            units: list[tuple[tuple[str, ...], list[Member]]] = [(p.place, [p]) for p in workers]
        else:
            places = sorted(
                {
                    p.place[:depth]
                    for p in self.people
                    if all(p.place[:depth]) and len(p.place[:depth]) == depth
                }
            )
            units = [(u, [p for p in workers if p.place[:depth] == u]) for u in places]
        target = self.targets.get(level)
        rows = []
        for day in days:
            for place, members in units:
                sums: dict[str, int] = defaultdict(int)
                reported = 0
                for person in members:
                    values = self.values.get((person.phone, day))
                    if values is not None:
                        reported += 1
                        for metric, value in values.items():
                            sums[metric] += value
                padded = (*place, "", "", "")[:3]
                row = {
                    "date": day.isoformat(),
                    "district": padded[0],
                    "block": padded[1],
                    "sector": padded[2],
                    "worker": members[0].name if level == "worker" else "",
                    "phone": members[0].phone if level == "worker" else "",
                    "workers": str(len(members)),
                    "reported": str(reported),
                    **{m: str(sums[m]) for m in METRICS},
                    "target": "" if target is None else str(target),
                    "achievement_pct": "" if not target else str(round(100 * sums["cards"] / target, 1)),
                }
                rows.append(row)
        return rows


def _read_roster(*paths: Path) -> list[Member]:
    people: dict[str, Member] = {}
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                phone = normalize_phone(row["phone"])
                people[phone] = Member(
                    row["name"],
                    phone,
                    row["role"],
                    (row["district"], row["block"], row["sector"]),
                    row["active"].strip().lower() != "false",
                )
    return list(people.values())


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Site, Expected]]:
    """A migrated database with the sample district, a second district and REPORTS, shared by the
    read-only tests (export and status); the block target has a campaign total."""
    folder = tmp_path_factory.mktemp("loaded")

    def block_campaign(data: dict[str, Any]) -> None:
        data["targets"]["block"]["cards"] = dict(BLOCK_TARGET)

    with _site(request.param, folder, block_campaign) as site:
        extra = folder / "extra.csv"
        extra.write_text(
            SAMPLE.read_text(encoding="utf-8").splitlines()[0] + "\n" + "\n".join(EXTRA_ROSTER) + "\n",
            encoding="utf-8",
        )
        engine = site.engine()
        upgrade(engine)
        with session_scope(engine) as session:
            import_roster(session, SAMPLE, progress=False)
        with session_scope(engine) as session:
            import_roster(session, extra, progress=False)
        settings = load_settings(site.config)
        core = build_core(settings, engine, clock=lambda: at(23, 23, 59))
        values: dict[tuple[str, dt.date], dict[str, int]] = {}
        for phone, when, message, after in REPORTS:
            core.handle(
                Inbound(
                    channel="simulator",
                    dedup_key=f"cli:{uuid.uuid4().hex}",
                    sent_at=when,
                    chat_id=phone,
                    phone=phone,
                    text=message,
                )
            )
            values[(normalize_phone(phone), when.date())] = after
        with Session(engine) as session:  # the oracle agrees with what the bot stored
            for (phone, day), expected in values.items():
                person = people.person_by_phone(session=session, phone=phone)
                assert person is not None and person.id is not None
                assert (
                    reports.report_values(session=session, person_id=person.id, day=day) == expected
                ), (
                    phone,
                    day,
                )
        targets = {
            level: (per.get("cards") or {}).get("daily")
            for level, per in yaml.safe_load(site.config.read_text())["targets"].items()
        }
        yield site, Expected(_read_roster(SAMPLE, extra), values, targets)


# ---------------------------------------------------------------- db upgrade, run on an old database


def test_run_refuses_unmigrated_database_then_db_upgrade_migrates(site: Site) -> None:
    port = _free_port()
    # `run` must refuse before it serves: if it served, it would time out and fail the test.
    refused = site.run("run", "--port", str(port), "--no-scheduler", timeout=30)
    assert refused.returncode != 0
    assert "fieldbot db upgrade" in _one_line(refused)
    assert refused.stdout == ""
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass

    first = site.run("db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "migrated" in first.stdout and _lines(first.stderr) == []
    assert current_revision(site.engine()) == head_revision()
    again = site.run("db", "upgrade")  # idempotent
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert current_revision(site.engine()) == head_revision()


def test_second_run_on_the_same_sqlite_file_is_refused(tmp_path: Path) -> None:
    with _site("sqlite", tmp_path) as site:
        upgrade(site.engine())
        port = _free_port()
        out, err = (tmp_path / "first.out").open("w"), (tmp_path / "first.err").open("w")
        first = subprocess.Popen(
            site.command("run", "--port", str(port), "--no-scheduler"),
            cwd=tmp_path,
            env=_env(site.url),
            stdout=out,
            stderr=err,
        )
        try:
            health = f"http://127.0.0.1:{port}/healthz"
            deadline = time.monotonic() + 30
            while True:
                assert first.poll() is None, (
                    f"the first `fieldbot run` exited with {first.returncode}:\n"
                    + (tmp_path / "first.err").read_text()
                )
                try:
                    with urllib.request.urlopen(health, timeout=2) as response:
                        assert response.status == 200
                        break
                except OSError:
                    assert time.monotonic() < deadline, "the first `fieldbot run` never answered"
                    time.sleep(0.2)

            second = site.run("run", "--port", str(_free_port()), "--no-scheduler", timeout=30)
            assert second.returncode != 0
            line = _one_line(second)
            assert "PostgreSQL" in line and "fieldbot.db" in line
            with urllib.request.urlopen(health, timeout=5) as response:  # the first still serves
                assert response.status == 200
        finally:
            first.terminate()
            try:
                first.wait(timeout=10)
            except subprocess.TimeoutExpired:
                first.kill()
                first.wait(timeout=10)
            out.close()
            err.close()


def test_run_on_a_taken_port_fails_before_it_polls_telegram_or_takes_the_lease(
    tmp_path: Path,
) -> None:
    from models import Lease
    from tests.fakes.telegram_api import FakeTelegramAPI

    with _site("sqlite", tmp_path) as site, FakeTelegramAPI() as api, socket.socket() as taken:
        upgrade(site.engine())
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**_env(site.url), "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_BASE_URL": api.base_url}
        done = subprocess.run(
            site.command("run", "--port", str(port)),
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        # Another process may be serving there: this one said nothing to Telegram, took no lock.
        assert [call.method for call in api.calls] == []
        assert site.count(Lease) == 0
        assert done.returncode == 2
        line = _one_line(done)
        assert f"cannot listen on 127.0.0.1:{port}" in line and "--port" in line


WHATSAPP_ENV = {
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "not-a-real-auth-token",
    "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
    "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # never called while nothing is sent
    "FIELDBOT_PUBLIC_URL": "https://bot.example.org",
}


def test_whatsapp_replies_work_before_any_template_is_approved(tmp_path: Path) -> None:
    """The sample config names no template: a web-only process starts as it is, and one that
    runs the scheduler starts too, saying which jobs have none (their messages outside the
    24-hour window are marked failed with that reason: tests/test_whatsapp.py)."""
    with _site("sqlite", tmp_path) as site:
        upgrade(site.engine())
        with running(site, "run", "--no-scheduler", env=WHATSAPP_ENV) as (_, out):
            assert "template" not in out.read_text()
        with running(site, "run", env=WHATSAPP_ENV) as (_, out):
            said = out.read_text()
            assert "no approved template yet for start_message, reminder" in said
            assert "marked failed" in said


def test_forget_without_a_terminal_says_to_use_yes(site: Site) -> None:
    upgrade(site.engine())
    with session_scope(site.engine()) as session:
        import_roster(session, SAMPLE, progress=False)
    done = subprocess.run(
        site.command("forget", SUNITA),
        cwd=site.folder,
        env=_env(site.url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "--yes" in _one_line(done) and "Traceback" not in done.stderr
    with Session(site.engine()) as session:
        assert people.person_by_phone(session=session, phone=normalize_phone(SUNITA)) is not None


# ---------------------------------------------------------------- a bad config


def _set(*path: str | int, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


# (what is wrong, an edit of the sample or None for no file, what the one line must name);
# tests/test_config.py checks the wording for many more keys in-process.
BAD_CONFIGS: list[tuple[str, Callable[[dict[str, Any]], None] | None, str]] = [
    ("negative ceiling", _set("metrics", 0, "max_per_day", value=-1), "metrics.0.max_per_day"),
    ("unknown top-level key", _set("colour", value="blue"), "colour"),
    ("no such file", None, "no such config file"),
]


def test_bad_config_stops_with_one_line_naming_the_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fieldbot.db'}"
    commands = []
    for number, (_, change, _) in enumerate(BAD_CONFIGS):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        config = folder / "config.yaml"
        if change is not None:
            _write_config(folder, change)
        commands.append([str(FIELDBOT), "--config", str(config), "db", "upgrade"])
    for (case, _, key), result in zip(BAD_CONFIGS, _run_all(commands, tmp_path, url), strict=True):
        assert result.returncode == 2, case
        line = _one_line(result)
        assert key in line and "config.yaml" in line, (case, line)
    assert not (tmp_path / "fieldbot.db").exists()  # stopped before touching the database


# ---------------------------------------------------------------- roster import


def test_roster_import_of_the_sample_district(migrated: Site) -> None:
    result = migrated.run("roster", "import", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert "47 people" in result.stdout
    assert migrated.count(Person) == 47  # 48 rows: the supervisor of two sectors is one person
    with Session(migrated.engine()) as session:
        assert [d.name for d in session.exec(select(District))] == ["Hardoi"]
    again = migrated.run("roster", "import", str(SAMPLE))  # upserts by phone: nobody twice
    assert again.returncode == 0, again.stderr
    assert migrated.count(Person) == 47


def test_roster_dry_run_writes_nothing(migrated: Site) -> None:
    xlsx = migrated.folder / "roster.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    book.save(xlsx)
    for result in migrated.run_all(
        ["roster", "import", str(SAMPLE), "--dry-run"], ["roster", "import", str(xlsx), "--dry-run"]
    ):
        assert result.returncode == 0, result.stderr
        assert "47 people" in result.stdout and "dry run" in result.stdout
    assert migrated.count(Person) == 0
    assert migrated.count(District) == 0


def test_bad_roster_lists_every_bad_row_and_imports_nothing(migrated: Site) -> None:
    head = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "Sunita Devi,07973321377,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,true",  # 2 ok
        "Rekha Verma,12345,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,true",  # 3 phone
        "Usha Srivastava,7285872429,supervisor,Hardoi,Sandila,Sandila-1,,,,hi,,,true",  # 4 ok
        "Poonam Yadav,6406628073,asha,Hardoi,Sandila,,Kasimpur,27.1,80.49,hi,,,true",  # 5 sector
        "Kiran Pal,6184653067,doctor,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,true",  # 6 role
        "Meena Kumari,9723569578,asha,Hardoi,Sandila,Sandila-1,Atwa,north,80.48,hi,,,true",  # 7 lat
        "Anita Maurya,7973321377,asha,Hardoi,Sandila,Sandila-1,Atwa,27.09,80.48,hi,,,true",  # 8 dup
    ]
    bad = migrated.folder / "bad.csv"
    bad.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    missing = migrated.folder / "nope.csv"
    result, absent = migrated.run_all(["roster", "import", str(bad)], ["roster", "import", str(missing)])
    assert result.returncode != 0
    lines = _lines(result.stderr)
    numbered = {
        int(line.split(":")[0].removeprefix("row ")) for line in lines if line.startswith("row ")
    }
    assert numbered == {3, 5, 6, 7, 8}, result.stderr
    assert all(line.startswith("row ") for line in lines[:-1]), result.stderr
    assert "nothing imported" in lines[-1]
    assert absent.returncode != 0
    assert [line for line in _lines(absent.stderr) if "nothing imported" not in line] == [
        f"no such file: {missing}"
    ]
    assert migrated.count(Person) == 0
    assert migrated.count(District) == 0


# ---------------------------------------------------------------- export and status (read only)

LEVELS = ("worker", "sector", "block", "district", "state")


def _range(start: dt.date, end: dt.date) -> list[str]:
    return ["--from", start.isoformat(), "--to", end.isoformat()]


@pytest.fixture(scope="module")
def answers(loaded: tuple[Site, Expected]) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every read-only command of the tests below, run side by side once per database."""
    site, _ = loaded
    out = site.folder
    commands = {
        **{
            f"export {level}": [
                "export",
                *_range(FROM, TO),
                "--level",
                level,
                "--format",
                "csv",
                "--out",
                str(out / f"{level}.csv"),
            ]
            for level in LEVELS
        },
        "export xlsx": [
            "export",
            *_range(FROM, TO),
            "--level",
            "block",
            "--format",
            "xlsx",
            "--out",
            str(out / "block.xlsx"),
        ],
        "status block": ["status", "Hardoi/Sandila", *_range(FROM, TO), "--json"],
        "status sector": ["status", "Bilgram-1", *_range(TO, TO), "--json"],
        "status text": ["status", "Hardoi/Sandila", *_range(FROM, TO)],
        "status unknown": ["status", "Lucknow", "--json"],
        "status ambiguous": ["status", "sandila", "--json"],
    }
    return dict(zip(commands, site.run_all(*commands.values()), strict=True))


def _export(answers: dict[str, subprocess.CompletedProcess[str]], name: str, path: Path) -> Path:
    result = answers[name]
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    return path


def _key(row: dict[str, str]) -> tuple[str, ...]:
    return (row["date"], row["district"], row["block"], row["sector"], row["worker"])


@pytest.mark.parametrize("level", LEVELS)
def test_export_csv_has_one_row_per_date_and_unit_with_the_reported_values(
    loaded: tuple[Site, Expected],
    answers: dict[str, subprocess.CompletedProcess[str]],
    level: str,
) -> None:
    site, expected = loaded
    path = _export(answers, f"export {level}", site.folder / f"{level}.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    assert header == HEADER
    want = expected.export(level, FROM, TO)
    assert len({_key(r) for r in rows}) == len(rows), "a date and unit appears twice"
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    got = {_key(r): r for r in rows}
    for row in got.values():
        # The phone is E.164; the export may guard it with a leading quote against formulas.
        row["phone"] = row["phone"].removeprefix("'")
    assert got == {_key(r): r for r in want}

    below = {
        "state": ["district", "block", "sector"],
        "district": ["block", "sector"],
        "block": ["sector"],
        "sector": [],
        "worker": [],
    }[level]
    if level != "worker":
        below += ["worker", "phone"]
    assert all(r[c] == "" for r in rows for c in below)
    assert all(r[c] for r in rows for c in {"district", "block", "sector"} - set(below))


def test_export_values_by_hand(
    loaded: tuple[Site, Expected], answers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    """A few cells worked out without the oracle, so the oracle cannot drift with the code."""
    site, _ = loaded
    with _export(answers, "export block", site.folder / "block.csv").open(
        encoding="utf-8-sig", newline=""
    ) as handle:
        rows = {(r["date"], r["district"], r["block"]): r for r in csv.DictReader(handle)}
    sandila = rows[("2026-11-23", "Hardoi", "Sandila")]
    # Sunita 33 (her later report replaced 30), Rekha 10, Rani 5; Pushpa is inactive.
    assert (sandila["cards"], sandila["households"], sandila["applications"]) == ("48", "40", "7")
    assert (sandila["workers"], sandila["reported"]) == ("19", "3")
    assert (sandila["target"], sandila["achievement_pct"]) == ("250", "19.2")
    bilgram = rows[("2026-11-23", "Hardoi", "Bilgram")]
    assert (bilgram["cards"], bilgram["reported"]) == ("80", "2")  # Kamla's 0 counts
    assert rows[("2026-11-22", "Unnao", "Sandila")]["reported"] == "0"
    with _export(answers, "export worker", site.folder / "worker.csv").open(
        encoding="utf-8-sig", newline=""
    ) as handle:
        workers = list(csv.DictReader(handle))
    assert not any(r["worker"] == "Pushpa Rawat" for r in workers)  # inactive, never reported
    sunita = next(r for r in workers if r["worker"] == "Sunita Devi" and r["date"] == "2026-11-22")
    assert sunita["phone"].removeprefix("'") == "+917973321377"
    assert (sunita["applications"], sunita["cards"], sunita["reported"]) == ("25", "20", "1")
    assert (sunita["district"], sunita["block"], sunita["sector"]) == ("Hardoi", "Sandila", "Sandila-1")


def test_export_xlsx_has_the_same_table(
    loaded: tuple[Site, Expected], answers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    site, expected = loaded
    book = load_workbook(_export(answers, "export xlsx", site.folder / "block.xlsx"), read_only=True)
    sheet = book.worksheets[0]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    assert table[0] == HEADER
    want = {_key(r): r for r in expected.export("block", FROM, TO)}
    assert len(table) - 1 == len(want)
    for cells in table[1:]:
        row = {name: ("" if value is None else value) for name, value in zip(HEADER, cells, strict=True)}
        text_row = {k: str(v) for k, v in row.items()}
        expect = want[_key(text_row)]
        for name in HEADER:
            if name in NUMERIC and expect[name] != "":
                assert isinstance(row[name], int | float), (name, row[name])
                assert float(row[name]) == float(expect[name]), (name, row, expect)
            else:
                assert text_row[name] == expect[name], (name, row, expect)


def test_export_refuses_a_backwards_range(tmp_path: Path) -> None:
    with _site("sqlite", tmp_path) as site:
        out = tmp_path / "backwards.csv"
        result = site.run("export", *_range(TO, FROM), "--level", "block", "--out", str(out))
        assert result.returncode == 2
        assert "--to is before --from" in _one_line(result)
        assert not out.exists()
        assert not (tmp_path / "fieldbot.db").exists()  # refused before opening the database


def test_status_json_of_a_block(answers: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = answers["status block"]
    assert result.returncode == 0, result.stderr
    assert len(_lines(result.stdout)) == 1
    figures = json.loads(result.stdout)
    assert set(figures) == STATUS_KEYS
    # Cards in Sandila, 22-23 Nov: Sunita 20 + 33, Rekha 10, Rani 5 = 68; Bilgram has 80.
    # Since the campaign began (1 Nov), Sunita's 9 on 21 Nov too: 77, all within the last 7 days.
    remaining = BLOCK_TARGET["campaign_total"] - 77
    assert figures == {
        "unit": "Hardoi/Sandila",
        "level": "block",
        "from": "2026-11-22",
        "to": "2026-11-23",
        "primary_metric": "cards",
        "workers": 19,
        "reported": 4,
        "totals": {"applications": 35, "cards": 68, "households": 40, "elderly_cards": 0, "rejected": 0},
        "target": 500,
        "achievement_pct": 13.6,
        "coverage_pct": None,
        "required_daily": math.ceil(remaining / 38),  # 24 Nov to 31 Dec
        "projected_finish": (TO + dt.timedelta(days=math.ceil(remaining / (77 / 7)))).isoformat(),
        "rank": 2,
        "of": 2,
        "official": None,  # no portal counts imported
        "official_gap": None,
        "official_gap_pct": None,
        "problems_open": 0,
        "on_leave": 0,  # nobody on leave or on a holiday
    }


def test_status_by_bare_name_and_as_text(
    loaded: tuple[Site, Expected], answers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    _, expected = loaded
    as_json, as_text = answers["status sector"], answers["status text"]
    assert as_json.returncode == 0, as_json.stderr
    figures = json.loads(as_json.stdout)
    assert set(figures) == STATUS_KEYS
    workers = sum(
        1 for p in expected.people if p.field_worker and p.active and p.place[2] == "Bilgram-1"
    )
    assert (figures["unit"], figures["level"]) == ("Hardoi/Bilgram/Bilgram-1", "sector")
    assert (figures["from"], figures["to"]) == ("2026-11-23", "2026-11-23")
    assert (figures["workers"], figures["reported"]) == (workers, 2)
    assert figures["totals"]["cards"] == 80
    assert (figures["target"], figures["achievement_pct"]) == (100, 80.0)
    assert (figures["required_daily"], figures["projected_finish"]) == (None, None)  # no total
    assert (figures["rank"], figures["of"]) == (1, 2)

    assert as_text.returncode == 0, as_text.stderr
    assert "Hardoi/Sandila" in as_text.stdout and "2 of 2" in as_text.stdout
    assert "68" in as_text.stdout


def test_status_of_an_unknown_or_ambiguous_unit_says_so(
    loaded: tuple[Site, Expected], answers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    site, _ = loaded
    unknown = answers["status unknown"]
    assert unknown.returncode != 0 and unknown.stdout == ""
    assert "Lucknow" in _one_line(unknown)
    ambiguous = answers["status ambiguous"]
    assert ambiguous.returncode != 0 and ambiguous.stdout == ""
    line = _one_line(ambiguous)
    assert "several" in line and "Hardoi/Sandila" in line and "Unnao/Sandila" in line, line
    with Session(site.engine()) as session:  # asking changed nothing
        assert session.exec(select(func.count()).select_from(DailyReport)).one() == 9
