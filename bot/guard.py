"""What may reach this process: requests for its own host names, and the simulator with its token.

Every request must name one of the process's own hosts in `Host` (a web page cannot make a browser
talk to us through a name of its own: no DNS rebinding), and a request that carries an `Origin` must
come from one of them (no cross-site posts). The simulator speaks as any person on the roster, so
outside a demo on loopback each of its routes needs the token: `Authorization: Bearer <token>` from
an API client, or the HttpOnly cookie that opening `/?token=<token>` sets in a browser.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("fieldbot.guard")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("", "0.0.0.0", "::")  # addresses to bind to, not hosts anyone asks for
COOKIE = "fieldbot_simulator"
# Headers a reverse proxy adds: a caller that came through one is not the machine itself.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

Handler = Callable[[Request], Awaitable[Response]]


def hostname(value: str | None) -> str | None:
    """The host name of a `Host` header or URL authority (`Example.org:8080` -> `example.org`)."""
    if not value:
        return None
    try:
        name = urlsplit(f"//{value.strip()}").hostname
    except ValueError:
        return None
    return name or None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def own_hosts(bind_host: str, environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The host names this process answers for.

    `localhost` and the loopback addresses, the `--host` address (unless it is a wildcard like
    0.0.0.0), and the hosts of FIELDBOT_PUBLIC_URL and TELEGRAM_WEBHOOK_URL, which Twilio and
    Telegram call.
    """
    env = os.environ if environ is None else environ
    hosts = set(LOOPBACK_NAMES)
    if bind_host.strip("[]") not in WILDCARDS:
        hosts.add(bind_host.strip("[]").lower())
    for name in ("FIELDBOT_PUBLIC_URL", "TELEGRAM_WEBHOOK_URL"):
        url = env.get(name) or ""
        try:
            found = urlsplit(url.strip()).hostname
        except ValueError:
            found = None
        if found:
            hosts.add(found)
    return frozenset(hosts)


class HostGuard:
    """ASGI middleware: refuse a foreign `Host` (400) or a foreign `Origin` (403)."""

    def __init__(self, app: ASGIApp, hosts: Collection[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal: Response | None = None
        reason = ""
        host = hostname(headers.get("host"))
        if host is None or host not in self.hosts:
            refusal = JSONResponse({"error": "this server does not answer for that host"}, 400)
            reason = "foreign Host"
        else:
            origin = headers.get("origin")
            if origin is not None and _origin_host(origin) not in self.hosts:
                refusal = JSONResponse({"error": "cross-site request refused"}, 403)
                reason = "foreign Origin"
        if refusal is None:
            await self.app(scope, receive, send)
            return
        # The path only: a query string may hold a phone number.
        log.warning("refused %s %s: %s", scope.get("method", "-"), scope.get("path", "?"), reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await refusal(scope, receive, send)


def _origin_host(origin: str) -> str | None:
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None  # `null` (a sandboxed frame, a file), or anything else
    return parts.hostname


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


@dataclass(frozen=True)
class SimulatorGate:
    """The simulator's lock. `token` None: open, as in a demo on loopback."""

    token: str | None

    def holds_token(self, request: Request) -> bool:
        if self.token is None:
            return False
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given and _same(given.strip(), self.token):
            return True
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and _same(cookie, self.token)

    def protect(self, handler: Handler, *, page: bool = False) -> Handler:
        """The route's handler behind the token; the page also takes `?token=` once, for a cookie."""

        async def guarded(request: Request) -> Response:
            if self.token is not None and not self.holds_token(request):
                given = request.query_params.get("token") if page else None
                if given is not None and _same(given, self.token):
                    # Into a cookie the page's scripts cannot read, and out of the address bar.
                    response = RedirectResponse("/", status_code=303)
                    response.set_cookie(
                        COOKIE,
                        self.token,
                        httponly=True,
                        samesite="strict",
                        secure=request.url.scheme == "https",
                    )
                    return response
                log.warning("refused %s %s: no simulator token", request.method, request.url.path)
                return _unauthorized(page)
            if request.method == "POST" and _media_type(request) != "application/json":
                log.warning("refused %s %s: body is not JSON", request.method, request.url.path)
                return JSONResponse(
                    {"error": "send the body as JSON, with Content-Type: application/json"}, 415
                )
            return await handler(request)

        return guarded


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _unauthorized(page: bool) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="fieldbot simulator"'}
    if page:
        body = (
            "<!doctype html><meta charset=utf-8><title>Fieldbot</title>"
            "<p>The simulator needs its token. Open the link <code>fieldbot run</code> printed at "
            "start, <code>/?token=…</code>, once in this browser.</p>"
        )
        return HTMLResponse(body, status_code=401, headers=headers)
    message = "the simulator needs its token: send Authorization: Bearer <token>"
    return JSONResponse({"error": message}, 401, headers=headers)


def trusted_caller(request: Request, gate: SimulatorGate) -> bool:
    """A caller that may see what the process is (lock holders, host names): the machine itself,
    not through a proxy, or a holder of the token."""
    client = request.client.host if request.client else ""
    direct = not any(name in request.headers for name in PROXY_HEADERS)
    return (direct and is_loopback(client)) or gate.holds_token(request)
