"""A fake Telegram Bot API server for tests.

The real python-telegram-bot client talks to it over real HTTP on 127.0.0.1::

    with FakeTelegramAPI(token="123:ABC") as api:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        api.push_update(text_update("/start", user_id=42))
        ...
        await api.wait_for_async("sendMessage")
        assert api.sent_texts(chat_id=42) == ["Welcome!"]

The server is a stdlib ``ThreadingHTTPServer`` running in a daemon thread, so it works the
same from sync and async tests. Every authorised Bot API call is recorded as a :class:`Call`.

Note for async tests: :meth:`FakeTelegramAPI.wait_for` blocks the calling thread. When the
bot runs on the same event loop as the test, use :meth:`FakeTelegramAPI.wait_for_async`.

How python-telegram-bot 22.8 encodes requests (``telegram/request/_httpxrequest.py``): every
Bot API call is an HTTP ``POST`` to ``{base_url}{token}/{method}``; file downloads are a ``GET``
of ``{base_file_url}{token}/{file_path}``. Without files the body is
``application/x-www-form-urlencoded`` (or empty when there are no parameters); with files it is
``multipart/form-data``. In both cases ``str`` values are sent as-is and every other value is
JSON-encoded (ints as ``"42"``, bools as ``"true"``, markups as JSON objects). PTB never sends a
JSON body, but this fake accepts one, and the query string, for other clients.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import mimetypes
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "FakeTelegramAPI",
    "callback_query_update",
    "contact_update",
    "edited_text_update",
    "location_update",
    "photo_update",
    "sticker_update",
    "text_update",
    "voice_update",
]

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456789:TEST-fake-telegram-token"
BOT_FIRST_NAME = "Fieldbot"
BOT_USERNAME = "fieldbot_test_bot"
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_LOGGER = logging.getLogger(__name__)

# Message ids come from one process-wide counter shared by the update builders and by every
# fake server, so ids of user messages and bot messages never collide inside a chat.
_message_ids = itertools.count(1001)
_file_numbers = itertools.count(1)


def _next_message_id() -> int:
    return next(_message_ids)


def _now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------------------------
# Recorded calls
# --------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One Bot API call received by the fake.

    ``params`` holds the decoded parameters: JSON-encoded values are decoded (``chat_id`` is
    an ``int``, ``reply_markup`` a ``dict``), values of known string parameters (``text``,
    ``caption``, ``callback_query_id``, ...) stay ``str`` and uploaded files are
    ``{"filename": str, "content": bytes}``. ``status`` is the HTTP status the fake answered
    with (200, or the status of an injected fault / validation error).
    """

    method: str
    params: JSONDict
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int
    description: str | None


