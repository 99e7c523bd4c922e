"""Settings: config.yaml loaded once into a typed object that fails fast, naming the bad key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config_sections import (
    Campaign,
    Checks,
    Dashboard,
    Demo,
    FieldHours,
    Floods,
    HolidayEntry,
    Http,
    LeaveRules,
    Metric,
    Official,
    Presence,
    Privacy,
    Problems,
    Questions,
    Reading,
    Reporting,
    Retention,
    RosterAliases,
    Schedule,
    Sending,
    Simulator,
    Target,
    Telegram,
    Uploads,
    WhatsApp,
)

LEVELS = ("worker", "sector", "block", "district", "state")
Level = Literal["worker", "sector", "block", "district", "state"]
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class ConfigError(Exception):
    """A bad config file; the message is one line naming the key."""


class Settings(BaseModel):
    """The whole config file: its top-level keys and every section (bot/config_sections.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # as every section's

    state: Annotated[str, Field(min_length=1)]
    timezone: str = "Asia/Kolkata"
    primary_metric: str = "cards"
    database_url: str | None = None
    campaign: Campaign = Campaign()
    reporting: Reporting = Reporting()
    floods: Floods = Floods()
    field_hours: FieldHours = FieldHours()
    metrics: Annotated[list[Metric], Field(min_length=1)]
    reading: Reading = Reading()
    targets: dict[Level, dict[str, Target]] = {}
    schedule: Schedule = Schedule()
    sending: Sending = Sending()
    telegram: Telegram = Telegram()
    presence: Presence = Presence()
    photos: Retention = Retention(retain_days=90)
    tracks: Retention = Retention(retain_days=30)
    privacy: Privacy = Privacy()
    roster: RosterAliases = RosterAliases()
    whatsapp: WhatsApp = WhatsApp()
    official: Official = Official()
    simulator: Simulator = Simulator()
    http: Http = Http()
    dashboard: Dashboard = Dashboard()
    problems: Problems = Problems()
    holidays: list[HolidayEntry] = []
    leave: LeaveRules = LeaveRules()
    checks: Checks = Checks()
    questions: Questions = Questions()
    demo: Demo = Demo()
    uploads: Uploads = Uploads()
    # Where the file was read from; relative paths in it are relative to this folder.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        keys = [m.key for m in self.metrics]
        if len(set(keys)) != len(keys):
            raise ValueError("metrics: a metric key appears twice")
        if self.primary_metric not in keys:
            raise ValueError(f"primary_metric: {self.primary_metric!r} is not a configured metric")
        hours = self.field_hours
        for job in ("supervisor_digest", "bmo_digest", "district_digest"):
            at = getattr(self.schedule, job)
            if at is not None and hours.start < at < hours.end:
                raise ValueError(
                    f"schedule.{job}: {at:%H:%M} is inside field hours "
                    f"({hours.start:%H:%M}-{hours.end:%H:%M}); reviews go before or after them"
                )
        for level, per_metric in self.targets.items():
            for key in per_metric:
                if key not in keys:
                    raise ValueError(f"targets.{level}.{key}: not a configured metric")
        for above, below in self.checks.not_above.items():
            for key in (above, below):
                if key not in keys:
                    raise ValueError(f"checks.not_above.{above}: {key!r} is not a configured metric")
        for column, key in self.official.columns.items():
            if key not in keys:
                raise ValueError(f"official.columns.{column}: {key!r} is not a configured metric")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(key)

    @property
    def metric_keys(self) -> list[str]:
        return [m.key for m in self.metrics]

    def resolve_path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    def database_url_resolved(self) -> str:
        """The database URL: environment first, then config, then an SQLite file beside it."""
        url = os.environ.get("FIELDBOT_DATABASE_URL") or self.database_url
        if url:
            return url
        return f"sqlite:///{(self.base_dir / 'fieldbot.db').resolve()}"


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    return f"{location}: {message}"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("FIELDBOT_CONFIG")
    if from_env:
        return Path(from_env)
    local = Path.cwd() / "config.yaml"
    return local if local.exists() else DEFAULT_CONFIG


def parse_settings(data: dict[str, Any], base_dir: Path, source: str = "config") -> Settings:
    try:
        return Settings.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the config file; raise ConfigError with one line naming the bad key."""
    file = config_path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file}:{where} not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of keys at the top")
    return parse_settings(raw, file.resolve().parent, str(file))
