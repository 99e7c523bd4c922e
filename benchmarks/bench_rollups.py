"""Rollups at state scale on PostgreSQL: a state of 1.6 lakh field workers in 75 districts and 820
blocks with 90 days of reports, then the queries officers make, timed.

    python benchmarks/bench_rollups.py [--scale 1.0] [--out results.json] [--regenerate]

The data goes into its own database (FIELDBOT_BENCH_URL, default fieldbot_bench on the local
server) and is generated inside PostgreSQL with INSERT ... SELECT, secondary indexes built after
the load. A marker row keeps it for the next run: only a different --scale, a newer data version,
or --regenerate builds it again. Prints one JSON object of flat numeric results on its last
line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import rollups  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.db import make_engine, upgrade  # noqa: E402
from bot.export import xlsx_bytes  # noqa: E402
from bot.messages import Inbound  # noqa: E402
from bot.service import Fieldbot  # noqa: E402
from bot.units import district_unit, state_unit  # noqa: E402
from models import DailyReport, District, Person, Post, UnitDayTotal  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench"
DATA_VERSION = "5"  # bump when the generated data changes shape
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
FIRST_DAY = dt.date(2026, 9, 1)
DAYS = 90
TODAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)  # 29 Nov 2026, the 90th day
TODAY_REPORTING = 0.8  # the evening of the last day: most, not all, have reported
UP_DISTRICTS = (
    "Agra, Aligarh, Ambedkar Nagar, Amethi, Amroha, Auraiya, Ayodhya, Azamgarh, Baghpat, Bahraich, "
    "Ballia, Balrampur, Banda, Barabanki, Bareilly, Basti, Bhadohi, Bijnor, Budaun, Bulandshahr, "
    "Chandauli, Chitrakoot, Deoria, Etah, Etawah, Farrukhabad, Fatehpur, Firozabad, "
    "Gautam Buddha Nagar, Ghaziabad, Ghazipur, Gonda, Gorakhpur, Hamirpur, Hapur, Hardoi, Hathras, "
    "Jalaun, Jaunpur, Jhansi, Kannauj, Kanpur Dehat, Kanpur Nagar, Kasganj, Kaushambi, Kheri, "
    "Kushinagar, Lalitpur, Lucknow, Maharajganj, Mahoba, Mainpuri, Mathura, Mau, Meerut, Mirzapur, "
    "Moradabad, Muzaffarnagar, Pilibhit, Pratapgarh, Prayagraj, Raebareli, Rampur, Saharanpur, "
    "Sambhal, Sant Kabir Nagar, Shahjahanpur, Shamli, Shravasti, Siddharthnagar, Sitapur, Sonbhadra, "
    "Sultanpur, Unnao, Varanasi"
).split(", ")


def log(message: str) -> None:
    print(f"[rollups {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_settings() -> Settings:
    base = load_settings(ROOT / "config.yaml")
    data = base.model_dump(exclude={"base_dir"})
    data["campaign"] = {"name": "bench", "start": FIRST_DAY, "end": dt.date(2026, 12, 31)}
    data["targets"] = {
        "worker": {"cards": {"daily": 10}},
        "sector": {"cards": {"daily": 200}},
        "block": {"cards": {"daily": 2000}},
        "district": {"cards": {"daily": 20000, "campaign_total": 2500000}},
        "state": {"cards": {"daily": 1500000, "campaign_total": 180000000}},
    }
    if "floods" in data:  # the benchmark asks far more often than an officer would
        data["floods"] = {**data["floods"], "messages_per_minute": 1000}
    return Settings.model_validate({**data, "base_dir": ROOT})


# ---------------------------------------------------------------- the data


def shape(scale: float) -> dict[str, int]:
    """Districts, blocks per district and workers, for a scale (1.0: the state of the issue)."""
    districts = max(2, round(75 * min(scale * 4, 1)))  # small scales keep fewer districts
    blocks = max(2 * districts, round(820 * scale))
    workers = max(20 * blocks, round(160_000 * scale))
    return {"districts": districts, "blocks": blocks, "sectors": blocks * 10, "workers": workers}


def _exec(engine: Engine, *statements: str, **params: Any) -> None:
    """Statements in one transaction; `params` go to the first."""
    with engine.begin() as conn:
        conn.exec_driver_sql("SET work_mem = '512MB'")
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql("SET session_replication_role = replica")  # no FK checks on the load
        for index, statement in enumerate(statements):
            conn.execute(text(statement), params if index == 0 else {})


def _marker(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.exec_driver_sql("SELECT to_regclass('public.bench_marker')").scalar()
        if not exists:
            return None
        return conn.exec_driver_sql("SELECT value FROM bench_marker WHERE key = 'data'").scalar()


# The generated data; every other table (messages, outbox, flood counts...) starts empty each run.
DATA_TABLES = {
    "district",
    "block",
    "sector",
    "village",
    "person",
    "person_phone",
    "post",
    "daily_report",
    "report_value",
    "unit_target",
    "unit_day_total",
    "unit_day_reported",
    "reporting_days",
}


def data_schema_matches(engine: Engine) -> bool:
    """Whether the generated tables still have the shape the code expects."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)

    def table_of(change: Any) -> str | None:
        item = change[0] if isinstance(change, list) else change  # modify_* come in lists
        kind = item[0]
        if kind in ("add_table", "remove_table"):
            return str(item[1].name)
        if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
            return str(item[2])
        table = getattr(item[1], "table", None)  # indexes and constraints
        return str(table.name) if table is not None else None

    return not any(table_of(change) in DATA_TABLES for change in diff)


