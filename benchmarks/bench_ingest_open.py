"""Ingest as a user sees it: reports offered on a schedule (open loop) to two server processes.

    python benchmarks/bench_ingest_open.py [--rate 500] [--seconds 20] [--workers 3000]
                  [--ramp 100,200,300,400,500,750,1000,1250,1500] [--ramp-seconds 10] [--goal-ms 100]

A closed-loop client (bench_ingest.py) sends the next report only when an answer came back, so a
slow server slows the client too and its latencies look better than what workers would see. Here
report i is due at start + i / rate whatever the server does, and its latency is counted from the
moment it was due to the moment its answer arrived: time spent waiting for a free connection counts.

- Two `run`-like web servers (the real web app with a webhook-mode Telegram application, under
  uvicorn, in subprocesses) on one PostgreSQL database (FIELDBOT_BENCH_INGEST_URL), over at most
  the webhook's max_connections (100) connections, as Telegram opens them, spread over both servers
  as a load balancer would. A request on a connection the server has closed is sent again on
  another (as Telegram does); one refused, or dropped three times, counts as not served.
- Steady: `--rate` reports a second for `--seconds`: the p99 latency at that offered rate.
- Ramp: each rate of `--ramp` for `--ramp-seconds`; the highest rate served is the highest at which
  every report was stored and answered with a p99 under `--goal-ms`. The ramp stops at the first
  rate that fails.

Every report must be stored and answered (in the webhook's response or by the fake Bot API) for a
run to count. Prints one JSON object of flat numeric results on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ingest import (  # noqa: E402
    DEFAULT_URL,
    _http_post,
    build_roster,
    child,
    clear_reports,
    cpu_seconds,
    free_port,
    log,
    make_updates,
    stored_count,
    wait_ready_http,
    webhook_requests,
)
from benchmarks.fake_botapi import FakeBotAPI  # noqa: E402
from bot.channels.telegram.polling import WEBHOOK_CONNECTIONS  # noqa: E402

# Telegram opens at most the webhook's max_connections to it (what the bot registers): a report
# due while all of them are busy waits at Telegram's side, and that wait counts in its latency.
MAX_CONNECTIONS = WEBHOOK_CONNECTIONS


class Connections:
    """Keep-alive connections to the servers, handed out in turn; a new one when none is free."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.available = asyncio.Condition()

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.available:
            while not self.free and self.opened >= MAX_CONNECTIONS:
                await self.available.wait()
            if self.free:
                return self.free.pop()
            self.opened += 1
        return await self._open()

    async def fresh(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A new connection in place of one the server closed (counted as the one it replaces)."""
        async with self.available:
            while self.opened >= MAX_CONNECTIONS:
                await self.available.wait()
            self.opened += 1
        return await self._open()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        port = self.ports[self.opened % len(self.ports)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def lost(self) -> None:
        """A connection the server closed: a new one may be opened in its place."""
        async with self.available:
            self.opened -= 1
            self.available.notify()

    async def give(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        async with self.available:
            self.free.append(conn)
            self.available.notify()

    def close(self) -> None:
        for _, writer in self.free:
            writer.close()


async def offer(ports: list[int], requests: list[bytes], rate: float) -> dict[str, Any]:
    """Send request i at start + i / rate; latency from when it was due to its answer."""
    pool = Connections(ports)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    in_body = 0
    late_starts = 0

    async def one(request: bytes, due: float) -> None:
        nonlocal in_body
        status, body = 0, b""
        for attempt in range(3):
            conn = await (pool.take() if attempt == 0 else pool.fresh())
            try:
                status, body = await _http_post(*conn, request)
            except (OSError, asyncio.IncompleteReadError):
                # The server closed a kept-alive connection it found idle: Telegram delivers the
                # update again, on another connection, and the wait counts in its latency.
                status, body = 0, b""
                conn[1].close()
                await pool.lost()
                continue
            await pool.give(conn)
            break
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        if body and b'"method"' in body and b"sendMessage" in body:
            in_body += 1

    tasks = []
    start = time.perf_counter() + 0.2
    for i, request in enumerate(requests):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -0.005:
            late_starts += 1  # this client could not keep the schedule: reported, not hidden
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    pool.close()
    latencies.sort()
    return {
        "sent": len(latencies),
        "seconds": seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "statuses": statuses,
        "in_body": in_body,
        "late_starts": late_starts,
        "connections": pool.opened,
    }


async def run(
    url: str,
    workers: int,
    steady: tuple[float, float],
    ramp: list[float],
    ramp_seconds: float,
    goal_ms: float,
) -> dict[str, float]:
    api = FakeBotAPI()
    await api.start()
    ports = [free_port(), free_port()]
    results: dict[str, float] = {}
    next_id = 1
    with contextlib.ExitStack() as stack:
        clear_reports(url)
        servers = [
            stack.enter_context(child("--serve-webhook", url, str(port), api.base_url, "inline"))
            for port in ports
        ]
        for port in ports:
            await wait_ready_http(port)

        async def step(rate: float, seconds: float) -> dict[str, Any]:
            nonlocal next_id
            count = int(rate * seconds)
            updates = make_updates(count, workers, first_message_id=next_id)
            requests = webhook_requests(updates, next_id)
            next_id += count
            api.reset_counts()
            stored_before = stored_count(url)
            cpu_before = sum(cpu_seconds(s.pid) for s in servers)
            result = await offer(ports, requests, rate)
            await api.wait_sent(result["sent"] - result["in_body"], timeout=30)
            result["server_cpu_ms"] = (
                1000 * (sum(cpu_seconds(s.pid) for s in servers) - cpu_before) / max(count, 1)
            )
            result["stored"] = stored_count(url) - stored_before
            result["answered"] = result["in_body"] + api.sent_total
            result["ok"] = (
                result["stored"] == count
                and result["answered"] == count
                and result["statuses"] == {200: count}
            )
            log(
                f"offered {rate:.0f}/s for {seconds:.0f} s: {count} reports, served in "
                f"{result['seconds']:.1f} s, p50 {result['p50_ms']:.1f} ms, p99 "
                f"{result['p99_ms']:.1f} ms, statuses {result['statuses']}, stored "
                f"{result['stored']}, answered {result['answered']}, connections "
                f"{result['connections']}, late starts {result['late_starts']}, server CPU "
                f"{result['server_cpu_ms']:.2f} ms a report"
            )
            return result

        rate, seconds = steady
        main = await step(rate, seconds)
        if not main["ok"]:
            raise SystemExit("not every report was stored and answered at the steady rate")
        results["ingest_open_loop_offered_per_s"] = rate
        results["ingest_open_loop_reports"] = main["sent"]
        results["ingest_open_loop_p99_ms"] = round(main["p99_ms"], 1)
        results["ingest_open_loop_p50_ms"] = round(main["p50_ms"], 1)
        results["ingest_open_loop_server_cpu_ms_per_report"] = round(main["server_cpu_ms"], 2)
        results["ingest_open_loop_client_late_starts"] = main["late_starts"]
        served = 0.0
        for rate in ramp:
            clear_reports(url)
            result = await step(rate, ramp_seconds)
            if not result["ok"] or result["p99_ms"] >= goal_ms:
                results["ingest_open_loop_first_failing_per_s"] = rate
                results["ingest_open_loop_first_failing_p99_ms"] = round(result["p99_ms"], 1)
                break
            served = rate
        results["ingest_open_loop_max_served_per_s"] = served
    await api.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=3_000)
    parser.add_argument("--ramp", default="100,200,300,400,500,750,1000,1250,1500")
    parser.add_argument("--ramp-seconds", type=float, default=10)
    parser.add_argument("--goal-ms", type=float, default=100)
    args, _ = parser.parse_known_args()
    url = os.environ.get("FIELDBOT_BENCH_INGEST_URL", DEFAULT_URL)
    started = time.perf_counter()
    log(f"roster of {args.workers} workers on PostgreSQL")
    build_roster(url, args.workers)
    ramp = [float(r) for r in args.ramp.split(",") if r]
    results = asyncio.run(
        run(url, args.workers, (args.rate, args.seconds), ramp, args.ramp_seconds, args.goal_ms)
    )
    log(f"done in {time.perf_counter() - started:.0f} s")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
