"""District files sent in chat: which file it is, its check, and the file kept until import.

An admin or district officer sends a roster, villages, targets or official counts file to the
bot. Which one it is is read from its header. A roster, villages or targets file is checked as
`fieldbot ... import --dry-run` checks it, and kept (mode 0600, under `uploads.dir`) until the
officer presses the import button; pressing it checks the kept file again and imports it. A
district officer's file may hold her own districts only, and may not touch people elsewhere.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from bot import targets, villages
from bot.config import Settings
from bot.config_sections import header_key
from bot.core import questions
from bot.files import private_folder, write_private
from bot.i18n import t
from bot.numbers import indian
from bot.official.read import find_layout
from bot.places import Places, Spot
from bot.reasons import reason
from bot.roster.apply import apply
from bot.roster.check import load
from bot.roster.match import Known, row_place
from bot.roster.read import (
    ImportSummary,
    RosterInvalid,
    RosterRow,
    RowError,
    csv_rows,
    describe_columns,
    unreadable,
    xlsx_rows,
)
from bot.store.units import scope_units
from models import PendingQuestion, Person, Post

KINDS = ("roster", "villages", "targets", "official")
IMPORTED = ("roster", "villages", "targets")  # checked first, imported at the button
SUFFIXES = (".xlsx", ".csv")
_STORED = "upload-"  # stored files are named upload-<random>.<suffix>
KIND = "file_import"  # the pending question that waits for the import button
SWEEP_GRACE = dt.timedelta(minutes=10)


# ---------------------------------------------------------------- which file it is


def _header(path: Path) -> list[str] | list[RowError]:
    """The first row of the file, or why it cannot be read."""
    if path.suffix.casefold() == ".xlsx":
        rows: Iterator[list[str]] | list[RowError] = xlsx_rows(path)
    else:
        rows = csv_rows(path)
    if isinstance(rows, list):
        return rows
    try:
        return [str(c).strip().lstrip("\ufeff") for c in next(rows)]
    except StopIteration:
        return [RowError(1, "the file is empty")]
    except csv.Error as exc:
        return [RowError(1, unreadable(exc))]


def file_kind(settings: Settings, path: Path) -> str | list[RowError] | None:
    """`roster`, `villages`, `targets` or `official` by the file's header (headers as the roster
    table `roster.columns` reads them); None when it is none of them; the errors if unreadable."""
    names = _header(path)
    if names and isinstance(names[0], RowError):
        return [n for n in names if isinstance(n, RowError)]
    written = [n for n in names if isinstance(n, str)]
    plain = {n.casefold() for n in written}
    mapped = {settings.roster.column_map().get(header_key(n), "") for n in written}
    if {"level", "metric"} <= plain and plain & set(targets.VALUES) and "value" not in plain:
        return "targets"
    if "phone" in mapped or "role" in mapped:
        return "roster"
    if {"village", "lat", "lon"} <= mapped:
        return "villages"
    layout = find_layout(settings, written)
    if not isinstance(layout, list) and (layout.long or layout.figures) and layout.date:
        return "official"
    return None


# ---------------------------------------------------------------- kept files


def folder(settings: Settings) -> Path:
    return private_folder(settings.resolve_path(settings.uploads.dir))


def store(settings: Settings, data: bytes, suffix: str, now: dt.datetime) -> str:
    """Keep the file's bytes (mode 0600); the stored name, to find it again. The name carries
    when it was kept, by the bot's clock, for `sweep`."""
    name = f"{_STORED}{int(now.timestamp())}-{secrets.token_hex(16)}{suffix}"
    write_private(folder(settings) / name, data)
    return name


def stored_path(settings: Settings, name: str) -> Path | None:
    """The kept file of that name, None if it is gone (or the name is not one of ours)."""
    if not name.startswith(_STORED) or "/" in name or "\\" in name or name != Path(name).name:
        return None
    path = settings.resolve_path(settings.uploads.dir) / name
    return path if path.is_file() else None


def discard(settings: Settings, name: str) -> None:
    path = stored_path(settings, name)
    if path is not None:
        path.unlink(missing_ok=True)


