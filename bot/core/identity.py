"""Who is writing: any channel's sender turned into a roster person, or the replies for a stranger.

A message names its sender by a phone number (WhatsApp, the simulator) or, where the channel has
accounts of its own and no number (Telegram), by the chat account; an account is tied to a roster
person once she shares her own contact from her private chat (`link_contact`). Everything that
asks who a message is from asks here: the core, the batch path, the flood limit, the channels.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from sqlmodel import Session

from bot import privacy
from bot.bots import gate
from bot.config import Settings
from bot.core.contracts import Welcome
from bot.core.messages import Inbound, Reply
from bot.i18n import t
from bot.phones import PhoneError, mask_phone, normalize_phone
from bot.store import people
from models import Person, utcnow

log = logging.getLogger("fieldbot")


def by_phone(inbound: Inbound) -> bool:
    """Whether the message names its sender by a phone number rather than by a chat account."""
    return inbound.phone is not None or inbound.account is None


def nameless(inbound: Inbound) -> bool:
    """Whether the message names its sender neither by a phone number nor by a chat account."""
    return inbound.phone is None and inbound.account is None


def sender_key(inbound: Inbound) -> str:
    """Who is writing, the same for every message of one sender on one channel; holds no phone."""
    if by_phone(inbound):
        try:
            who = normalize_phone(inbound.phone or "")
        except PhoneError:
            who = (inbound.phone or inbound.chat_id or "")[:64]
        who = f"{inbound.channel}:{who}"
    else:
        who = f"tg:{inbound.account}"  # the form the stored counts already use
    return hashlib.sha256(who.encode()).hexdigest()[:32]


def lookup(session: Session, inbound: Inbound) -> Person | None:
    """The roster person behind a message, active or not; read only (no contact is linked)."""
    if not by_phone(inbound):
        assert inbound.account is not None
        return people.person_by_telegram(session=session, telegram_user_id=inbound.account)
    try:
        phone = normalize_phone(inbound.phone or "")
    except PhoneError:
        return None
    return people.person_by_phone(session=session, phone=phone)


def language_of(session: Session, inbound: Inbound) -> str:
    """The sender's language if she is on the roster (read only: a refused message links nothing)."""
    person = lookup(session, inbound)
    return person.language if person is not None else "hi"


def identify(
    session: Session, inbound: Inbound, settings: Settings, welcome: Welcome
) -> Person | list[Reply]:
    """The active roster person behind a message, or the replies for someone we cannot let in."""
    if not by_phone(inbound):
        # Her private chat is learnt from her private chat only: a contact shared in a group
        # would send her digests, with the phones of everyone missing, to the whole group.
        if inbound.contact_phone is not None and not inbound.is_group:
            return link_contact(session, inbound, settings, welcome)
        person = lookup(session, inbound)
        if person is None:
            return ask_for_contact(inbound)
    else:
        found = _by_number(session, inbound.phone, "message")
        if not isinstance(found, Person):
            return found
        person = found
    if not person.active:
        return [Reply(t(person.language, "inactive", name=person.name))]
    return person


def _by_number(session: Session, written: str | None, what: str) -> Person | list[Reply]:
    """The roster person with this number as it was written, or the refusal for a stranger."""
    try:
        phone = normalize_phone(written or "")
    except PhoneError:
        return [Reply(t("hi", "unknown_phone", phone=written or "?"))]
    person = people.person_by_phone(session=session, phone=phone)
    if person is None:
        log.info("%s from unknown phone %s", what, mask_phone(phone))
        return [Reply(t("hi", "unknown_phone", phone=phone))]
    return person


def senders(session: Session, inbounds: Sequence[Inbound]) -> list[people.Sender | None]:
    """The roster person behind each message, where there is one (`identify`'s lookups, in two
    queries for a batch; links nothing)."""
    accounts = [m.account for m in inbounds if not by_phone(m)]
    by_account = people.senders_by_telegram(session=session, user_ids=[u for u in accounts if u])
    phones: list[str | None] = []
    for m in inbounds:
        try:
            phones.append(normalize_phone(m.phone or "") if by_phone(m) else None)
        except PhoneError:
            phones.append(None)
    by_number = people.senders_by_phone(session=session, phones=[p for p in phones if p])
    out: list[people.Sender | None] = []
    for m, phone in zip(inbounds, phones, strict=True):
        if not by_phone(m):
            out.append(by_account.get(m.account or 0))
        else:
            out.append(by_number.get(phone) if phone else None)
    return out


def ask_for_contact(inbound: Inbound, language: str = "hi") -> list[Reply]:
    """An unlinked chat account: ask for the phone with a share-contact button."""
    return [Reply(t(language, "share_contact"), request_contact=t(language, "share_contact_button"))]


def link_contact(
    session: Session, inbound: Inbound, settings: Settings, welcome: Welcome
) -> Person | list[Reply]:
    """A shared contact: link it if it is the sender's own and on the roster."""
    if inbound.contact_account != inbound.account:
        return [Reply(t("hi", "contact_not_own"), request_contact=t("hi", "share_contact_button"))]
    found = _by_number(session, inbound.contact_phone, "shared contact")
    if not isinstance(found, Person):
        return found
    person = found
    if not person.active:
        return [Reply(t(person.language, "inactive", name=person.name))]
    if inbound.via is not None:
        right = gate(
            session=session,
            settings=settings,
            person=person,
            bot=inbound.via,
            private=True,
            now=utcnow(),
        )
        if right is not None:
            # Another district's bot: pointed to hers, and not linked here.
            return [Reply(t(person.language, "wrong_bot", bot=right))]
    assert inbound.account is not None
    people.link_telegram(
        session=session, person=person, user_id=inbound.account, chat_id=int(inbound.chat_id)
    )
    replies = [Reply(welcome(session, person, settings))]
    assert person.id is not None
    channel = inbound.channel
    if privacy.notice_due(session=session, person_id=person.id, channel=channel):
        privacy.record_notice(session=session, person_id=person.id, channel=channel, now=utcnow())
        replies.append(Reply(privacy.notice_text(settings, person.language)))
    return replies


class Languages:
    """Each sender's language as last seen by this process, so "please resend" is in her language
    even when the database that knows it is what failed."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def of(self, inbound: Inbound) -> str:
        return self._seen.get(sender_key(inbound), "hi")

    def remember(self, inbound: Inbound, language: str) -> None:
        if len(self._seen) > 100_000:
            self._seen.clear()
        self._seen[sender_key(inbound)] = language
