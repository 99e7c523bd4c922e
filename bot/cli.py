"""`fieldbot [--config PATH] COMMAND`: serve, migrate, import, export and ask for figures."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import ArgumentError, OperationalError

from bot import roster
from bot.app import build_core
from bot.config import ConfigError, Settings, load_settings
from bot.core.service import Fieldbot
from bot.files import PRIVATE_UMASK
from bot.logs import configure_logging
from bot.store.db import (
    DatabaseInUse,
    DatabaseNotReady,
    SqliteProcessLock,
    current_revision,
    is_sqlite,
    make_engine,
    require_migrated,
    session_scope,
    upgrade,
)

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("fieldbot")


class CliError(Exception):
    """A one-line answer for the operator; exit status 2."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-23") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fieldbot", description=__doc__)
    parser.add_argument("--config", help="config file (default: config.yaml, or FIELDBOT_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="migrate, load the sample district, serve the simulator")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)

    run = commands.add_parser("run", help="serve every configured channel, the web app, the scheduler")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--no-scheduler", action="store_true")

    commands.add_parser("scheduler", help="the scheduler alone")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply migrations")

    roster_cmd = commands.add_parser("roster", help="the list of people")
    roster_commands = roster_cmd.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    imp = roster_commands.add_parser("import", help="import a CSV or XLSX roster")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument(
        "--deactivate-missing", action="store_true", help="mark people absent from the file inactive"
    )

    villages_cmd = commands.add_parser("villages", help="village centres for the field-presence check")
    villages_commands = villages_cmd.add_subparsers(
        dest="villages_command", required=True, metavar="ACTION"
    )
    villages_imp = villages_commands.add_parser("import", help="import a CSV or XLSX villages file")
    villages_imp.add_argument("file", type=Path)
    villages_imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    targets_cmd = commands.add_parser("targets", help="per-unit targets and eligible population")
    targets_commands = targets_cmd.add_subparsers(
        dest="targets_command", required=True, metavar="ACTION"
    )
    targets_imp = targets_commands.add_parser("import", help="import a CSV or XLSX targets file")
    targets_imp.add_argument("file", type=Path)
    targets_imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    holidays_cmd = commands.add_parser("holidays", help="gazetted and local holidays")
    holidays_commands = holidays_cmd.add_subparsers(
        dest="holidays_command", required=True, metavar="ACTION"
    )
    holidays_imp = holidays_commands.add_parser(
        "import", help="import a CSV or XLSX file: date,district,block,name"
    )
    holidays_imp.add_argument("file", type=Path)
    holidays_imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")

    official_cmd = commands.add_parser("official", help="the official portal's counts")
    official_commands = official_cmd.add_subparsers(
        dest="official_command", required=True, metavar="ACTION"
    )
    official_imp = official_commands.add_parser(
        "import", help="import the portal's counts from a CSV or XLSX file"
    )
    official_imp.add_argument("file", type=Path)
    official_imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    official_imp.add_argument(
        "--skip-unknown",
        action="store_true",
        help="import the rows whose names match a unit, listing the others",
    )

    export = commands.add_parser("export", help="the rollup table as CSV or XLSX")
    export.add_argument("--from", dest="start", type=_date, required=True)
    export.add_argument("--to", dest="end", type=_date, required=True)
    export.add_argument(
        "--level", choices=["worker", "sector", "block", "district", "state"], required=True
    )
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--out", type=Path, required=True)

    proofs = commands.add_parser("proofs", help="the field-presence proofs table as CSV")
    proofs.add_argument("--from", dest="start", type=_date, required=True)
    proofs.add_argument("--to", dest="end", type=_date, required=True)
    proofs.add_argument("--out", type=Path, required=True)

    problems_cmd = commands.add_parser("problems", help="the problems workers reported, as CSV")
    problems_cmd.add_argument("--from", dest="start", type=_date, required=True)
    problems_cmd.add_argument("--to", dest="end", type=_date, required=True)
    problems_cmd.add_argument("--out", type=Path, required=True)

    forget = commands.add_parser("forget", help="erase a person's personal data; counts stay, anonymous")
    forget.add_argument("phone")
    forget.add_argument("--yes", action="store_true", help="do it without asking")

    access = commands.add_parser("access", help="write everything held about a person to a file")
    access.add_argument("phone")
    access.add_argument("--out", type=Path, required=True)

    backup = commands.add_parser(
        "backup", help="a consistent copy of the SQLite database, while it runs"
    )
    backup.add_argument("--out", type=Path, required=True)

    digest = commands.add_parser("digest", help="print (or send) a day's digests")
    digest.add_argument("--date", type=_date, required=True)
    digest.add_argument("--role", choices=["supervisor", "bmo", "district"], required=True)
    digest.add_argument("--send", action="store_true", help="queue them in the outbox and send them now")

    status = commands.add_parser("status", help="figures for a district, block or sector")
    status.add_argument(
        "unit",
        nargs="?",
        help="a name or path: Hardoi, Hardoi/Sandila, Sandila-1; without it, each bot's backlog",
    )
    status.add_argument("--from", dest="start", type=_date)
    status.add_argument("--to", dest="end", type=_date)
    status.add_argument("--json", action="store_true")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _migrated_engine(settings: Settings) -> Any:
    engine = make_engine(settings.database_url_resolved())
    require_migrated(engine)
    return engine


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = make_engine(settings.database_url_resolved())
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"database is up to date at migration {after} ({where})")
    else:
        print(f"database migrated from {before or 'empty'} to {after} ({where})")
    return 0


