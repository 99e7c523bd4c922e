"""Files that hold personal data are readable by the service's user alone (files 0600, folders 0700),
even where the operator's umask (0022 here) would let everyone on the machine read them."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import photos
from bot.backup import backup
from bot.export import write_table
from bot.files import write_private
from bot.store.db import make_engine, upgrade
from tests.conftest import SAMPLE, SUNITA, at
from tests.e2e.test_cli import BACKENDS, TIMEOUT, Site, _env, _free_port, _set, _site
from tests.images import photo

PERMISSIVE = 0o022  # the usual default: new files 0644, new folders 0755


def _private(path: Path) -> bool:
    return path.stat().st_mode & 0o077 == 0


def _run(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        site.command(*args),
        cwd=site.folder,
        env=_env(site.url),
        umask=PERMISSIVE,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture()
def permissive() -> Iterator[None]:
    """This process's umask at 0022 for the test, as a library caller's might be."""
    old = os.umask(PERMISSIVE)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("kind", BACKENDS)
def test_every_file_a_command_writes_is_private(kind: str, tmp_path: Path) -> None:
    with _site(kind, tmp_path) as site:
        _run(site, "db", "upgrade")
        _run(site, "roster", "import", str(SAMPLE))
        old = tmp_path / "rollup.csv"
        old.write_text("an older export, readable by all\n")
        old.chmod(0o644)
        outputs = {
            "rollup.csv": ["export", "--format", "csv"],
            "rollup.xlsx": ["export", "--format", "xlsx"],
        }
        for name, args in outputs.items():
            days = ["--from", "2026-11-22", "--to", "2026-11-23"]
            _run(site, *args, *days, "--level", "worker", "--out", str(tmp_path / name))
        _run(site, "proofs", "--from", "2026-11-22", "--to", "2026-11-23", "--out", "proofs.csv")
        _run(site, "access", SUNITA, "--out", "sunita.json")
        written = [tmp_path / n for n in ["rollup.csv", "rollup.xlsx", "proofs.csv", "sunita.json"]]
        if kind == "sqlite":
            _run(site, "backup", "--out", str(tmp_path / "backups" / "fieldbot.db"))
            written += [tmp_path / "fieldbot.db", tmp_path / "backups", tmp_path / "backups/fieldbot.db"]
        for path in written:
            assert _private(path), f"{path.name} is {oct(path.stat().st_mode & 0o777)}"
        assert "Sunita Devi" in (tmp_path / "sunita.json").read_text(encoding="utf-8")
        assert old.read_bytes().startswith(b"\xef\xbb\xbfdate,")  # the new table replaced the old


def test_a_serving_bot_keeps_its_database_wal_and_photos_private(tmp_path: Path) -> None:
    edit = _set("demo", "roster", value=str(SAMPLE))
    with _site("sqlite", tmp_path, edit) as site:
        port = _free_port()
        with (tmp_path / "demo.err").open("w") as err:
            demo = subprocess.Popen(
                site.command("demo", "--port", str(port)),
                cwd=tmp_path,
                env=_env(site.url),
                umask=PERMISSIVE,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            try:
                _wait_for(f"http://127.0.0.1:{port}/healthz", demo, tmp_path / "demo.err")
                body = {
                    "phone": SUNITA,
                    "at": at(23, 11).isoformat(),
                    "photo_base64": base64.b64encode(photo(7)).decode(),
                }
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/simulator/messages",
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert json.load(response)["replies"]
                database = tmp_path / "fieldbot.db"
                files = [database, *(database.with_name(f"fieldbot.db{s}") for s in ("-wal", "-shm"))]
                stored = list((tmp_path / "data" / "photos").rglob("*.jpg"))
                assert len(stored) == 1
                folders = [tmp_path / "data", tmp_path / "data" / "photos", stored[0].parent]
                for path in [*files, *folders, stored[0]]:
                    assert _private(path), f"{path} is {oct(path.stat().st_mode & 0o777)}"
            finally:
                demo.terminate()
                demo.wait(timeout=20)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"`fieldbot demo` exited:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                assert response.status == 200
                return
        except OSError:
            assert time.monotonic() < deadline, "`fieldbot demo` never answered"
            time.sleep(0.2)


# ---------------------------------------------------------------- the same for a library caller


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path: Path, permissive: None) -> None:
    path = tmp_path / "state" / "fieldbot.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        with engine.connect() as conn:  # an open connection keeps -wal and -shm in place
            conn.execute(text("SELECT count(*) FROM person"))
            for suffix in ("", "-wal", "-shm"):
                assert _private(path.with_name(path.name + suffix)), suffix
            assert _private(path.parent)
    finally:
        engine.dispose()


def test_an_older_database_readable_by_all_is_tightened(tmp_path: Path, permissive: None) -> None:
    path = tmp_path / "fieldbot.db"
    with closing(sqlite3.connect(path)) as old:
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE t (x)")
        old.execute("INSERT INTO t VALUES (1)")
        old.commit()
        assert path.stat().st_mode & 0o777 == 0o644
        assert path.with_name("fieldbot.db-wal").stat().st_mode & 0o777 == 0o644
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT x FROM t")).scalar() == 1
            for suffix in ("", "-wal", "-shm"):
                assert _private(path.with_name(path.name + suffix)), suffix
        finally:
            engine.dispose()


def test_exports_backups_and_photos_are_private(tmp_path: Path, permissive: None) -> None:
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"table.{fmt}"
        write_table(out, fmt, "worker", ["worker", "phone"], [["Sunita Devi", "+917973321377"]])
        assert _private(out)
    earlier = tmp_path / "access.json"
    earlier.write_text("{}")
    assert not _private(earlier)
    write_private(earlier, b'{"person": {}}')
    assert _private(earlier) and earlier.read_bytes() == b'{"person": {}}'

    data = photo(3)
    facts = photos.inspect(data, max_bytes=10_000_000, max_pixels=20_000_000)
    stored = photos.store(tmp_path / "data" / "photos", facts, data)
    for path in (stored, stored.parent, tmp_path / "data" / "photos", tmp_path / "data"):
        assert _private(path), path

    engine = make_engine(f"sqlite:///{tmp_path / 'fieldbot.db'}")
    try:
        upgrade(engine)
        copied = backup(engine, tmp_path / "backups" / "nightly" / "fieldbot.db")
    finally:
        engine.dispose()
    for path in (copied.path, copied.path.parent, tmp_path / "backups"):
        assert _private(path), path
