"""Limits on every HTTP request, over real HTTP: bodies refused as soon as they pass their cap,
requests over the bound refused with 503, malformed JSON answered 400, and log lines that a
request cannot forge or fill with phone numbers."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app import server_config
from bot.channels.telegram.application import build_application
from bot.channels.whatsapp.routes import WhatsAppEndpoints
from bot.channels.whatsapp.settings import TwilioSettings
from bot.config import Settings
from bot.config_sections import Http
from bot.core.service import Fieldbot
from bot.limits import KIB, MIB
from bot.logs import configure_logging
from bot.web import create_app
from tests.conftest import SECRET, SUNITA_TG, telegram_settings
from tests.fakes.live import free_port, serving
from tests.fakes.telegram_api import FakeTelegramAPI, text_update

PUBLIC = "https://fieldbot.example.org"
TWILIO = TwilioSettings(
    account_sid="AC" + "0" * 32,
    auth_token="f" * 32,
    whatsapp_from="whatsapp:+14155238886",
    api_base_url="http://127.0.0.1:9",  # nothing is fetched in these tests
    public_url=PUBLIC,
)
HUGE = 60 * MIB
TELEGRAM = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


class BodyMeter:
    """An ASGI middleware outside the whole app: counts the body bytes the app took from the server."""

    def __init__(self, app: ASGIApp, read: list[int]):
        self.app, self.read = app, read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.read[0] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@dataclass
class Served:
    url: str
    read: list[int]

    @property
    def bytes_read(self) -> int:
        return self.read[0]


@contextmanager
def fieldbot(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[Served]:
    """Every endpoint on: the Telegram webhook, Twilio's, the simulator."""
    settings = telegram_settings(api, webhook=True)
    application = build_application(core, settings, webhook=True)
    app = create_app(
        core,
        telegram_app=application,
        telegram_settings=settings,
        whatsapp=WhatsAppEndpoints(core, TWILIO),
    )
    read = [0]
    app.add_middleware(BodyMeter, read=read)
    with serving(app) as url:
        yield Served(url, read)


@pytest.fixture()
def served(core: Fieldbot, api: FakeTelegramAPI) -> Iterator[Served]:
    with fieldbot(core, api) as found:
        yield found


def with_http(settings: Settings, **values: int) -> Settings:
    return settings.model_copy(update={"http": Http(**values)})  # type: ignore[arg-type]


# ---------------------------------------------------------------- a raw HTTP/1.1 client


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    sent: int  # body bytes the client got out before the answer came