def cmd_roster_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = _migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = roster.import_roster(
                session,
                args.file,
                dry_run=args.dry_run,
                deactivate_missing=args.deactivate_missing,
                progress=sys.stderr.isatty(),
                aliases=settings.roster,
            )
    except roster.RosterInvalid as invalid:
        return _refused(args.file, invalid.errors)
    if summary.ignored:
        print(roster.ignored_warning(summary.ignored), file=sys.stderr)
    if args.dry_run:
        print(f"columns: {roster.describe_columns(summary.columns)}")
        print(f"{args.file}: {summary.people} people, every row is valid (dry run: nothing written)")
    else:
        units = ", ".join(f"{n} {k}(s)" for k, n in summary.units_created.items())
        print(
            f"imported {summary.people} people: {summary.created} new, {summary.updated} updated"
            + (f", {summary.deactivated} deactivated" if summary.deactivated else "")
            + (f"; new places: {units}" if units else "")
            + (
                f"; {summary.located} village(s) placed from the villages file"
                if summary.located
                else ""
            )
        )
    return 0


def _refused(path: Path, errors: list[roster.RowError]) -> int:
    for error in errors:  # row 0: the file itself (missing, not a roster, ...)
        print(error if error.row else error.message, file=sys.stderr)
    print(f"nothing imported: {len(errors)} problem(s) in {path}", file=sys.stderr)
    return 1


def cmd_villages_import(args: argparse.Namespace) -> int:
    from bot.villages import import_villages

    settings = _settings(args)
    engine = _migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_villages(session, args.file, dry_run=args.dry_run, aliases=settings.roster)
    except roster.RosterInvalid as invalid:
        return _refused(args.file, invalid.errors)
    if summary.ignored:
        print(roster.ignored_warning(summary.ignored), file=sys.stderr)
    counts = (
        f"{summary.created} new, {summary.updated} updated; {summary.located} roster village(s), "
        f"{summary.people} people"
    )
    if args.dry_run:
        print(f"columns: {roster.describe_columns(summary.columns)}")
        print(
            f"{args.file}: {summary.villages} villages, every row is valid "
            f"({counts} would get their centre; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.villages} village centres: {counts} now have their centre")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.export import write_table
    from bot.rollups import export_rows

    if args.end < args.start:
        raise CliError("--to is before --from")
    settings = _settings(args)
    engine = _migrated_engine(settings)
    with session_scope(engine) as session:
        header, rows = export_rows(
            session=session, settings=settings, level=args.level, start=args.start, end=args.end
        )
    write_table(args.out, args.format, args.level, header, rows)
    print(f"wrote {len(rows)} rows to {args.out}")
    return 0


