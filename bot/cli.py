"""`fieldbot [--config PATH] COMMAND`: serve, migrate, import, export and ask for figures."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.exc import ArgumentError, OperationalError

from bot import commands
from bot.commands import CommandError
from bot.config import ConfigError, Settings, load_settings
from bot.files import PRIVATE_UMASK
from bot.logs import configure_logging
from bot.store.db import DatabaseInUse, DatabaseNotReady


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


# What runs (the web app, the scheduler, a digest sent now) is built in bot/app.py, which loads
# the chat libraries and the web server: only the commands that need it import it, so that the
# one-shot commands start without them.


def cmd_run(args: argparse.Namespace) -> int:
    from bot import app

    settings = _settings(args)
    return app.run(
        settings,
        args.host,
        args.port,
        scheduler=not args.no_scheduler,
        simulator=settings.simulator.enabled,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from bot import app

    return app.demo(_settings(args), args.host, args.port)


def cmd_scheduler(args: argparse.Namespace) -> int:
    from bot import app

    return app.run_scheduler(_settings(args))


def cmd_digest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not args.send:
        return commands.print_digests(settings, day=args.date, role=args.role)
    from bot import app

    return app.send_digests(settings, day=args.date, role=args.role)


# The one-shot commands: bot/commands.py.


def cmd_db(args: argparse.Namespace) -> int:
    return commands.db_upgrade(_settings(args))


def cmd_roster(args: argparse.Namespace) -> int:
    return commands.roster_import(
        _settings(args),
        args.file,
        dry_run=args.dry_run,
        deactivate_missing=args.deactivate_missing,
    )


def cmd_villages(args: argparse.Namespace) -> int:
    return commands.villages_import(_settings(args), args.file, dry_run=args.dry_run)


def cmd_targets(args: argparse.Namespace) -> int:
    return commands.targets_import(_settings(args), args.file, dry_run=args.dry_run)


def cmd_holidays(args: argparse.Namespace) -> int:
    return commands.holidays_import(_settings(args), args.file, dry_run=args.dry_run)


def cmd_official(args: argparse.Namespace) -> int:
    return commands.official_import(
        _settings(args), args.file, dry_run=args.dry_run, skip_unknown=args.skip_unknown
    )


def cmd_export(args: argparse.Namespace) -> int:
    commands.check_range(args.start, args.end)
    return commands.export(
        _settings(args),
        level=args.level,
        start=args.start,
        end=args.end,
        fmt=args.format,
        out=args.out,
    )


def cmd_proofs(args: argparse.Namespace) -> int:
    commands.check_range(args.start, args.end)
    return commands.proofs(_settings(args), start=args.start, end=args.end, out=args.out)


def cmd_problems(args: argparse.Namespace) -> int:
    commands.check_range(args.start, args.end)
    return commands.problems(_settings(args), start=args.start, end=args.end, out=args.out)


def cmd_forget(args: argparse.Namespace) -> int:
    phone = commands.phone_number(args.phone)
    return commands.forget(_settings(args), phone, yes=args.yes)


def cmd_access(args: argparse.Namespace) -> int:
    phone = commands.phone_number(args.phone)
    return commands.access(_settings(args), phone, out=args.out)


def cmd_backup(args: argparse.Namespace) -> int:
    return commands.backup_database(_settings(args), args.out)


def cmd_status(args: argparse.Namespace) -> int:
    return commands.status(_settings(args), args.unit, start=args.start, end=args.end, as_json=args.json)


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "run": cmd_run,
    "scheduler": cmd_scheduler,
    "db": cmd_db,
    "roster": cmd_roster,
    "villages": cmd_villages,
    "targets": cmd_targets,
    "holidays": cmd_holidays,
    "official": cmd_official,
    "export": cmd_export,
    "status": cmd_status,
    "digest": cmd_digest,
    "proofs": cmd_proofs,
    "problems": cmd_problems,
    "forget": cmd_forget,
    "access": cmd_access,
    "backup": cmd_backup,
}


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
    try:
        return HANDLERS[args.command](args)
    except (ConfigError, DatabaseNotReady, DatabaseInUse, CommandError) as exc:
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
