"""The composition root: builds the parts of a running Fieldbot and connects them.

settings → engine → core (`build_core`) → channels → delivery (the outbox sender) → the web app and
the scheduler. `bot/cli.py` parses the arguments and calls these; the one-shot commands' bodies
are in `bot/commands.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import socket
from collections.abc import Callable, Mapping

import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.types import ASGIApp

import handlers
from bot import bots
from bot.channels.base import WHATSAPP, Channel, UnreachableChannel, whatsapp_lane
from bot.channels.simulator.channel import SimulatorChannel
from bot.channels.telegram.application import build_application
from bot.channels.telegram.sending import TelegramChannel, started_channel
from bot.channels.telegram.settings import TelegramApp, TelegramSettings
from bot.channels.whatsapp.routes import WhatsAppEndpoints
from bot.channels.whatsapp.sending import WhatsAppChannel
from bot.channels.whatsapp.settings import TwilioSettings, check_templates, missing_templates
from bot.commands import CommandError, migrated_engine, queue_digests
from bot.config import Settings
from bot.core.service import Fieldbot
from bot.dashboard.auth import demo_links, set_origin
from bot.delivery.sender import OutboxSender
from bot.guard import WILDCARDS, is_loopback, own_hosts
from bot.roster.apply import import_roster
from bot.schedule import Scheduler
from bot.store.db import SqliteProcessLock, is_sqlite, make_engine, session_scope, upgrade
from bot.web import create_app
from handlers import account
from models import Person, utcnow


def build_core(
    settings: Settings, engine: Engine, clock: Callable[[], dt.datetime] = utcnow
) -> Fieldbot:
    """The core, given what it needs from above: the handlers' route table and their greeting."""
    return Fieldbot(settings, engine, route=handlers.route, welcome=account.linked, clock=clock)


# ---------------------------------------------------------------- channels and delivery


def build_scheduler(core: Fieldbot, channels: Mapping[str, Channel] | None = None) -> Scheduler:
    """The scheduler for a Fieldbot core, with a sender over the given channels."""
    chans: dict[str, Channel] = dict(channels or {})
    chans.setdefault(
        "simulator",
        SimulatorChannel()
        if core.settings.simulator.enabled
        else UnreachableChannel("no Telegram chat linked"),
    )
    sender = OutboxSender(core.engine, core.settings, chans)
    return Scheduler(core.engine, core.settings, sender)


def whatsapp_channels(
    core: Fieldbot, *, scheduled: bool
) -> tuple[dict[str, Channel], TwilioSettings | None]:
    """The WhatsApp channels when its TWILIO_* variables are set: one lane per sender number.

    A process that runs the scheduler says which jobs have no approved template yet: until one is
    set, their messages reach only people inside the 24-hour window, the others are marked failed
    with the reason. Replies never need a template.
    """
    twilio = TwilioSettings.from_env()
    if twilio is None:
        return {}, None
    missing = missing_templates(core.settings) if scheduled else []
    if missing:
        print(
            "WhatsApp: no approved template yet for "
            + ", ".join(missing)
            + " (whatsapp.templates.<job>.content_sid): until one is set, those messages reach "
            "only people who wrote in the last 24 hours; the others are marked failed, with the "
            "reason",
            flush=True,
        )
    channels: dict[str, Channel] = {
        # Rows queued before (or with one number): the `whatsapp` lane, from the first number.
        WHATSAPP: WhatsAppChannel(core.engine, core.settings, twilio),
    }
    for sender in twilio.senders:
        lane = whatsapp_lane(sender, twilio.senders)
        if lane != WHATSAPP:
            channels[lane] = WhatsAppChannel(core.engine, core.settings, twilio, sender=sender)
    return channels, twilio


async def sending_channels(core: Fieldbot) -> tuple[dict[str, Channel], list[TelegramChannel]]:
    """The channels of a process that sends but does not receive (scheduler, digest): a lane per bot.

    The Telegram clients are started; the caller shuts them down.
    """
    channels, _ = whatsapp_channels(core, scheduled=True)
    paid = {spec.name: spec.paid_broadcast for spec in bots.specs(core.settings)}
    started = []
    for tg in TelegramSettings.for_bots(core.settings):
        channel = await started_channel(tg, paid=paid.get(tg.bot or bots.DEFAULT, False))
        started.append(channel)
        channels[bots.lane_of(tg.bot)] = channel
    return channels, started


