"""Ingest: 20,000 daily reports from 3,000 roster workers through the real stack, as deployed.

    python benchmarks/bench_ingest.py [--messages 20000] [--workers 3000] [--connections 100]
                  [--only webhook_postgres,webhook_postgres_2,webhook_sqlite,polling,bare]

- webhook: the real web app (`bot.web.create_app` with a webhook-mode Telegram application) served
  by uvicorn in a subprocess; this process POSTs the updates to /telegram/webhook as Telegram does,
  over `--connections` keep-alive connections, on PostgreSQL and on SQLite. Peak RSS is the server
  process's VmHWM from /proc (the kernel's high-water mark of its resident set). `webhook_postgres_2`
  runs two such servers on the one database, the connections spread over both (a scaled-out
  deployment on this machine's two cores).
- long polling: the real application (`build_application`, `start_telegram`) in a subprocess,
  reading getUpdates batches from this process's asyncio fake Bot API; then, on the same fake, a
  bare python-telegram-bot bot that only echoes each message.
- bare: the rows the webhook run stored (one `inbound_message` per report), written again one
  transaction each with SQLAlchemy Core from 8 threads: what PostgreSQL allows this machine.

Every run starts from the same roster with no reports (PostgreSQL: the database
FIELDBOT_BENCH_INGEST_URL, default fieldbot_bench_ingest on the local server; SQLite: a temporary
file). Every worker has seen the privacy notice, so each report gets exactly one answer. A run
counts only when every report was stored and answered. Prints one JSON object of flat numeric
results on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.fake_botapi import TOKEN, FakeBotAPI, text_update  # noqa: E402
from bot.app import build_core  # noqa: E402
from bot.channels.telegram.polling import WEBHOOK_CONNECTIONS  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.store.db import make_engine, upgrade  # noqa: E402
from models import (  # noqa: E402
    Block,
    District,
    InboundMessage,
    Person,
    PersonPhone,
    PrivacyNotice,
    Sector,
    Village,
    utcnow,
)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench_ingest"
SECRET = "bench-secret"
USER_BASE = 5_000_000_000
ROSTER_TABLES = (
    "alembic_version",
    "district",
    "block",
    "sector",
    "village",
    "person",
    "person_phone",
    "post",
    "privacy_notice",
    "unit_target",
)
TEXTS = (
    "आवेदन {a} कार्ड {c}",
    "apps {a} cards {c}",
    "{a} {c} {h}",
    "{a} आवेदन, {c} कार्ड बने",
    "कार्ड {c}",
    "apps {a} cards {c} ghar {h}",
    "आवेदन २५ कार्ड २०",
)


def log(message: str) -> None:
    print(f"[ingest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_settings() -> Settings:
    """The sample configuration with a campaign running today."""
    base = load_settings(ROOT / "config.yaml")
    data = base.model_dump(exclude={"base_dir"})
    today = dt.date.today()
    data["campaign"] = {
        "name": "bench",
        "start": today - dt.timedelta(days=30),
        "end": today + dt.timedelta(days=30),
    }
    return Settings.model_validate({**data, "base_dir": ROOT})


# ---------------------------------------------------------------- the roster


def build_roster(url: str, workers: int) -> None:
    """A fresh database: migrated, one district of 10 blocks, 20 workers a sector, all linked."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        from benchmarks.bench_rollups import ensure_database

        ensure_database(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    now = utcnow()
    sectors = (workers + 19) // 20
    with engine.begin() as conn:
        conn.execute(insert(District), [{"id": 1, "name": "Hardoi"}])
        conn.execute(
            insert(Block), [{"id": b, "district_id": 1, "name": f"Block {b}"} for b in range(1, 11)]
        )
        conn.execute(
            insert(Sector),
            [{"id": s, "block_id": 1 + s % 10, "name": f"Sector {s}"} for s in range(1, sectors + 1)],
        )
        conn.execute(
            insert(Village),
            [
                {"id": s, "sector_id": s, "name": f"Village {s}", "lat": 27.4, "lon": 80.1}
                for s in range(1, sectors + 1)
            ],
        )
        people = []
        for n in range(1, workers + 1):
            sector = 1 + (n - 1) // 20
            people.append(
                {
                    "id": n,
                    "worker_id": f"W{n}",
                    "name": f"ASHA {n}",
                    "phone": f"+9190{n:08d}",
                    "role": "anm" if n % 7 == 0 else "asha",
                    "language": "hi" if n % 4 else "en",
                    "active": True,
                    "village_id": sector,
                    "sector_id": sector,
                    "block_id": 1 + sector % 10,
                    "district_id": 1,
                    "telegram_user_id": USER_BASE + n,
                    "telegram_chat_id": USER_BASE + n,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        conn.execute(insert(Person), people)
        conn.execute(insert(PersonPhone), [{"phone": p["phone"], "person_id": p["id"]} for p in people])
        conn.execute(
            insert(PrivacyNotice),
            [{"person_id": p["id"], "channel": "telegram", "shown_at": now} for p in people],
        )
        if engine.dialect.name == "postgresql":
            for table in ("district", "block", "sector", "village", "person"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def clear_reports(url: str) -> None:
    """Back to the roster alone: every table the roster does not fill is emptied."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).scalars()
            others = [n for n in names if n not in ROSTER_TABLES]
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in others))
        else:
            names = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).scalars()
            for name in [n for n in names if n not in ROSTER_TABLES]:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
    engine.dispose()


def stored_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM inbound_message")).scalar_one()
    engine.dispose()
    return int(count)


def make_updates(messages: int, workers: int, first_message_id: int) -> list[dict[str, Any]]:
    """Reports in the evening's order: every worker in turn, a few messages each."""
    rng = random.Random(11)
    now = int(time.time())
    out = []
    for i in range(messages):
        worker = 1 + i % workers
        body = rng.choice(TEXTS).format(
            a=rng.randint(5, 40), c=rng.randint(3, 35), h=rng.randint(10, 60)
        )
        out.append(
            text_update(user_id=USER_BASE + worker, message_id=first_message_id + i, text=body, date=now)
        )
    return out


# ---------------------------------------------------------------- the processes under test


def serve_webhook(url: str, port: int, bot_api: str, inline: bool) -> None:
    """The web app as `fieldbot run` serves it with a Telegram webhook (no scheduler, no simulator)."""
    import uvicorn

    from bot.channels.telegram.application import build_application
    from bot.channels.telegram.settings import TelegramSettings, file_url_for
    from bot.web import create_app

    settings = bench_settings()
    core = build_core(settings, make_engine(url))
    telegram = TelegramSettings(
        token=TOKEN,
        base_url=bot_api,
        base_file_url=file_url_for(bot_api),
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret=SECRET,
        answer_inline=inline,
    )
    app = create_app(
        core,
        telegram_app=build_application(core, telegram, webhook=True),
        telegram_settings=telegram,
        simulator=False,
    )
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=1024
    )
    uvicorn.Server(config).run()


def serve_polling(url: str, bot_api: str) -> None:
    """The Telegram application as `fieldbot run` starts it without a webhook: long polling."""
    from bot.channels.telegram.application import build_application
    from bot.channels.telegram.polling import start_telegram, stop_telegram
    from bot.channels.telegram.settings import TelegramSettings, file_url_for

    settings = bench_settings()
    core = build_core(settings, make_engine(url))
    telegram = TelegramSettings(
        token=TOKEN,
        base_url=bot_api,
        base_file_url=file_url_for(bot_api),
        webhook_url=None,
        webhook_secret=None,
    )
    application = build_application(core, telegram, webhook=False)

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await start_telegram(application, telegram)
        print("ready", flush=True)
        await stop.wait()
        await stop_telegram(application)

    asyncio.run(run())


def serve_echo(bot_api: str) -> None:
    """A bare python-telegram-bot bot that answers every text with itself: the polling ceiling."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    application = Application.builder().token(TOKEN).base_url(bot_api).concurrent_updates(True).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            print("ready", flush=True)
            await stop.wait()
            await application.updater.stop()
            await application.stop()

    asyncio.run(run())


@contextmanager
def child(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (/proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL server's processes (those owned by its user).

    The local server only: backends that end during a run are not counted, so this is a floor.
    """
    import pwd

    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return 0.0
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    total += cpu_seconds(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return total


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---------------------------------------------------------------- the webhook client


async def _http_post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


def webhook_requests(updates: list[dict[str, Any]], first_update_id: int) -> list[bytes]:
    """Each update as the HTTP request Telegram makes of the webhook, with its secret."""
    out = []
    for number, update in enumerate(updates, start=first_update_id):
        body = json.dumps({"update_id": number, **update}, ensure_ascii=False).encode()
        out.append(
            b"POST /telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            b"X-Telegram-Bot-Api-Secret-Token: " + SECRET.encode() + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
    return out


async def post_all(
    ports: list[int], updates: list[dict[str, Any]], connections: int, budget: float
) -> dict[str, Any]:
    """POST the updates over `connections` keep-alive connections, for at most `budget` seconds.

    With several ports (one server process each), the connections are spread over them in turn,
    as a load balancer would.
    """
    import socket

    requests = webhook_requests(updates, first_update_id=1)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    answered_in_body = 0
    queue = iter(requests)
    deadline = time.perf_counter() + budget

    async def worker(port: int) -> None:
        nonlocal answered_in_body
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for request in queue:
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            status, body = await _http_post(reader, writer, request)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if body and b'"method"' in body and b"sendMessage" in body:
                answered_in_body += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(ports[i % len(ports)]) for i in range(connections)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "seconds": seconds,
        "sent": len(latencies),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "statuses": statuses,
        "answered_in_body": answered_in_body,
    }


async def wait_ready_http(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the web app did not come up")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_webhook(
    url: str,
    updates: list[dict[str, Any]],
    connections: int,
    budget: float,
    inline: bool,
    processes: int = 1,
) -> dict[str, float]:
    """The webhook path; with `processes` > 1, that many `run`-like servers on one database."""
    api = FakeBotAPI()
    await api.start()
    ports = [free_port() for _ in range(processes)]
    clear_reports(url)
    mode = "inline" if inline else "api"
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(child("--serve-webhook", url, str(port), api.base_url, mode))
            for port in ports
        ]
        for port in ports:
            await wait_ready_http(port)
        api.reset_counts()
        cpu_before = sum(cpu_seconds(server.pid) for server in servers)
        db_before, client_before = database_cpu_seconds(), time.process_time()
        result = await post_all(ports, updates, connections, budget)
        posted = result["sent"]
        in_body = result["answered_in_body"]
        # Replies not carried in the response body go to the Bot API; wait for the stragglers.
        await api.wait_sent(posted - in_body, timeout=30)
        cpu_now = sum(cpu_seconds(server.pid) for server in servers)
        cpu_ms = 1000 * (cpu_now - cpu_before) / max(posted, 1)
        db_ms = 1000 * (database_cpu_seconds() - db_before) / max(posted, 1)
        client_ms = 1000 * (time.process_time() - client_before) / max(posted, 1)
        rss = max(peak_rss_mb(server.pid) for server in servers)
    await api.stop()
    stored = stored_count(url)
    answered = in_body + api.sent_total
    log(
        f"webhook {url.split(':', 1)[0]} ({mode}, {processes} process(es)): "
        f"{posted} in {result['seconds']:.1f} s, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, statuses {result['statuses']}, "
        f"stored {stored}, answered {answered} ({in_body} in the response), peak RSS {rss:.0f} MB, "
        f"CPU a report: server {cpu_ms:.2f} ms, database {db_ms:.2f} ms, this client {client_ms:.2f} ms"
    )
    if stored != posted or answered != posted or result["statuses"] != {200: posted}:
        raise SystemExit("not every report was stored and answered")
    return {
        "reports": posted,
        "per_s": posted / result["seconds"],
        "p99_ms": result["p99_ms"],
        "p50_ms": result["p50_ms"],
        "rss_mb": rss,
        "cpu_ms": cpu_ms,
        "db_cpu_ms": db_ms,
        "client_cpu_ms": client_ms,
    }


async def run_polling(url: str | None, updates: list[dict[str, Any]], budget: float) -> float:
    """Reports a second through long polling: the full application, or the echo bot without url.

    After `budget` seconds the rate is what was answered by then.
    """
    api = FakeBotAPI()
    await api.start()
    if url is not None:
        clear_reports(url)
    args = ("--serve-polling", url, api.base_url) if url else ("--serve-echo", api.base_url)
    with child(*args) as bot:
        assert bot.stdout is not None
        line = await asyncio.to_thread(bot.stdout.readline)
        if line.strip() != "ready":
            raise SystemExit(f"{args[0]} did not start")
        api.reset_counts()
        started = time.perf_counter()
        api.push_updates([dict(u) for u in updates])
        await api.wait_sent(len(updates), timeout=budget)
        seconds = time.perf_counter() - started
        answered = api.sent_total
        stored = stored_count(url) if url is not None else answered
    await api.stop()
    what = "full stack" if url else "echo bot"
    log(f"polling {what}: {answered} answered in {seconds:.1f} s ({stored} stored by then)")
    if stored < answered:
        raise SystemExit("polling: a report was answered before it was stored")
    return answered / seconds


def bare_insert(url: str, threads: int = 8) -> float:
    """The stored inbound rows again, one transaction each, from `threads` connections."""
    engine: Engine = make_engine(url, pool_size=threads)
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(table.select())]
    for row in rows:
        row.pop("id")
        row["dedup_key"] = "bare:" + row["dedup_key"]
    chunks = [rows[i::threads] for i in range(threads)]
    statement = insert(table)

    def write(chunk: list[dict[str, Any]]) -> None:
        with engine.connect() as conn:
            for row in chunk:
                conn.execute(statement, row)
                conn.commit()

    workers = [threading.Thread(target=write, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    engine.dispose()
    log(f"bare insert: {len(rows)} rows in {seconds:.1f} s")
    return len(rows) / seconds


# ---------------------------------------------------------------- main


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--serve-"):
        mode, *rest = sys.argv[1:]
        if mode == "--serve-webhook":
            serve_webhook(rest[0], int(rest[1]), rest[2], rest[3] == "inline")
        elif mode == "--serve-polling":
            serve_polling(rest[0], rest[1])
        else:
            serve_echo(rest[0])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=3_000)
    parser.add_argument(
        "--connections",
        type=int,
        default=WEBHOOK_CONNECTIONS,
        help="webhook requests at once (what the bot registers with Telegram as max_connections)",
    )
    parser.add_argument(
        "--only", default="webhook_postgres,webhook_postgres_2,webhook_sqlite,polling,bare"
    )
    parser.add_argument(
        "--budget", type=float, default=30, help="seconds at most per run; the rate is over what fit"
    )
    parser.add_argument(
        "--no-inline", action="store_true", help="answer webhooks by a sendMessage request each"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    pg_url = os.environ.get("FIELDBOT_BENCH_INGEST_URL", DEFAULT_URL)
    results: dict[str, float] = {}
    started = time.perf_counter()
    log(f"roster of {args.workers} workers on PostgreSQL")
    build_roster(pg_url, args.workers)
    updates = make_updates(args.messages, args.workers, first_message_id=1)
    rss = 0.0
    if "webhook_postgres" in only:
        pg = asyncio.run(run_webhook(pg_url, updates, args.connections, args.budget, not args.no_inline))
        results["ingest_postgres_reports"] = pg["reports"]
        results["ingest_postgres_reports_per_s"] = round(pg["per_s"], 1)
        results["ingest_postgres_p99_ms"] = round(pg["p99_ms"], 1)
        results["ingest_postgres_p50_ms"] = round(pg["p50_ms"], 1)
        results["ingest_postgres_server_cpu_ms_per_report"] = round(pg["cpu_ms"], 2)
        results["ingest_postgres_database_cpu_ms_per_report"] = round(pg["db_cpu_ms"], 2)
        results["ingest_postgres_client_cpu_ms_per_report"] = round(pg["client_cpu_ms"], 2)
        rss = max(rss, pg["rss_mb"])
    if "webhook_postgres_2" in only:
        two = asyncio.run(
            run_webhook(pg_url, updates, args.connections, args.budget, not args.no_inline, 2)
        )
        results["ingest_postgres_2proc_reports_per_s"] = round(two["per_s"], 1)
        results["ingest_postgres_2proc_p99_ms"] = round(two["p99_ms"], 1)
        rss = max(rss, two["rss_mb"])
    if "bare" in only:
        if "webhook_postgres" not in only:
            raise SystemExit("bare writes the rows the PostgreSQL webhook run stored: run both")
        results["bare_insert_postgres_rows_per_s"] = round(bare_insert(pg_url), 1)
    if "polling" in only:
        full = asyncio.run(run_polling(pg_url, updates, args.budget))
        results["polling_reports_per_s"] = round(full, 1)
        results["polling_echo_per_s"] = round(asyncio.run(run_polling(None, updates, args.budget)), 1)
        results["polling_ratio"] = round(
            results["polling_reports_per_s"] / results["polling_echo_per_s"], 3
        )
    if "webhook_sqlite" in only:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            log("roster on SQLite")
            build_roster(sqlite_url, args.workers)
            lite = asyncio.run(
                run_webhook(sqlite_url, updates, args.connections, args.budget, not args.no_inline)
            )
        results["ingest_sqlite_reports"] = lite["reports"]
        results["ingest_sqlite_reports_per_s"] = round(lite["per_s"], 1)
        results["ingest_sqlite_p99_ms"] = round(lite["p99_ms"], 1)
        results["ingest_sqlite_server_cpu_ms_per_report"] = round(lite["cpu_ms"], 2)
        rss = max(rss, lite["rss_mb"])
    if rss:
        results["ingest_peak_rss_mb"] = round(rss, 1)
    if "ingest_postgres_reports_per_s" in results and "bare_insert_postgres_rows_per_s" in results:
        results["ingest_vs_bare_ratio"] = round(
            results["ingest_postgres_reports_per_s"] / results["bare_insert_postgres_rows_per_s"], 3
        )
    log(f"done in {time.perf_counter() - started:.0f} s")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
