"""Thin handlers: read the message, call a plain function, reply. Registered here, in one place."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.dashboard.chat import web
from bot.parser import Command, Report
from bot.problems import tell
from handlers import account, checks, leave, others, presence, problems, queries, reports, uploads
from handlers.replies import not_understood

Handler = Callable[[Context, Command], list[Reply]]

COMMANDS: dict[str, Handler] = {
    "start": account.start,
    "help": account.help_,
    "lang": account.lang,
    "undo": reports.undo,
    "status": queries.status,
    "missing": queries.missing,
    "top": queries.top,
    "export": queries.export,
    "photos": presence.photos_command,
    "privacy": account.privacy,
    "web": web,
    "problem": problems.command,
    "resolve": problems.resolve,
}


def route(ctx: Context) -> list[Reply]:
    """Send one message from a known, active person to the handler that fits it."""
    inbound = ctx.inbound
    text = inbound.text or ""
    if inbound.location is not None:
        return presence.location(ctx)
    if (inbound.photo is not None or inbound.photo_refused) and not inbound.is_edit:
        return presence.photo(ctx)
    if inbound.document_name is not None and not inbound.is_edit:
        return uploads.upload(ctx)
    if inbound.unsupported and not text:
        return [] if inbound.is_group else [ctx.say("unsupported")]
    limit = ctx.settings.reporting.max_message_chars
    if len(text) > limit:
        return [] if inbound.is_group else [ctx.say("too_long", length=len(text), max=limit)]
    if not inbound.is_edit and not inbound.is_group:
        # Read before the report parser, which takes a phone or a date as no count.
        answered = leave.leave_message(ctx, text) or others.for_someone(ctx, text)
        if answered is not None:
            return answered
    problem_words = None
    if not inbound.is_edit and not text.startswith("/"):
        # "समस्या ..." anywhere in a message, before or after a report.
        problem_words = problems.words(ctx)
        found = tell(text, problem_words, ctx.parser, keyword_only=True)
        if found is not None:
            return problems.told(ctx, found)
    parsed = ctx.parser.parse(text)
    if inbound.is_edit:
        return others.edited_for_someone(ctx, text) or reports.edited(ctx, parsed)
    if isinstance(parsed, Command):
        handler = COMMANDS.get(parsed.name)
        if handler is None:
            return [ctx.say("unknown_command", name=parsed.name)]
        return handler(ctx, parsed)
    if isinstance(parsed, Report):
        return reports.report(ctx, parsed)
    if problem_words is not None and not inbound.is_group and ctx.person.is_field_worker:
        # Not a report, but a code's words are in it: `server down`.
        found = tell(text, problem_words, ctx.parser, keyword_only=False)
        if found is not None:
            return problems.told(ctx, found)
    if (parsed.likely is not None or parsed.options) and not inbound.is_group:
        # Read, but not surely: she is shown the reading and asked; nothing is stored yet.
        asked = checks.ask_back(ctx, parsed) if ctx.person.is_field_worker else None
        if asked is not None:
            return [asked]
    # A group is for the team's talk: the bot answers there only what is meant for it.
    if inbound.is_group:
        return []
    return uploads.late_answer(ctx, text) or [not_understood(ctx, parsed)]
