"""What every channel shares: the `Channel` the outbox sender drives, `SendFailed`, message splitting.

It sits beside the core: delivery and the channels both use it, and it imports no channel.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from models import Outbox

MAX_TEXT = 4096  # Telegram's longest message; WhatsApp's is shorter (its own MAX_TEXT)
# What WhatsApp needs from the environment; the outbox routes by whether they are set.
WHATSAPP_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM")
WHATSAPP = "whatsapp"  # the channel, and the lane of its messages with one sender number
_E164 = re.compile(r"\+[1-9]\d{6,14}")


class SendFailed(Exception):
    """A channel refused a message: `retry_after` to wait, `permanent` to give up."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        defer_until: dt.datetime | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent
        # This message alone waits (WhatsApp's messaging limit): the lane goes on with others.
        self.defer_until = defer_until


class Channel(Protocol):
    async def send(self, row: Outbox) -> None:
        """Deliver one message or raise SendFailed."""


class UnreachableChannel:
    """A person with no way to reach them: recorded, so digests can say who was not reached."""

    def __init__(self, reason: str):
        self.reason = reason

    async def send(self, row: Outbox) -> None:
        raise SendFailed(self.reason, permanent=True)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a long reply at line breaks into pieces the channel accepts."""
    if len(text) <= limit:
        return [text]
    pieces, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def whatsapp_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether WhatsApp is on in this process: every TWILIO_* variable it needs is set."""
    env = os.environ if environ is None else environ
    return all(env.get(name) for name in WHATSAPP_ENV)


def parse_senders(value: str) -> tuple[str, ...]:
    """The sender numbers TWILIO_WHATSAPP_FROM lists, comma-separated, each as `whatsapp:+E.164`
    (the `whatsapp:` prefix is optional), in the order given.

    Raises ValueError, one line naming the bad or repeated one.
    """
    senders: list[str] = []
    for item in value.split(","):
        sender = item.strip()
        number = sender.removeprefix("whatsapp:")
        if not _E164.fullmatch(number):
            raise ValueError(
                f"TWILIO_WHATSAPP_FROM {sender!r} is not a WhatsApp sender like whatsapp:+14155238886"
            )
        full = f"whatsapp:{number}"
        if full in senders:
            raise ValueError(f"TWILIO_WHATSAPP_FROM lists {full} twice: name each sender number once")
        senders.append(full)
    return tuple(senders)


def whatsapp_senders(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """This process's WhatsApp sender numbers (`whatsapp:+E.164`); none when WhatsApp is off.

    Raises ValueError naming a bad or repeated number.
    """
    env = os.environ if environ is None else environ
    if not whatsapp_enabled(env):
        return ()
    return parse_senders(env["TWILIO_WHATSAPP_FROM"])


def whatsapp_lane(sender: str, senders: tuple[str, ...]) -> str:
    """The outbox lane of messages sent from `sender`: `whatsapp` when it is the only number,
    else `whatsapp:+E.164`, each number a lane at its own rate."""
    return WHATSAPP if len(senders) < 2 else f"whatsapp:{sender.removeprefix('whatsapp:')}"
