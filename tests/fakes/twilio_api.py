"""A fake Twilio REST API for tests, and Twilio's side of the webhooks.

The real twilio-python client talks to it over real HTTP on 127.0.0.1::

    with FakeTwilioAPI() as api:
        client = Client(api.account_sid, api.auth_token)
        client.api.base_url = api.base_url
        client.messages.create(from_="whatsapp:+14155238886", to="whatsapp:+919876543210", body="hi")
        assert api.messages[0].body == "hi"

What it does, as Twilio does:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic auth with the account SID and
  auth token (401, code 20003, otherwise); the form checked the way Twilio checks it (To, From,
  a body or media or a template; 1,600 characters at most; ContentSid and ContentVariables well
  formed; From and To on the same channel); answers 201 with a message resource (``SM`` + 32 hex).
  Injected faults (:meth:`fail_next`) answer first, in Twilio's error format.
- Media a person sent: :meth:`add_media` hosts a file at a Twilio-like media URL that needs the
  account's credentials and redirects (307) to a CDN path that must be fetched without them, the
  way Twilio hands media to S3. Every fetch is recorded in :attr:`downloads`.
- Files the bot sends (``MediaUrl``): fetched by the fake after it answers, like Twilio does, and
  recorded in :attr:`fetched`.
- Webhooks: :meth:`post` signs a form with twilio's own ``RequestValidator`` for the URL it is
  meant for (the public one) and delivers it to where the app listens (:attr:`proxy`), as a
  reverse proxy in front of the app would. :meth:`send_status` sends a message's status callback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "WHATSAPP_FROM",
    "FakeTwilioAPI",
    "Fetch",
    "SentMessage",
    "inbound_form",
]

DEFAULT_ACCOUNT_SID = "AC" + "5f" * 16
DEFAULT_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
WHATSAPP_FROM = "whatsapp:+14155238886"
MAX_BODY = 1600
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def inbound_form(
    phone: str,
    body: str = "",
    *,
    sid: str | None = None,
    profile_name: str = "Sunita",
    account_sid: str = DEFAULT_ACCOUNT_SID,
    to: str = WHATSAPP_FROM,
    media: list[tuple[str, str]] | None = None,
    message_type: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    **extra: str,
) -> dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message (fields as Twilio names them).

    `phone` is E.164 (`+91...`); `media` lists (url, content type).
    """
    sid = sid or _sid("SM")
    media = media or []
    if message_type is None:
        if latitude is not None:
            message_type = "location"
        elif media:
            message_type = media[0][1].split("/")[0]
        else:
            message_type = "text"
    form = {
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ProfileName": profile_name,
        "MessageType": message_type,
        "SmsSid": sid,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:{phone}",
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    if latitude is not None and longitude is not None:
        form["Latitude"] = repr(latitude)
        form["Longitude"] = repr(longitude)
    form.update(extra)
    return form


@dataclass
class SentMessage:
    """One message the client created: the decoded form and what the fake answered."""

    sid: str
    params: dict[str, list[str]]
    status: int = 201

    def one(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    @property
    def to(self) -> str | None:
        return self.one("To")

    @property
    def from_(self) -> str | None:
        return self.one("From")

    @property
    def body(self) -> str | None:
        return self.one("Body")

    @property
    def content_sid(self) -> str | None:
        return self.one("ContentSid")

    @property
    def content_variables(self) -> dict[str, str] | None:
        raw = self.one("ContentVariables")
        return json.loads(raw) if raw else None

    @property
    def media_urls(self) -> list[str]:
        return list(self.params.get("MediaUrl", []))

    @property
    def status_callback(self) -> str | None:
        return self.one("StatusCallback")


@dataclass
class Fetch:
    """One GET of a file: by the app (a person's media) or by the fake (a file the bot sent)."""

    url: str
    status: int
    authorization: str | None = None
    content_type: str | None = None
    content: bytes = b""


@dataclass
class _Media:
    content: bytes
    content_type: str
    chunked: bool = False  # sent without Content-Length, so only reading tells the size


@dataclass
class _Fault:
    status: int
    code: int
    message: str


@dataclass
class _State:
    messages: list[SentMessage] = field(default_factory=list)
    rejected: list[SentMessage] = field(default_factory=list)
    downloads: list[Fetch] = field(default_factory=list)
    fetched: list[Fetch] = field(default_factory=list)
    faults: list[_Fault | None] = field(default_factory=list)  # None: that creation goes through
    media: dict[str, _Media] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)  # media SIDs the app deleted after fetching


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: FakeTwilioAPI) -> None:
        super().__init__(address, _Handler)
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self.server.api._get(self)

    def do_POST(self) -> None:
        self.server.api._post(self)

    def do_DELETE(self) -> None:
        self.server.api._delete(self)


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    chunked: bool = False,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if chunked:
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(body), 4096):
            piece = body[start : start + 4096]
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
        return
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _error(handler: BaseHTTPRequestHandler, status: int, code: int, message: str) -> None:
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    _send(handler, status, json.dumps(payload).encode())


