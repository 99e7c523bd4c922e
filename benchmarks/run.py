"""Run every benchmark program in this folder and merge what they report into results.json.

    python benchmarks/run.py [NAME ...] [-- ARGS for the programs]

Each `bench_*.py` is a program of its own that prints one JSON object of flat numeric results on
its last line of output; results.json keeps the latest number for every key (a benchmark not run
this time keeps its earlier numbers).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    programs = sorted(HERE.glob("bench_*.py"))
    if argv:
        programs = [p for p in programs if p.stem.removeprefix("bench_") in argv or p.stem in argv]
        if not programs:
            print(f"no benchmark named {', '.join(argv)}", file=sys.stderr)
            return 2
    merged: dict[str, float] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    failed = []
    for program in programs:
        print(f"== {program.name}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(program), *extra], stdout=subprocess.PIPE, text=True, check=False
        )
        if done.returncode != 0:
            failed.append(program.name)
            print(f"{program.name} failed (exit {done.returncode})", file=sys.stderr)
            continue
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        try:
            results = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            print(f"{program.name} printed no JSON results on its last line", file=sys.stderr)
            failed.append(program.name)
            continue
        bad = [k for k, v in results.items() if not isinstance(v, int | float)]
        if bad:
            print(f"{program.name}: not numbers: {', '.join(bad)}", file=sys.stderr)
            failed.append(program.name)
            continue
        merged.update(results)
        for key, value in sorted(results.items()):
            print(f"  {key:40} {value}")
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    RESULTS.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")
    print(f"results in {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