class _ApiError(Exception):
    """Raised by method implementations to answer with a Bot API error."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


_Response = tuple[int, bytes, str]

_JSON_CONTENT_TYPE = "application/json"

_NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

_DEFAULT_ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
}


def _json_bytes(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _error_response(status: int, description: str, parameters: JSONDict | None = None) -> _Response:
    payload: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        payload["parameters"] = parameters
    return status, _json_bytes(payload), _JSON_CONTENT_TYPE


def _ok_response(result: object) -> _Response:
    return 200, _json_bytes({"ok": True, "result": result}), _JSON_CONTENT_TYPE


def _fault_response(fault: _Fault) -> _Response:
    if fault.status == HTTPStatus.BAD_GATEWAY and fault.description is None:
        # Telegram's 502s come from its nginx front end as HTML, not as Bot API JSON.
        return fault.status, _NGINX_502, "text/html"
    if fault.status == HTTPStatus.TOO_MANY_REQUESTS:
        description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        return _error_response(fault.status, description, {"retry_after": fault.retry_after})
    description = fault.description or _DEFAULT_ERROR_DESCRIPTIONS.get(fault.status, "")
    if not description:
        try:
            description = HTTPStatus(fault.status).phrase
        except ValueError:
            description = f"Error {fault.status}"
    return _error_response(fault.status, description)


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------

# Parameters whose values are plain strings in the Bot API. PTB sends ``str`` values without
# JSON encoding, so "123" or "true" in these must not be decoded to int / bool.
_STRING_PARAMS = frozenset(
    {
        "action",
        "address",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_emoji_id",
        "description",
        "emoji",
        "explanation",
        "file_id",
        "first_name",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "payload",
        "phone_number",
        "provider_token",
        "query",
        "question",
        "secret_token",
        "short_description",
        "start_parameter",
        "text",
        "title",
        "url",
        "vcard",
        # Media given as a file_id or URL string (uploads arrive as file parts instead).
        "animation",
        "audio",
        "document",
        "photo",
        "sticker",
        "thumbnail",
        "video",
        "video_note",
        "voice",
    }
)


def _reject_json_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def _coerce(name: str, value: str) -> Any:
    """Decode a string parameter value the way the Bot API would interpret it."""
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value, parse_constant=_reject_json_constant)
    except ValueError:
        return value


_HEADER_PARAM_RE = re.compile(r';\s*([\w*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
_ESCAPED_CONTROL_RE = re.compile(r"%(22|[01][0-9A-Fa-f])")


def _header_params(value: str) -> dict[str, str]:
    """Parameters of a header like ``form-data; name="document"; filename="a.txt"``.

    httpx escapes ``"`` as ``%22``, control characters as ``%XX`` and ``\\`` as ``\\\\``.
    """
    params: dict[str, str] = {}
    for match in _HEADER_PARAM_RE.finditer(value):
        key = match.group(1).lower()
        if match.group(2) is not None:
            raw = re.sub(r"\\(.)", r"\1", match.group(2))
            raw = _ESCAPED_CONTROL_RE.sub(lambda m: chr(int(m.group(1), 16)), raw)
        else:
            raw = match.group(3)
        params[key] = raw
    return params


def _parse_multipart(body: bytes, boundary: bytes) -> JSONDict:
    """Parse a ``multipart/form-data`` body (RFC 7578) without the deprecated ``cgi`` module."""
    fields: JSONDict = {}
    delimiter = b"\r\n--" + boundary
    segments = (b"\r\n" + body).split(delimiter)
    for segment in segments[1:]:
        if segment.startswith(b"--"):  # close delimiter
            break
        _padding, _, part = segment.partition(b"\r\n")
        if part.startswith(b"\r\n"):
            header_blob, content = b"", part[2:]
        else:
            header_blob, sep, content = part.partition(b"\r\n\r\n")
            if not sep:
                continue
        headers: dict[str, str] = {}
        for line in header_blob.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        field_name = disposition.get("name")
        if field_name is None:
            continue
        if "filename" in disposition:
            fields[field_name] = {"filename": disposition["filename"], "content": content}
        else:
            fields[field_name] = content.decode("utf-8", "replace")
    return fields


def _parse_params(query: str, content_type: str, body: bytes) -> JSONDict:
    raw: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";", 1)[0].strip().lower()
    if body:
        if mime == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise _ApiError(400, f"Bad Request: can't parse JSON: {exc}") from exc
            if not isinstance(decoded, dict):
                raise _ApiError(400, "Bad Request: JSON body must be an object")
            raw.update(decoded)
        elif mime == "multipart/form-data":
            boundary = _header_params(content_type).get("boundary")
            if not boundary:
                raise _ApiError(400, "Bad Request: multipart body without boundary")
            raw.update(_parse_multipart(body, boundary.encode("latin-1")))
        else:
            text = body.decode("utf-8", "replace")
            raw.update(parse_qsl(text, keep_blank_values=True))
    return {key: _coerce(key, value) if isinstance(value, str) else value for key, value in raw.items()}


def _as_int(value: object, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    try:
        return int(float(str(value)))
    except ValueError as exc:
        raise _ApiError(400, f"Bad Request: invalid integer value {value!r}") from exc


def _as_float(value: object, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        return float(cast(Any, value))
    except (TypeError, ValueError) as exc:
        raise _ApiError(400, f"Bad Request: invalid number {value!r}") from exc


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: FakeTelegramAPI) -> None:
        self.api = api
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive sockets outlive stop().
    protocol_version = "HTTP/1.0"
    server_version = "FakeTelegramBotAPI/1.0"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("%s - " + format, self.address_string(), *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        api = cast(_Server, self.server).api
        try:
            body = self._read_body()
            status, payload, content_type = api._handle_http(
                self.path, self.headers.get("Content-Type", ""), body
            )
        except Exception as exc:  # a bug in the fake must not look like a hung server
            _LOGGER.exception("FakeTelegramAPI crashed handling %s", self.path)
            api._record_error(f"{self.command} {self.path}: {exc!r}")
            status, payload, content_type = _error_response(
                500, f"Internal Server Error: fake crashed: {exc!r}"
            )
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. PTB cancelled a long poll while shutting down).
            pass


# --------------------------------------------------------------------------------------------
# The fake API
# --------------------------------------------------------------------------------------------

_MethodImpl = Callable[[JSONDict], Any]


class FakeTelegramAPI:
    """Fake Telegram Bot API on ``127.0.0.1`` on a random free port.

    Use as a context manager or call :meth:`start` / :meth:`stop`. See the module docstring.

    Args:
        token: The bot token the fake accepts; any other token gets ``401 Unauthorized``.
            The bot's user id is the numeric part before the colon.
        max_hold: Upper bound in seconds for how long ``getUpdates`` holds a long poll.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, *, max_hold: float = 2.0) -> None:
        prefix = token.split(":", 1)[0]
        if not prefix.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self._token = token
        self._bot_id = int(prefix)
        self._max_hold = max_hold

        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._errors: list[str] = []
        self._updates: list[JSONDict] = []
        self._next_update_id = 500_000_001
        self._faults: dict[str, deque[_Fault]] = {}
        self._files: dict[str, bytes] = {}
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._commands: dict[tuple[str, str], list[Any]] = {}
        self._webhook: JSONDict | None = None
        self._stopping = False

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

        self._methods: dict[str, tuple[str, _MethodImpl]] = {}
        for name, impl in (
            ("getMe", self._m_get_me),
            ("getUpdates", self._m_get_updates),
            ("sendMessage", self._m_send_message),
            ("sendDocument", self._m_send_document),
            ("sendPhoto", self._m_send_photo),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
            ("getFile", self._m_get_file),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("sendChatAction", self._m_true),
            ("close", self._m_true),
            ("logOut", self._m_true),
        ):
            self._methods[name.lower()] = (name, impl)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeTelegramAPI is already started")
        self._stopping = False
        self._server = _Server(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeTelegramAPI:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._cond:
            self._stopping = True  # releases held getUpdates long polls
            self._cond.notify_all()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---------------------------------------------------------------- properties

    @property
    def token(self) -> str:
        return self._token

    @property
    def bot_id(self) -> int:
        return self._bot_id

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTelegramAPI is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` - PTB appends the token itself."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` - PTB appends the token itself."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all authorised calls so far, oldest first."""
        with self._cond:
            return list(self._calls)

    @property
    def errors(self) -> list[str]:
        """Exceptions raised inside the fake itself (should stay empty)."""
        with self._cond:
            return list(self._errors)

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a ``getUpdates`` offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    @property
    def webhook_url(self) -> str:
        with self._cond:
            return str(self._webhook["url"]) if self._webhook else ""

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[Any]:
        """Commands last set with ``setMyCommands`` for that scope / language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    # ---------------------------------------------------------------- test helpers

    def calls_for(self, method: str) -> list[Call]:
        key = method.lower()
        with self._cond:
            return [call for call in self._calls if call.method.lower() == key]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of successful ``sendMessage`` calls, optionally only those to ``chat_id``."""
        texts: list[str] = []
        for call in self.calls_for("sendMessage"):
            if not call.ok:
                continue
            if chat_id is not None and str(call.params.get("chat_id")) != str(chat_id):
                continue
            texts.append(str(call.params.get("text", "")))
        return texts

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``count`` calls of ``method`` (failed ones included) were recorded.

        Returns all calls of that method. Raises :class:`AssertionError` listing the calls seen
        on timeout. Do not call this from the event loop the bot runs on: use
        :meth:`wait_for_async` there.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matching = self._matching_locked(method)
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_message_locked(method, count, timeout))
                self._cond.wait(remaining)

    async def wait_for_async(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Like :meth:`wait_for`, but yields to the event loop while waiting."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                matching = self._matching_locked(method)
                if len(matching) >= count:
                    return matching
                if time.monotonic() >= deadline:
                    raise AssertionError(self._timeout_message_locked(method, count, timeout))
            await asyncio.sleep(0.01)

    def clear(self) -> None:
        """Forget recorded calls and errors (pending updates, files and faults stay)."""
        with self._cond:
            self._calls.clear()
            self._errors.clear()

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing and returns it."""
        data = copy.deepcopy(dict(update))
        with self._cond:
            if "update_id" in data:
                update_id = int(data["update_id"])
                self._next_update_id = max(self._next_update_id, update_id + 1)
            else:
                update_id = self._next_update_id
                self._next_update_id += 1
                data["update_id"] = update_id
            for value in data.values():
                if isinstance(value, dict) and isinstance(value.get("chat"), dict):
                    chat = value["chat"]
                    if isinstance(chat.get("id"), int):
                        self._chats[chat["id"]] = copy.deepcopy(chat)
            self._updates.append(data)
            self._cond.notify_all()
        return update_id

    def add_file(self, file_id: str, content: bytes) -> str:
        """Make ``content`` downloadable for ``file_id``; returns its ``file_path``."""
        file_path = self._file_path(file_id)
        with self._cond:
            self._files[file_path] = bytes(content)
        return file_path

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        *,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail like Telegram does.

        429 answers ``{"ok": false, "error_code": 429, "description": "Too Many Requests: retry
        after N", "parameters": {"retry_after": N}}`` (PTB raises ``RetryAfter``); 502 answers
        nginx's HTML page (PTB raises ``NetworkError``); other statuses answer Bot API error
        JSON (500 -> ``NetworkError``, 400 -> ``BadRequest``, 403 -> ``Forbidden``, ...).
        """
        fault = _Fault(status=status, retry_after=retry_after, description=description)
        with self._cond:
            queue = self._faults.setdefault(method.lower(), deque())
            queue.extend([fault] * times)

    # ---------------------------------------------------------------- internals

    def _matching_locked(self, method: str) -> list[Call]:
        key = method.lower()
        return [call for call in self._calls if call.method.lower() == key]

    def _timeout_message_locked(self, method: str, count: int, timeout: float) -> str:
        seen = [c for c in self._calls if c.method != "getUpdates"]
        polls = len(self._calls) - len(seen)
        lines = [
            f"expected {count} call(s) of {method!r} within {timeout}s, "
            f"got {len(self._matching_locked(method))}. Calls seen "
            f"(+{polls} getUpdates):"
        ]
        lines += [f"  {c.method} [{c.status}] {_short_repr(c.params)}" for c in seen] or ["  none"]
        if self._errors:
            lines.append(f"fake errors: {self._errors}")
        return "\n".join(lines)

    def _record_error(self, message: str) -> None:
        with self._cond:
            self._errors.append(message)

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    def _handle_http(self, raw_path: str, content_type: str, body: bytes) -> _Response:
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            if token != self._token:
                return _error_response(401, "Unauthorized")
            with self._cond:
                content = self._files.get(file_path)
            if content is None:
                return _error_response(404, "Not Found")
            return 200, content, "application/octet-stream"
        if not path.startswith("/bot"):
            return _error_response(404, "Not Found")
        token, _, method = path[len("/bot") :].partition("/")
        if token != self._token:
            return _error_response(401, "Unauthorized")
        if not method or "/" in method:
            return _error_response(404, "Not Found")
        try:
            params = _parse_params(parts.query, content_type, body)
        except _ApiError as exc:
            self._record(Call(method, {}, exc.status))
            return _error_response(exc.status, exc.description, exc.parameters)

        canonical, impl = self._methods.get(method.lower(), (method, self._m_true))
        with self._cond:
            queue = self._faults.get(canonical.lower())
            fault = queue.popleft() if queue else None
        if fault is not None:
            self._record(Call(canonical, params, fault.status))
            return _fault_response(fault)

        # Recorded once the answer is known (after a long poll for getUpdates), so a call
        # never shows up as ok and turns into an error afterwards.
        try:
            result = impl(params)
        except _ApiError as exc:
            self._record(Call(canonical, params, exc.status))
            return _error_response(exc.status, exc.description, exc.parameters)
        self._record(Call(canonical, params))
        return _ok_response(result)

    # ---------------------------------------------------------------- object builders

    def _bot_user(self, full: bool = False) -> JSONDict:
        user: JSONDict = {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=True,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def _chat(self, chat_id: int | str) -> JSONDict:
        with self._cond:
            known = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if known is not None:
            return copy.deepcopy(known)
        if isinstance(chat_id, int) and chat_id < 0:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            return {"id": chat_id, "title": "Test group", "type": kind}
        return {"id": chat_id, "type": "private"}

    def _new_message(self, chat_id: int | str, **fields: Any) -> JSONDict:
        message: JSONDict = {
            "message_id": _next_message_id(),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": _now(),
        }
        message.update({key: value for key, value in fields.items() if value is not None})
        return message

    @staticmethod
    def _file_path(file_id: str) -> str:
        return f"photos/{file_id}.jpg"

    @staticmethod
    def _commands_key(scope: object, language_code: object) -> tuple[str, str]:
        scope_key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return scope_key, str(language_code or "")

    def _store_upload(self, value: object, prefix: str) -> tuple[str, str | None, int | None]:
        """Returns (file_id, file_name, file_size) for an uploaded file or a file_id/URL."""
        if isinstance(value, dict) and "content" in value:
            number = next(_file_numbers)
            file_id = f"{prefix}{number:010d}"
            content = bytes(value["content"])
            self.add_file(file_id, content)
            return file_id, str(value.get("filename") or ""), len(content)
        if isinstance(value, str) and value:
            return value, None, None
        raise _ApiError(400, "Bad Request: there is no file in the request")

    @staticmethod
    def _inline_markup(params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def _chat_id(self, params: JSONDict) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int | str):
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    @staticmethod
    def _check_caption(params: JSONDict) -> str | None:
        caption = params.get("caption")
        if caption is None:
            return None
        caption = str(caption)
        if "parse_mode" not in params and _utf16_len(caption) > MAX_CAPTION_LENGTH:
            raise _ApiError(400, "Bad Request: message caption is too long")
        return caption

    # ---------------------------------------------------------------- Bot API methods

    def _m_true(self, params: JSONDict) -> bool:
        return True

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return self._bot_user(full=True)

    def _m_get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        hold = min(max(_as_float(params.get("timeout"), 0.0), 0.0), self._max_hold)
        deadline = time.monotonic() + hold
        with self._cond:
            if self._webhook is not None:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            while True:
                if offset > 0:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                elif offset < 0:
                    self._updates = self._updates[offset:]
                batch = self._updates[:limit]
                remaining = deadline - time.monotonic()
                if batch or self._stopping or remaining <= 0:
                    return copy.deepcopy(batch)
                self._cond.wait(remaining)

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        # With a parse_mode Telegram counts the length after removing markup; don't guess.
        if "parse_mode" not in params and _utf16_len(text) > MAX_MESSAGE_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = self._inline_markup(params)
        message = self._new_message(chat_id, text=text, reply_markup=markup)
        with self._cond:
            self._messages[(chat_id, message["message_id"])] = {"text": text, "markup": markup}
        return message

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        caption = self._check_caption(params)
        file_id, file_name, size = self._store_upload(params.get("document"), "BQACAgIAAxkD")
        document: JSONDict = {"file_id": file_id, "file_unique_id": f"AgAD{file_id[-10:]}"}
        if file_name:
            document["file_name"] = file_name
            document["mime_type"] = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        if size is not None:
            document["file_size"] = size
        return self._new_message(
            chat_id, document=document, caption=caption, reply_markup=self._inline_markup(params)
        )

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        caption = self._check_caption(params)
        file_id, _name, size = self._store_upload(params.get("photo"), "AgACAgIAAxkD")
        photo = _photo_sizes(file_id, size)
        return self._new_message(
            chat_id, photo=photo, caption=caption, reply_markup=self._inline_markup(params)
        )

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text = params.get("text")
        if text is None or not str(text).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"), 0)
        if message_id <= 0:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        with self._cond:
            previous = self._messages.get((chat_id, message_id))
            if previous is not None and previous == {"text": text, "markup": markup}:
                raise _ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            self._messages[(chat_id, message_id)] = {"text": text, "markup": markup}
        message = self._new_message(chat_id, text=text, reply_markup=markup, edit_date=_now())
        message["message_id"] = message_id
        return message

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        """A message's inline keyboard replaced (or, without ``reply_markup``, taken away)."""
        markup = self._inline_markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id = self._chat_id(params)
        message_id = _as_int(params.get("message_id"), 0)
        if message_id <= 0:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        with self._cond:
            previous = self._messages.get((chat_id, message_id))
            if previous is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            if previous["markup"] == markup:
                raise _ApiError(400, "Bad Request: message is not modified")
            self._messages[(chat_id, message_id)] = {"text": previous["text"], "markup": markup}
        message = self._new_message(
            chat_id, text=previous["text"], reply_markup=markup, edit_date=_now()
        )
        message["message_id"] = message_id
        return message

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query_id_invalid")
        return True

    def message_id_of(self, chat_id: int | str, text: str) -> int:
        """The id of the latest message the bot sent to ``chat_id`` with this text."""
        with self._cond:
            sent = self._messages.items()
            ids = [mid for (chat, mid), m in sent if chat == chat_id and m["text"] == text]
        if not ids:
            raise KeyError(f"no message {text!r} sent to {chat_id}")
        return ids[-1]

    def last_message_id(self, text: str) -> int:
        """The id of the latest message the bot sent, to anyone, with this text."""
        with self._cond:
            ids = [mid for (_, mid), m in self._messages.items() if m["text"] == text]
        if not ids:
            raise KeyError(f"no message {text!r} sent")
        return ids[-1]

    def markup_of(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        """The inline keyboard a sent message carries now (None once it is taken away)."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
        return message["markup"] if message else None

    def _m_set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        with self._cond:
            if not url:
                self._webhook = None
                return True
            self._webhook = {
                "url": str(url),
                "allowed_updates": params.get("allowed_updates"),
                "max_connections": _as_int(params.get("max_connections"), 40),
                "secret_token": params.get("secret_token"),
            }
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
        return True

    def _m_delete_webhook(self, params: JSONDict) -> bool:
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
        return True

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        with self._cond:
            info: JSONDict = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook:
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook["allowed_updates"]:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, 'Bad Request: parameter "commands" is required')
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            self._commands[key] = commands
        return True

    def _m_get_my_commands(self, params: JSONDict) -> list[Any]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            return copy.deepcopy(self._commands.get(key, []))

    def _m_delete_my_commands(self, params: JSONDict) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        file_id = params.get("file_id")
        if not file_id:
            raise _ApiError(400, "Bad Request: file_id is empty")
        file_id = str(file_id)
        file_path = self._file_path(file_id)
        result: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"AgAD{file_id[-10:]}",
            "file_path": file_path,
        }
        with self._cond:
            content = self._files.get(file_path)
        if content is not None:
            result["file_size"] = len(content)
        return result


def _short_repr(params: JSONDict, limit: int = 200) -> str:
    shown = {
        key: (f"<file {value.get('filename')!r}, {len(value['content'])} bytes>")
        if isinstance(value, dict) and isinstance(value.get("content"), bytes)
        else value
        for key, value in params.items()
    }
    text = repr(shown)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# Update builders (Bot API JSON as Telegram sends it)
# --------------------------------------------------------------------------------------------

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


def _user(user_id: int, first_name: str) -> JSONDict:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}


def _chat_for(user_id: int, chat_id: int | None, first_name: str, chat_type: str) -> JSONDict:
    """Private chat with the user unless ``chat_type`` or a negative ``chat_id`` say otherwise.

    Without ``chat_id`` a group chat gets ``-user_id`` and a supergroup/channel
    ``-(10**12 + user_id)``, like Telegram's id ranges.
    """
    if chat_id is None:
        if chat_type == "private":
            chat_id = user_id
        elif chat_type == "group":
            chat_id = -user_id
        else:
            chat_id = -(1_000_000_000_000 + user_id)
    if chat_type == "private" and chat_id < 0:
        chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
    if chat_type == "private":
        return {"id": chat_id, "first_name": first_name, "type": "private"}
    return {"id": chat_id, "title": "Field team", "type": chat_type}


def _base_message(
    *,
    user_id: int,
    chat_id: int | None,
    first_name: str,
    date: int | None,
    message_id: int | None,
    chat_type: str = "private",
) -> JSONDict:
    return {
        "message_id": message_id if message_id is not None else _next_message_id(),
        "from": _user(user_id, first_name),
        "chat": _chat_for(user_id, chat_id, first_name, chat_type),
        "date": date if date is not None else _now(),
    }


def _text_fields(text: str) -> JSONDict:
    fields: JSONDict = {"text": text}
    match = _COMMAND_RE.match(text)
    if match:
        fields["entities"] = [{"offset": 0, "length": _utf16_len(match.group(0)), "type": "bot_command"}]
    return fields


def _photo_sizes(file_id: str, largest_size: int | None = None) -> list[JSONDict]:
    """PhotoSize list, smallest first; the largest (last) one carries ``file_id``."""
    dims = [(90, 68, "s"), (320, 240, "m"), (800, 600, "x"), (1280, 960, "y")]
    sizes: list[JSONDict] = []
    for width, height, suffix in dims:
        is_largest = suffix == "y"
        sizes.append(
            {
                "file_id": file_id if is_largest else f"{file_id}_{suffix}",
                "file_unique_id": f"AQAD{file_id[-8:]}{suffix}",
                "file_size": (largest_size or 98_765) if is_largest else width * height // 10,
                "width": width,
                "height": height,
            }
        )
    return sizes


def text_update(
    text: str,
    *,
    user_id: int,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
    chat_type: str = "private",
) -> JSONDict:
    """A text message; a leading ``/command`` gets a ``bot_command`` entity at offset 0."""
    message = _base_message(
        user_id=user_id,
        chat_id=chat_id,
        first_name=first_name,
        date=date,
        message_id=message_id,
        chat_type=chat_type,
    )
    message.update(_text_fields(text))
    return {"message": message}


def edited_text_update(
    text: str,
    *,
    user_id: int,
    message_id: int,
    date: int,
    edit_date: int | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
) -> JSONDict:
    """An ``edited_message``: ``date`` is the original send time, ``edit_date`` defaults to now."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    message["edit_date"] = edit_date if edit_date is not None else _now()
    message.update(_text_fields(text))
    return {"edited_message": message}


def contact_update(
    phone_number: str,
    *,
    user_id: int,
    contact_user_id: int | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
) -> JSONDict:
    """A contact; via the share-contact button ``contact.user_id`` is the sender's id.

    Pass ``contact_user_id`` for someone else's contact (delete the key for a contact with no
    Telegram account).
    """
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    message["contact"] = {
        "phone_number": phone_number,
        "first_name": first_name,
        "user_id": contact_user_id if contact_user_id is not None else user_id,
    }
    return {"message": message}


def location_update(
    lat: float,
    lon: float,
    *,
    user_id: int,
    live_period: int | None = None,
    horizontal_accuracy: float | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
) -> JSONDict:
    """A location message (a live location when ``live_period`` is given)."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    location: JSONDict = {"latitude": lat, "longitude": lon}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = horizontal_accuracy
    if live_period is not None:
        location["live_period"] = live_period
    message["location"] = location
    return {"message": message}


def photo_update(
    file_id: str,
    *,
    user_id: int,
    caption: str | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
    file_size: int | None = None,
) -> JSONDict:
    """A photo: four PhotoSizes, smallest first; ``photo[-1]["file_id"] == file_id``."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    message["photo"] = _photo_sizes(file_id, file_size)
    if caption is not None:
        message["caption"] = caption
        match = _COMMAND_RE.match(caption)
        if match:
            message["caption_entities"] = [
                {"offset": 0, "length": _utf16_len(match.group(0)), "type": "bot_command"}
            ]
    return {"message": message}


def document_update(
    file_id: str,
    *,
    user_id: int,
    file_name: str,
    mime_type: str,
    file_size: int,
    caption: str | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
) -> JSONDict:
    """A file sent as a document (a photo sent "as file" keeps its EXIF)."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    message["document"] = {
        "file_id": file_id,
        "file_unique_id": f"AgAD{file_id[-10:]}",
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": file_size,
    }
    if caption is not None:
        message["caption"] = caption
    return {"message": message}


def edited_location_update(
    lat: float,
    lon: float,
    *,
    user_id: int,
    message_id: int,
    date: int,
    edit_date: int,
    live_period: int,
    horizontal_accuracy: float | None = None,
    chat_id: int | None = None,
    first_name: str = "Sunita",
) -> JSONDict:
    """A live location moving: Telegram edits the original message; ``date`` stays its send time."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    location: JSONDict = {"latitude": lat, "longitude": lon, "live_period": live_period}
    if horizontal_accuracy is not None:
        location["horizontal_accuracy"] = horizontal_accuracy
    message["location"] = location
    message["edit_date"] = edit_date
    return {"edited_message": message}


def voice_update(
    *,
    user_id: int,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
    duration: int = 3,
) -> JSONDict:
    """A voice note (audio/ogg)."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    number = next(_file_numbers)
    message["voice"] = {
        "file_id": f"AwACAgIAAxkBAA{number:010d}",
        "file_unique_id": f"AgADv{number:06d}",
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": 5_000 * duration,
    }
    return {"message": message}


def sticker_update(
    *,
    user_id: int,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    date: int | None = None,
    message_id: int | None = None,
    emoji: str = "👍",
) -> JSONDict:
    """A regular static sticker."""
    message = _base_message(
        user_id=user_id, chat_id=chat_id, first_name=first_name, date=date, message_id=message_id
    )
    number = next(_file_numbers)
    message["sticker"] = {
        "file_id": f"CAACAgIAAxkBAA{number:010d}",
        "file_unique_id": f"AgADs{number:06d}",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "set_name": "HotCherry",
        "thumbnail": {
            "file_id": f"AAMCAgADGQEAA{number:010d}",
            "file_unique_id": f"AQADt{number:06d}",
            "file_size": 5_000,
            "width": 128,
            "height": 128,
        },
        "file_size": 30_000,
    }
    return {"message": message}


def callback_query_update(
    data: str,
    *,
    user_id: int,
    message_id: int,
    chat_id: int | None = None,
    first_name: str = "Sunita",
    message_text: str = "Choose:",
    callback_id: str | None = None,
    bot_id: int = int(DEFAULT_TOKEN.split(":", 1)[0]),
) -> JSONDict:
    """A press of an inline-keyboard button on the bot's message ``message_id``."""
    message: JSONDict = {
        "message_id": message_id,
        "from": {
            "id": bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        },
        "chat": _chat_for(user_id, chat_id, first_name, "private"),
        "date": _now(),
        "text": message_text,
    }
    return {
        "callback_query": {
            "id": callback_id or str(4_382_000_000_000_000_000 + next(_file_numbers)),
            "from": _user(user_id, first_name),
            "message": message,
            "chat_instance": str(-7_000_000_000_000_000_000 + user_id),
            "data": data,
        }
    }
