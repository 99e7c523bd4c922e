"""What several handlers read from a command: its period and unit words, the units it names."""

from __future__ import annotations

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.parser import Command
from bot.store.units import Unit, resolve_units, scope_units

PERIOD_WORDS = {
    "today": "today",
    "aaj": "today",
    "आज": "today",
    "week": "week",
    "saptah": "week",
    "hafta": "week",
    "सप्ताह": "week",
    "हफ्ता": "week",
    "हफ़्ता": "week",
    "7": "week",
    "campaign": "campaign",
    "abhiyan": "campaign",
    "अभियान": "campaign",
    "कुल": "campaign",
    "total": "campaign",
}
# Words that rank by achievement of the target instead of by count.
PCT_WORDS = {"%", "pct", "percent", "achievement", "target", "प्रतिशत", "फीसदी", "लक्ष्य"}
# Words that rank by the official portal's counts (what the state ranks by).
PORTAL_WORDS = {"portal", "official", "पोर्टल", "आधिकारिक"}


def read_args(ctx: Context, command: Command) -> tuple[str | None, str]:
    """(period word, unit text) from a command's words, in either order."""
    period, rest = None, []
    for word in command.args:
        key = PERIOD_WORDS.get(word.casefold())
        if key and period is None:
            period = key
        elif word.casefold() not in PCT_WORDS | PORTAL_WORDS:
            rest.append(word)
    return period, " ".join(rest)


def asked_units(ctx: Context, unit_text: str) -> list[Unit] | Reply:
    """The units asked about: the asker's own, or a named one inside them."""
    own = scope_units(ctx.session, ctx.person, ctx.settings.state)
    if not unit_text:
        return own
    found = resolve_units(ctx.session, unit_text, ctx.settings.state)
    example = own[0].name if own else "Sandila"
    if not found:
        return ctx.say("unit_not_found", name=unit_text, example_unit=example)
    allowed = [u for u in found if any(o.contains(u) for o in own)]
    if not allowed:
        return ctx.say("out_of_scope", unit=", ".join(o.path for o in own))
    if len(allowed) > 1:
        return ctx.say(
            "unit_ambiguous", name=unit_text, options="\n".join(f"• {u.path}" for u in allowed)
        )
    return allowed
