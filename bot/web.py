"""One web process: Telegram and WhatsApp webhooks, the chat simulator and the health check."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import hmac
import json
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot import dashboard
from bot.channels.telegram.adapter import (
    INLINE_ANSWER,
    TelegramSettings,
    answer,
    plain_text_inbound,
    start_telegram,
    stop_telegram,
)
from bot.core.messages import Inbound, Location
from bot.core.service import Fieldbot
from bot.delivery import leases, outbox, runs
from bot.delivery.outbox import inbox as outbox_inbox
from bot.guard import HostGuard, SimulatorGate, own_hosts, trusted_caller
from bot.limits import RequestLimits, request_limits
from bot.phones import PhoneError, normalize_phone
from bot.store.units import ROLE_ORDER, home_units
from models import Person, Village, utcnow

if TYPE_CHECKING:
    from bot.channels.whatsapp.endpoints import WhatsAppEndpoints

log = logging.getLogger("fieldbot.web")
STATIC = Path(__file__).resolve().parent / "static"


def _json_error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _parse_at(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return dt.datetime.now(dt.UTC)
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else None


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
    by_name = {tg.bot: (bot_app, tg) for bot_app, tg in telegram_bots if tg.bot is not None}

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

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "simulator.html", media_type="text/html; charset=utf-8")

    async def people(request: Request) -> Response:
        def listing() -> list[dict[str, Any]]:
            state = core.settings.state
            with Session(core.engine) as session:
                rows = session.exec(select(Person).where(col(Person.active).is_(True))).all()
                villages = {v.id: v for v in session.exec(select(Village)).all()}
                out = []
                for person in rows:
                    village = villages.get(person.village_id)
                    out.append(
                        {
                            "name": person.name,
                            "phone": person.phone,
                            "role": person.role,
                            "unit": ", ".join(u.path for u in home_units(session, person, state)),
                            "language": person.language,
                            # The page offers "share location" at the village centre.
                            "village": village.name if village else None,
                            "lat": village.lat if village else None,
                            "lon": village.lon if village else None,
                        }
                    )
            rank = {role: i for i, role in enumerate(ROLE_ORDER)}
            return sorted(out, key=lambda p: (rank.get(p["role"], 99), p["unit"], p["name"]))

        return JSONResponse({"people": await asyncio.to_thread(listing)})

    async def inbox(request: Request) -> Response:
        """Messages the scheduler delivered to a phone, for the simulator page to show."""
        phone = request.query_params.get("phone", "")
        try:
            after = int(request.query_params.get("after", "0"))
            e164 = normalize_phone(phone)
        except (ValueError, PhoneError):
            return _json_error("phone and a numeric after are required")

        def read() -> list[dict[str, Any]]:
            with Session(core.engine) as session:
                return [
                    {
                        "id": row.id,
                        "text": row.text,
                        "document": row.attachment_name,
                        "document_base64": base64.b64encode(row.attachment).decode()
                        if row.attachment
                        else None,
                    }
                    for row in outbox_inbox(session=session, phone=e164, after=after)
                ]

        return JSONResponse({"messages": await asyncio.to_thread(read)})

    async def simulator_message(request: Request) -> Response:
        body = await request.body()  # bot.limits caps it as it arrives
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # nested past Python's depth
            return _json_error("body is not JSON")
        if not isinstance(data, dict):
            return _json_error("body must be a JSON object")
        phone = data.get("phone")
        if not isinstance(phone, str) or not phone.strip():
            return _json_error("phone is required")
        text_value = data.get("text")
        if text_value is not None and not isinstance(text_value, str):
            return _json_error("text must be a string")
        at = _parse_at(data.get("at"))
        if at is None:
            return _json_error("at must be an ISO time with a zone, e.g. 2026-11-23T10:00:00+05:30")
        location = None
        if data.get("location") is not None:
            loc = data["location"]
            try:
                location = Location(
                    float(loc["lat"]),
                    float(loc["lon"]),
                    float(loc["accuracy"]) if loc.get("accuracy") else None,
                    live=bool(loc.get("live", False)),
                )
            except (TypeError, KeyError, ValueError):
                return _json_error("location needs numeric lat and lon")
        photo = None
        if data.get("photo_base64"):
            try:
                photo = base64.b64decode(str(data["photo_base64"]), validate=True)
            except (binascii.Error, ValueError):
                return _json_error("photo_base64 is not base64")
        document, document_name, document_refused = None, None, None
        if data.get("document_base64") is not None:
            name = data.get("document_name")
            if not isinstance(name, str) or not name.strip():
                return _json_error("document_name is required with document_base64")
            try:
                document = base64.b64decode(str(data["document_base64"]), validate=True)
            except (binascii.Error, ValueError):
                return _json_error("document_base64 is not base64")
            document_name = name.strip()
            if len(document) > core.settings.official.max_file_mb * 1024 * 1024:
                document, document_refused = None, "too_large"
        message_id = data.get("id")
        dedup = (
            f"sim:{message_id}"
            if isinstance(message_id, str) and message_id
            else f"sim:{uuid.uuid4().hex}"
        )
        inbound = Inbound(
            channel="simulator",
            dedup_key=dedup,
            source_key=dedup,
            sent_at=at,
            chat_id=phone,
            phone=phone,
            text=text_value,
            location=location,
            photo=photo,
            photo_file=photo is not None,  # the page uploads the file as it is, EXIF and all
            document=document,
            document_name=document_name,
            document_refused=document_refused,
        )
        replies = await asyncio.to_thread(core.handle, inbound)
        out = []
        for reply in replies:
            item: dict[str, Any] = {
                "text": reply.text,
                "document": reply.document.filename if reply.document else None,
            }
            if reply.document is not None:
                item["document_base64"] = base64.b64encode(reply.document.content).decode()
            if reply.buttons:
                item["buttons"] = list(reply.buttons)  # sending a label's text answers it
            out.append(item)
        return JSONResponse({"replies": out})

    async def telegram_webhook(request: Request) -> Response:
        return await _webhook(request, telegram_app, telegram_settings)

    async def bot_webhook(request: Request) -> Response:
        found = by_name.get(request.path_params["bot"])
        if found is None:
            return PlainTextResponse("no such telegram bot", status_code=404)
        return await _webhook(request, *found)

    async def _webhook(
        request: Request, telegram_app: Any, telegram_settings: TelegramSettings | None
    ) -> Response:
        if telegram_app is None or telegram_settings is None:
            return PlainTextResponse("telegram webhook is not enabled", status_code=404)
        webhook_secret = telegram_settings.webhook_secret
        answer_inline = telegram_settings.answer_inline
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not webhook_secret or not hmac.compare_digest(given.encode(), webhook_secret.encode()):
            log.warning(
                "telegram webhook: wrong or missing secret from %s",
                request.client.host if request.client else "?",
            )
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return PlainTextResponse("bad request", status_code=400)
        # A plain text message (most of a campaign evening's traffic) is read from its JSON;
        # python-telegram-bot reads everything else.
        inbound = plain_text_inbound(data)
        if inbound is not None:
            if telegram_settings.bot is not None:
                inbound = dataclasses.replace(inbound, bot=telegram_settings.bot)
            work = _answer_plain(telegram_app, inbound)
        else:
            try:
                update = Update.de_json(data, telegram_app.bot)
            except (TypeError, KeyError, ValueError, AttributeError, RecursionError):  # not an Update
                return PlainTextResponse("bad request", status_code=400)
            if update is None:
                return PlainTextResponse("bad request", status_code=400)
            work = telegram_app.process_update(update)
        if not answer_inline:
            await work
            return Response(status_code=200)
        holder: list[dict[str, Any]] = []
        token = INLINE_ANSWER.set(holder)
        try:
            await work
        finally:
            INLINE_ANSWER.reset(token)
        if holder:
            # Sent only now, after the message is stored: Telegram makes this call for us.
            return JSONResponse(holder[0])
        return Response(status_code=200)

    async def _answer_plain(telegram_app: Any, inbound: Inbound) -> None:
        try:
            await answer(telegram_app, inbound)
        except Exception:
            log.exception("telegram update %s failed", inbound.dedup_key)

    routes = [
        Route("/healthz", healthz),
        Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
        Route("/telegram/webhook/{bot}", bot_webhook, methods=["POST"]),
    ]
    if whatsapp is not None:
        routes += whatsapp.routes()
    routes += dashboard.routes(core)
    if simulator:
        routes += [
            Route("/", gate.protect(page, page=True)),
            Route("/simulator/people", gate.protect(people)),
            Route("/simulator/inbox", gate.protect(inbox)),
            Route("/simulator/messages", gate.protect(simulator_message), methods=["POST"]),
            # Opening the dashboard as an officer is speaking as her: behind the same token.
            *(
                Route(route.path, gate.protect(route.endpoint), methods=route.methods)
                for route in dashboard.simulator_routes(core)
            ),
        ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if telegram_app is not None:
            await start_telegram(telegram_app, telegram_settings)
        for bot_app, tg in by_name.values():
            await start_telegram(bot_app, tg)
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            if telegram_app is not None:
                await stop_telegram(telegram_app)
            for bot_app, _ in by_name.values():
                await stop_telegram(bot_app)

    allowed = own_hosts("127.0.0.1") if hosts is None else hosts
    # The host check stands outermost: a foreign Host is refused before any body is read.
    middleware = [
        Middleware(HostGuard, hosts=allowed),
        Middleware(RequestLimits, **request_limits(core.settings.http)),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
