"""The simulator's channel: what the scheduler sends to someone with no chat app linked."""

from __future__ import annotations

from models import Outbox


class SimulatorChannel:
    """The simulator's inbox is the outbox itself: a sent row is what the chat page shows."""

    async def send(self, row: Outbox) -> None:
        return None
