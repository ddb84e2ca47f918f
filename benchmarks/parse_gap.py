"""mailproc's `parse` against bare mail-parser on the same varied messages, same run.

    python benchmarks/parse_gap.py              # 2000 messages, 5 alternating rounds
    python benchmarks/parse_gap.py --n 500 --rounds 3 --profile

Prints the median milliseconds per message of each and their ratio (what mailproc adds on
top of mail-parser: the hostile-input checks, the strict sender, header decoding, the body
and attachments). `--profile` also prints the top functions of one `parse` round. Figures
only: nothing here asserts on speed.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import mailparser  # noqa: E402

from mailproc.intake.parsing.parser import parse  # noqa: E402
from tests.support.mail import varied_message  # noqa: E402


def timed(fn: Callable[[bytes], object], raws: list[bytes]) -> float:
    """Seconds to run `fn` over every message."""
    started = time.perf_counter()
    for raw in raws:
        fn(raw)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    parser.add_argument("--profile", action="store_true", help="print the top costs of parse")
    args = parser.parse_args(argv)
    raws = [varied_message(i) for i in range(args.n)]
    ours: list[float] = []
    bare: list[float] = []
    for r in range(args.rounds):
        order = [(ours, parse), (bare, mailparser.parse_from_bytes)]
        for into, fn in order if r % 2 == 0 else reversed(order):
            into.append(timed(fn, raws))
    mine, theirs = (statistics.median(x) * 1000 / args.n for x in (ours, bare))
    print(f"{args.n} messages, medians of {args.rounds} rounds: mailproc parse {mine:.3f} ms/message,")
    print(f"mail-parser alone {theirs:.3f} ms/message, ratio {mine / theirs:.2f}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(timed, parse, raws)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
