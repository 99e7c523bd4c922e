"""Rollups at state scale on PostgreSQL: a state of 1.6 lakh field workers in 75 districts and 820
blocks with 90 days of reports, then the queries officers make, timed.

    python benchmarks/bench_rollups.py [--scale 1.0] [--out results.json] [--regenerate]

The data goes into its own database (FIELDBOT_BENCH_URL, default fieldbot_bench on the local
server). The hierarchy is made with INSERT ... SELECT; the reports, their values and the aggregates
are made with numpy a day at a time and streamed in with binary COPY on two connections side by
side, each table in the order of its primary key, and the indexes dropped for the load are built
again afterwards exactly as the migrations made them. A marker row keeps the data for the next
run: only a different --scale, a newer data version, or --regenerate builds it again. Prints one
JSON object of flat numeric results on its last line.
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_core  # noqa: E402
from bot.config import Settings, load_settings  # noqa: E402
from bot.core.messages import Inbound  # noqa: E402
from bot.core.service import Fieldbot  # noqa: E402
from bot.export import xlsx_bytes  # noqa: E402
from bot.rollups.export_table import export_rows  # noqa: E402
from bot.rollups.figures import figures, status_view  # noqa: E402
from bot.rollups.ranking import breakdown, by_achievement  # noqa: E402
from bot.rollups.scope import RAW, children  # noqa: E402
from bot.store.db import make_engine, upgrade  # noqa: E402
from bot.store.totals import BUCKET_DAYS, EPOCH  # noqa: E402
from bot.store.units import district_unit, state_unit  # noqa: E402
from models import District, Person, Post  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fieldbot_bench"
DATA_VERSION = "6"  # bump when the generated data changes shape
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


# The loading sessions: big sorts in memory, no foreign key checks, commits not waited for.
LOAD_SETTINGS = (
    "SET work_mem = '512MB'",
    "SET maintenance_work_mem = '1GB'",
    "SET session_replication_role = replica",
    "SET synchronous_commit = off",
)


def _exec(engine: Engine, *statements: str, **params: Any) -> None:
    """Statements in one transaction; `params` go to the first."""
    with engine.begin() as conn:
        for setting in LOAD_SETTINGS:
            conn.exec_driver_sql(setting)
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


# Each report's numbers: every report has applications and cards; households half the time, 70+
# cards and rejections now and then. Districts differ in pace so that rankings mean something.
# In the order PostgreSQL sorts them, so that rows go in as report_value's primary key reads them.
METRICS = ("applications", "cards", "elderly_cards", "households", "rejected")
SEED = 7
PG_EPOCH = dt.date(2000, 1, 1)  # day 0 of PostgreSQL's binary dates and timestamps
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
COPY_TRAILER = b"\xff\xff"

Column = tuple[str, Any]  # a numpy type (">i4", ">i8" or "S<n>" for text) and the values


def _day_values(
    day: int, districts: npt.NDArray[np.int64]
) -> tuple[list[npt.NDArray[np.int64]], list[npt.NDArray[np.bool_]]]:
    """Each metric's value, and whether the report has it, for every worker's report of a day
    (workers in id order, in their `districts`); the same for a day however often it is asked."""
    rng = np.random.default_rng((SEED, day))
    a, b = rng.random(len(districts)), rng.random(len(districts))
    pace = districts % 9
    values = [
        np.rint(a * (12 + pace) * 2),
        np.rint(a * (10 + pace) * 2),
        np.rint(b * 10),
        np.rint(b * 40),
        np.rint(a * 5),
    ]
    everyone = np.ones(len(districts), dtype=np.bool_)
    present = [everyone, everyone, b > 0.9, b < 0.5, b < 0.1]
    return [v.astype(np.int64) for v in values], present


def _reporters(day: int, persons: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Who reported on a day: all the workers, but on the last day most (not all) of them."""
    if day < DAYS - 1:
        return np.ones(len(persons), dtype=np.bool_)
    return np.asarray(persons % 10 < round(TODAY_REPORTING * 10))


