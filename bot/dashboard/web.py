"""The dashboard's routes, joined for bot.web.create_app: sign-in, uploads, its files, the unit pages."""

from __future__ import annotations

from starlette.routing import Route

from bot.core.service import Fieldbot
from bot.dashboard import signin, uploads, views
from bot.dashboard.site import FONTS, STATIC, Site, asset


def routes(core: Fieldbot) -> list[Route]:
    """Every dashboard route, for bot.web.create_app."""
    site = Site(core)
    return [
        *signin.routes(site),
        *uploads.routes(site),
        Route("/dashboard/-/static/{name:path}", asset(STATIC), methods=["GET"]),
        Route("/dashboard/-/fonts/{name:path}", asset(FONTS), methods=["GET"]),
        *views.routes(site),  # last: the unit pages take any other path under /dashboard
    ]


def simulator_routes(core: Fieldbot) -> list[Route]:
    """`POST /simulator/dashboard {"phone"}`: the simulator opens the dashboard as that officer."""
    return [signin.simulator_route(core)]
