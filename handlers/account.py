"""Who is writing: Telegram linking by shared contact, help, language."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot import privacy as personal_data
from bot.config import Settings
from bot.core.contracts import Context
from bot.core.messages import Inbound, Reply
from bot.i18n import LANGUAGES, order_example, t
from bot.official import UPLOADERS
from bot.parser import Command
from bot.phones import PhoneError, mask_phone, normalize_phone
from bot.store import crud
from bot.store.units import home_units, scope_units
from models import Person, utcnow

log = logging.getLogger("fieldbot")


def ask_for_contact(inbound: Inbound, language: str = "hi") -> list[Reply]:
    """An unlinked Telegram user: ask for the phone with a share-contact button."""
    return [Reply(t(language, "share_contact"), request_contact=t(language, "share_contact_button"))]


def link_contact(session: Session, inbound: Inbound, settings: Settings) -> Person | list[Reply]:
    """A shared contact: link it if it is the sender's own and on the roster."""
    if inbound.contact_user_id != inbound.telegram_user_id:
        return [Reply(t("hi", "contact_not_own"), request_contact=t("hi", "share_contact_button"))]
    try:
        phone = normalize_phone(inbound.contact_phone or "")
    except PhoneError:
        return [Reply(t("hi", "unknown_phone", phone=inbound.contact_phone or "?"))]
    person = crud.person_by_phone(session=session, phone=phone)
    if person is None:
        log.info("telegram contact with unknown phone %s", mask_phone(phone))
        return [Reply(t("hi", "unknown_phone", phone=phone))]
    if not person.active:
        return [Reply(t(person.language, "inactive", name=person.name))]
    if inbound.bot is not None:
        from bot.bots import gate

        right = gate(
            session=session,
            settings=settings,
            person=person,
            bot=inbound.bot,
            private=True,
            now=utcnow(),
        )
        if right is not None:
            # Another district's bot: pointed to hers, and not linked here.
            return [Reply(t(person.language, "wrong_bot", bot=right))]
    assert inbound.telegram_user_id is not None
    crud.link_telegram(
        session=session, person=person, user_id=inbound.telegram_user_id, chat_id=int(inbound.chat_id)
    )
    lang = person.language
    place = describe_place(session, person, settings.state)
    replies = [
        Reply(
            t(lang, "linked", name=person.name, place=place, help=help_text(session, person, settings))
        )
    ]
    assert person.id is not None
    channel = inbound.channel
    if personal_data.notice_due(session=session, person_id=person.id, channel=channel):
        personal_data.record_notice(session=session, person_id=person.id, channel=channel, now=utcnow())
        replies.append(Reply(personal_data.notice_text(settings, lang)))
    return replies


def describe_place(session: Session, person: Person, state_name: str) -> str:
    """`आशा · Hardoi/Sandila/Sandila-1`: the role and the units it covers."""
    role = t(person.language, f"role_{person.role}")
    return f"{role} · " + ", ".join(u.path for u in home_units(session, person, state_name))


def help_text(session: Session, person: Person, settings: Settings) -> str:
    """The report format for a field worker; the queries for an officer."""
    lang = person.language
    if person.is_field_worker:
        labels = [m.label(lang) for m in settings.metrics]
        text = t(lang, "help_worker", order_example=order_example(len(labels)), order=", ".join(labels))
        return f"{text}\n{t(lang, 'help_problems_worker')}"
    units = scope_units(session, person, settings.state)
    text = t(lang, "help_officer", example_unit=units[0].name if units else "Sandila")
    if person.role in UPLOADERS:
        text += "\n\n" + t(lang, "help_upload")
    return f"{text}\n{t(lang, 'help_problems_officer')}"


def start(ctx: Context, command: Command) -> list[Reply]:
    """/start from someone already linked: greet and show what they can do."""
    place = describe_place(ctx.session, ctx.person, ctx.settings.state)
    return [
        Reply(f"🙏 {ctx.person.name}\n{place}\n\n{help_text(ctx.session, ctx.person, ctx.settings)}")
    ]


def help_(ctx: Context, command: Command) -> list[Reply]:
    """/help: the report format for workers, the queries for officers."""
    return [Reply(help_text(ctx.session, ctx.person, ctx.settings))]


def lang(ctx: Context, command: Command) -> list[Reply]:
    """/lang hi|en: switch the language of every reply."""
    wanted = command.args[0].casefold() if command.args else ""
    aliases = {"hindi": "hi", "हिंदी": "hi", "हिन्दी": "hi", "english": "en", "अंग्रेजी": "en"}
    wanted = aliases.get(wanted, wanted)
    if wanted not in LANGUAGES:
        return [ctx.say("lang_usage")]
    crud.set_language(session=ctx.session, person=ctx.person, language=wanted)
    return [ctx.say("lang_set")]


def privacy(ctx: Context, command: Command) -> list[Reply]:
    """/privacy: what is kept about her, why, for how long, who sees it, and whom to ask."""
    settings = ctx.settings
    contact = settings.privacy.contact_hi if ctx.lang == "hi" else settings.privacy.contact
    return [
        ctx.say(
            "privacy_full",
            photo_days=settings.photos.retain_days,
            track_days=settings.tracks.retain_days,
            contact=contact,
        )
    ]