def sweep(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Remove kept files no open question waits on (answered elsewhere, dropped, or expired); how
    many. A file younger than `SWEEP_GRACE` stays: its question may not be committed yet."""
    where = settings.resolve_path(settings.uploads.dir)
    if not where.is_dir():
        return 0
    waiting = set()
    asked = select(PendingQuestion).where(
        col(PendingQuestion.kind) == KIND, col(PendingQuestion.expires_at) > now
    )
    for question in session.exec(asked):
        waiting.add(str(questions.payload(question).get("file", "")))
    removed = 0
    cutoff = (now - SWEEP_GRACE).timestamp()
    for path in where.glob(f"{_STORED}*"):
        kept_at = path.name.removeprefix(_STORED).split("-", 1)[0]
        if path.name in waiting or (kept_at.isdigit() and int(kept_at) >= cutoff):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


# ---------------------------------------------------------------- checking and importing


@dataclass
class Outcome:
    """A file's check (or import): the problems, each a line in the reader's language, or the counts."""

    kind: str
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    columns: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    new_places: dict[str, int] = field(default_factory=dict)


def _lines(errors: list[RowError], lang: str) -> list[str]:
    ordered = sorted(errors, key=lambda e: e.row)
    return [
        t(lang, "official_row", row=e.row, reason=reason(e.message, lang))
        if e.row
        else reason(e.message, lang)
        for e in ordered
    ]


def allowed_districts(session: Session, settings: Settings, person: Person) -> set[int] | None:
    """The districts an uploader may change: None for an admin (all), a district officer's own."""
    if person.role == "admin":
        return None
    units = scope_units(session, person, settings.state)
    return {u.district_id for u in units if u.district_id is not None}


def _area(session: Session, settings: Settings, person: Person) -> str:
    return ", ".join(u.path for u in scope_units(session, person, settings.state))


def _districts_of(session: Session, person_id: int) -> set[int | None]:
    person = session.get_one(Person, person_id)
    if person.role == "admin":
        return {None}
    if person.is_field_worker:
        return {person.district_id}
    posts = session.exec(select(Post.district_id).where(col(Post.person_id) == person_id)).all()
    return set(posts) or {None}


def _roster_check(
    session: Session, rows: list[RosterRow], allowed: set[int] | None, area: str, lang: str
) -> tuple[list[RowError], dict[str, int], dict[str, int]]:
    """Rows a district officer may not import; people new, updated, deactivated; new units."""
    errors: list[RowError] = []
    known = Known(session)
    places = Places(session)
    new: dict[str, set[int]] = defaultdict(set)
    people: dict[str, RosterRow] = {}
    for row in rows:
        people.setdefault(row.key, row)
        place = row_place(places, row)
        if isinstance(place, str):
            continue  # load() refused such rows already
        for level in ("district", "block", "sector", "village"):
            spot: Spot | None = getattr(place, level)
            if spot is not None and spot.id is None:
                new[level].add(id(spot))
        for spot in place.villages:
            if spot.id is None:
                new["village"].add(id(spot))
        if allowed is None:
            continue
        if row.role == "admin":
            errors.append(RowError(row.row, t(lang, "upload_err_admin_row")))
            continue
        district = place.district
        if district is None or district.id is None or district.id not in allowed:
            where = row.district or t(lang, f"role_{row.role}")
            errors.append(RowError(row.row, t(lang, "upload_err_outside", place=where, area=area)))
            continue
        match = known.match(row)
        if match is not None and not _districts_of(session, match) <= set(allowed):
            errors.append(
                RowError(
                    row.row, t(lang, "upload_err_person_elsewhere", name=known.names[match], area=area)
                )
            )
    counts = {"people": len(people), "created": 0, "updated": 0, "deactivated": 0}
    for first in people.values():
        match = known.match(first)
        if match is None:
            counts["created"] += 1
            continue
        counts["updated"] += 1
        if known.active[match] and not first.active:
            counts["deactivated"] += 1
    return errors, counts, {level: len(ids) for level, ids in new.items()}


def check(
    *,
    session: Session,
    settings: Settings,
    person: Person,
    path: Path,
    kind: str,
    lang: str,
    write: bool = False,
) -> Outcome:
    """Check the file whole (the uploader's scope too); with `write`, import it when clean, in
    the caller's transaction. Nothing is written when any row is bad."""
    outcome = Outcome(kind)
    allowed = allowed_districts(session, settings, person)
    area = _area(session, settings, person) if allowed is not None else ""
    try:
        if kind == "roster":
            header = ImportSummary()
            rows = load(path, session, settings.roster, header)
            outcome.columns, outcome.ignored = header.columns, header.ignored
            scope, outcome.counts, outcome.new_places = _roster_check(session, rows, allowed, area, lang)
            if scope:
                raise RosterInvalid(scope)
            if write:
                done = apply(session, rows, progress=False)
                outcome.counts |= {"created": done.created, "updated": done.updated}
                outcome.counts["located"] = done.located
        elif kind == "villages":
            header_v = villages.VillagesSummary()
            _, found = villages.load(session, path, settings.roster, header_v)
            outcome.columns, outcome.ignored = header_v.columns, header_v.ignored
            if allowed is not None:
                outside = [
                    RowError(r.row, t(lang, "upload_err_outside", place=r.district.path, area=area))
                    for r in found
                    if r.district.id not in allowed
                ]
                if outside:
                    raise RosterInvalid(outside)
            done_v = villages.import_villages(session, path, dry_run=not write, aliases=settings.roster)
            outcome.counts = {
                "villages": done_v.villages,
                "created": done_v.created,
                "updated": done_v.updated,
                "located": done_v.located,
                "people": done_v.people,
            }
        elif kind == "targets":
            found_t = targets.load(session, settings, path)
            if allowed is not None:
                outside = [
                    RowError(r.row, t(lang, "upload_err_outside", place=r.path, area=area))
                    for r in found_t
                    if r.district_id not in allowed
                ]
                if outside:
                    raise targets.TargetsInvalid(outside)
            done_t = targets.import_targets(
                session=session, settings=settings, path=path, dry_run=not write
            )
            outcome.counts = {
                "rows": done_t.rows,
                "created": done_t.created,
                "updated": done_t.updated,
                "cleared": done_t.cleared,
            }
        else:
            raise ValueError(f"not a file checked before import: {kind}")
    except (RosterInvalid, targets.TargetsInvalid) as invalid:
        outcome.problems = _lines(invalid.errors, lang)
    return outcome


def problems_file(outcome: Outcome) -> bytes:
    """Every problem as a CSV sheet (UTF-8 with a BOM, so Excel shows Hindi right)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["problem"])
    for line in outcome.problems:
        writer.writerow([line])
    return ("\ufeff" + out.getvalue()).encode()


def summary_lines(outcome: Outcome, name: str, lang: str) -> list[str]:
    """The check's summary: the counts, how the header was read, what is ignored, new units."""
    counts = {k: indian(v) for k, v in outcome.counts.items()}
    lines = [t(lang, f"upload_{outcome.kind}_checked", name=name, **counts)]
    lines += _details(outcome, lang)
    return lines


def imported_lines(outcome: Outcome, name: str, lang: str) -> list[str]:
    counts = {k: indian(v) for k, v in outcome.counts.items()}
    lines = [t(lang, f"upload_{outcome.kind}_imported", name=name, **counts)]
    if outcome.kind == "roster" and outcome.counts.get("located"):
        lines.append(t(lang, "upload_located", count=counts["located"]))
    return lines


def _details(outcome: Outcome, lang: str) -> list[str]:
    lines = []
    if any(outcome.new_places.values()):
        lines.append(
            t(
                lang,
                "upload_new_places",
                **{
                    level: indian(outcome.new_places.get(level, 0))
                    for level in ("district", "block", "sector", "village")
                },
            )
        )
    if outcome.columns:
        lines.append(t(lang, "upload_columns", columns=describe_columns(outcome.columns)))
    if outcome.ignored:
        lines.append(t(lang, "upload_ignored", columns=", ".join(outcome.ignored)))
    return lines
