"""The officers' dashboard: the campaign in the browser, with the same figures and scope as chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import Route

    from bot.core.service import Fieldbot


def routes(core: Fieldbot) -> list[Route]:
    """Every dashboard route, for bot.web.create_app."""
    from bot.dashboard.views import routes as dashboard_routes

    return dashboard_routes(core)


def simulator_routes(core: Fieldbot) -> list[Route]:
    """`POST /simulator/dashboard {"phone"}`: the simulator opens the dashboard as that officer."""
    from bot.dashboard.views import simulator_route

    return [simulator_route(core)]