def _copy_rows(
    count: int, variants: Sequence[tuple[npt.NDArray[np.bool_] | None, Sequence[Column]]]
) -> bytes:
    """`count` rows in PostgreSQL's binary COPY format; a row per variant (its columns) where the
    variant's mask is set (or always), the variants of a row one after the other."""
    blocks, masks = [], []
    for mask, columns in variants:
        fields: list[tuple[str, str]] = [("n", ">i2")]
        for i, (kind, _) in enumerate(columns):
            fields += [(f"l{i}", ">i4"), (f"v{i}", kind)]
        rows = np.empty(count, dtype=np.dtype(fields))
        rows["n"] = len(columns)
        for i, (_, values) in enumerate(columns):
            rows[f"l{i}"] = rows.dtype[f"v{i}"].itemsize
            rows[f"v{i}"] = values
        blocks.append(rows.view(np.uint8).reshape(count, rows.dtype.itemsize))
        everyone = np.ones(count, dtype=np.bool_)
        masks.append(np.repeat((everyone if mask is None else mask)[:, None], rows.dtype.itemsize, 1))
    if len(blocks) == 1 and variants[0][0] is None:
        return blocks[0].tobytes()
    return np.hstack(blocks)[np.hstack(masks)].tobytes()


def _copy(conn: Connection, table: str, columns: str, chunks: Iterable[bytes]) -> None:
    """COPY the binary `chunks` into a table."""
    raw: Any = conn.connection.dbapi_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(COPY_SIGNATURE)
        for chunk in chunks:
            copy.write(chunk)
        copy.write(COPY_TRAILER)


def _reporting_days(workers: int) -> str:
    """Each worker's reported days as bits, per 63-day bucket: the run of days from the first to
    her last (the day before the last for those who have not reported today)."""
    first = (FIRST_DAY - EPOCH).days
    last = first + DAYS - 1
    size = BUCKET_DAYS
    return f"""
        INSERT INTO reporting_days (sector_id, bucket, block_id, district_id, workers)
        SELECT sector_id, bucket, min(block_id), min(district_id),
               string_agg(id || ':' || ((CAST(1 AS BIGINT) << hi) - (CAST(1 AS BIGINT) << lo)
                                        + (CAST(1 AS BIGINT) << hi)), ' ' ORDER BY id)
        FROM (SELECT p.id, p.sector_id, p.block_id, p.district_id, k AS bucket,
                     greatest({first}, k * {size}) - k * {size} AS lo,
                     least(CASE WHEN p.id % 10 < {round(TODAY_REPORTING * 10)} THEN {last}
                                ELSE {last - 1} END, k * {size} + {size - 1}) - k * {size} AS hi
              FROM person p CROSS JOIN generate_series({first // size}, {last // size}) k
              WHERE p.role IN ('asha', 'anm') AND p.id <= {workers}) w
        WHERE hi >= lo
        GROUP BY sector_id, bucket"""


