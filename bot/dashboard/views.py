"""The dashboard's unit pages: a unit's figures for a period, its proofs (photos and reviews) and
its downloads (the export workbook, the proofs CSV)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.dashboard import auth
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
from bot.dashboard.site import Site, back_to, log
from bot.dashboard.texts import t
from bot.delivery import outbox
from bot.export import csv_bytes, xlsx_bytes
from bot.i18n import short_date
from bot.i18n import t as chat_t
from bot.presence.proofs import PROOF_COLUMNS, proof_table
from bot.rollups.export_table import export_rows
from bot.store.units import Unit
from models import Person, Proof, ProofReview, utcnow

MAX_NOTE_CHARS = 300


def routes(site: Site) -> list[Route]:
    """`/dashboard` and every unit's page, a proof's photo and review, the downloads.

    The unit pages' `/dashboard/{path}` matches any path under /dashboard: join these routes last.
    """
    core, settings, headers = site.core, site.settings, site.headers
    today, db, render, how_to, current = site.today, site.db, site.render, site.how_to, site.current
    refused, not_found = site.refused, site.not_found

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
        back = back_to(form.get("back"))

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
                table = proof_table(
                    session=session, settings=settings, start=period.start, end=period.end, units=[found]
                )
                log_phone_view(session, viewer, "proofs_csv", found, now)
                return csv_bytes(PROOF_COLUMNS, table)
            sheets: list[tuple[str, list[str], list[list[object]]]] = []
            levels = ["district", "block", "sector", "worker"]
            first = levels.index(found.level) if found.level in levels else 0
            for level in levels[first:]:
                header, rows = export_rows(
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

    return [
        Route("/dashboard", home, methods=["GET"]),
        Route("/dashboard/-/review/{proof_id:int}", review, methods=["POST"]),
        Route("/dashboard/-/photo/{proof_id:int}", photo, methods=["GET"]),
        Route("/dashboard/-/download/{kind}", download, methods=["GET"]),
        Route("/dashboard/{path:path}", unit, methods=["GET"]),
    ]


def proof_in_scope(session: Session, viewer: Viewer, proof_id: int) -> Proof | None:
    proof = session.get(Proof, proof_id)
    if proof is None:
        return None
    if not any(u.holds(proof.district_id, proof.block_id, proof.sector_id) for u in viewer.units):
        return None
    return proof


def _refresh(value: str | None) -> int | None:
    """The projector view's reload interval in seconds (10 to 3,600), or None."""
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        return 60
    return min(max(seconds, 10), 3600)


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
