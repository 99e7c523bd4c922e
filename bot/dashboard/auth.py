"""Signing in without passwords: one-use links from `/web`, sessions kept in the database.

Only hashes of the link and session tokens are stored, so a copy of the database opens nothing.
Every check runs against the database on each request: a person made inactive, or left without a
unit, loses access at once, on every web process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.phones import PhoneError, normalize_phone
from bot.store.people import person_by_phone
from bot.store.units import Unit, scope_units
from models import LoginLink, Person, WebSession

log = logging.getLogger("fieldbot.dashboard")
OFFICER_ROLES = ("supervisor", "bmo", "district_officer", "admin")
_ORIGIN = {"default": "http://127.0.0.1:8080"}


def set_origin(origin: str) -> None:
    """Where this process is reached when FIELDBOT_PUBLIC_URL is not set (`http://HOST:PORT`)."""
    _ORIGIN["default"] = origin.rstrip("/")


def origin() -> str:
    """The public origin dashboard links are built on."""
    return (os.environ.get("FIELDBOT_PUBLIC_URL") or _ORIGIN["default"]).rstrip("/")


def login_url(token: str) -> str:
    return f"{origin()}/dashboard/-/login/{token}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_officer(person: Person) -> bool:
    return person.role in OFFICER_ROLES


def new_link(*, session: Session, settings: Settings, person: Person, now: dt.datetime) -> str | None:
    """A fresh one-use sign-in token for an officer; None when the hour's allowance is used up."""
    assert person.id is not None
    hour_ago = now - dt.timedelta(hours=1)
    recent = session.exec(
        select(func.count())
        .select_from(LoginLink)
        .where(LoginLink.person_id == person.id, col(LoginLink.created_at) > hour_ago)
    ).one()
    if recent >= settings.dashboard.links_per_hour:
        log.warning("dashboard: person #%s asked for too many sign-in links", person.id)
        return None
    # Old links are of no use to anyone: they go when new ones are made.
    session.execute(delete(LoginLink).where(col(LoginLink.expires_at) < now - dt.timedelta(days=1)))
    token = secrets.token_urlsafe(32)
    session.add(
        LoginLink(
            token_hash=digest(token),
            person_id=person.id,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.dashboard.link_minutes),
        )
    )
    return token


@dataclass(frozen=True)
class Signed:
    """A session just started: the cookie's token, and the person."""

    token: str
    person_id: int
    expires_at: dt.datetime


def redeem(*, session: Session, settings: Settings, token: str, now: dt.datetime) -> Signed | str:
    """Use a sign-in link once. The reason it failed otherwise: unknown, used, expired, refused."""
    if not token or len(token) > 100:
        return "unknown"
    hashed = digest(token)
    link = session.get(LoginLink, hashed)
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    # Marked used in one statement, so two presses (or two processes) cannot both sign in.
    claimed = session.execute(
        update(LoginLink)
        .where(col(LoginLink.token_hash) == hashed, col(LoginLink.used_at).is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return "used"
    person = session.get(Person, link.person_id)
    if person is None or not allowed(session, settings, person):
        return "refused"
    assert person.id is not None
    session_token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=settings.dashboard.session_hours)
    session.add(
        WebSession(
            token_hash=digest(session_token),
            person_id=person.id,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=expires,
        )
    )
    session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))
    return Signed(session_token, person.id, expires)


def allowed(session: Session, settings: Settings, person: Person) -> bool:
    """An active officer who holds at least one unit now."""
    if not person.active or not is_officer(person):
        return False
    return bool(scope_units(session, person, settings.state))


@dataclass(frozen=True)
class Viewer:
    """Who is looking, checked on this request: the person, their units and the form token."""

    person: Person
    units: list[Unit]
    csrf: str
    session_hash: str

    @property
    def lang(self) -> str:
        return self.person.language if self.person.language in ("hi", "en") else "hi"

    def sees(self, unit: Unit) -> bool:
        return any(own.contains(unit) or own == unit for own in self.units)


def viewer(
    *, session: Session, settings: Settings, token: str | None, now: dt.datetime
) -> Viewer | None:
    """The signed-in officer behind a session cookie, or None."""
    if not token or len(token) > 100:
        return None
    hashed = digest(token)
    found = session.get(WebSession, hashed)
    if found is None or found.expires_at <= now:
        return None
    person = session.get(Person, found.person_id)
    if person is None or not person.active or not is_officer(person):
        return None
    units = scope_units(session, person, settings.state)
    if not units:
        return None
    return Viewer(person, units, found.csrf_token, hashed)


def csrf_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)


def end_session(*, session: Session, session_hash: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.token_hash) == session_hash))


def link_for_phone(*, session: Session, settings: Settings, phone: str, now: dt.datetime) -> str | None:
    """A sign-in link for the officer with this phone (the simulator, `make demo`); None for
    anyone else, or when the hour's allowance is used up."""
    try:
        person = person_by_phone(session=session, phone=normalize_phone(phone))
    except PhoneError:
        return None
    if person is None or not allowed(session, settings, person):
        return None
    token = new_link(session=session, settings=settings, person=person, now=now)
    return login_url(token) if token else None


def demo_links(*, session: Session, settings: Settings, now: dt.datetime) -> list[tuple[Person, str]]:
    """Ready links for the first district officer and the first BMO on the roster."""
    out = []
    for role in ("district_officer", "bmo"):
        person = session.exec(
            select(Person)
            .where(Person.role == role, col(Person.active).is_(True))
            .order_by(col(Person.id))
        ).first()
        if person is None:
            continue
        url = link_for_phone(session=session, settings=settings, phone=person.phone, now=now)
        if url:
            out.append((person, url))
    return out
