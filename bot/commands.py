"""The one-shot commands' bodies: each does one job on the database and prints its one-line answer.

`bot/cli.py` parses the arguments and calls these; what runs for longer (the web app, the
scheduler, a digest sent now) is built in `bot/app.py`. A function returns the process's exit
status; `CommandError` is a one-line answer for the operator (exit status 2).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from sqlalchemy.engine import Engine

from bot import privacy
from bot.backup import BackupError, backup
from bot.config import Settings
from bot.delivery import outbox
from bot.digests import JOBS, ROLE_JOBS
from bot.export import csv_bytes, write_table
from bot.files import write_private
from bot.holidays import HolidaysInvalid, import_holidays
from bot.numbers import indian, percent
from bot.official.counts import import_official
from bot.official.read import OfficialInvalid
from bot.phones import PhoneError, mask_phone, normalize_phone
from bot.presence.proofs import PROOF_COLUMNS, proof_table
from bot.problem_digest import COLUMNS as PROBLEM_COLUMNS
from bot.problem_digest import table as problem_table
from bot.problems import count_open
from bot.rollups.export_table import export_rows
from bot.rollups.figures import figures
from bot.roster.apply import import_roster
from bot.roster.read import RosterInvalid, RowError, describe_columns, ignored_warning
from bot.store.db import current_revision, make_engine, require_migrated, session_scope, upgrade
from bot.store.units import resolve_units
from bot.targets import TargetsInvalid, import_targets
from bot.villages import import_villages
from models import utcnow


class CommandError(Exception):
    """A one-line answer for the operator; exit status 2."""


def migrated_engine(settings: Settings) -> Engine:
    """The configured database, refused unless it is migrated to the head."""
    engine = make_engine(settings.database_url_resolved())
    require_migrated(engine)
    return engine


def phone_number(value: str) -> str:
    """A mobile number as the operator typed it, in E.164."""
    try:
        return normalize_phone(value)
    except PhoneError as exc:
        raise CommandError(f"{value!r} is not a mobile number") from exc


def check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise CommandError("--to is before --from")


# ---------------------------------------------------------------- the database


def db_upgrade(settings: Settings) -> int:
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


def backup_database(settings: Settings, out: Path) -> int:
    engine = make_engine(settings.database_url_resolved())
    try:
        copied = backup(engine, out)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    finally:
        engine.dispose()
    print(f"backed up to {copied.path}: {copied.size:,} bytes, integrity check ok")
    return 0


# ---------------------------------------------------------------- imports


def _refused(path: Path, errors: list[RowError]) -> int:
    for error in errors:  # row 0: the file itself (missing, not a roster, ...)
        print(error if error.row else error.message, file=sys.stderr)
    print(f"nothing imported: {len(errors)} problem(s) in {path}", file=sys.stderr)
    return 1


def roster_import(settings: Settings, file: Path, *, dry_run: bool, deactivate_missing: bool) -> int:
    engine = migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_roster(
                session,
                file,
                dry_run=dry_run,
                deactivate_missing=deactivate_missing,
                progress=sys.stderr.isatty(),
                aliases=settings.roster,
            )
    except RosterInvalid as invalid:
        return _refused(file, invalid.errors)
    if summary.ignored:
        print(ignored_warning(summary.ignored), file=sys.stderr)
    if dry_run:
        print(f"columns: {describe_columns(summary.columns)}")
        print(f"{file}: {summary.people} people, every row is valid (dry run: nothing written)")
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


def villages_import(settings: Settings, file: Path, *, dry_run: bool) -> int:
    engine = migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_villages(session, file, dry_run=dry_run, aliases=settings.roster)
    except RosterInvalid as invalid:
        return _refused(file, invalid.errors)
    if summary.ignored:
        print(ignored_warning(summary.ignored), file=sys.stderr)
    counts = (
        f"{summary.created} new, {summary.updated} updated; {summary.located} roster village(s), "
        f"{summary.people} people"
    )
    if dry_run:
        print(f"columns: {describe_columns(summary.columns)}")
        print(
            f"{file}: {summary.villages} villages, every row is valid "
            f"({counts} would get their centre; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.villages} village centres: {counts} now have their centre")
    return 0


def targets_import(settings: Settings, file: Path, *, dry_run: bool) -> int:
    engine = migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_targets(session=session, settings=settings, path=file, dry_run=dry_run)
    except TargetsInvalid as invalid:
        for error in invalid.errors:  # row 0: the file itself (missing, not a table, ...)
            print(error if error.row else error.message, file=sys.stderr)
        print(f"nothing imported: {len(invalid.errors)} problem(s) in {file}", file=sys.stderr)
        return 1
    counts = f"{summary.created} new, {summary.updated} updated" + (
        f", {summary.cleared} cleared" if summary.cleared else ""
    )
    if dry_run:
        print(f"{file}: {summary.rows} rows, every row is valid ({counts}; dry run: nothing written)")
    else:
        print(f"imported {summary.rows} target rows: {counts}")
    return 0


def holidays_import(settings: Settings, file: Path, *, dry_run: bool) -> int:
    engine = migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            summary = import_holidays(session=session, path=file, dry_run=dry_run)
    except HolidaysInvalid as invalid:
        for error in invalid.errors:
            print(error if error.row else error.message, file=sys.stderr)
        print(f"nothing imported: {len(invalid.errors)} problem(s) in {file}", file=sys.stderr)
        return 1
    counts = f"{summary.created} new, {summary.updated} renamed"
    if dry_run:
        print(
            f"{file}: {summary.rows} holidays, every row is valid ({counts}; dry run: nothing written)"
        )
    else:
        print(f"imported {summary.rows} holidays: {counts}")
    return 0


def official_import(settings: Settings, file: Path, *, dry_run: bool, skip_unknown: bool) -> int:
    engine = migrated_engine(settings)
    today = dt.datetime.now(settings.tz).date()
    try:
        with session_scope(engine) as session:
            summary = import_official(
                session=session,
                settings=settings,
                path=file,
                today=today,
                dry_run=dry_run,
                skip_unknown=skip_unknown,
            )
    except OfficialInvalid as invalid:
        for problem in invalid.problems:
            print(problem, file=sys.stderr)
        print(f"nothing imported: {len(invalid.problems)} problem(s) in {file}", file=sys.stderr)
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
    if dry_run:
        print(f"{file}: {summary.rows} figures, every row is valid ({counts}; dry run: nothing written)")
    else:
        print(f"imported {summary.rows} official figures: {counts}")
    return 0


# ---------------------------------------------------------------- tables written to a file


def export(settings: Settings, *, level: str, start: dt.date, end: dt.date, fmt: str, out: Path) -> int:
    engine = migrated_engine(settings)
    with session_scope(engine) as session:
        header, rows = export_rows(session=session, settings=settings, level=level, start=start, end=end)
    write_table(out, fmt, level, header, rows)
    print(f"wrote {len(rows)} rows to {out}")
    return 0


def proofs(settings: Settings, *, start: dt.date, end: dt.date, out: Path) -> int:
    engine = migrated_engine(settings)
    with session_scope(engine) as session:
        rows = proof_table(session=session, settings=settings, start=start, end=end)
    write_private(out, csv_bytes(PROOF_COLUMNS, rows))
    review = sum(1 for row in rows if row[PROOF_COLUMNS.index("verdict")] == "needs_review")
    print(f"wrote {len(rows)} proofs ({review} needing review) to {out}")
    return 0


def problems(settings: Settings, *, start: dt.date, end: dt.date, out: Path) -> int:
    engine = migrated_engine(settings)
    with session_scope(engine) as session:
        rows = problem_table(session=session, settings=settings, start=start, end=end)
    write_private(out, csv_bytes(PROBLEM_COLUMNS, rows))
    still = sum(1 for row in rows if row[PROBLEM_COLUMNS.index("status")] == "open")
    print(f"wrote {len(rows)} problems ({still} still open) to {out}")
    return 0


# ---------------------------------------------------------------- a person's data


def forget(settings: Settings, phone: str, *, yes: bool) -> int:
    engine = migrated_engine(settings)
    if not yes:
        try:
            answer = input(f"erase the personal data of {phone}? Their counts stay, anonymous. [y/N] ")
        except EOFError:  # no terminal (a script, cron): nobody to ask
            raise CommandError(
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
        raise CommandError(f"no one on the roster has the number {mask_phone(phone)}") from exc
    removed = privacy.remove_files(done.files)
    privacy.compact(engine)
    print(
        f"forgotten: person #{done.person_id}; {done.reports} daily report(s) kept without a name, "
        f"{done.proofs} proof(s) kept as verdicts only, {removed} photo file(s) deleted"
    )
    return 0


def access(settings: Settings, phone: str, *, out: Path) -> int:
    engine = migrated_engine(settings)
    try:
        with session_scope(engine) as session:
            data = privacy.access(session=session, phone=phone)
    except privacy.UnknownPerson as exc:
        raise CommandError("no one on the roster has that number") from exc
    write_private(out, privacy.access_json(data))
    counts = ", ".join(f"{len(v)} {k}" for k, v in data.items() if isinstance(v, list) and v)
    print(f"wrote what is held about {data['person']['name']} to {out} ({counts})")
    return 0


# ---------------------------------------------------------------- digests


def print_digests(settings: Settings, *, day: dt.date, role: str) -> int:
    """A day's digests for one role, printed, nothing stored."""
    engine = migrated_engine(settings)
    with session_scope(engine) as session:
        messages = JOBS[ROLE_JOBS[role]](session, settings, day)
    for message in messages:
        person = message.person
        print(f"--- {person.name} ({person.role}, {person.phone})")
        print(message.text)
        if message.attachment_name:
            print(f"[attachment: {message.attachment_name}, {len(message.attachment or b'')} bytes]")
        print()
    print(f"{len(messages)} digest(s) for {day}")
    return 0


