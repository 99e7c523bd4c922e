"""Signing in and out of the dashboard: the one-time link, its form, the session cookie; and the
simulator's way to open the dashboard as an officer on the roster."""

from __future__ import annotations

import asyncio
import json
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.core.service import Fieldbot
from bot.dashboard import auth
from bot.dashboard.site import COOKIE, SIGNIN_COOKIE, Site, log
from bot.dashboard.texts import t
from bot.store.db import session_scope
from models import utcnow


def routes(site: Site) -> list[Route]:
    """`/dashboard/-/login/{token}` (GET shows the button, POST signs in) and `/dashboard/-/logout`."""
    settings, headers, secure = site.settings, site.headers, site.secure
    db, render, how_to, current, refused = site.db, site.render, site.how_to, site.current, site.refused

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

    return [
        Route("/dashboard/-/login/{token}", login, methods=["GET", "POST"]),
        Route("/dashboard/-/logout", logout, methods=["POST"]),
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
