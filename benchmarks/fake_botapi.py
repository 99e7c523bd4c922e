"""A cheap fake Telegram Bot API for the benchmarks: one asyncio server, raw HTTP/1.1, Nagle off.

It answers what python-telegram-bot calls while running (getMe, setWebhook, deleteWebhook,
getUpdates, sendMessage), serves queued updates in getUpdates batches, counts every sendMessage
per chat and, when `per_second` is set, refuses any sendMessage over that many in the last second
with 429 and `retry_after`, as Telegram does. It is not the test fake (tests/fakes/telegram_api.py,
a threaded server that records everything); this one does as little as it can per request.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:BENCH"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


class FakeBotAPI:
    """Serve on 127.0.0.1; `base_url` is what python-telegram-bot's `base_url` wants."""

    def __init__(
        self, *, per_second: float | None = None, retry_after: int = 1, per_bot: bool = False
    ) -> None:
        self.per_second = per_second
        # per_bot: the limit is each token's own, as Telegram's is each bot's.
        self.per_bot = per_bot
        self._windows: dict[str, deque[float]] = {}
        self.sent_by_bot: Counter[str] = Counter()
        self.files = 0  # sendPhoto and sendDocument accepted
        self.retry_after = retry_after
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = 1
        self.sent: Counter[int] = Counter()  # sendMessage accepted, per chat
        self.sent_total = 0
        self.refused = 0  # 429s answered
        self.first_send: float | None = None
        self.last_send: float | None = None
        self._window: deque[float] = deque()
        self._new_updates = asyncio.Event()
        self._target = 0
        self._reached = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0
        self._message_id = 0
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # pending long polls end here
                writer.transport.abort()
            await self._server.wait_closed()

    def push_updates(self, updates: list[dict[str, Any]]) -> None:
        for update in updates:
            update["update_id"] = self.next_update_id
            self.next_update_id += 1
            self.updates.append(update)
        self._new_updates.set()

    def reset_counts(self) -> None:
        self.sent.clear()
        self.sent_total = self.refused = 0
        self.first_send = self.last_send = None

    async def wait_sent(self, count: int, timeout: float) -> bool:
        """Until `count` sendMessage calls have been accepted since the last reset."""
        self._target = count
        if self.sent_total >= count:
            return True
        self._reached.clear()
        try:
            await asyncio.wait_for(self._reached.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------ HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _verb, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                status, payload = await self._dispatch(target, headers.get("content-type", ""), body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            asyncio.CancelledError,
        ):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _dispatch(self, target: str, content_type: str, body: bytes) -> tuple[int, Any]:
        path, _, query = target.partition("?")
        method = path.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(parse_qsl(query))
        if body:
            if content_type.startswith("application/json"):
                params.update(json.loads(body))
            elif content_type.startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode()))
        if method == "sendMessage":
            return self._send_message(params, path.rsplit("/", 2)[-2] if self.per_bot else "")
        if method in ("sendPhoto", "sendDocument"):
            # A file (a digest's chart): counted, not read (its body is multipart).
            self.files += 1
            self._message_id += 1
            chat = {"id": 0, "type": "private"}
            result = {"message_id": self._message_id, "date": int(time.time()), "chat": chat}
            return 200, {"ok": True, "result": result}
        if path == "/stats":
            return 200, self.stats()
        if method == "getUpdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method in ("setWebhook", "deleteWebhook", "setMyCommands", "answerCallbackQuery"):
            return 200, {"ok": True, "result": True}
        if method == "getWebhookInfo":
            return 200, {
                "ok": True,
                "result": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
            }
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def stats(self) -> dict[str, Any]:
        """What a benchmark in another process reads at the end (GET /stats)."""
        return {
            "sent_total": self.sent_total,
            "refused": self.refused,
            "duplicates": sum(n - 1 for n in self.sent.values() if n > 1),
            "chats": len(self.sent),
            "first_send": self.first_send,
            "last_send": self.last_send,
            "by_bot": dict(self.sent_by_bot),
        }

    def _send_message(self, params: dict[str, Any], bot: str = "") -> tuple[int, Any]:
        now = time.monotonic()
        if self.per_second is not None:
            window = self._windows.setdefault(bot, deque()) if self.per_bot else self._window
            while window and now - window[0] >= 1:
                window.popleft()
            if len(window) >= self.per_second:
                self.refused += 1
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self.retry_after}",
                    "parameters": {"retry_after": self.retry_after},
                }
            window.append(now)
        self.sent_by_bot[bot] += 1
        chat_id = int(params.get("chat_id", 0))
        self.sent[chat_id] += 1
        self.sent_total += 1
        self.first_send = self.first_send or now
        self.last_send = now
        if self._target and self.sent_total >= self._target:
            self._reached.set()
        self._message_id += 1
        return 200, {
            "ok": True,
            "result": {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": str(params.get("text", "")),
            },
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        timeout = float(params.get("timeout", 0) or 0)
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()  # confirmed by the offset
        if not self.updates and timeout > 0:
            self._new_updates.clear()
            try:
                await asyncio.wait_for(self._new_updates.wait(), min(timeout, 1.0))
            except TimeoutError:
                return []
        return [self.updates[i] for i in range(min(limit, len(self.updates)))]


def text_update(*, user_id: int, message_id: int, text: str, date: int) -> dict[str, Any]:
    """A private-chat text message as Telegram sends it (the update id is given when queued)."""
    return {
        "message": {
            "message_id": message_id,
            "date": date,
            "chat": {"id": user_id, "type": "private", "first_name": f"ASHA {user_id}"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"ASHA {user_id}"},
            "text": text,
        }
    }


def serve_forever(per_second: float, port_out: Any) -> None:
    """Run in a process of its own (the sender's CPU is then the sender's): sends its port back."""

    async def main() -> None:
        api = FakeBotAPI(per_second=per_second, per_bot=True)
        await api.start()
        port_out.send(api.port)
        await asyncio.Event().wait()

    asyncio.run(main())
