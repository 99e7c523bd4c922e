"""The scheduler's face at the top level: the day's rhythm lives in `bot/schedule.py`.

Nothing in `bot/` imports this module; tests and operators' scripts may.
"""

from bot.delivery.runs import last_run, record_run
from bot.schedule import (
    LEASE_TTL,
    Scheduler,
    due_jobs,
    expire_presence,
    in_campaign,
    job_times,
    run_due,
    run_job,
    run_retention,
    sweep_uploads,
)

__all__ = [
    "LEASE_TTL",
    "Scheduler",
    "due_jobs",
    "expire_presence",
    "in_campaign",
    "job_times",
    "last_run",
    "record_run",
    "run_due",
    "run_job",
    "run_retention",
    "sweep_uploads",
]