def cmd_proofs(args: argparse.Namespace) -> int:
    from bot.export import csv_bytes
    from bot.files import write_private
    from bot.presence import PROOF_COLUMNS, proof_table

    if args.end < args.start:
        raise CliError("--to is before --from")
    settings = _settings(args)
    engine = _migrated_engine(settings)
    with session_scope(engine) as session:
        rows = proof_table(session=session, settings=settings, start=args.start, end=args.end)
    write_private(args.out, csv_bytes(PROOF_COLUMNS, rows))
    review = sum(1 for row in rows if row[PROOF_COLUMNS.index("verdict")] == "needs_review")
    print(f"wrote {len(rows)} proofs ({review} needing review) to {args.out}")
    return 0


def cmd_problems(args: argparse.Namespace) -> int:
    from bot.export import csv_bytes
    from bot.files import write_private
    from bot.problem_digest import COLUMNS, table

    if args.end < args.start:
        raise CliError("--to is before --from")
    settings = _settings(args)
    engine = _migrated_engine(settings)
    with session_scope(engine) as session:
        rows = table(session=session, settings=settings, start=args.start, end=args.end)
    write_private(args.out, csv_bytes(COLUMNS, rows))
    still = sum(1 for row in rows if row[COLUMNS.index("status")] == "open")
    print(f"wrote {len(rows)} problems ({still} still open) to {args.out}")
    return 0


def _phone(value: str) -> str:
    from bot.phones import PhoneError, normalize_phone

    try:
        return normalize_phone(value)
    except PhoneError as exc:
        raise CliError(f"{value!r} is not a mobile number") from exc


def cmd_forget(args: argparse.Namespace) -> int:
    from bot import privacy
    from bot.phones import mask_phone
    from models import utcnow

    phone = _phone(args.phone)
    settings = _settings(args)
    engine = _migrated_engine(settings)
    if not args.yes:
        try:
            answer = input(f"erase the personal data of {phone}? Their counts stay, anonymous. [y/N] ")
        except EOFError:  # no terminal (a script, cron): nobody to ask
            raise CliError(
                "forget asks before it erases, and there is no one to answer here: "
                "run it again with --yes to erase without asking"
            ) from None
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    try:
        with session_scope(engine) as session:
            done = privacy.forget(session=session, phone=phone, now=utcnow())
    except privacy.UnknownPerson as exc:
        raise CliError(f"no one on the roster has the number {mask_phone(phone)}") from exc
    removed = privacy.remove_files(done.files)
    privacy.compact(engine)
    print(
        f"forgotten: person #{done.person_id}; {done.reports} daily report(s) kept without a name, "
        f"{done.proofs} proof(s) kept as verdicts only, {removed} photo file(s) deleted"
    )
    return 0


def cmd_access(args: argparse.Namespace) -> int:
    from bot import privacy
    from bot.files import write_private

    phone = _phone(args.phone)
    settings = _settings(args)
    engine = _migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            data = privacy.access(session=session, phone=phone)
    except privacy.UnknownPerson as exc:
        raise CliError("no one on the roster has that number") from exc
    write_private(args.out, privacy.access_json(data))
    counts = ", ".join(f"{len(v)} {k}" for k, v in data.items() if isinstance(v, list) and v)
    print(f"wrote what is held about {data['person']['name']} to {args.out} ({counts})")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.backup import BackupError, backup

    settings = _settings(args)
    engine = make_engine(settings.database_url_resolved())
    try:
        copied = backup(engine, args.out)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"backed up to {copied.path}: {copied.size:,} bytes, integrity check ok")
    return 0