# ---------------------------------------------------------------- the web app


def server_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """uvicorn as `run` and `demo` serve: its own log goes to the one masking handler (no dictConfig)."""
    return uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, taken before anything else starts: a port in use stops the process
    before it takes the scheduler's lease, registers a webhook or polls Telegram."""
    address = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CommandError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; another fieldbot (or another "
            "program) may be using that port: stop it, or choose another with --port"
        ) from None
    return sock


def _simulator_token(*, simulator: bool, open_demo: bool) -> tuple[str | None, bool]:
    """The simulator's token and whether it was made up now (so it must be printed).

    A demo on loopback has none; otherwise FIELDBOT_SIMULATOR_TOKEN, or a random one. With the
    simulator off the variable still lets its holder read /healthz in full.
    """
    given = os.environ.get("FIELDBOT_SIMULATOR_TOKEN", "").strip() or None
    if not simulator or open_demo:
        return (None if open_demo else given), False
    if given is not None:
        return given, False
    return secrets.token_urlsafe(24), True


def _announce(
    host: str, port: int, *, simulator: bool, demo: bool, token: str | None, new_token: bool
) -> None:
    print(
        f"Fieldbot is serving on http://{host}:{port}"
        + (" — open it in a browser to chat as anyone on the roster" if simulator and not token else ""),
        flush=True,
    )
    wildcard = host.strip("[]") in WILDCARDS
    if wildcard:
        names = ", ".join(sorted(own_hosts(host)))
        print(
            f"requests are answered for these host names only: {names}; set FIELDBOT_PUBLIC_URL "
            "to the address browsers and webhooks use",
            flush=True,
        )
    if not simulator or token is None:
        return
    if not demo:
        print(
            "WARNING: the simulator is on. Whoever has its token speaks as any person on the "
            "roster, into this database's real figures, and reads their scheduled messages. "
            "For training, give it a database of its own "
            "(FIELDBOT_DATABASE_URL=sqlite:///training.db).",
            flush=True,
        )
    public = os.environ.get("FIELDBOT_PUBLIC_URL", "").rstrip("/")
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    base = (public or f"http://127.0.0.1:{port}") if wildcard else f"http://{shown}:{port}"
    if new_token:
        print(
            f"simulator token (new at every start; set FIELDBOT_SIMULATOR_TOKEN to keep one): {token}\n"
            f"open {base}/?token={token} once in the browser; "
            f"API clients send Authorization: Bearer {token}",
            flush=True,
        )
    else:
        print(
            f"simulator token: FIELDBOT_SIMULATOR_TOKEN; open {base}/?token=<it> once in the "
            "browser; API clients send Authorization: Bearer <it>",
            flush=True,
        )


def web_app(
    core: Fieldbot, host: str, *, scheduler: bool, simulator: bool, demo: bool
) -> tuple[Starlette, str | None, bool]:
    """Every configured channel joined into the web app, with the scheduler if this process runs
    it; also the simulator's token and whether it was made up now."""
    # Only a process that runs the scheduler sends what may need an approved template.
    channels, twilio = whatsapp_channels(core, scheduled=scheduler)
    telegram_settings: TelegramSettings | None = None
    telegram_app: TelegramApp | None = None
    several = []
    paid = {spec.name: spec.paid_broadcast for spec in bots.specs(core.settings)}
    for tg in TelegramSettings.for_bots(core.settings):
        webhook = tg.webhook_url is not None
        if webhook and not tg.webhook_secret:
            which = "TELEGRAM_WEBHOOK_SECRET" if tg.bot is None else f"bot {tg.bot}'s webhook_secret_env"
            raise CommandError(f"TELEGRAM_WEBHOOK_URL is set without {which}")
        application = build_application(core, tg, webhook=webhook)
        name = tg.bot or bots.DEFAULT
        channels[bots.lane_of(tg.bot)] = TelegramChannel(application.bot, paid=paid.get(name, False))
        if tg.bot is None:
            telegram_settings, telegram_app = tg, application
        else:
            several.append((application, tg))
    if simulator:
        # Whoever has no chat app linked reads the day's messages in the simulator served here.
        channels["simulator"] = SimulatorChannel()
    token, new_token = _simulator_token(simulator=simulator, open_demo=demo and is_loopback(host))
    app = create_app(
        core,
        telegram_app=telegram_app,
        telegram_settings=telegram_settings,
        scheduler=build_scheduler(core, channels) if scheduler else None,
        simulator=simulator,
        whatsapp=WhatsAppEndpoints(core, twilio) if twilio else None,
        simulator_token=token,
        hosts=own_hosts(host),
        telegram_bots=several,
    )
    return app, token, new_token