async def lazy_body(total: int, chunk: int = 64 * KIB) -> AsyncIterator[bytes]:
    """`total` bytes of a form, made as they are sent: never held in memory."""
    piece = b"Body=" + b"x" * (chunk - 5)
    for _ in range(total // chunk):
        yield piece
        piece = b"x" * chunk


async def post(
    url: str,
    path: str,
    headers: dict[str, str],
    *,
    chunks: AsyncIterator[bytes] | None = None,
    content_length: int | None = None,
    timeout: float = 20.0,
) -> Answer:
    """POST with a body streamed chunk by chunk (or only announced), reading the answer while the
    body is still going out, as a client does whose request the server cuts short."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    # A bare socket: a send the server cuts off fails alone, and its answer can still be read.
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.setblocking(False)
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(
        f"Content-Length: {content_length}"
        if content_length is not None
        else "Transfer-Encoding: chunked"
    )
    await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = [0]

    async def pump() -> None:
        if chunks is None:
            return  # announced, never sent
        async for chunk in chunks:
            await loop.sock_sendall(sock, b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent[0] += len(chunk)
        await loop.sock_sendall(sock, b"0\r\n\r\n")

    async def head() -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            more = await loop.sock_recv(sock, 65536)
            if not more:
                break
            data += more
        return data

    pumping = asyncio.create_task(pump())
    try:
        data = await asyncio.wait_for(head(), timeout)
    finally:
        pumping.cancel()
        with suppress(asyncio.CancelledError, OSError):
            await pumping
        sock.close()
    status_line, *header_lines = data.split(b"\r\n\r\n")[0].decode().split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), found, sent[0])


# ---------------------------------------------------------------- body caps


@pytest.mark.parametrize(
    ("path", "headers", "cap"),
    [
        ("/twilio/whatsapp", {"Content-Type": "application/x-www-form-urlencoded"}, 64 * KIB),
        ("/twilio/status", {"Content-Type": "application/x-www-form-urlencoded"}, 64 * KIB),
        ("/telegram/webhook", {**TELEGRAM, "Content-Type": "application/json"}, MIB),
        ("/simulator/messages", {"Content-Type": "application/json"}, 15 * MIB),
    ],
)
def test_a_chunked_60_mb_body_is_refused_as_soon_as_it_passes_its_cap(
    served: Served, path: str, headers: dict[str, str], cap: int
) -> None:
    answer = asyncio.run(post(served.url, path, headers, chunks=lazy_body(HUGE)))
    assert answer.status == 413
    # The app held no more than the cap and what uvicorn had buffered (it pauses at 64 KiB).
    assert cap < served.bytes_read <= cap + 256 * KIB
    assert answer.sent < HUGE // 2  # the sender was stopped well before the end


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/twilio/whatsapp", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("/telegram/webhook", {**TELEGRAM, "Content-Type": "application/json"}),
        ("/simulator/messages", {"Content-Type": "application/json"}),
        ("/healthz", {}),
    ],
)
def test_a_too_large_content_length_is_refused_without_reading(
    served: Served, path: str, headers: dict[str, str]
) -> None:
    answer = asyncio.run(post(served.url, path, headers, content_length=HUGE, timeout=10))
    assert answer.status == 413
    assert answer.headers["connection"] == "close"
    assert served.bytes_read == 0


def test_caps_come_from_the_config(core: Fieldbot, api: FakeTelegramAPI) -> None:
    body = 256 * KIB
    with fieldbot(core, api) as default:
        refused = asyncio.run(post(default.url, "/twilio/whatsapp", {}, chunks=lazy_body(body)))
        assert refused.status == 413
    core.settings = with_http(core.settings, twilio_form_kb=512)
    with fieldbot(core, api) as larger:
        answer = asyncio.run(post(larger.url, "/twilio/whatsapp", {}, chunks=lazy_body(body)))
        assert answer.status == 403  # read whole, then refused for its (missing) signature
        assert larger.bytes_read == body


def test_a_body_under_its_cap_is_served(served: Served) -> None:
    photo_sized = {"phone": "+917973321377", "text": "कार्ड 5", "pad": "x" * (12 * MIB)}
    response = httpx.post(f"{served.url}/simulator/messages", json=photo_sized, timeout=30)
    assert response.status_code == 200
    assert "5" in response.json()["replies"][0]["text"]


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_wrong_telegram_secret_is_refused_before_any_of_the_body_is_read(
    served: Served, secret: str | None
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    answer = asyncio.run(post(served.url, "/telegram/webhook", headers, chunks=lazy_body(HUGE)))
    assert answer.status == 403
    assert served.bytes_read == 0


# ---------------------------------------------------------------- requests at once


def test_requests_over_the_bound_get_503_with_retry_after(core: Fieldbot, api: FakeTelegramAPI) -> None:
    core.settings = with_http(core.settings, max_concurrent_requests=3)

    async def scenario(url: str) -> tuple[list[int], int]:
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield b'{"phone": "+917973321377", '
            await release.wait()  # the request stays in progress until the test lets it go
            yield b'"text": "x"}'

        held = [
            asyncio.create_task(
                post(
                    url,
                    "/simulator/messages",
                    {"Content-Type": "application/json"},
                    chunks=slow_body(),
                    timeout=10,
                )
            )
            for _ in range(3)
        ]
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient() as client:
            over = await client.get(f"{url}/healthz")
            assert over.headers["retry-after"] == "1"
            release.set()
            answers = [a.status for a in await asyncio.gather(*held)]
            after = await client.get(f"{url}/healthz")
        return [over.status_code, *answers], after.status_code

    with fieldbot(core, api) as small:
        statuses, after = asyncio.run(scenario(small.url))
    assert statuses == [503, 200, 200, 200]
    assert after == 200  # the finished requests no longer count


def test_the_default_bound_lets_telegrams_100_connections_in(
    core: Fieldbot, api: FakeTelegramAPI
) -> None:
    assert Settings.model_fields["http"].default.max_concurrent_requests > 100

    async def hundred(url: str) -> list[int]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=110)) as client:
            calls = [client.get(f"{url}/healthz") for _ in range(110)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    with fieldbot(core, api) as default:
        assert set(asyncio.run(hundred(default.url))) == {200}


# ---------------------------------------------------------------- malformed JSON


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_update(depth: int) -> bytes:
    """A Telegram update whose message quotes a message that quotes one... `depth` times."""
    message = text_update("कार्ड 5", user_id=SUNITA_TG)["message"]
    for _ in range(depth):
        message = {**text_update("x", user_id=SUNITA_TG)["message"], "reply_to_message": message}
    return json.dumps({"update_id": 9, "message": message}).encode()


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/telegram/webhook", TELEGRAM, nested(100_000)),
        ("/telegram/webhook", TELEGRAM, json.dumps({"update_id": 1, "message": 1}).encode()),
        ("/telegram/webhook", TELEGRAM, deep_update(600)),
        ("/simulator/messages", {}, nested(100_000)),
        ("/simulator/messages", {}, b'{"phone": ' + nested(100_000) + b"}"),
    ],
    ids=["telegram-array", "telegram-not-an-update", "telegram-deep-quotes", "sim-array", "sim-field"],
)
def test_deeply_nested_json_is_a_bad_request(
    served: Served, path: str, headers: dict[str, str], body: bytes
) -> None:
    response = httpx.post(
        served.url + path, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text


# ---------------------------------------------------------------- logs


@contextmanager
def captured_log() -> Iterator[io.StringIO]:
    """The log exactly as `fieldbot run` writes it."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", stream)
    try:
        yield stream
    finally:
        root.handlers, root.level = saved[0], saved[1]


