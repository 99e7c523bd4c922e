"""Twilio's settings from the environment, the templates scheduled jobs need, the REST client."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.base import WHATSAPP_ENV, parse_senders
from bot.config import ConfigError, Settings

CHANNEL = "whatsapp"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
MAX_TEXT = 1500  # longer messages are split
STATUS_CALLBACK_PATH = "/twilio/status"
MEDIA_PATH = "/media"
MEDIA_KEY_LABEL = b"fieldbot media links v1"


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio credentials and addresses, from the environment (never from config.yaml)."""

    account_sid: str
    auth_token: str
    whatsapp_from: str  # `whatsapp:+14155238886`: the first of `senders`
    api_base_url: str
    public_url: str  # the https origin Twilio calls, without a trailing slash
    # Every sender number TWILIO_WHATSAPP_FROM lists (comma-separated), each a lane of its own.
    senders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.senders:
            object.__setattr__(self, "senders", (self.whatsapp_from,))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings | None:
        """The settings when WhatsApp is on; None when no TWILIO_* variable is set.

        Raises ConfigError (one line naming the variable) when it is set up halfway.
        """
        env = os.environ if environ is None else environ
        present = [name for name in WHATSAPP_ENV if env.get(name)]
        if not present:
            return None
        missing = [name for name in WHATSAPP_ENV if not env.get(name)]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} not set: WhatsApp needs all of {', '.join(WHATSAPP_ENV)}"
            )
        public = (env.get("FIELDBOT_PUBLIC_URL") or "").rstrip("/")
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(
                "FIELDBOT_PUBLIC_URL must be the public origin Twilio calls, like "
                "https://fieldbot.example.org: WhatsApp needs it to check Twilio's signatures "
                "and for status callbacks and file links"
            )
        try:
            senders = parse_senders(env["TWILIO_WHATSAPP_FROM"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        base = (env.get("TWILIO_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            raise ConfigError(f"TWILIO_API_BASE_URL {base!r} is not an http(s) URL")
        return cls(
            account_sid=env["TWILIO_ACCOUNT_SID"].strip(),
            auth_token=env["TWILIO_AUTH_TOKEN"].strip(),
            whatsapp_from=senders[0],
            api_base_url=base,
            public_url=public,
            senders=senders,
        )

    @property
    def status_callback_url(self) -> str:
        return self.public_url + STATUS_CALLBACK_PATH

    @property
    def media_key(self) -> bytes:
        """The key of file links, derived from the auth token, so every process can check a link."""
        return hmac.new(self.auth_token.encode(), MEDIA_KEY_LABEL, hashlib.sha256).digest()


def missing_templates(settings: Settings) -> list[str]:
    """The scheduled jobs that are on but name no approved template yet."""
    jobs = ("start_message", "reminder", "supervisor_digest", "bmo_digest", "district_digest")
    missing = []
    for job in jobs:
        if getattr(settings.schedule, job) is None:
            continue
        template = settings.whatsapp.template(job)
        if template is None or not template.content_sid:
            missing.append(job)
    return missing


def check_templates(settings: Settings) -> None:
    """With WhatsApp on, every scheduled job that is on must name its approved template."""
    missing = missing_templates(settings)
    if missing:
        job = missing[0]
        raise ConfigError(
            f"config: whatsapp.templates.{job}.content_sid is missing: WhatsApp is on "
            f"(TWILIO_* set), and outside the 24-hour window a {job} can only go as an "
            "approved template"
        )


def make_client(twilio: TwilioSettings, timeout: float = 20.0) -> Client:
    """The twilio REST client, talking to TWILIO_API_BASE_URL."""
    client = Client(
        twilio.account_sid,
        twilio.auth_token,
        http_client=TwilioHttpClient(timeout=timeout),
        # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host of the base URL.
        environment={},
    )
    client.api.base_url = twilio.api_base_url
    return client