async def serve(
    core: Fieldbot, host: str, port: int, *, scheduler: bool, simulator: bool, demo: bool = False
) -> None:
    """The web app, Telegram (polling or webhook) and the scheduler in one event loop."""
    listener = _listen(host, port)
    try:
        set_origin(f"http://{host}:{port}")  # dashboard links, unless FIELDBOT_PUBLIC_URL says otherwise
        app, token, new_token = web_app(core, host, scheduler=scheduler, simulator=simulator, demo=demo)
        server = uvicorn.Server(server_config(app, host, port))
        _announce(host, port, simulator=simulator, demo=demo, token=token, new_token=new_token)
        await server.serve(sockets=[listener])
    finally:
        listener.close()


def run(
    settings: Settings, host: str, port: int, *, scheduler: bool, simulator: bool, demo: bool = False
) -> int:
    """`run` and `demo`: serve until stopped, one process per SQLite file."""
    engine = migrated_engine(settings)
    lock = SqliteProcessLock(engine) if is_sqlite(engine) else None
    if lock is not None:
        lock.acquire()
    try:
        asyncio.run(
            serve(
                build_core(settings, engine),
                host,
                port,
                scheduler=scheduler,
                simulator=simulator,
                demo=demo,
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        if lock is not None:
            lock.release()
    return 0


def demo(settings: Settings, host: str, port: int) -> int:
    """Migrate, load the sample district into an empty database, serve the simulator."""
    engine = make_engine(settings.database_url_resolved())
    upgrade(engine)
    with session_scope(engine) as session:
        people = session.exec(select(func.count()).select_from(Person)).one()
        if not people:
            path = settings.resolve_path(settings.demo.roster)
            summary = import_roster(session, path, progress=False, aliases=settings.roster)
            print(f"loaded the sample district from {path}: {summary.people} people")
    print_dashboard_links(engine, settings, host, port)
    return run(settings, host, port, scheduler=True, simulator=True, demo=True)


def print_dashboard_links(engine: Engine, settings: Settings, host: str, port: int) -> None:
    """One-use dashboard links for the sample district officer and BMO."""
    set_origin(f"http://{host}:{port}")
    with session_scope(engine) as session:
        links = demo_links(session=session, settings=settings, now=utcnow())
    minutes = settings.dashboard.link_minutes
    for person, url in links:
        print(f"dashboard as {person.name} ({person.role}): {url}")
    if links:
        print(f"  (each opens once, within {minutes} minutes; /web in the simulator gives a new one)")


# ---------------------------------------------------------------- processes that only send


def run_scheduler(settings: Settings) -> int:
    """`scheduler`: the scheduler alone, working while it holds the lease, until stopped."""
    engine = migrated_engine(settings)
    core = build_core(settings, engine)

    async def main() -> None:
        channels, started = await sending_channels(core)
        jobs = build_scheduler(core, channels)
        jobs.start()
        print("scheduler running; it works while it holds the lease; Ctrl-C stops it", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            jobs.shutdown(wait=False)
            for channel in started:
                await channel.shutdown()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0


def send_digests(settings: Settings, *, day: dt.date, role: str) -> int:
    """`digest --send`: a day's digests queued in the outbox, and the outbox drained once now."""
    engine = migrated_engine(settings)
    if TwilioSettings.from_env() is not None:  # a WhatsApp set up halfway stops before queueing
        check_templates(settings)
    count, queued = queue_digests(engine, settings, day=day, role=role)

    async def send() -> int:
        core = build_core(settings, engine)
        channels, started = await sending_channels(core)
        try:
            sender = build_scheduler(core, channels).sender
            assert sender is not None
            return await sender.drain_once()
        finally:
            for channel in started:
                await channel.shutdown()

    sent = asyncio.run(send())
    print(f"{count} digest(s) for {day}: {queued} queued, {sent} sent now")
    return 0
