"""`fieldbot` with a shorter scheduler lease: python -m tests.fakes.short_lease SECONDS ARGS...

A killed lease holder is replaced once its lease lapses; a lease of a few seconds makes a handover
test wait seconds instead of the production 15, with the same code deciding who holds it.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import scheduler
from bot import app
from bot.cli import main


def with_lease(seconds: float) -> type[scheduler.Scheduler]:
    class ShortLease(scheduler.Scheduler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("lease_ttl", dt.timedelta(seconds=seconds))
            super().__init__(*args, **kwargs)

    return ShortLease


if __name__ == "__main__":
    app.Scheduler = with_lease(float(sys.argv[1]))  # type: ignore[misc]
    sys.exit(main(sys.argv[2:]))
