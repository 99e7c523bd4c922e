"""One web process: every channel's routes (Telegram and WhatsApp webhooks, the chat simulator),
the dashboard and the health check, behind the host check and request limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.simulator import routes as simulator_routes
from bot.channels.telegram.routes import TelegramWebhooks
from bot.channels.telegram.settings import TelegramSettings
from bot.channels.whatsapp.routes import WhatsAppEndpoints
from bot.core.service import Fieldbot
from bot.dashboard import web as dashboard
from bot.delivery import leases, outbox, runs
from bot.guard import HostGuard, SimulatorGate, own_hosts, trusted_caller
from bot.limits import RequestLimits, request_limits
from models import utcnow

log = logging.getLogger("fieldbot.web")


def create_app(
    core: Fieldbot,
    *,
    telegram_app: Any = None,
    telegram_settings: TelegramSettings | None = None,
    scheduler: Any = None,
    simulator: bool = True,
    whatsapp: WhatsAppEndpoints | None = None,
    simulator_token: str | None = None,
    hosts: Collection[str] | None = None,
    telegram_bots: Collection[tuple[Any, TelegramSettings]] = (),
) -> Starlette:
    """The web app; Telegram (webhook or polling) and the scheduler start and stop with it.

    `whatsapp` adds Twilio's webhook, its status callbacks and the file links Twilio fetches.
    `simulator_token` locks the simulator (None: open, for a demo on loopback); `hosts` are the
    host names the app answers for (default: loopback and FIELDBOT_PUBLIC_URL's).
    `telegram_bots` are several bots (config `telegram.bots`), each at `/telegram/webhook/<name>`.
    """
    gate = SimulatorGate(simulator_token)
    telegram = TelegramWebhooks(telegram_app, telegram_settings, telegram_bots)

    async def healthz(request: Request) -> Response:
        def check() -> dict[str, Any]:
            with Session(core.engine) as session:
                session.execute(text("SELECT 1"))
                lease = leases.current(session=session, name=leases.SCHEDULER)
                return {
                    "status": "ok",
                    "database": "ok",
                    "outbox_backlog": outbox.backlog(session=session),
                    # Each bot's (and channel's) own backlog: one slow bot shows here.
                    "outbox_backlog_by_lane": outbox.backlog_by_lane(session=session),
                    "scheduler_last_run": runs.last_run(session),
                    "scheduler_holder": lease.holder if lease else None,
                    # Which process holds each lock (scheduler and sender, Telegram polling).
                    "locks": leases.holders(session=session, now=utcnow()),
                }

        try:
            body = await asyncio.to_thread(check)
        except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
            log.warning("health check failed: %s", type(exc).__name__)
            body, status = {"status": "error", "database": "unreachable"}, 503
        else:
            status = 200
        if not trusted_caller(request, gate):
            body = {"status": body["status"]}  # lock holders name hosts: not for the public
        return JSONResponse(body, status_code=status)

    routes = [Route("/healthz", healthz), *telegram.routes()]
    if whatsapp is not None:
        routes += whatsapp.routes()
    routes += dashboard.routes(core)
    if simulator:
        routes += [
            *simulator_routes.routes(core, gate),
            # Opening the dashboard as an officer is speaking as her: behind the same token.
            *(
                Route(route.path, gate.protect(route.endpoint), methods=route.methods)
                for route in dashboard.simulator_routes(core)
            ),
        ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await telegram.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await telegram.stop()

    allowed = own_hosts("127.0.0.1") if hosts is None else hosts
    # The host check stands outermost: a foreign Host is refused before any body is read.
    middleware = [
        Middleware(HostGuard, hosts=allowed),
        Middleware(RequestLimits, **request_limits(core.settings.http)),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
