"""Files an officer uploads on the dashboard: the roster and targets files, checked as
`fieldbot roster|targets import [--dry-run]` checks them, and the official portal's file."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import targets
from bot.core.service import Fieldbot
from bot.dashboard import auth, official_upload
from bot.dashboard.auth import Viewer
from bot.dashboard.pages import UPLOAD_KINDS, UPLOADER_ROLES
from bot.dashboard.site import Site, back_to, log
from bot.dashboard.texts import t
from bot.i18n import t as chat_t
from bot.limits import DASHBOARD_UPLOAD_BYTES
from bot.roster.apply import apply
from bot.roster.check import load
from bot.roster.read import RosterInvalid, RosterRow, RowError
from bot.store.people import person_by_phone
from models import District, Person, Post

MAX_UPLOAD_BYTES = DASHBOARD_UPLOAD_BYTES


def _megabytes(size: int) -> str:
    """A size in whole megabytes (or one decimal), as the too-large answer gives it."""
    mb = size / (1024 * 1024)
    return str(int(mb)) if mb == int(mb) else f"{mb:.1f}"


def routes(site: Site) -> list[Route]:
    """`POST /dashboard/-/upload`: check a file, or import it when every row is valid."""
    core, settings = site.core, site.settings
    today, render, how_to, current = site.today, site.render, site.how_to, site.current
    refused, not_found = site.refused, site.not_found

    async def upload(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        lang = viewer.lang
        async with request.form(max_files=1, max_fields=10) as form:
            if not auth.csrf_ok(viewer.csrf, form.get("csrf")):
                refused(viewer, "an upload form without its token")
                return render(
                    request,
                    "message.html",
                    {"viewer": viewer, "message": t(lang, "form_expired")},
                    403,
                    lang,
                )
            kind, action = form.get("kind"), form.get("action")
            if viewer.person.role not in UPLOADER_ROLES or kind not in UPLOAD_KINDS:
                refused(viewer, "an upload")
                return not_found(request, viewer)
            file = form.get("file")
            back = back_to(form.get("back"))
            context: dict[str, Any] = {"viewer": viewer, "back": back, "kind": kind, "errors": []}
            if not isinstance(file, UploadFile) or not file.filename:
                context["result"] = t(lang, "upload_none")
                return render(request, "upload.html", context, 400, lang)
            suffix = Path(file.filename).suffix.lower()
            name = Path(file.filename).name[:80]
            if suffix not in (".csv", ".xlsx"):
                context["result"] = t(lang, "upload_type")
                return render(request, "upload.html", context, 400, lang)
            data = await file.read(MAX_UPLOAD_BYTES + 1)
            skip_unknown = form.get("skip_unknown") == "1"
        limit = MAX_UPLOAD_BYTES
        if kind == "official":  # the portal's file: the same cap as in chat
            limit = min(limit, int(settings.official.max_file_mb * 1024 * 1024))
        if len(data) > limit:
            mb = _megabytes(limit)
            context["result"] = t(lang, "upload_too_large", mb=mb)
            return render(request, "upload.html", context, 413, lang)
        write = action == "import"
        if kind == "official":
            outcome = await asyncio.to_thread(
                lambda: official_upload.import_file(
                    core=core,
                    viewer=viewer,
                    name=name,
                    suffix=suffix,
                    data=data,
                    write=write,
                    skip_unknown=skip_unknown,
                    today=today(),
                )
            )
            result, errors, context["notes"] = outcome.result, outcome.errors, outcome.notes
        else:
            result, errors = await asyncio.to_thread(
                _import_file, core, viewer, str(kind), name, suffix, data, write
            )
        context["result"], context["errors"] = result, errors
        log.info(
            "dashboard: person #%s uploaded a %s file (%s): %s",
            viewer.person.id,
            kind,
            "import" if write else "check",
            f"{len(errors)} problem(s)" if errors else "valid",
        )
        return render(request, "upload.html", context, 422 if errors else 200, lang)

    return [Route("/dashboard/-/upload", upload, methods=["POST"])]


def _allowed_districts(session: Session, viewer: Viewer) -> set[int] | None:
    """The districts a district officer holds; None for an admin (the whole state)."""
    if viewer.person.role == "admin":
        return None
    return {u.district_id for u in viewer.units if u.level == "district" and u.district_id is not None}


def _districts_of(session: Session, person: Person) -> set[int | None]:
    if person.is_field_worker:
        return {person.district_id}
    if person.role == "admin":
        return {None}
    posts = session.exec(select(Post).where(Post.person_id == person.id)).all()
    return {p.district_id for p in posts} or {None}


def _roster_scope(session: Session, viewer: Viewer, rows: list[RosterRow]) -> list[RowError]:
    """Rows a district officer may not import: another district, or someone who is there now."""
    allowed = _allowed_districts(session, viewer)
    if allowed is None:
        return []
    names = {
        d.name.casefold(): d.id
        for d in session.exec(select(District).where(col(District.id).in_(allowed)))
    }
    area = ", ".join(u.path for u in viewer.units)
    errors = []
    for row in rows:
        lang = viewer.lang
        if row.district.casefold() not in names:
            place = row.district or chat_t("en", f"role_{row.role}")
            errors.append(RowError(row.row, t(lang, "outside_district", place=place, unit=area)))
            continue
        existing = None
        if row.worker_id:
            existing = session.exec(select(Person).where(Person.worker_id == row.worker_id)).first()
        existing = existing or person_by_phone(session=session, phone=row.phone)
        if existing is not None and not _districts_of(session, existing) <= set(allowed):
            errors.append(RowError(row.row, t(lang, "outside_district", place=existing.name, unit=area)))
    return errors


def _import_file(
    core: Fieldbot, viewer: Viewer, kind: str, name: str, suffix: str, data: bytes, write: bool
) -> tuple[str, list[str]]:
    """Check a roster or targets file as `fieldbot roster|targets import [--dry-run]` does, and
    import it when asked and every row is valid: (the summary line, the row-numbered errors)."""
    settings, lang = core.settings, viewer.lang
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        with Session(core.engine) as session:
            try:
                if kind == "roster":
                    rows = load(path, session, settings.roster)
                    scope = _roster_scope(session, viewer, rows)
                    if scope:
                        raise RosterInvalid(scope)
                    people = len({r.key for r in rows})
                    if not write:
                        return t(lang, "roster_checked", file=name, people=people), []
                    summary = apply(session, rows, progress=False)
                    session.commit()
                    return (
                        t(
                            lang,
                            "roster_imported",
                            people=summary.people,
                            created=summary.created,
                            updated=summary.updated,
                        ),
                        [],
                    )
                allowed = _allowed_districts(session, viewer)
                if allowed is not None:
                    found = targets.load(session, settings, path)
                    area = ", ".join(u.path for u in viewer.units)
                    outside = [
                        RowError(r.row, t(lang, "outside_district", place=r.path, unit=area))
                        for r in found
                        if r.district_id not in allowed
                    ]
                    if outside:
                        raise targets.TargetsInvalid(outside)
                done = targets.import_targets(
                    session=session, settings=settings, path=path, dry_run=not write
                )
                if not write:
                    session.rollback()
                    return (
                        t(
                            lang,
                            "targets_checked",
                            file=name,
                            rows=done.rows,
                            created=done.created,
                            updated=done.updated,
                        ),
                        [],
                    )
                session.commit()
                return (
                    t(
                        lang,
                        "targets_imported",
                        rows=done.rows,
                        created=done.created,
                        updated=done.updated,
                        cleared=done.cleared,
                    ),
                    [],
                )
            except (RosterInvalid, targets.TargetsInvalid) as invalid:
                session.rollback()
                errors = [str(e) if e.row else e.message for e in invalid.errors]
                return t(lang, "upload_errors", file=name, count=len(errors)), errors