def queue_digests(engine: Engine, settings: Settings, *, day: dt.date, role: str) -> tuple[int, int]:
    """A day's digests for one role queued in the outbox: (how many, how many newly queued)."""
    job = ROLE_JOBS[role]
    with session_scope(engine) as session:
        messages = JOBS[job](session, settings, day)
        # The same keys the scheduler uses: a digest sent by hand is not sent again at 19:00.
        queued = outbox.enqueue(
            session=session, job=job, day=day, messages=messages, now=utcnow(), settings=settings
        )
    return len(messages), queued


# ---------------------------------------------------------------- figures


def _delivery_status(engine: Engine, *, as_json: bool) -> int:
    """Messages waiting to go out, per lane: each Telegram bot, WhatsApp, the simulator."""
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


def status(
    settings: Settings,
    unit: str | None,
    *,
    start: dt.date | None,
    end: dt.date | None,
    as_json: bool,
) -> int:
    """A unit's figures over days (default today); without a unit, the outbox backlog per lane."""
    engine = migrated_engine(settings)
    if unit is None:
        return _delivery_status(engine, as_json=as_json)
    today = dt.datetime.now(settings.tz).date()
    first, last = start or end or today, end or start or today
    if start and not end:
        last = today
    check_range(first, last)
    with session_scope(engine) as session:
        units = resolve_units(session, unit, settings.state)
        if not units:
            raise CommandError(f"no unit named {unit!r}")
        if len(units) > 1:
            raise CommandError(
                f"{unit!r} matches several units; write the path: " + ", ".join(u.path for u in units)
            )
        fig = figures(session=session, settings=settings, unit=units[0], start=first, end=last)
        problems_open = count_open(session=session, units=units)
    if as_json:
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