def cmd_targets_import(args: argparse.Namespace) -> int:
    from bot.targets import TargetsInvalid, import_targets

    settings = _settings(args)
    engine = _migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_targets(
                session=session, settings=settings, path=args.file, dry_run=args.dry_run
            )
    except TargetsInvalid as invalid:
        for error in invalid.errors:  # row 0: the file itself (missing, not a table, ...)
            print(error if error.row else error.message, file=sys.stderr)
        print(f"nothing imported: {len(invalid.errors)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    counts = f"{summary.created} new, {summary.updated} updated" + (
        f", {summary.cleared} cleared" if summary.cleared else ""
    )
    if args.dry_run:
        print(
            f"{args.file}: {summary.rows} rows, every row is valid ({counts}; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.rows} target rows: {counts}")
    return 0


def cmd_holidays_import(args: argparse.Namespace) -> int:
    from bot.holidays import HolidaysInvalid, import_holidays

    settings = _settings(args)
    engine = _migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_holidays(session=session, path=args.file, dry_run=args.dry_run)
    except HolidaysInvalid as invalid:
        for error in invalid.errors:
            print(error if error.row else error.message, file=sys.stderr)
        print(f"nothing imported: {len(invalid.errors)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    counts = f"{summary.created} new, {summary.updated} renamed"
    if args.dry_run:
        print(
            f"{args.file}: {summary.rows} holidays, every row is valid "
            f"({counts}; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.rows} holidays: {counts}")
    return 0


def cmd_official_import(args: argparse.Namespace) -> int:
    from bot.official import OfficialInvalid, import_official

    settings = _settings(args)
    engine = _migrated_engine(settings)
    today = dt.datetime.now(settings.tz).date()
    try:
        with session_scope(engine) as session:
            summary = import_official(
                session=session,
                settings=settings,
                path=args.file,
                today=today,
                dry_run=args.dry_run,
                skip_unknown=args.skip_unknown,
            )
    except OfficialInvalid as invalid:
        for problem in invalid.problems:
            print(problem, file=sys.stderr)
        print(f"nothing imported: {len(invalid.problems)} problem(s) in {args.file}", file=sys.stderr)
        return 1
    for problem in summary.unknown_skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    days = ", ".join(d.isoformat() for d in summary.days)
    counts = f"{summary.units} unit(s), {days}"
    if summary.replaced:
        counts += f"; {summary.replaced} earlier figure(s) of those days replaced"
    if summary.totals_skipped:
        counts += f"; {summary.totals_skipped} totals row(s) skipped"
    if summary.unknown_skipped:
        counts += f"; {len(summary.unknown_skipped)} row(s) with unknown names skipped"
    if summary.first_days:
        counts += f"; {summary.first_days} first day(s) of a cumulative series (no day's count)"
    if args.dry_run:
        print(
            f"{args.file}: {summary.rows} figures, every row is valid "
            f"({counts}; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.rows} official figures: {counts}")
    return 0


def _delivery_status(engine: Any, *, as_json: bool) -> int:
    """Messages waiting to go out, per lane: each Telegram bot, WhatsApp, the simulator."""
    from bot.delivery import outbox
    from bot.numbers import indian

    with session_scope(engine) as session:
        lanes = outbox.backlog_by_lane(session=session)
    total = sum(lanes.values())
    if as_json:
        print(json.dumps({"outbox_backlog": total, "outbox_backlog_by_lane": lanes}))
        return 0
    print(f"outbox backlog: {indian(total)} message(s) waiting")
    for lane, count in lanes.items():
        print(f"  {lane}: {indian(count)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bot.numbers import indian, percent
    from bot.problems import count_open
    from bot.rollups import figures
    from bot.store.units import resolve_units

    settings = _settings(args)
    engine = _migrated_engine(settings)
    if args.unit is None:
        return _delivery_status(engine, as_json=args.json)
    today = dt.datetime.now(settings.tz).date()
    start, end = args.start or args.end or today, args.end or args.start or today
    if args.start and not args.end:
        end = today
    if end < start:
        raise CliError("--to is before --from")
    with session_scope(engine) as session:
        units = resolve_units(session, args.unit, settings.state)
        if not units:
            raise CliError(f"no unit named {args.unit!r}")
        if len(units) > 1:
            raise CliError(
                f"{args.unit!r} matches several units; write the path: "
                + ", ".join(u.path for u in units)
            )
        fig = figures(session=session, settings=settings, unit=units[0], start=start, end=end)
        problems_open = count_open(session=session, units=units)
    if args.json:
        print(json.dumps({**fig.to_json(), "problems_open": problems_open}, ensure_ascii=False))
        return 0
    print(f"{fig.unit.path} ({fig.unit.level}), {fig.start} to {fig.end}")
    print(f"  reported: {indian(fig.reported)} of {indian(fig.workers)} workers")
    if fig.on_leave:
        print(f"  on leave or holiday (not counted): {indian(fig.on_leave)}")
    for metric in settings.metrics:
        print(f"  {metric.en}: {indian(fig.totals.get(metric.key, 0))}")
    if fig.target is not None:
        print(
            f"  target ({fig.primary_metric}): {indian(fig.target)}, "
            f"achieved {percent(fig.achievement_pct)}"
        )
    if fig.campaign_done is not None:
        line = f"  campaign so far ({fig.primary_metric}): {indian(fig.campaign_done)}"
        if fig.campaign_target:
            line += (
                f" against {indian(fig.campaign_target)} for {fig.campaign_days} day(s), "
                f"achieved {percent(fig.campaign_achievement_pct)}"
            )
        print(line)
    if fig.campaign_total is not None:
        print(f"  campaign total: {indian(fig.campaign_total)}")
    if fig.required_daily is not None:
        print(f"  needed per day to finish: {indian(fig.required_daily)} over {fig.days_left} day(s)")
    if fig.projected_finish is not None:
        how = "reached on" if fig.reached_on else f"finishes at the last {fig.rate_days} days' pace on"
        print(f"  {how}: {fig.projected_finish}")
    if fig.coverage_pct is not None and fig.covered is not None and fig.eligible:
        print(
            f"  coverage: {indian(fig.covered)} of {indian(fig.eligible)} eligible, "
            f"{percent(fig.coverage_pct)}"
        )
    if fig.rank is not None:
        print(f"  rank: {fig.rank} of {fig.of}")
    print(f"  open problems: {indian(problems_open)}")
    if fig.official is not None:
        gap = fig.official.gap
        print(
            f"  portal ({fig.primary_metric}): {indian(fig.official.official)}, self-reported "
            f"{indian(fig.official.reported)} over the portal's days through {fig.official.through}, "
            f"gap {'+' if gap >= 0 else '-'}{indian(abs(gap))} ({percent(fig.official.gap_pct)})"
        )
    return 0


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """uvicorn as `run` and `demo` serve: its own log goes to the one masking handler (no dictConfig)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, taken before anything else starts: a port in use stops the process
    before it takes the scheduler's lease, registers a webhook or polls Telegram."""
    address = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CliError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; another fieldbot (or another "
            "program) may be using that port: stop it, or choose another with --port"
        ) from None
    return sock


def _simulator_token(*, simulator: bool, open_demo: bool) -> tuple[str | None, bool]:
    """The simulator's token and whether it was made up now (so it must be printed).

    A demo on loopback has none; otherwise FIELDBOT_SIMULATOR_TOKEN, or a random one. With the
    simulator off the variable still lets its holder read /healthz in full.
    """
    given = os.environ.get("FIELDBOT_SIMULATOR_TOKEN", "").strip() or None
    if not simulator or open_demo:
        return (None if open_demo else given), False
    if given is not None:
        return given, False
    return secrets.token_urlsafe(24), True


def _announce(
    host: str, port: int, *, simulator: bool, demo: bool, token: str | None, new_token: bool
) -> None:
    from bot.guard import WILDCARDS, own_hosts

    print(
        f"Fieldbot is serving on http://{host}:{port}"
        + (" — open it in a browser to chat as anyone on the roster" if simulator and not token else ""),
        flush=True,
    )
    wildcard = host.strip("[]") in WILDCARDS
    if wildcard:
        names = ", ".join(sorted(own_hosts(host)))
        print(
            f"requests are answered for these host names only: {names}; set FIELDBOT_PUBLIC_URL "
            "to the address browsers and webhooks use",
            flush=True,
        )
    if not simulator or token is None:
        return
    if not demo:
        print(
            "WARNING: the simulator is on. Whoever has its token speaks as any person on the "
            "roster, into this database's real figures, and reads their scheduled messages. "
            "For training, give it a database of its own "
            "(FIELDBOT_DATABASE_URL=sqlite:///training.db).",
            flush=True,
        )
    public = os.environ.get("FIELDBOT_PUBLIC_URL", "").rstrip("/")
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    base = (public or f"http://127.0.0.1:{port}") if wildcard else f"http://{shown}:{port}"
    if new_token:
        print(
            f"simulator token (new at every start; set FIELDBOT_SIMULATOR_TOKEN to keep one): {token}\n"
            f"open {base}/?token={token} once in the browser; "
            f"API clients send Authorization: Bearer {token}",
            flush=True,
        )
    else:
        print(
            f"simulator token: FIELDBOT_SIMULATOR_TOKEN; open {base}/?token=<it> once in the "
            "browser; API clients send Authorization: Bearer <it>",
            flush=True,
        )


async def serve(
    core: Fieldbot, host: str, port: int, *, scheduler: bool, simulator: bool, demo: bool = False
) -> None:
    """The web app, Telegram (polling or webhook) and the scheduler in one event loop."""
    listener = _listen(host, port)
    try:
        await _serve(core, listener, host, port, scheduler=scheduler, simulator=simulator, demo=demo)
    finally:
        listener.close()


async def _serve(
    core: Fieldbot,
    listener: socket.socket,
    host: str,
    port: int,
    *,
    scheduler: bool,
    simulator: bool,
    demo: bool,
) -> None:
    import uvicorn

    from bot.channels.telegram.application import build_application
    from bot.channels.telegram.settings import TelegramSettings
    from bot.dashboard.auth import set_origin
    from bot.guard import is_loopback, own_hosts
    from bot.schedule import build_scheduler
    from bot.web import create_app

    set_origin(f"http://{host}:{port}")  # dashboard links, unless FIELDBOT_PUBLIC_URL says otherwise

    from bot import bots
    from bot.channels.simulator.channel import SimulatorChannel
    from bot.channels.telegram.sending import TelegramChannel
    from bot.channels.whatsapp.routes import WhatsAppEndpoints

    # Only a process that runs the scheduler sends what may need an approved template.
    channels, twilio = _whatsapp_channels(core, scheduled=scheduler)
    telegram_settings, telegram_app = None, None
    several = []
    paid = {spec.name: spec.paid_broadcast for spec in bots.specs(core.settings)}
    for tg in TelegramSettings.for_bots(core.settings):
        webhook = tg.webhook_url is not None
        if webhook and not tg.webhook_secret:
            which = "TELEGRAM_WEBHOOK_SECRET" if tg.bot is None else f"bot {tg.bot}'s webhook_secret_env"
            raise CliError(f"TELEGRAM_WEBHOOK_URL is set without {which}")
        application = build_application(core, tg, webhook=webhook)
        name = tg.bot or bots.DEFAULT
        channels[bots.lane_of(tg.bot)] = TelegramChannel(application.bot, paid=paid.get(name, False))
        if tg.bot is None:
            telegram_settings, telegram_app = tg, application
        else:
            several.append((application, tg))
    if simulator:
        # Whoever has no chat app linked reads the day's messages in the simulator served here.
        channels["simulator"] = SimulatorChannel()
    token, new_token = _simulator_token(simulator=simulator, open_demo=demo and is_loopback(host))
    app = create_app(
        core,
        telegram_app=telegram_app,
        telegram_settings=telegram_settings,
        scheduler=build_scheduler(core, channels) if scheduler else None,
        simulator=simulator,
        whatsapp=WhatsAppEndpoints(core, twilio) if twilio else None,
        simulator_token=token,
        hosts=own_hosts(host),
        telegram_bots=several,
    )
    server = uvicorn.Server(server_config(app, host, port))
    _announce(host, port, simulator=simulator, demo=demo, token=token, new_token=new_token)
    await server.serve(sockets=[listener])


def _run(
    settings: Settings, host: str, port: int, *, scheduler: bool, simulator: bool, demo: bool = False
) -> int:
    engine = make_engine(settings.database_url_resolved())
    require_migrated(engine)
    lock = SqliteProcessLock(engine) if is_sqlite(engine) else None
    if lock is not None:
        lock.acquire()
    try:
        asyncio.run(
            serve(
                build_core(settings, engine),
                host,
                port,
                scheduler=scheduler,
                simulator=simulator,
                demo=demo,
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        if lock is not None:
            lock.release()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _run(
        settings,
        args.host,
        args.port,
        scheduler=not args.no_scheduler,
        simulator=settings.simulator.enabled,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from models import Person

    settings = _settings(args)
    engine = make_engine(settings.database_url_resolved())
    upgrade(engine)
    with session_scope(engine) as session:
        people = session.exec(select(func.count()).select_from(Person)).one()
        if not people:
            path = settings.resolve_path(settings.demo.roster)
            summary = roster.import_roster(session, path, progress=False, aliases=settings.roster)
            print(f"loaded the sample district from {path}: {summary.people} people")
    _print_dashboard_links(engine, settings, args.host, args.port)
    return _run(settings, args.host, args.port, scheduler=True, simulator=True, demo=True)


def _print_dashboard_links(engine: Any, settings: Settings, host: str, port: int) -> None:
    """One-use dashboard links for the sample district officer and BMO."""
    from bot.dashboard.auth import demo_links, set_origin
    from models import utcnow

    set_origin(f"http://{host}:{port}")
    with session_scope(engine) as session:
        links = demo_links(session=session, settings=settings, now=utcnow())
    minutes = settings.dashboard.link_minutes
    for person, url in links:
        print(f"dashboard as {person.name} ({person.role}): {url}")
    if links:
        print(f"  (each opens once, within {minutes} minutes; /web in the simulator gives a new one)")


def _whatsapp_channels(core: Fieldbot, *, scheduled: bool) -> tuple[dict[str, Any], Any]:
    """The WhatsApp channel when its TWILIO_* variables are set.

    A process that runs the scheduler says which jobs have no approved template yet: until one is
    set, their messages reach only people inside the 24-hour window, the others are marked failed
    with the reason. Replies never need a template.
    """
    from bot.channels.whatsapp.sending import WhatsAppChannel
    from bot.channels.whatsapp.settings import TwilioSettings, missing_templates

    twilio = TwilioSettings.from_env()
    if twilio is None:
        return {}, None
    missing = missing_templates(core.settings) if scheduled else []
    if missing:
        print(
            "WhatsApp: no approved template yet for "
            + ", ".join(missing)
            + " (whatsapp.templates.<job>.content_sid): until one is set, those messages reach "
            "only people who wrote in the last 24 hours; the others are marked failed, with the "
            "reason",
            flush=True,
        )
    return {"whatsapp": WhatsAppChannel(core.engine, core.settings, twilio)}, twilio


async def _telegram_channels(core: Fieldbot) -> tuple[dict[str, Any], list[Any]]:
    """The channels of a process that sends but does not receive (scheduler, digest): a lane per bot."""
    from bot import bots
    from bot.channels.telegram.sending import TelegramChannel, sending_bot
    from bot.channels.telegram.settings import TelegramSettings

    channels, _ = _whatsapp_channels(core, scheduled=True)
    paid = {spec.name: spec.paid_broadcast for spec in bots.specs(core.settings)}
    started = []
    for tg in TelegramSettings.for_bots(core.settings):
        bot = sending_bot(tg)
        await bot.initialize()
        started.append(bot)
        channels[bots.lane_of(tg.bot)] = TelegramChannel(
            bot, paid=paid.get(tg.bot or bots.DEFAULT, False)
        )
    return channels, started


def cmd_scheduler(args: argparse.Namespace) -> int:
    from bot.schedule import build_scheduler

    settings = _settings(args)
    engine = _migrated_engine(settings)
    core = build_core(settings, engine)

    async def main() -> None:
        channels, started = await _telegram_channels(core)
        jobs = build_scheduler(core, channels)
        jobs.start()
        print("scheduler running; it works while it holds the lease; Ctrl-C stops it", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            jobs.shutdown(wait=False)
            for bot in started:
                await bot.shutdown()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.delivery import outbox
    from bot.digests import JOBS, ROLE_JOBS
    from models import utcnow

    settings = _settings(args)
    engine = _migrated_engine(settings)
    job = ROLE_JOBS[args.role]
    if args.send:
        from bot.channels.whatsapp.settings import TwilioSettings, check_templates

        if TwilioSettings.from_env() is not None:  # a WhatsApp set up halfway stops before queueing
            check_templates(settings)
    with session_scope(engine) as session:
        messages = JOBS[job](session, settings, args.date)
        if args.send:
            # The same keys the scheduler uses: a digest sent by hand is not sent again at 19:00.
            queued = outbox.enqueue(
                session=session,
                job=job,
                day=args.date,
                messages=messages,
                now=utcnow(),
                settings=settings,
            )
    if not args.send:
        for message in messages:
            person = message.person
            print(f"--- {person.name} ({person.role}, {person.phone})")
            print(message.text)
            if message.attachment_name:
                print(f"[attachment: {message.attachment_name}, {len(message.attachment or b'')} bytes]")
            print()
        print(f"{len(messages)} digest(s) for {args.date}")
        return 0

    async def send() -> int:
        from bot.schedule import build_scheduler

        core = build_core(settings, engine)
        channels, started = await _telegram_channels(core)
        try:
            sender = build_scheduler(core, channels).sender
            assert sender is not None
            return await sender.drain_once()
        finally:
            for bot in started:
                await bot.shutdown()

    sent = asyncio.run(send())
    print(f"{len(messages)} digest(s) for {args.date}: {queued} queued, {sent} sent now")
    return 0


def main(argv: list[str] | None = None) -> int:
    # Alembic's "Context impl ..." lines on every command would drown the one-line answers, httpx
    # logs URLs with the bot token and twilio every request's headers: those only warn.
    configure_logging(os.environ.get("FIELDBOT_LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    # Everything a command writes holds personal data or leads to it: readable by this user alone.
    umask = os.umask(PRIVATE_UMASK)
    try:
        return _dispatch(args)
    finally:
        os.umask(umask)  # for a caller that runs commands inside its own process


def _dispatch(args: argparse.Namespace) -> int:
    handlers = {
        "demo": cmd_demo,
        "run": cmd_run,
        "scheduler": cmd_scheduler,
        "export": cmd_export,
        "status": cmd_status,
        "digest": cmd_digest,
        "proofs": cmd_proofs,
        "problems": cmd_problems,
        "forget": cmd_forget,
        "access": cmd_access,
        "backup": cmd_backup,
    }
    try:
        if args.command == "db":
            return cmd_db_upgrade(args)
        if args.command == "roster":
            return cmd_roster_import(args)
        if args.command == "targets":
            return cmd_targets_import(args)
        if args.command == "villages":
            return cmd_villages_import(args)
        if args.command == "holidays":
            return cmd_holidays_import(args)
        if args.command == "official":
            return cmd_official_import(args)
        return handlers[args.command](args)
    except (ConfigError, DatabaseNotReady, DatabaseInUse, CliError) as exc:
        print(f"fieldbot: {exc}", file=sys.stderr)
        return 2
    except ArgumentError as exc:  # a database URL SQLAlchemy cannot read
        print(f"fieldbot: the database URL is not valid: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # the server is down, refuses us, or the file cannot be opened
        reason = (str(exc.orig or exc).strip().splitlines() or ["unknown error"])[0]
        print(f"fieldbot: cannot use the database: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
