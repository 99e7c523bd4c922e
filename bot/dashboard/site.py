"""What every dashboard page shares: the viewer behind the session cookie, the database off the
event loop, the templates with their security headers, and the app's own static files."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.templating import Jinja2Templates

from bot.config import Settings
from bot.core.service import Fieldbot
from bot.dashboard import auth
from bot.dashboard.auth import Viewer
from bot.dashboard.texts import t
from bot.store.db import session_scope
from models import utcnow

log = logging.getLogger("fieldbot.dashboard")
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FONTS = HERE.parent / "static" / "fonts"
COOKIE = "fieldbot_dashboard"
SIGNIN_COOKIE = "fieldbot_signin"
T = TypeVar("T")


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


class Site:
    """The dashboard's shared parts, built once for the app; sessions and links live in the database."""

    def __init__(self, core: Fieldbot):
        self.core = core
        self.settings: Settings = core.settings
        self.templates = Jinja2Templates(directory=str(TEMPLATES))
        self.headers = security_headers(self.settings.dashboard.tile_url)

    def today(self) -> dt.date:
        return self.core.clock().astimezone(self.settings.tz).date()

    async def db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.core.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    @staticmethod
    def secure(request: Request) -> bool:
        return request.url.scheme == "https" or auth.origin().startswith("https://")

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200, lang: str = "hi"
    ) -> Response:
        settings = self.settings
        context = {"t": t, "lang": lang, "tile_url": settings.dashboard.tile_url, **context}
        context.setdefault("attribution", settings.dashboard.tile_attribution)
        return self.templates.TemplateResponse(
            request, name, context, status_code=status, headers=self.headers
        )

    def how_to(self, request: Request) -> Response:
        return self.render(request, "how.html", {}, status=401)

    async def current(self, request: Request) -> Viewer | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        settings = self.settings
        return await self.db(
            lambda s: auth.viewer(session=s, settings=settings, token=token, now=utcnow())
        )

    @staticmethod
    def refused(viewer: Viewer, what: str) -> None:
        log.info("dashboard: person #%s refused %s", viewer.person.id, what)

    def not_found(self, request: Request, viewer: Viewer) -> Response:
        return self.render(
            request,
            "message.html",
            {"viewer": viewer, "message": t(viewer.lang, "not_found")},
            404,
            viewer.lang,
        )


def asset(folder: Path) -> Callable[[Request], Any]:
    """The app's own files (styles, scripts, the map library, fonts): nothing from a CDN."""
    files = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}

    async def serve(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})

    return serve


def back_to(value: object) -> str:
    """Where a form returns to: a dashboard page, nothing else."""
    if (
        isinstance(value, str)
        and value.startswith("/dashboard")
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return "/dashboard"