def reset_other_tables(engine: Engine) -> None:
    """Empty (and rebuild to the current models) every table the benchmark did not generate."""
    from sqlmodel import SQLModel

    others = [t for name, t in SQLModel.metadata.tables.items() if name not in DATA_TABLES]
    with engine.begin() as conn:
        for table in others:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table.name}" CASCADE')
        SQLModel.metadata.create_all(conn, tables=others)


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).scalar()
    if not found:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    admin.dispose()


def generate(engine: Engine, scale: float) -> dict[str, float]:
    """Build the state and its reports from nothing; returns the seconds each part took."""
    s = shape(scale)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    per_district = s["blocks"] // s["districts"]
    bigger = s["blocks"] - per_district * s["districts"]  # the first ones get a block more
    full_sectors = s["workers"] - 19 * s["sectors"]  # sectors of 20; the rest have 19
    log(f"hierarchy: {s}")
    _exec(
        engine,
        "INSERT INTO district (id, name) SELECT i, n FROM unnest(CAST(:names AS text[]))"
        " WITH ORDINALITY AS t(n, i)",
        f"""INSERT INTO block (id, district_id, name)
            SELECT row_number() OVER (ORDER BY d.id, k), d.id, d.name || ' Block ' || k
            FROM district d, generate_series(1, {per_district} + CASE WHEN d.id <= {bigger}
                                                                THEN 1 ELSE 0 END) k""",
        """INSERT INTO sector (id, block_id, name)
           SELECT (b.id - 1) * 10 + k, b.id, b.name || ' Sector ' || k
           FROM block b, generate_series(1, 10) k""",
        """INSERT INTO village (id, sector_id, name, lat, lon)
           SELECT (s.id - 1) * 5 + k, s.id, 'Village ' || s.id || '-' || k,
                  26 + random(), 80 + random()
           FROM sector s, generate_series(1, 5) k""",
        f"""INSERT INTO person (id, worker_id, name, phone, role, language, active, village_id,
                               sector_id, block_id, district_id, created_at, updated_at)
            SELECT n, 'W' || n, 'ASHA ' || n, '+919' || lpad(n::text, 9, '0'),
                   CASE WHEN n % 7 = 0 THEN 'anm' ELSE 'asha' END, 'hi', true,
                   (s.id - 1) * 5 + 1 + k % 5, s.id, b.id, b.district_id, now(), now()
            FROM (SELECT s.*, k, row_number() OVER (ORDER BY s.id, k) AS n
                  FROM sector s, generate_series(1, 20) k
                  WHERE k <= 19 OR s.id <= {full_sectors}) s
            JOIN block b ON b.id = s.block_id""",
        # Officers: a supervisor per sector, a BMO per block, an officer per district, an admin.
        """INSERT INTO person (id, name, phone, role, language, active, sector_id, block_id,
                               district_id, created_at, updated_at)
           SELECT 1000000 + s.id, 'Supervisor ' || s.id, '+918' || lpad(s.id::text, 9, '0'),
                  'supervisor', 'hi', true, s.id, b.id, b.district_id, now(), now()
           FROM sector s JOIN block b ON b.id = s.block_id
           UNION ALL
           SELECT 2000000 + b.id, 'BMO ' || b.name, '+917' || lpad(b.id::text, 9, '0'), 'bmo', 'hi',
                  true, NULL::int, b.id, b.district_id, now(), now() FROM block b
           UNION ALL
           SELECT 3000000 + d.id, 'DM ' || d.name, '+916' || lpad(d.id::text, 9, '0'),
                  'district_officer', 'hi', true, NULL, NULL, d.id, now(), now() FROM district d
           UNION ALL
           SELECT 4000000, 'State admin', '+916999999999', 'admin', 'en', true, NULL, NULL, NULL,
                  now(), now()""",
        """INSERT INTO post (person_id, district_id, block_id, sector_id)
           SELECT id, district_id, block_id, sector_id FROM person WHERE role = 'supervisor'
           UNION ALL SELECT id, district_id, block_id, NULL FROM person WHERE role = 'bmo'
           UNION ALL SELECT id, district_id, NULL, NULL FROM person WHERE role = 'district_officer'
        """,
        "INSERT INTO person_phone (phone, person_id) SELECT phone, id FROM person",
        # A district's eligible population (and those carded before the campaign) for coverage,
        # and a few blocks with their own daily target.
        """INSERT INTO unit_target (level, unit_id, metric, district_id, block_id, daily,
                                    campaign_total, eligible, baseline, updated_at)
           SELECT 'district', d.id, 'cards', d.id, NULL, NULL, NULL,
                  2000000 + d.id * 15000, 600000 + d.id * 4000, now() FROM district d""",
        """INSERT INTO unit_target (level, unit_id, metric, district_id, block_id, daily,
                                    campaign_total, eligible, baseline, updated_at)
           SELECT 'block', b.id, 'cards', b.district_id, b.id, 2500, NULL, NULL, NULL, now()
           FROM block b WHERE b.id % 5 = 0""",
        *[
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            for table in ("district", "block", "sector", "village", "person", "post")
        ],
        names=UP_DISTRICTS[: s["districts"]]
        + [f"District {i}" for i in range(len(UP_DISTRICTS) + 1, s["districts"] + 1)],
    )
    timings["hierarchy_s"] = time.perf_counter() - started

    # Reports: secondary indexes off for the load, built once afterwards.
    step = time.perf_counter()
    report_indexes = list(DailyReport.__table__.indexes)  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for index in report_indexes:
            index.drop(conn)
        conn.exec_driver_sql(
            "ALTER TABLE daily_report DROP CONSTRAINT IF EXISTS daily_report_person_id_day_key"
        )
    last = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    _exec(
        engine,
        f"""INSERT INTO daily_report (person_id, day, district_id, block_id, sector_id, village_id,
                                     created_at, updated_at)
            SELECT p.id, d::date, p.district_id, p.block_id, p.sector_id, p.village_id, now(), now()
            FROM generate_series(DATE '{FIRST_DAY}', DATE '{last}', interval '1 day') d
            CROSS JOIN person p
            WHERE p.role IN ('asha', 'anm')
              AND (d::date < DATE '{last}' OR p.id % 10 < {round(TODAY_REPORTING * 10)})""",
    )
    timings["daily_report_s"] = time.perf_counter() - step
    step = time.perf_counter()
    # Every report has applications and cards; households half the time, 70+ cards and rejections
    # now and then. Districts differ in pace so that rankings mean something.
    _exec(
        engine,
        """INSERT INTO report_value (report_id, metric, value)
           SELECT r.id, v.metric, v.value
           FROM (SELECT id, district_id, random() AS a, random() AS b FROM daily_report) r
           CROSS JOIN LATERAL (VALUES
               ('applications', (r.a * (12 + r.district_id % 9) * 2)::int, true),
               ('cards', (r.a * (10 + r.district_id % 9) * 2)::int, true),
               ('households', (r.b * 40)::int, r.b < 0.5),
               ('elderly_cards', (r.b * 10)::int, r.b > 0.9),
               ('rejected', (r.a * 5)::int, r.b < 0.1)
           ) AS v(metric, value, present)
           WHERE v.present""",
    )
    timings["report_value_s"] = time.perf_counter() - step
    step = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql(
            "ALTER TABLE daily_report ADD CONSTRAINT daily_report_person_id_day_key"
            " UNIQUE (person_id, day)"
        )
        for index in report_indexes:
            index.create(conn)
    timings["report_indexes_s"] = time.perf_counter() - step

    # The aggregates, as bot.crud would have kept them report by report: sectors from the reports,
    # blocks and districts from the sectors (a sector lies in one block, a block in one district).
    step = time.perf_counter()
    total_indexes = list(UnitDayTotal.__table__.indexes)  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for index in total_indexes:
            index.drop(conn)
    day_number = "(r.day - DATE '2020-01-01')"
    _exec(
        engine,
        """INSERT INTO unit_day_total (level, unit_id, day, metric, value)
           SELECT 'sector', r.sector_id, r.day, v.metric, sum(v.value)
           FROM daily_report r JOIN report_value v ON v.report_id = r.id
           GROUP BY r.sector_id, r.day, v.metric""",
        """INSERT INTO unit_day_total (level, unit_id, day, metric, value)
           SELECT 'block', s.block_id, u.day, u.metric, sum(u.value)
           FROM unit_day_total u JOIN sector s ON s.id = u.unit_id WHERE u.level = 'sector'
           GROUP BY s.block_id, u.day, u.metric""",
        """INSERT INTO unit_day_total (level, unit_id, day, metric, value)
           SELECT 'district', b.district_id, u.day, u.metric, sum(u.value)
           FROM unit_day_total u JOIN block b ON b.id = u.unit_id WHERE u.level = 'block'
           GROUP BY b.district_id, u.day, u.metric""",
        """INSERT INTO unit_day_reported (level, unit_id, day, reported)
           SELECT 'sector', sector_id, day, count(*) FROM daily_report GROUP BY sector_id, day""",
        """INSERT INTO unit_day_reported (level, unit_id, day, reported)
           SELECT 'block', s.block_id, u.day, sum(u.reported)
           FROM unit_day_reported u JOIN sector s ON s.id = u.unit_id WHERE u.level = 'sector'
           GROUP BY s.block_id, u.day""",
        """INSERT INTO unit_day_reported (level, unit_id, day, reported)
           SELECT 'district', b.district_id, u.day, sum(u.reported)
           FROM unit_day_reported u JOIN block b ON b.id = u.unit_id WHERE u.level = 'block'
           GROUP BY b.district_id, u.day""",
        f"""INSERT INTO reporting_days (sector_id, bucket, block_id, district_id, workers)
            SELECT w.sector_id, w.bucket, min(w.block_id), min(w.district_id),
                   string_agg(w.person_id || ':' || w.bits, ' ' ORDER BY w.person_id)
            FROM (SELECT r.person_id, r.sector_id, {day_number} / 63 AS bucket,
                         min(r.block_id) AS block_id, min(r.district_id) AS district_id,
                         sum(CAST(1 AS BIGINT) << ({day_number} % 63)) AS bits
                  FROM daily_report r GROUP BY r.person_id, r.sector_id, {day_number} / 63) w
            GROUP BY w.sector_id, w.bucket""",
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        for index in total_indexes:
            index.create(conn)
    timings["aggregates_s"] = time.perf_counter() - step
    step = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("person", "person_phone", "post", "unit_day_total", "unit_day_reported"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
        conn.exec_driver_sql("VACUUM ANALYZE reporting_days")
        conn.exec_driver_sql("ANALYZE")
    timings["analyze_s"] = time.perf_counter() - step
    timings["generate_s"] = time.perf_counter() - started
    return timings


def check_aggregates(engine: Engine, settings: Settings) -> None:
    """The loaded aggregates read like the reports (one district, this week): else stop."""
    with Session(engine) as session:
        district = session.exec(select(District).order_by(District.id)).first()
        assert district is not None
        unit = district_unit(district)
        start = TODAY - dt.timedelta(days=6)
        fast = rollups.figures(session=session, settings=settings, unit=unit, start=start, end=TODAY)
        slow = rollups.figures(
            session=session, settings=settings, unit=unit, start=start, end=TODAY, source=rollups.RAW
        )
    if fast != slow:
        raise SystemExit(f"aggregates and reports disagree:\n{fast}\n{slow}")


# ---------------------------------------------------------------- the timed queries


def timed(runs: int, call: Callable[[int], object]) -> list[float]:
    out = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 1) if len(values) >= 20 else max(values)


def measure(engine: Engine, settings: Settings, runs: int) -> dict[str, float]:
    now = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 20, 30, tzinfo=IST)
    core = Fieldbot(settings, engine, clock=lambda: now)
    rng = random.Random(7)
    with Session(engine) as session:
        bmos = list(session.exec(select(Person.phone).where(Person.role == "bmo")).all())
        officers = list(
            session.exec(select(Person.phone).where(Person.role == "district_officer")).all()
        )
        workers = list(
            session.exec(
                select(Person.phone).where(Person.role == "asha").order_by(Person.id).limit(20000)
            ).all()
        )
        districts = [district_unit(d) for d in session.exec(select(District)).all()]
        assert session.exec(select(Post).limit(1)).first() is not None

    def ask(phone: str, text_: str, expect: str) -> str:
        replies = core.handle(
            Inbound(
                channel="simulator",
                dedup_key=f"bench:{uuid.uuid4().hex}",
                sent_at=now,
                chat_id=phone,
                phone=phone,
                text=text_,
            )
        )
        if not replies[0].text.startswith(expect):
            raise SystemExit(f"{text_!r} from {phone} was answered: {replies[0].text}")
        return replies[0].text

    periods = ["", " week", " campaign"]
    results: dict[str, float] = {"rollups_machine_load_1m_before": round(os.getloadavg()[0], 2)}
    for phone in officers[:3] + bmos[:3]:  # warm up: first contact notices, caches
        ask(phone, "/status", "📊")
    # What any message costs before a handler runs (the sender, the dedup, the commit).
    results["chat_help_p95_ms"] = p95(
        timed(max(20, runs // 5), lambda i: ask(rng.choice(bmos), "/help", ""))
    )
    block_times = timed(runs, lambda i: ask(rng.choice(bmos), "/status" + periods[i % 3], "📊"))
    district_times = timed(runs, lambda i: ask(rng.choice(officers), "/status" + periods[i % 3], "📊"))
    results["status_p95_ms"] = p95(block_times + district_times)
    results["status_p50_ms"] = round(statistics.median(block_times + district_times), 1)
    results["status_block_p95_ms"] = p95(block_times)
    results["status_district_p95_ms"] = p95(district_times)
    results["status_district_campaign_p95_ms"] = p95(
        timed(max(20, runs // 5), lambda i: ask(rng.choice(officers), "/status campaign", "📊"))
    )

    start = settings.campaign.start or FIRST_DAY
    with Session(engine) as session:
        units = [u for d in districts[:20] for u in rollups.children(session=session, unit=d)[:3]]
    units += districts
    ranges = [(TODAY, TODAY), (TODAY - dt.timedelta(days=6), TODAY), (start, TODAY)]

    def figures_only(i: int) -> None:
        with Session(engine) as session:
            first, last = ranges[i % 3]
            rollups.status_view(
                session=session, settings=settings, unit=rng.choice(units), start=first, end=last
            )

    results["status_rollups_p95_ms"] = p95(timed(runs, figures_only))

    state = state_unit(settings.state)

    def state_ranking(_: int) -> None:
        with Session(engine) as session:
            rows = rollups.breakdown(
                session=session,
                unit=state,
                start=start,
                end=TODAY,
                metric=settings.primary_metric,
                settings=settings,
                counts=False,
            )
            rollups.by_achievement(rows)

    state_ranking(0)
    results["state_ranking_ms"] = p95(timed(max(20, runs // 5), state_ranking))
    results["top_campaign_p95_ms"] = p95(
        timed(max(20, runs // 5), lambda i: ask(rng.choice(officers), "/top campaign", "🏆"))
    )

    def district_export(i: int) -> None:
        unit = districts[(i * 17) % len(districts)]
        with Session(engine) as session:
            header, rows = rollups.export_rows(
                session=session, settings=settings, level="worker", start=TODAY, end=TODAY, within=unit
            )
        xlsx_bytes([("worker", header, rows)])

    district_export(0)
    results["export_district_day_ms"] = p95(timed(20, district_export))
    results["export_chat_district_day_p95_ms"] = p95(
        timed(20, lambda i: ask(rng.choice(officers), "/export today", "📎"))
    )
    results["report_write_p95_ms"] = p95(
        timed(
            runs,
            lambda i: ask(
                rng.choice(workers), f"आवेदन {rng.randint(0, 40)} कार्ड {rng.randint(0, 30)}", "✅"
            ),
        )
    )
    results["rollups_machine_load_1m_after"] = round(os.getloadavg()[0], 2)
    with engine.connect() as conn:  # the server's cache, which decides how much is read from disk
        buffers = conn.exec_driver_sql(
            "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
        ).scalar_one()
    results["rollups_postgres_shared_buffers_mb"] = int(buffers)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1.6 lakh workers")
    parser.add_argument("--runs", type=int, default=200, help="timed messages per query kind")
    parser.add_argument("--regenerate", action="store_true", help="build the data again")
    parser.add_argument("--out", type=Path, help="also write the results here")
    parser.add_argument("--url", default=None, help=f"database URL (default {DEFAULT_URL})")
    args = parser.parse_args()

    url = args.url or os.environ.get("FIELDBOT_BENCH_URL") or DEFAULT_URL
    ensure_database(url)
    engine = make_engine(url)
    settings = bench_settings()
    wanted = json.dumps({"version": DATA_VERSION, "scale": args.scale, "days": DAYS})
    results: dict[str, float] = {}
    if not args.regenerate and _marker(engine) == wanted:
        upgrade(engine)
        if not data_schema_matches(engine):
            log("the generated tables changed shape since the last run: generating again")
            args.regenerate = True
    if args.regenerate or _marker(engine) != wanted:
        log(f"generating the state at scale {args.scale} into {make_url(url).database}")
        timings = generate(engine, args.scale)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_marker (key text PRIMARY KEY, value text)")
            conn.exec_driver_sql("INSERT INTO bench_marker VALUES ('data', %s)", (wanted,))
        results.update({f"rollups_{k}": round(v, 1) for k, v in timings.items()})
        log("generated: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    else:
        log("reusing the generated state (--regenerate builds it again)")
        reset_other_tables(engine)
    check_aggregates(engine, settings)
    with engine.connect() as conn:
        results["rollups_workers"] = conn.exec_driver_sql(
            "SELECT count(*) FROM person WHERE role IN ('asha', 'anm')"
        ).scalar_one()
        results["rollups_worker_days"] = conn.exec_driver_sql(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'daily_report'"
        ).scalar_one()
        results["rollups_districts"] = conn.exec_driver_sql("SELECT count(*) FROM district").scalar_one()
        results["rollups_blocks"] = conn.exec_driver_sql("SELECT count(*) FROM block").scalar_one()
    log("timing the queries")
    results.update(measure(engine, settings, args.runs))
    engine.dispose()
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
