"""Several Telegram bots in one deployment: which bot serves whom, and who is still to move.

Without `telegram.bots` the one bot of TELEGRAM_BOT_TOKEN serves everyone and none of this applies
(its lane is plain `telegram`). With bots listed, a person is served by her district's bot once she
has started it; until then the bot she already uses keeps serving her (a bot cannot write to
someone who never started it), and her supervisor's digest names her among those to move.
A field worker who writes to another district's bot is told the right bot's name; nothing is stored.
Officers above a district (no district of their own) may use any bot.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.store.insert import dialect_insert
from models import District, Person, Post, ServiceState, TelegramBotChat

DEFAULT = "default"  # the one bot of TELEGRAM_BOT_TOKEN
CATCH_ALL = "*"
ABOVE_DISTRICT = frozenset({"admin"})  # state admins: any bot serves them
USERNAME_KEY = "telegram_bot_username:"  # + bot name: what getMe said, learnt when the bot starts


@dataclass(frozen=True)
class BotSpec:
    """One bot as this process runs it: its token and secret read from the environment."""

    name: str
    token: str | None
    webhook_secret: str | None
    username: str | None
    districts: frozenset[str]  # casefolded district names; "*" for everyone not served by another
    paid_broadcast: bool

    @property
    def lane(self) -> str:
        return lane_of(self.name)

    @property
    def webhook_path(self) -> str:
        return "/telegram/webhook" if self.name == DEFAULT else f"/telegram/webhook/{self.name}"


def multi(settings: Settings) -> bool:
    return bool(settings.telegram.bots)


def lane_of(bot: str | None) -> str:
    """The outbox lane of a bot: `telegram` for the one bot, `telegram:<name>` for one of several."""
    return "telegram" if bot in (None, DEFAULT) else f"telegram:{bot}"


def bot_of_lane(lane: str) -> str:
    return lane.partition(":")[2] or DEFAULT


def _at(username: str | None) -> str | None:
    return None if not username else username if username.startswith("@") else f"@{username}"


def specs(settings: Settings, environ: Mapping[str, str] | None = None) -> list[BotSpec]:
    """Every configured bot, with its token (None where its variable is not set)."""
    env = os.environ if environ is None else environ
    tg = settings.telegram
    if not tg.bots:
        return [
            BotSpec(
                DEFAULT,
                env.get("TELEGRAM_BOT_TOKEN") or None,
                env.get("TELEGRAM_WEBHOOK_SECRET") or None,
                _at(tg.username),
                frozenset({CATCH_ALL}),
                tg.allow_paid_broadcast,
            )
        ]
    return [
        BotSpec(
            bot.name,
            env.get(bot.token_env) or None,
            (env.get(bot.webhook_secret_env) or None) if bot.webhook_secret_env else None,
            _at(bot.username),
            frozenset(d.strip().casefold() for d in bot.districts),
            bot.allow_paid_broadcast,
        )
        for bot in tg.bots
    ]


class Routing:
    """Which bot serves a district, by the config: the district's own bot, else the catch-all."""

    def __init__(self, settings: Settings):
        self.bots = specs(settings)
        self.by_district: dict[str, str] = {}
        self.catch_all: str | None = None
        for spec in self.bots:
            for district in spec.districts:
                if district == CATCH_ALL:
                    self.catch_all = spec.name
                else:
                    self.by_district[district] = spec.name
        self.fallback = self.catch_all or self.bots[0].name

    def for_district(self, district: str | None) -> str | None:
        """The bot of a district; None for officers above a district (any bot serves them)."""
        if district is None:
            return None
        return self.by_district.get(district.casefold(), self.catch_all)

    def choose(self, district: str | None, started: Mapping[str, dt.datetime], linked: bool) -> str:
        """The bot to write to her with: her district's once started, else the one she uses."""
        home = self.for_district(district)
        if home is not None and home in started:
            return home
        if started:
            return max(started, key=lambda bot: started[bot])
        if linked:
            # Linked before bots were listed: she started the one bot, now the catch-all.
            return self.fallback
        return home or self.fallback


def district_names(session: Session) -> dict[int, str]:
    return {d.id: d.name for d in session.exec(select(District)).all() if d.id is not None}


