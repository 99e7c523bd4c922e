"""Who she is and what she can do: the greeting once linked, /start, /help, /lang, /privacy."""

from __future__ import annotations

from sqlmodel import Session

from bot.config import Settings
from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.i18n import LANGUAGES, order_example, t
from bot.official.read import UPLOADERS
from bot.parser import Command
from bot.store import people
from bot.store.units import home_units, scope_units
from models import Person


def linked(session: Session, person: Person, settings: Settings) -> str:
    """What she is told once her chat account is linked: who she is taken for and what she can do."""
    place = describe_place(session, person, settings.state)
    return t(
        person.language,
        "linked",
        name=person.name,
        place=place,
        help=help_text(session, person, settings),
    )


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
    people.set_language(session=ctx.session, person=ctx.person, language=wanted)
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
