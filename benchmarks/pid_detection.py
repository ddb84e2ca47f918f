"""Patient-identifier detection on the labelled set: recall and false positives per kind,
throughput.

Run from anywhere: `python benchmarks/pid_detection.py [--repeat N] [--seed S]` (`.ci/run`
runs it with `--repeat 2`). It prints figures only; nothing here asserts on speed (the tests
assert on correctness: tests/test_privacy.py wants 100 % recall and no false positive).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

# The labelled set lives in tests/; make the project root importable when run as a script.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailproc.privacy.detector import find_pid, redact  # noqa: E402
from tests.support.pid_kinds import labelled_negatives, labelled_positives  # noqa: E402
from tests.support.pid_samples import DEFAULT_SEED, Sample  # noqa: E402

# Ordinary correspondence with no numbers in it: most mail looks like this.
PROSE = (
    "Dear colleagues, the discharge letter did not reach the practice before the patient "
    "attended, and the medicines reconciliation was therefore done from memory. Could the "
    "group consider how ward pharmacists and practice teams share changes at weekends?\n"
)


def _exact(sample: Sample) -> bool:
    spans = [(f.kind, sample.text[f.start : f.end]) for f in find_pid(sample.text)]
    return spans == [(sample.kind, sample.spelled)]


def _redacted(sample: Sample) -> bool:
    out = redact(sample.text)
    pieces = [sample.spelled or ""]
    if sample.kind in ("chi", "chi-like", "nhs"):
        pieces.append(sample.digits or "")
    return all(piece not in out for piece in pieces)


def report_accuracy(pos: Sequence[Sample], neg: Sequence[Sample]) -> None:
    """Print recall (exact span and kind; redaction) per kind, and false positives per kind
    reported, each with the category of the negative it was found in."""
    print(f"positives: {len(pos)}  negatives: {len(neg)}")
    print(f"{'kind':<10} {'positives':>9} {'exact':>7} {'recall':>8} {'redacted':>9}")
    for kind in dict.fromkeys(s.kind for s in pos):
        of_kind = [s for s in pos if s.kind == kind]
        exact = sum(_exact(s) for s in of_kind)
        removed = sum(_redacted(s) for s in of_kind)
        print(f"{kind:<10} {len(of_kind):>9} {exact:>7} {exact / len(of_kind):>8.1%} {removed:>9}")
    exact = sum(_exact(s) for s in pos)
    print(f"{'all':<10} {len(pos):>9} {exact:>7} {exact / len(pos):>8.1%}")
    flagged = [(s, f.kind) for s in neg for f in find_pid(s.text)]
    texts = len({id(s) for s, _ in flagged})
    print(f"false positives: {texts}/{len(neg)} negatives = {texts / len(neg):.1%}")
    for kind, count in sorted(Counter(kind for _, kind in flagged).items()):
        print(f"  reported as {kind}: {count}")
    for sample, kind in flagged:
        # Categories only: even synthetic numbers are not echoed, as in production logs.
        print(f"  false positive ({kind}) in category {sample.category!r}")


def _throughput(label: str, func: Callable[[str], object], texts: Sequence[str], repeat: int) -> None:
    size = sum(len(text.encode("utf-8")) for text in texts) * repeat
    started = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            func(text)
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {size / 1e6 / elapsed:8.2f} MB/s  ({size / 1e6:.2f} MB, {elapsed:.3f} s)")


def report_throughput(samples: Sequence[Sample], repeat: int) -> None:
    """Print MB/s per sample, over one large mixed document, and over plain prose."""
    texts = [s.text for s in samples]
    document = "\n".join(f"{PROSE}{text}" for text in texts)
    prose = PROSE * (len(document) // len(PROSE))
    _throughput("find_pid, one call per sample", find_pid, texts, repeat)
    _throughput("redact, one call per sample", redact, texts, repeat)
    _throughput("find_pid, one mixed document", find_pid, [document], repeat)
    _throughput("redact, one mixed document", redact, [document], repeat)
    _throughput("find_pid, prose without numbers", find_pid, [prose], repeat)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse options, build the labelled set and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=20, help="passes for timing (default 20)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="labelled-set seed")
    args = parser.parse_args(argv)
    pos, neg = labelled_positives(args.seed), labelled_negatives(args.seed)
    report_accuracy(pos, neg)
    report_throughput([*pos, *neg], args.repeat)


if __name__ == "__main__":
    main()
