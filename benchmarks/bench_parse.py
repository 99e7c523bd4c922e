"""Parse: the time to read one message, over the message table (tests/data/messages.tsv).

    python benchmarks/bench_parse.py [--rounds 200] [--root DIR]

Each message of the table is read `rounds` times by the parser the bot uses, past its cache of
recent results (so every reading is done in full); a message's time is the median of its rounds,
and the figures are percentiles over the messages. `--root` reads with the code (and config) of
another checkout, to compare with an earlier parser on the same messages.
Prints one JSON object of flat numeric results on its last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE.parent / "tests" / "data" / "messages.tsv"


def messages() -> list[str]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t")[0].replace("\\n", "\n"))
    return rows


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--rounds", type=int, default=200)
    args.add_argument("--root", type=Path, default=HERE.parent)
    opts = args.parse_args()
    sys.path.insert(0, str(opts.root.resolve()))
    from bot.config import load_settings
    from bot.core.service import make_parser

    parser = make_parser(load_settings(opts.root / "config.yaml"))
    read = parser._parse_safely  # the reading itself, past the cache of recent results
    texts = messages()
    for text in texts:  # warm up: first readings fill the per-word caches, as a day's traffic does
        read(text)
    times: list[list[float]] = [[] for _ in texts]
    clock = time.perf_counter_ns
    for _ in range(opts.rounds):
        for i, text in enumerate(texts):
            started = clock()
            read(text)
            times[i].append(clock() - started)
    per_message = sorted(statistics.median(t) / 1000 for t in times)
    p95 = per_message[int(0.95 * (len(per_message) - 1))]
    p50 = per_message[int(0.50 * (len(per_message) - 1))]
    print(f"{len(texts)} messages, {opts.rounds} rounds: p50 {p50:.1f} µs, p95 {p95:.1f} µs")
    results = {
        "parse_messages": len(texts),
        "parse_p50_us": round(p50, 1),
        "parse_p95_us": round(p95, 1),
    }
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
