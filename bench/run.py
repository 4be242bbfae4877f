"""Run every benchmark in bench/ and print their tables.

A benchmark is any `bench/*.py` other than this runner, `common.py` and files starting with `_`;
each runs in its own process (`python bench/<name>.py`, extra arguments passed on) and prints its
table on stdout. Progress goes to stderr.

    .venv/bin/python bench/run.py [name ...]      # e.g. `bench/run.py booking`; none: all
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run", "common", "__init__"}


def discover() -> list[Path]:
    return sorted(
        p for p in BENCH.glob("*.py") if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_")
    )


def main(argv: list[str]) -> int:
    wanted = {a.removesuffix(".py") for a in argv if not a.startswith("-")}
    scripts = [p for p in discover() if not wanted or p.stem in wanted]
    if not scripts:
        print(f"no benchmark matches {sorted(wanted)}", file=sys.stderr)
        return 2
    outputs: list[tuple[str, int, float, str]] = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True
        )
        outputs.append((script.name, proc.returncode, time.perf_counter() - started, proc.stdout))
    for name, code, seconds, stdout in outputs:
        print(f"# {name} ({seconds:.0f} s{'' if code == 0 else f', exit {code}'})\n")
        print(stdout.rstrip() + "\n")
    return max((code for _, code, _, _ in outputs), default=0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
