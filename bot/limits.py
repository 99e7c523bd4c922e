"""Limits on every HTTP request, enforced as the request arrives: body size and requests at once.

One ASGI middleware. A body is counted while the app reads it (chunked or not): as soon as it
passes its path's cap the sender gets 413 and the app reads nothing more, so no more than the cap
and one chunk is ever held. A `Content-Length` over the cap is refused before any of the body is
read. Over `max_concurrent` requests in progress, a request gets 503 with `Retry-After` at once.
Nothing here reads a body on the app's behalf: a handler that refuses a request on its headers (the
Telegram webhook's secret) reads none of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config_sections import Http

log = logging.getLogger("fieldbot.web")

KIB = 1024
MIB = 1024 * KIB
# A roster, targets or portal file uploaded on the dashboard, and the form's other fields.
DASHBOARD_UPLOAD_BYTES = 10 * MIB
DASHBOARD_FORM_BYTES = 64 * KIB


@dataclass(frozen=True)
class BodyCap:
    """The largest body a path prefix accepts, in bytes."""

    prefix: str
    max_bytes: int


async def _plain(
    send: Send, status: int, text: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                # The rest of a refused body is not worth reading: the connection ends here.
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Caps each request's body by path (longest matching prefix, else `default_bytes`) and bounds
    the requests handled at once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        caps: Sequence[BodyCap],
        default_bytes: int,
        max_concurrent: int,
        retry_after_seconds: int = 1,
    ):
        self.app = app
        self.caps = sorted(caps, key=lambda cap: len(cap.prefix), reverse=True)
        self.default_bytes = default_bytes
        self.max_concurrent = max_concurrent
        self.retry_after = str(retry_after_seconds).encode()
        self.in_flight = 0  # one event loop: a plain counter is exact

    def cap_for(self, path: str) -> int:
        for cap in self.caps:
            if path.startswith(cap.prefix):
                return cap.max_bytes
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_concurrent:
            log.warning("%d requests in progress: %s refused with 503", self.in_flight, scope["path"])
            await _plain(send, 503, "busy, try again", [(b"retry-after", self.retry_after)])
            return
        self.in_flight += 1
        try:
            await self._limited(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = self.cap_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > cap):
                await _plain(send, 413, "request too large")
                return
        seen = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    refused = True
                    log.warning("%s: body over %d bytes refused with 413", scope["path"], cap)
                    if not started:
                        started = True
                        await _plain(send, 413, "request too large")
                    # The app sees the sender gone, and reads no more.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # What the app made of the cut-off body (Starlette's ClientDisconnect) is not an error.


def request_limits(http: Http) -> dict[str, Any]:
    """RequestLimits' arguments from config.yaml's `http` section."""
    return {
        "caps": [
            BodyCap("/twilio/", http.twilio_form_kb * KIB),
            BodyCap("/telegram/", http.telegram_update_kb * KIB),
            BodyCap("/simulator/", int(http.simulator_mb * MIB)),
            # The file is checked against its own limit by the page, which answers in the
            # officer's language; the cap only stops what no form would send.
            BodyCap("/dashboard/-/upload", DASHBOARD_UPLOAD_BYTES + DASHBOARD_FORM_BYTES),
        ],
        "default_bytes": http.other_kb * KIB,
        "max_concurrent": http.max_concurrent_requests,
    }
