"""The dashboard's web routes: sign-in, the unit pages, reviews, downloads and uploads."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot import presence, rollups, roster, targets
from bot.core.service import Fieldbot
from bot.dashboard import auth, official_upload
from bot.dashboard.auth import Viewer
from bot.dashboard.pages import (
    REVIEWER_ROLES,
    UPLOAD_KINDS,
    UPLOADER_ROLES,
    find_unit,
    log_phone_view,
    period_of,
    unit_page,
    unit_url,
)
from bot.dashboard.texts import t
from bot.delivery import outbox
from bot.export import csv_bytes, xlsx_bytes
from bot.i18n import short_date
from bot.i18n import t as chat_t
from bot.limits import DASHBOARD_UPLOAD_BYTES
from bot.store.db import session_scope
from bot.store.people import person_by_phone
from bot.store.units import Unit
from models import Person, Post, Proof, ProofReview, utcnow

log = logging.getLogger("fieldbot.dashboard")
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FONTS = HERE.parent / "static" / "fonts"
COOKIE = "fieldbot_dashboard"
SIGNIN_COOKIE = "fieldbot_signin"
MAX_UPLOAD_BYTES = DASHBOARD_UPLOAD_BYTES
MAX_NOTE_CHARS = 300
T = TypeVar("T")


def _megabytes(size: int) -> str:
    """A size in whole megabytes (or one decimal), as the too-large answer gives it."""
    mb = size / (1024 * 1024)
    return str(int(mb)) if mb == int(mb) else f"{mb:.1f}"


def _tile_origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def security_headers(tile_url: str) -> dict[str, str]:
    """Only the app's own scripts, styles and fonts; images also from the tile server."""
    tiles = _tile_origin(tile_url)
    if "{s}" in tile_url:
        parts = urlsplit(tile_url)
        tiles = f"{parts.scheme}://*.{parts.netloc.split('.', 1)[-1]}"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
            f"img-src 'self' data:{' ' + tiles if tiles else ''}; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        # same-origin, not no-referrer: a form posted under no-referrer carries `Origin: null`,
        # which the host check refuses; a sign-in link still never leaves the site in a Referer.
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
    }