def test_a_newline_in_a_message_sid_does_not_forge_a_log_line(served: Served) -> None:
    forged = "2026-11-23 10:00:00,000 CRITICAL fieldbot: database dropped"
    form = {"MessageSid": f"SM1\r\x1b[2K\n{forged}", "From": "whatsapp:+917973321377", "Body": "x"}
    with captured_log() as stream:
        response = httpx.post(
            f"{served.url}/twilio/whatsapp", data=form, headers={"X-Twilio-Signature": "bogus"}
        )
        time.sleep(0.1)
    assert response.status_code == 403
    lines = stream.getvalue().splitlines()
    refused = [line for line in lines if "signature" in line]
    assert len(refused) == 1
    assert "(MessageSid SM1\\r\\u001b[2K\\n2026-11-23 10:00:00" in refused[0]
    assert not any(line.startswith("2026-11-23") for line in lines)


def test_a_traceback_cannot_pass_for_a_record() -> None:
    with captured_log() as stream:
        try:
            raise ValueError("bad\n2026-11-23 10:00:00,000 INFO fieldbot: all well")
        except ValueError:
            logging.getLogger("fieldbot").exception("failed for +91 79733 21377")
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("failed for ******1377")
    assert rest and all(line.startswith("    ") for line in rest)


def test_uvicorns_own_error_log_is_masked_like_every_record(
    capfd: pytest.CaptureFixture[str],
) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("no roster entry for +91 79733 21377")

    for name in ("uvicorn", "uvicorn.error"):  # as a fresh process has them, before uvicorn runs
        logging.getLogger(name).handlers, logging.getLogger(name).propagate = [], True
    with captured_log() as stream:
        port = free_port()
        # As `fieldbot run` and `fieldbot demo` start it.
        server = uvicorn.Server(server_config(Starlette(routes=[Route("/", boom)]), "127.0.0.1", port))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 500
            time.sleep(0.1)
        finally:
            server.should_exit = True
            thread.join(10)
    written = stream.getvalue() + "".join(capfd.readouterr())
    assert "uvicorn.error: Exception in ASGI application" in stream.getvalue()
    assert "******1377" in stream.getvalue()
    assert "79733 21377" not in written
