"""Answers several handlers give: why a message was not read, with an example of the format."""

from __future__ import annotations

from bot.core.contracts import Context
from bot.core.messages import Reply
from bot.i18n import order_example, t
from bot.parser import Unreadable


def not_understood(ctx: Context, parsed: Unreadable) -> Reply:
    """Why the message was not read, and a short example of the format."""
    lang = ctx.lang
    labels = [m.label(lang) for m in ctx.settings.metrics]
    detail = parsed.detail
    if parsed.reason == "duplicate_metric":
        detail = ctx.settings.metric(parsed.detail).label(lang)
    if parsed.reason == "not_understood":
        # The word that was not understood, named; with none, the sorry line says it all.
        why = t(lang, "why_not_understood", detail=detail) if detail else ""
    else:
        why = t(lang, f"why_{parsed.reason}", detail=detail, max=len(labels), order=", ".join(labels))
    example = t(
        lang, "format_example", order_example=order_example(len(labels)), order=", ".join(labels[:3])
    )
    head = f"{t(lang, 'sorry_prefix')} {why}".strip()
    return Reply(f"{head}\n\n{example}")