def _drop_indexes(conn: Connection, table: str) -> list[str]:
    """Drop a table's indexes (with their primary key or unique constraints) but those a foreign
    key refers to; returns the statements that make them again, exactly as they were."""
    rows = conn.exec_driver_sql(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname,
                  pg_get_constraintdef(c.oid)
           FROM pg_index i
           LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('p', 'u')
                                    AND c.conrelid = i.indrelid
           WHERE i.indrelid = CAST(%s AS regclass)
             AND NOT EXISTS (SELECT FROM pg_constraint f
                             WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
           ORDER BY i.indexrelid""",
        (table,),
    ).all()
    create = []
    for index, definition, constraint, constraint_definition in rows:
        if constraint is None:
            conn.exec_driver_sql(f"DROP INDEX {index}")
            create.append(definition)
        else:
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
            create.append(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_definition}')
    return create


class Lane:
    """A connection of its own in one transaction, with the loading settings, timing its steps."""

    def __init__(self, engine: Engine, timings: dict[str, float]):
        self.engine, self.timings = engine, timings

    def step(self, name: str, started: float) -> None:
        took = time.perf_counter() - started
        key = name.replace(" ", "_") + "_s"
        self.timings[key] = self.timings.get(key, 0.0) + took
        log(f"{name}: {took:.1f}s")

    def run(self, work: Callable[[Connection, Lane], None]) -> None:
        with self.engine.begin() as conn:
            for setting in LOAD_SETTINGS:
                conn.exec_driver_sql(setting)
            work(conn, self)

    def sql(self, conn: Connection, name: str, *statements: str) -> None:
        for statement in statements:
            started = time.perf_counter()
            conn.execute(text(statement))
            self.step(name, started)


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
        # Workers are persons 1 to s["workers"], in sector order: report ids build on that.
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

    # The reports, their values and the aggregates (as bot.store.totals would have kept them report
    # by report) are made here a day at a time and streamed in with COPY on two connections side by
    # side, each table in the order of its primary key; the indexes dropped for the load are then
    # built again, exactly as they were, daily_report's primary key (the values' foreign key
    # needs it) kept all along.
    step = time.perf_counter()
    with engine.begin() as conn:
        people = np.array(
            conn.exec_driver_sql(
                "SELECT id, district_id, block_id, sector_id, village_id FROM person"
                " WHERE role IN ('asha', 'anm') ORDER BY id"
            ).all(),
            dtype=np.int64,
        )
        block_of = np.zeros(s["sectors"] + 1, dtype=np.int64)
        for sector_id, block_id in conn.exec_driver_sql("SELECT id, block_id FROM sector"):
            block_of[sector_id] = block_id
        district_of = np.zeros(s["blocks"] + 1, dtype=np.int64)
        for block_id, district_id in conn.exec_driver_sql("SELECT id, district_id FROM block"):
            district_of[block_id] = district_id
        rebuild = {
            table: _drop_indexes(conn, table)
            for table in ("daily_report", "report_value", "unit_day_total", "unit_day_reported")
        }
    persons, districts, blocks, sectors, villages = people.T
    workers = len(persons)
    assert persons.tolist() == list(range(1, workers + 1))  # report ids build on that
    day_zero = (FIRST_DAY - PG_EPOCH).days
    now = (dt.datetime.now(dt.UTC) - dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        microseconds=1
    )
    units = {"sector": s["sectors"], "block": s["blocks"], "district": s["districts"]}
    sums = {level: np.zeros((n + 1, DAYS, len(METRICS)), dtype=np.int64) for level, n in units.items()}
    counts = {level: np.zeros_like(sums[level]) for level in units}
    reported = {level: np.zeros((n + 1, DAYS), dtype=np.int64) for level, n in units.items()}

    def reports() -> Iterator[bytes]:
        for day in range(DAYS):
            who = _reporters(day, persons)
            yield _copy_rows(
                int(who.sum()),
                [
                    (
                        None,
                        [
                            (">i4", day * workers + persons[who]),
                            (">i4", persons[who]),
                            (">i4", day_zero + day),
                            (">i4", districts[who]),
                            (">i4", blocks[who]),
                            (">i4", sectors[who]),
                            (">i4", villages[who]),
                            (">i8", now),
                            (">i8", now),
                        ],
                    )
                ],
            )

    def report_values() -> Iterator[bytes]:
        for day in range(DAYS):
            who = _reporters(day, persons)
            values, present = _day_values(day, districts)
            for m, (value, has) in enumerate(zip(values, present, strict=True)):
                has = has & who
                sums["sector"][:, day, m] = np.bincount(
                    sectors, weights=value * has, minlength=s["sectors"] + 1
                )
                counts["sector"][:, day, m] = np.bincount(sectors[has], minlength=s["sectors"] + 1)
            reported["sector"][:, day] = np.bincount(sectors[who], minlength=s["sectors"] + 1)
            ids = day * workers + persons[who]
            yield _copy_rows(
                len(ids),
                [
                    (
                        has[who],
                        [(">i4", ids), (f"S{len(metric)}", metric.encode()), (">i4", value[who])],
                    )
                    for metric, value, has in zip(METRICS, values, present, strict=True)
                ],
            )

    def aggregates(table: str) -> Iterator[bytes]:
        """unit_day_total or unit_day_reported rows in primary key order, a few units at a time."""
        for level in sorted(units):
            for first in range(1, units[level] + 1, 1000):
                ids = np.arange(first, min(first + 1000, units[level] + 1))
                unit_ids, days = np.repeat(ids, DAYS), np.tile(day_zero + np.arange(DAYS), len(ids))
                name = (f"S{len(level)}", level.encode())
                if table == "unit_day_reported":
                    done = reported[level][ids].reshape(-1)
                    variants = [(done > 0, [name, (">i4", unit_ids), (">i4", days), (">i4", done)])]
                else:
                    variants = [
                        (
                            counts[level][ids, :, m].reshape(-1) > 0,
                            [
                                name,
                                (">i4", unit_ids),
                                (">i4", days),
                                (f"S{len(metric)}", metric.encode()),
                                (">i8", sums[level][ids, :, m].reshape(-1)),
                            ],
                        )
                        for m, metric in enumerate(METRICS)
                    ]
                yield _copy_rows(len(unit_ids), variants)

    # Two lanes of about the same work: the reports; the values, then the aggregates from them.
    def load_reports(conn: Connection, lane: Lane) -> None:
        started = time.perf_counter()
        columns = "id, person_id, day, district_id, block_id, sector_id, village_id, created_at"
        _copy(conn, "daily_report", columns + ", updated_at", reports())
        lane.step("daily_report", started)
        lane.sql(conn, "daily_report indexes", *rebuild["daily_report"])

    def load_values(conn: Connection, lane: Lane) -> None:
        started = time.perf_counter()
        _copy(conn, "report_value", "report_id, metric, value", report_values())
        lane.step("report_value", started)
        started = time.perf_counter()
        for upper, lower, parent_of in (
            ("block", "sector", block_of),
            ("district", "block", district_of),
        ):
            for totals in (sums, counts, reported):
                np.add.at(totals[upper], parent_of[1:], totals[lower][1:])
        for table, columns in (
            ("unit_day_total", "level, unit_id, day, metric, value"),
            ("unit_day_reported", "level, unit_id, day, reported"),
        ):
            _copy(conn, table, columns, aggregates(table))
        lane.step("aggregates", started)
        lane.sql(conn, "reporting_days", _reporting_days(workers))
        lane.sql(conn, "report_value indexes", *rebuild["report_value"])
        lane.sql(conn, "aggregate indexes", *rebuild["unit_day_total"], *rebuild["unit_day_reported"])

    with ThreadPoolExecutor(2) as pool:
        lanes = [pool.submit(Lane(engine, timings).run, work) for work in (load_reports, load_values)]
        for lane in lanes:
            lane.result()
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('daily_report', 'id'),"
            " (SELECT max(id) FROM daily_report))"
        )
    timings["load_s"] = time.perf_counter() - step
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
        district = session.exec(select(District).order_by(col(District.id))).first()
        assert district is not None
        unit = district_unit(district)
        start = TODAY - dt.timedelta(days=6)
        fast = figures(session=session, settings=settings, unit=unit, start=start, end=TODAY)
        slow = figures(session=session, settings=settings, unit=unit, start=start, end=TODAY, source=RAW)
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
    core = build_core(settings, engine, clock=lambda: now)
    rng = random.Random(7)
    with Session(engine) as session:
        bmos = list(session.exec(select(Person.phone).where(Person.role == "bmo")).all())
        officers = list(
            session.exec(select(Person.phone).where(Person.role == "district_officer")).all()
        )
        workers = list(
            session.exec(
                select(Person.phone).where(Person.role == "asha").order_by(col(Person.id)).limit(20000)
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
        units = [u for d in districts[:20] for u in children(session=session, unit=d)[:3]]
    units += districts
    ranges = [(TODAY, TODAY), (TODAY - dt.timedelta(days=6), TODAY), (start, TODAY)]

    def figures_only(i: int) -> None:
        with Session(engine) as session:
            first, last = ranges[i % 3]
            status_view(
                session=session, settings=settings, unit=rng.choice(units), start=first, end=last
            )

    results["status_rollups_p95_ms"] = p95(timed(runs, figures_only))

    state = state_unit(settings.state)

    def state_ranking(_: int) -> None:
        with Session(engine) as session:
            rows = breakdown(
                session=session,
                unit=state,
                start=start,
                end=TODAY,
                metric=settings.primary_metric,
                settings=settings,
                counts=False,
            )
            by_achievement(rows)

    state_ranking(0)
    results["state_ranking_ms"] = p95(timed(max(20, runs // 5), state_ranking))
    results["top_campaign_p95_ms"] = p95(
        timed(max(20, runs // 5), lambda i: ask(rng.choice(officers), "/top campaign", "🏆"))
    )

    def district_export(i: int) -> None:
        unit = districts[(i * 17) % len(districts)]
        with Session(engine) as session:
            header, rows = export_rows(
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
    results.update(measure_dashboard(engine, settings, core, runs))
    results["rollups_machine_load_1m_after"] = round(os.getloadavg()[0], 2)
    with engine.connect() as conn:  # the server's cache, which decides how much is read from disk
        buffers = conn.exec_driver_sql(
            "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
        ).scalar_one()
    results["rollups_postgres_shared_buffers_mb"] = int(buffers)
    return results


def measure_dashboard(engine: Engine, settings: Settings, core: Fieldbot, runs: int) -> dict[str, float]:
    """Server time of a dashboard page: a BMO's block, and the state overview an admin opens.

    Each request goes through the whole app in process (the session cookie looked up, the page's
    reads, the template rendered); only the network is left out."""
    from starlette.testclient import TestClient

    from bot.dashboard import auth
    from bot.dashboard.site import COOKIE
    from bot.web import create_app
    from models import LoginLink, utcnow

    with Session(engine) as session:
        bmo = session.exec(select(Person).where(Person.role == "bmo").order_by(col(Person.id))).first()
        admin = session.exec(select(Person).where(Person.worker_id == "bench-admin")).first()
        if admin is None:
            admin = Person(
                name="Bench Admin", phone="+919000000001", role="admin", worker_id="bench-admin"
            )
            session.add(admin)
            session.commit()
            session.refresh(admin)
        cookies = {}
        for who in (bmo, admin):
            assert who is not None
            # Earlier runs' links would count against the hour's allowance.
            session.execute(delete(LoginLink).where(col(LoginLink.person_id) == who.id))
            token = auth.new_link(session=session, settings=settings, person=who, now=utcnow())
            assert token is not None
            signed = auth.redeem(session=session, settings=settings, token=token, now=utcnow())
            assert isinstance(signed, auth.Signed)
            cookies[who.role] = signed.token
        session.commit()
    periods = ["", "?period=week", "?period=campaign"]
    results: dict[str, float] = {}
    # CPU time of this process (the app's thread and the client's) per request: on a machine busy
    # with other work the wall time grows with the wait for a core, this much less.
    cpu: dict[str, list[float]] = {"bmo": [], "admin": []}
    by_period: dict[str, list[float]] = {key: [] for key in ("today", "week", "campaign")}
    with TestClient(create_app(core, simulator=False), base_url="http://127.0.0.1:8080") as client:

        def page(role: str, i: int) -> None:
            client.cookies.set(COOKIE, cookies[role])
            started, wall = time.process_time(), time.perf_counter()
            answer = client.get("/dashboard" + periods[i % 3])
            cpu[role].append((time.process_time() - started) * 1000)
            if role == "admin":
                by_period[("today", "week", "campaign")[i % 3]].append(
                    (time.perf_counter() - wall) * 1000
                )
            if answer.status_code != 200:
                raise SystemExit(f"dashboard for the {role}: {answer.status_code} {answer.text[:200]}")

        page("bmo", 0)
        page("admin", 0)
        for samples in (*cpu.values(), *by_period.values()):
            samples.clear()
        results["dashboard_bmo_p95_ms"] = p95(timed(runs, lambda i: page("bmo", i)))
        results["dashboard_state_p95_ms"] = p95(timed(max(20, runs // 5), lambda i: page("admin", i)))
    results["dashboard_bmo_cpu_p95_ms"] = p95(cpu["bmo"])
    results["dashboard_state_cpu_p95_ms"] = p95(cpu["admin"])
    for key, samples in by_period.items():
        results[f"dashboard_state_{key}_max_ms"] = round(max(samples), 1)
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
