"""The composition root: builds the parts of a running Fieldbot and connects them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.engine import Engine

import handlers
from bot.config import Settings
from bot.core.service import Fieldbot
from handlers import account
from models import utcnow


def build_core(
    settings: Settings, engine: Engine, clock: Callable[[], dt.datetime] = utcnow
) -> Fieldbot:
    """The core, given what it needs from above: the handlers' route table and their greeting."""
    return Fieldbot(settings, engine, route=handlers.route, welcome=account.linked, clock=clock)