class FakeTwilioAPI:
    """Twilio's REST API and its webhook side, on a free port of 127.0.0.1."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        fetch_media: bool = True,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.fetch_media = fetch_media
        # The account's WhatsApp senders, when a test names them: another From is refused.
        self.senders: set[str] | None = None
        # (public prefix, local prefix): where a webhook meant for a public URL really goes.
        self.proxy: tuple[str, str] | None = None
        self._state = _State()
        self._lock = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -------------------------------------------------------------- what the tests read

    @property
    def messages(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.messages)

    @property
    def rejected(self) -> list[SentMessage]:
        with self._lock:
            return list(self._state.rejected)

    @property
    def downloads(self) -> list[Fetch]:
        with self._lock:
            return list(self._state.downloads)

    @property
    def fetched(self) -> list[Fetch]:
        with self._lock:
            return list(self._state.fetched)

    def messages_to(self, phone: str) -> list[SentMessage]:
        return [m for m in self.messages if m.to == f"whatsapp:{phone}"]

    def wait_for_fetches(self, count: int, timeout: float = 10.0) -> list[Fetch]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._state.fetched) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} media fetch(es), got {self._state.fetched}")
                self._lock.wait(left)
            return list(self._state.fetched)

    # -------------------------------------------------------------- what the tests set up

    def fail_next(self, status: int, code: int, message: str, times: int = 1, *, after: int = 0) -> None:
        """The next `times` message creations fail with Twilio's error `code`, once `after` went."""
        with self._lock:
            self._state.faults += [None] * after + [_Fault(status, code, message)] * times

    def add_media(self, content: bytes, content_type: str, *, chunked: bool = False) -> str:
        """Host a file a person sent; returns its media URL (fetched with the account's credentials)."""
        media_sid = _sid("ME")
        with self._lock:
            self._state.media[media_sid] = _Media(content, content_type, chunked)
        return (
            f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{_sid('MM')}"
            f"/Media/{media_sid}"
        )

    # -------------------------------------------------------------- Twilio calling the app

    def local(self, url: str) -> str:
        """Where a public URL really goes: through the reverse proxy to the app."""
        if self.proxy is not None and url.startswith(self.proxy[0]):
            return self.proxy[1] + url[len(self.proxy[0]) :]
        return url

    def signature(self, url: str, form: Mapping[str, str], token: str | None = None) -> str:
        return str(RequestValidator(token or self.auth_token).compute_signature(url, dict(form)))

    def post(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        signature: str | None = None,
        sign_as: str | None = None,
    ) -> httpx.Response:
        """POST a webhook the way Twilio does, signed for `sign_as` (default: `url`)."""
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": signature
            if signature is not None
            else self.signature(sign_as or url, form),
        }
        if signature == "":
            del headers["X-Twilio-Signature"]
        return httpx.post(self.local(url), data=dict(form), headers=headers, timeout=20)

    def send_status(
        self, sid: str, status: str, error_code: int | None = None, **extra: str
    ) -> httpx.Response:
        """The status callback Twilio sends for one of the messages created here."""
        message = next(m for m in self.messages if m.sid == sid)
        url = message.status_callback
        assert url, f"message {sid} was created without a StatusCallback"
        form = {
            "AccountSid": self.account_sid,
            "From": message.from_ or "",
            "To": message.to or "",
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "ChannelToAddress": (message.to or "").removeprefix("whatsapp:"),
            "ChannelPrefix": "whatsapp",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return self.post(url, form)

    # -------------------------------------------------------------- the HTTP side

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        authorization = handler.headers.get("Authorization")
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages/[^/]+/Media/([^/]+)", path)
        if match:
            with self._lock:
                self._state.downloads.append(Fetch(path, 0, authorization))
            if not self._authorised(handler) or match.group(1) != self.account_sid:
                _error(handler, 401, 20003, "Authenticate")
                return
            if match.group(2) not in self._state.media:
                _error(handler, 404, 20404, "The requested resource was not found")
                return
            # Twilio answers with a redirect to its CDN, which must not get the credentials.
            _send(handler, 307, b"", headers={"Location": f"{self.base_url}/cdn/{match.group(2)}"})
            return
        cdn = re.fullmatch(r"/cdn/([^/]+)", path)
        if cdn and cdn.group(1) in self._state.media:
            media = self._state.media[cdn.group(1)]
            with self._lock:
                self._state.downloads.append(Fetch(path, 200, authorization, media.content_type))
            _send(handler, 200, media.content, media.content_type, chunked=media.chunked)
            return
        _error(handler, 404, 20404, "The requested resource was not found")

    def _delete(self, handler: BaseHTTPRequestHandler) -> None:
        """Twilio deletes a message's media for good: DELETE .../Messages/MM.../Media/ME....json."""
        path = urlsplit(handler.path).path
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages/[^/]+/Media/([^/.]+)\.json", path)
        if match is None:
            _error(handler, 404, 20404, "The requested resource was not found")
            return
        if not self._authorised(handler) or match.group(1) != self.account_sid:
            _error(handler, 401, 20003, "Authenticate")
            return
        with self._lock:
            gone = self._state.media.pop(match.group(2), None)
            if gone is not None:
                self._state.deleted.append(match.group(2))
                self._lock.notify_all()
        if gone is None:
            _error(handler, 404, 20404, "The requested resource was not found")
            return
        _send(handler, 204)

    def wait_for_deletes(self, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._state.deleted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} media deletion(s), got {self._state.deleted}"
                    )
                self._lock.wait(left)
            return list(self._state.deleted)

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode()
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", path)
        if not match:
            _error(handler, 404, 20404, "The requested resource was not found")
            return
        if not self._authorised(handler):
            _error(handler, 401, 20003, "Authenticate")
            return
        if match.group(1) != self.account_sid:
            _error(handler, 404, 20404, "The requested resource was not found")
            return
        params: dict[str, list[str]] = {}
        for key, value in parse_qsl(body, keep_blank_values=True):
            params.setdefault(key, []).append(value)
        sid = _sid("SM")
        message = SentMessage(sid, params)
        with self._lock:
            fault = self._state.faults.pop(0) if self._state.faults else None
        problem = (fault.status, fault.code, fault.message) if fault else self._check(message)
        if problem is not None:
            message.status = problem[0]
            with self._lock:
                self._state.rejected.append(message)
            _error(handler, *problem)
            return
        with self._lock:
            self._state.messages.append(message)
            self._lock.notify_all()
        _send(handler, HTTPStatus.CREATED, json.dumps(self._resource(message)).encode())
        if self.fetch_media and message.media_urls:
            threading.Thread(target=self._fetch, args=(message.media_urls,), daemon=True).start()

    def _check(self, message: SentMessage) -> tuple[int, int, str] | None:
        """Twilio's own checks of a Messages create request."""
        to, sender = message.to, message.from_
        if not to:
            return 400, 21604, "A 'To' phone number is required."
        if not sender:
            return 400, 21603, "A 'From' phone number is required."
        if to.startswith("whatsapp:") != sender.startswith("whatsapp:") or (
            self.senders is not None and sender not in self.senders
        ):
            return 400, 63007, "Twilio could not find a Channel with the specified From address"
        if not re.fullmatch(r"(whatsapp:)?\+[1-9]\d{6,14}", to):
            return 400, 21211, f"Invalid 'To' Phone Number: {to}"
        content_sid = message.content_sid
        if not (message.body or message.media_urls or content_sid):
            return 400, 21619, "A text message body or media url must be specified."
        if message.body and len(message.body) > MAX_BODY:
            return 400, 21617, "The concatenated message body exceeds the 1600 character limit."
        for url in message.media_urls:
            if urlsplit(url).scheme not in ("http", "https"):
                return 400, 21620, "Invalid media URL(s)"
        if content_sid is not None:
            if not _CONTENT_SID.match(content_sid):
                return 400, 21655, "The ContentSid is Invalid."
            raw = message.one("ContentVariables") or "{}"
            try:
                variables = json.loads(raw)
            except json.JSONDecodeError:
                return 400, 21656, "The ContentVariables Parameter is invalid."
            if not isinstance(variables, dict) or not all(
                isinstance(v, str) and v and "\n" not in v for v in variables.values()
            ):
                return 400, 21656, "The ContentVariables Parameter is invalid."
        return None

    def _resource(self, message: SentMessage) -> dict[str, Any]:
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": message.body or "",
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": None,
            "num_media": str(len(message.media_urls)),
            "num_segments": "1",
            "price": None,
            "price_unit": None,
            "sid": message.sid,
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": message.to,
            "uri": uri,
        }

    def _fetch(self, urls: list[str]) -> None:
        """What Twilio does with MediaUrl: fetch each file (no credentials) to pass it on."""
        for url in urls:
            try:
                response = httpx.get(
                    self.local(url), timeout=10, headers={"User-Agent": "TwilioProxy/1.1"}
                )
                fetch = Fetch(
                    url,
                    response.status_code,
                    None,
                    response.headers.get("content-type"),
                    response.content,
                )
            except httpx.HTTPError:
                fetch = Fetch(url, 0)
            with self._lock:
                self._state.fetched.append(fetch)
                self._lock.notify_all()
