"""A small HTTP/1.1 client for the outbox's Bot API calls: kept-alive connections, JSON in and out.

The sender makes one request per message, tens of thousands in a morning; a general HTTP client
spends more CPU on each than everything else the sender does. This one does only what a JSON POST
to the Bot API needs: one connection pool per origin, `Content-Length` or chunked answers.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

_CONTEXT: ssl.SSLContext | None = None


class WireError(Exception):
    """The request could not be made or its answer not read (the message may or may not be out)."""


def _ssl() -> ssl.SSLContext:
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = ssl.create_default_context()  # made once: loading the CA store costs
    return _CONTEXT


class Pool:
    """Kept-alive connections to one origin, at most `size` at once."""

    def __init__(self, origin: str, size: int = 16, timeout: float = 20.0):
        parts = urlsplit(origin)
        self.host = parts.hostname or "127.0.0.1"
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.timeout = timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(size)
        self.host_header = f"{self.host}:{self.port}".encode()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.pop()
        return await asyncio.open_connection(self.host, self.port, ssl=_ssl() if self.tls else None)

    async def post_json(self, path: str, data: dict[str, Any]) -> tuple[int, Any]:
        """POST `data` as JSON; the status and the decoded JSON answer (None if not JSON)."""
        body = json.dumps(data, ensure_ascii=False).encode()
        head = (
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nHost: "
            + self.host_header
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        async with self.slots:
            try:
                async with asyncio.timeout(self.timeout):
                    reader, writer = await self._connect()
                    try:
                        writer.write(head + body)
                        status, payload, keep = await _read_answer(reader)
                    except BaseException:
                        writer.close()
                        raise
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                raise WireError(type(exc).__name__) from None
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, None

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, b"".join(parts), keep
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep
