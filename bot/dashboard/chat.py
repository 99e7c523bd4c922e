"""`/web` (`डैशबोर्ड`): an officer gets a one-use link to the dashboard, in a private chat only."""

from __future__ import annotations

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.dashboard import auth
from bot.parser import Command
from bot.store.units import scope_units
from models import utcnow


def web(ctx: Context, command: Command) -> list[Reply]:
    person = ctx.person
    if not auth.is_officer(person) or not scope_units(ctx.session, person, ctx.settings.state):
        return [ctx.say("web_for_officers")]
    if ctx.inbound.is_group:
        # A sign-in link posted in a group would let anyone there in.
        return [ctx.say("web_private_only")]
    token = auth.new_link(session=ctx.session, settings=ctx.settings, person=person, now=utcnow())
    if token is None:
        return [ctx.say("web_too_many", count=ctx.settings.dashboard.links_per_hour)]
    text = ctx.say(
        "web_link", minutes=ctx.settings.dashboard.link_minutes, url=auth.login_url(token)
    ).text
    return [Reply(text, preview=False)]