def routes(core: Fieldbot) -> list[Route]:
    """The dashboard under /dashboard; sessions and links live in the database."""
    settings = core.settings
    templates = Jinja2Templates(directory=str(TEMPLATES))
    headers = security_headers(settings.dashboard.tile_url)

    def today() -> dt.date:
        return core.clock().astimezone(settings.tz).date()

    async def db(work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(core.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or auth.origin().startswith("https://")

    def render(
        request: Request, name: str, context: dict[str, Any], status: int = 200, lang: str = "hi"
    ) -> Response:
        context = {"t": t, "lang": lang, "tile_url": settings.dashboard.tile_url, **context}
        context.setdefault("attribution", settings.dashboard.tile_attribution)
        return templates.TemplateResponse(request, name, context, status_code=status, headers=headers)

    def how_to(request: Request) -> Response:
        return render(request, "how.html", {}, status=401)

    async def current(request: Request) -> Viewer | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        return await db(lambda s: auth.viewer(session=s, settings=settings, token=token, now=utcnow()))

    def refused(viewer: Viewer, what: str) -> None:
        log.info("dashboard: person #%s refused %s", viewer.person.id, what)

    def not_found(request: Request, viewer: Viewer) -> Response:
        return render(
            request,
            "message.html",
            {"viewer": viewer, "message": t(viewer.lang, "not_found")},
            404,
            viewer.lang,
        )

    # ------------------------------------------------------------ signing in and out

    async def login(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "GET":
            # Showing the button uses nothing up: a link preview's fetch cannot sign anyone in.
            form_token = secrets.token_urlsafe(24)
            response = render(request, "login.html", {"csrf": form_token, "action": request.url.path})
            response.set_cookie(
                SIGNIN_COOKIE,
                form_token,
                max_age=600,
                httponly=True,
                samesite="strict",
                secure=secure(request),
                path="/dashboard/-/login",
            )
            return response
        form = await request.form()
        if not auth.csrf_ok(request.cookies.get(SIGNIN_COOKIE, ""), form.get("csrf")):
            return render(request, "message.html", {"message_key": "form_expired"}, 403)
        result = await db(lambda s: auth.redeem(session=s, settings=settings, token=token, now=utcnow()))
        if isinstance(result, str):
            log.info("dashboard: sign-in link refused (%s)", result)
            return render(request, "message.html", {"message_key": f"link_{result}"}, 403)
        log.info("dashboard: person #%s signed in", result.person_id)
        response = RedirectResponse("/dashboard", status_code=303, headers=headers)
        response.set_cookie(
            COOKIE,
            result.token,
            max_age=int(settings.dashboard.session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=secure(request),
            path="/dashboard",
        )
        response.delete_cookie(SIGNIN_COOKIE, path="/dashboard/-/login")
        return response

    async def logout(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        form = await request.form()
        if not auth.csrf_ok(viewer.csrf, form.get("csrf")):
            refused(viewer, "a log-out form without its token")
            return render(
                request,
                "message.html",
                {"viewer": viewer, "message": t(viewer.lang, "form_expired")},
                403,
                viewer.lang,
            )
        await db(lambda s: auth.end_session(session=s, session_hash=viewer.session_hash))
        log.info("dashboard: person #%s logged out", viewer.person.id)
        response = render(
            request, "message.html", {"message": t(viewer.lang, "logged_out")}, 200, viewer.lang
        )
        response.delete_cookie(COOKIE, path="/dashboard")
        return response

    # ------------------------------------------------------------ the unit pages

    async def home(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        return await show(request, viewer, viewer.units[0])

    async def unit(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        path = request.path_params["path"]
        found = await db(lambda s: find_unit(s, settings, path))
        if found is None or not viewer.sees(found):
            refused(viewer, f"a unit page outside scope ({'unknown' if found is None else found.level})")
            return not_found(request, viewer)
        return await show(request, viewer, found)

    async def show(request: Request, viewer: Viewer, found: Unit) -> Response:
        refresh = _refresh(request.query_params.get("refresh"))
        query = dict(request.query_params)

        def build(session: Session) -> Any:
            return unit_page(
                session=session,
                settings=settings,
                viewer=viewer,
                unit=found,
                query=query,
                today=today(),
                now=utcnow(),
                projector=refresh is not None,
            )

        page = await db(build)
        context = {
            "viewer": viewer,
            "page": page,
            "refresh": refresh,
            "own": [(u.path, unit_url(u)) for u in viewer.units],
            "can_upload": viewer.person.role in UPLOADER_ROLES and refresh is None,
            "upload_kinds": UPLOAD_KINDS,
            "downloads": _downloads(found, page.period.params()),
            "notice": t(viewer.lang, request.query_params["msg"])
            if request.query_params.get("msg") in ("review_done", "review_already")
            else "",
            "back": unit_url(found, **page.period.params()),
            "metrics": [m.label(viewer.lang) for m in settings.metrics],
            "updated": f"{core.clock().astimezone(settings.tz):%H:%M}",
        }
        return render(request, "unit.html", context, 200, viewer.lang)

    # ------------------------------------------------------------ proofs: photos and reviews

    def proof_in_scope(session: Session, viewer: Viewer, proof_id: int) -> Proof | None:
        proof = session.get(Proof, proof_id)
        if proof is None:
            return None
        if not any(u.holds(proof.district_id, proof.block_id, proof.sector_id) for u in viewer.units):
            return None
        return proof

    async def photo(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        proof_id = request.path_params["proof_id"]
        proof = await db(lambda s: proof_in_scope(s, viewer, proof_id))
        if proof is None or not proof.photo_path or not Path(proof.photo_path).is_file():
            refused(viewer, f"photo of proof #{proof_id}")
            return not_found(request, viewer)
        data = await asyncio.to_thread(_thumbnail, Path(proof.photo_path))
        return Response(
            data, media_type="image/jpeg", headers={**headers, "Cache-Control": "private, max-age=600"}
        )

    async def review(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        form = await request.form()
        if not auth.csrf_ok(viewer.csrf, form.get("csrf")):
            refused(viewer, "a review form without its token")
            return render(
                request,
                "message.html",
                {"viewer": viewer, "message": t(viewer.lang, "form_expired")},
                403,
                viewer.lang,
            )
        decision = form.get("decision")
        if viewer.person.role not in REVIEWER_ROLES or decision not in ("accepted", "rejected"):
            refused(viewer, "a proof review")
            return not_found(request, viewer)
        note = " ".join(str(form.get("note") or "").split())[:MAX_NOTE_CHARS]
        proof_id = request.path_params["proof_id"]
        back = _back(form.get("back"))

        def save(session: Session) -> str | None:
            proof = proof_in_scope(session, viewer, proof_id)
            if proof is None or proof.verdict != "needs_review":
                return None
            if session.get(ProofReview, proof_id) is not None:
                return "review_already"
            assert viewer.person.id is not None
            session.add(
                ProofReview(
                    proof_id=proof_id,
                    reviewer_id=viewer.person.id,
                    decision=str(decision),
                    note=note,
                    reviewed_at=utcnow(),
                )
            )
            try:
                session.flush()
            except IntegrityError:  # reviewed at the same moment elsewhere
                session.rollback()
                return "review_already"
            worker = session.get_one(Person, proof.person_id)
            lang = worker.language
            local = proof.taken_at.astimezone(settings.tz)
            text = chat_t(
                lang,
                f"proof_reviewed_{decision}",
                date=short_date(proof.day, lang),
                time=f"{local:%H:%M}",
                note=chat_t(lang, "proof_review_note", note=note) if note else "",
            )
            outbox.enqueue(
                session=session,
                job="proof_review",
                day=proof.day,
                messages=[outbox.Message(worker, text, key=f"proof_review:{proof_id}")],
                now=utcnow(),
                settings=settings,
            )
            log.info(
                "dashboard: person #%s %s proof #%s of person #%s",
                viewer.person.id,
                decision,
                proof_id,
                worker.id,
            )
            return "review_done"

        outcome = await db(save)
        if outcome is None:
            refused(viewer, f"a review of proof #{proof_id}")
            return not_found(request, viewer)
        separator = "&" if "?" in back else "?"
        return RedirectResponse(
            f"{back}{separator}msg={outcome}#proofs", status_code=303, headers=headers
        )

    # ------------------------------------------------------------ downloads

    async def download(request: Request) -> Response:
        viewer = await current(request)
        if viewer is None:
            return how_to(request)
        kind = request.path_params["kind"]
        path = request.query_params.get("unit", "")
        found = await db(lambda s: find_unit(s, settings, path))
        if found is None or not viewer.sees(found) or kind not in ("export.xlsx", "proofs.csv"):
            refused(viewer, f"a download outside scope ({kind})")
            return not_found(request, viewer)
        period = period_of(settings, dict(request.query_params), today(), viewer.lang)

        def build(session: Session) -> bytes:
            now = utcnow()
            if kind == "proofs.csv":
                table = presence.proof_table(
                    session=session, settings=settings, start=period.start, end=period.end, units=[found]
                )
                log_phone_view(session, viewer, "proofs_csv", found, now)
                return csv_bytes(presence.PROOF_COLUMNS, table)
            sheets: list[tuple[str, list[str], list[list[object]]]] = []
            levels = ["district", "block", "sector", "worker"]
            first = levels.index(found.level) if found.level in levels else 0
            for level in levels[first:]:
                header, rows = rollups.export_rows(
                    session=session,
                    settings=settings,
                    level=level,
                    start=period.start,
                    end=period.end,
                    within=found,
                )
                sheets.append((level, header, rows))
            log_phone_view(session, viewer, "export", found, now)
            return xlsx_bytes(sheets)

        content = await db(build)
        stem = f"fieldbot_{found.path.replace('/', '_')}_{period.start}_{period.end}"
        if kind == "proofs.csv":
            name, mime = f"{stem}_proofs.csv", "text/csv; charset=utf-8"
        else:
            name, mime = (
                f"{stem}.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
        return Response(
            content,
            media_type=mime,
            headers={**headers, "Content-Disposition": f'attachment; filename="{ascii_name}"'},
        )

    # ------------------------------------------------------------ uploads

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
            back = _back(form.get("back"))
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

    return [
        Route("/dashboard", home, methods=["GET"]),
        Route("/dashboard/-/login/{token}", login, methods=["GET", "POST"]),
        Route("/dashboard/-/logout", logout, methods=["POST"]),
        Route("/dashboard/-/review/{proof_id:int}", review, methods=["POST"]),
        Route("/dashboard/-/photo/{proof_id:int}", photo, methods=["GET"]),
        Route("/dashboard/-/download/{kind}", download, methods=["GET"]),
        Route("/dashboard/-/upload", upload, methods=["POST"]),
        Route("/dashboard/-/static/{name:path}", asset(STATIC), methods=["GET"]),
        Route("/dashboard/-/fonts/{name:path}", asset(FONTS), methods=["GET"]),
        Route("/dashboard/{path:path}", unit, methods=["GET"]),
    ]


def simulator_route(core: Fieldbot) -> Route:
    """The simulator speaks as anyone on the roster already; it may open their dashboard too."""

    async def open_as(request: Request) -> Response:
        try:
            data = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        phone = data.get("phone") if isinstance(data, dict) else None
        if not isinstance(phone, str):
            return JSONResponse({"error": "phone is required"}, status_code=400)

        def make() -> str | None:
            with session_scope(core.engine) as session:
                return auth.link_for_phone(
                    session=session, settings=core.settings, phone=phone, now=utcnow()
                )

        url = await asyncio.to_thread(make)
        if url is None:
            return JSONResponse(
                {"error": "only for active officers with a unit, a few links an hour"},
                status_code=403,
            )
        return JSONResponse({"url": url})

    return Route("/simulator/dashboard", open_as, methods=["POST"])


def asset(folder: Path) -> Callable[[Request], Any]:
    """The app's own files (styles, scripts, the map library, fonts): nothing from a CDN."""
    files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}

    async def serve(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})

    return serve


def _refresh(value: str | None) -> int | None:
    """The projector view's reload interval in seconds (10 to 3,600), or None."""
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        return 60
    return min(max(seconds, 10), 3600)


def _back(value: object) -> str:
    """Where a form returns to: a dashboard page, nothing else."""
    if (
        isinstance(value, str)
        and value.startswith("/dashboard")
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return "/dashboard"


def _downloads(unit: Unit, params: dict[str, str]) -> dict[str, str]:
    query = urlencode({"unit": unit.path, **params})
    return {
        "excel": f"/dashboard/-/download/export.xlsx?{query}",
        "proofs": f"/dashboard/-/download/proofs.csv?{query}",
    }


def _thumbnail(path: Path) -> bytes:
    with Image.open(path) as image:
        image.thumbnail((480, 480))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


# ---------------------------------------------------------------- uploads: the CLI's checks


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


def _roster_scope(
    session: Session, viewer: Viewer, rows: list[roster.RosterRow]
) -> list[roster.RowError]:
    """Rows a district officer may not import: another district, or someone who is there now."""
    allowed = _allowed_districts(session, viewer)
    if allowed is None:
        return []
    from models import District

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
            errors.append(roster.RowError(row.row, t(lang, "outside_district", place=place, unit=area)))
            continue
        existing = None
        if row.worker_id:
            existing = session.exec(select(Person).where(Person.worker_id == row.worker_id)).first()
        existing = existing or person_by_phone(session=session, phone=row.phone)
        if existing is not None and not _districts_of(session, existing) <= set(allowed):
            errors.append(
                roster.RowError(row.row, t(lang, "outside_district", place=existing.name, unit=area))
            )
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
                    rows = roster.load(path, session, settings.roster)
                    scope = _roster_scope(session, viewer, rows)
                    if scope:
                        raise roster.RosterInvalid(scope)
                    people = len({r.key for r in rows})
                    if not write:
                        return t(lang, "roster_checked", file=name, people=people), []
                    summary = roster.apply(session, rows, progress=False)
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
                        roster.RowError(r.row, t(lang, "outside_district", place=r.path, unit=area))
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
            except (roster.RosterInvalid, targets.TargetsInvalid) as invalid:
                session.rollback()
                errors = [str(e) if e.row else e.message for e in invalid.errors]
                return t(lang, "upload_errors", file=name, count=len(errors)), errors