def home_districts(session: Session, people: Iterable[Person]) -> dict[int, str | None]:
    """Each person's district by name: a field worker's own, an officer's of her (first) post;
    None for state admins and anyone above a district."""
    names = district_names(session)
    found: dict[int, str | None] = {}
    officers = []
    for person in people:
        if person.id is None:
            continue
        if person.role in ABOVE_DISTRICT:
            found[person.id] = None
        elif person.district_id is not None:
            found[person.id] = names.get(person.district_id)
        else:
            officers.append(person.id)
            found[person.id] = None
    for start in range(0, len(officers), 5000):
        rows = session.exec(
            select(Post.person_id, Post.district_id)
            .where(col(Post.person_id).in_(officers[start : start + 5000]))
            .order_by(col(Post.id))
        ).all()
        for person_id, district_id in rows:
            if found.get(person_id) is None and district_id is not None:
                found[person_id] = names.get(district_id)
    return found


def started_bots(session: Session, person_ids: Iterable[int]) -> dict[int, dict[str, dt.datetime]]:
    """For each person, the bots she has started and when she last wrote to each."""
    ids = list(person_ids)
    found: dict[int, dict[str, dt.datetime]] = {}
    for start in range(0, len(ids), 5000):
        rows = session.exec(
            select(TelegramBotChat.person_id, TelegramBotChat.bot, TelegramBotChat.last_seen_at).where(
                col(TelegramBotChat.person_id).in_(ids[start : start + 5000])
            )
        ).all()
        for person_id, bot, seen in rows:
            found.setdefault(person_id, {})[bot] = seen
    return found


def record_start(*, session: Session, person_id: int, bot: str, now: dt.datetime) -> None:
    """She wrote to this bot in a private chat: it may write to her from now on."""
    table = TelegramBotChat.__table__  # type: ignore[attr-defined]
    insert = dialect_insert(session, table)
    session.execute(
        insert.values(
            person_id=person_id, bot=bot, started_at=now, last_seen_at=now
        ).on_conflict_do_update(index_elements=["person_id", "bot"], set_={"last_seen_at": now})
    )


def username(session: Session, routing: Routing, bot: str) -> str:
    """How a bot is named to people: its configured @username, else what getMe said, else its name."""
    for spec in routing.bots:
        if spec.name == bot and spec.username:
            return spec.username
    stored = session.get(ServiceState, USERNAME_KEY + bot)
    return _at(stored.value) or bot if stored else bot


def remember_username(session: Session, bot: str, value: str, now: dt.datetime) -> None:
    row = session.get(ServiceState, USERNAME_KEY + bot) or ServiceState(key=USERNAME_KEY + bot, value="")
    row.value, row.updated_at = value, now
    session.add(row)


def link(name: str) -> str | None:
    """The t.me link that opens a bot, for a supervisor to forward."""
    return f"https://t.me/{name.removeprefix('@')}" if name.startswith("@") else None


def gate(
    *,
    session: Session,
    settings: Settings,
    person: Person,
    bot: str | None,
    private: bool,
    now: dt.datetime,
) -> str | None:
    """None when this bot may serve her (and it is noted that she started it); else the right bot.

    Her district's bot serves her; so does the bot she already uses while she has not started hers.
    """
    if bot is None or not multi(settings) or person.id is None:
        return None
    routing = Routing(settings)
    home = routing.for_district(home_districts(session, [person]).get(person.id))
    started = started_bots(session, [person.id]).get(person.id, {})
    legacy = not started and person.telegram_chat_id is not None and bot == routing.fallback
    if home is None or home == bot or (home not in started and (bot in started or legacy)):
        if private:
            record_start(session=session, person_id=person.id, bot=bot, now=now)
        return None
    return username(session, routing, home)


@dataclass(frozen=True)
class ToMove:
    """Workers of a unit still served by another bot than their district's, and where to send them."""

    bot: str  # @username of the district's bot
    link: str | None
    names: list[str]


def still_to_move(session: Session, settings: Settings, people: list[Person]) -> list[ToMove]:
    """Of these people (on Telegram), those not yet on their district's bot, by that bot."""
    if not multi(settings):
        return []
    routing = Routing(settings)
    linked = [p for p in people if p.telegram_chat_id is not None and p.id is not None]
    districts = home_districts(session, linked)
    started = started_bots(session, [p.id for p in linked if p.id is not None])
    waiting: dict[str, list[str]] = {}
    for person in linked:
        home = routing.for_district(districts.get(person.id or 0))
        if home is not None and home not in started.get(person.id or 0, {}):
            waiting.setdefault(home, []).append(person.name)
    out = []
    for bot, names in sorted(waiting.items()):
        name = username(session, routing, bot)
        out.append(ToMove(name, link(name), sorted(names)))
    return out
