"""`register build` at scale: time, peak memory and files rewritten, first build and rebuild.

    python benchmarks/register_build.py                  # 10,000 issues, baseline 1,000
    python benchmarks/register_build.py --issues 20000 --baseline 2000

For each size it makes a throw-away SQLite workspace, writes that many published issues
through the store API (tests/support/register_issues.py), builds the register into a temp
dir, then changes one issue's public summary and builds again. It prints, per build, the
wall time, the peak Python memory of the same build run again under tracemalloc (which
would distort the time) and the files written; the
ratio of the large to the baseline run shows whether the build grows linearly. It asserts
nothing (CI time): tests/test_register_incremental.py shows what is rewritten.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

# The workspace and fixtures live in tests/; make the project root importable as a script.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailproc.app import App  # noqa: E402
from mailproc.governance.register import RegisterReport, build_register  # noqa: E402
from mailproc.store import db  # noqa: E402
from tests.support.register_issues import change_summary, publish_many  # noqa: E402
from tests.support.workspace import SECRET, make_workspace  # noqa: E402


@dataclass(frozen=True)
class Build:
    seconds: float  # measured without tracemalloc, which slows Python several times over
    peak_mib: float  # the same build traced by tracemalloc: Python's peak while building
    built: RegisterReport


def _build(app: App, site: Path, traced_site: Path) -> Build:
    started = time.perf_counter()
    built = build_register(app, site)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    build_register(app, traced_site)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Build(seconds, peak / 2**20, built)


def run(count: int, root: Path) -> tuple[Build, Build]:
    """The first build of `count` issues, and the rebuild after one summary changed."""
    ws = make_workspace(root / f"ws-{count}")
    app = ws.app()
    try:
        db.ensure_schema(app.engine)
        references = publish_many(app, count)
        sites = (root / f"site-{count}", root / f"traced-{count}")
        first = _build(app, *sites)
        change_summary(app, references[len(references) // 2], "A summary the group reworded")
        second = _build(app, *sites)
    finally:
        app.engine.dispose()
    return first, second


def _line(label: str, count: int, build: Build) -> str:
    b = build.built
    return (
        f"{label:<8} {count:>6} issues  {build.seconds:7.2f} s  peak {build.peak_mib:7.1f} MiB  "
        f"{b.written:>6} file(s) written, {b.removed} removed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    args = parser.parse_args()
    os.environ.setdefault("MAILPROC_SECRET", SECRET)
    with tempfile.TemporaryDirectory(prefix="register-bench-") as tmp:
        results = {n: run(n, Path(tmp)) for n in (args.baseline, args.issues)}
    for n, (first, second) in results.items():
        print(_line("first", n, first))
        print(_line("rebuild", n, second))
    (base, _), (large, rebuilt) = results[args.baseline], results[args.issues]
    print(
        f"ratio {args.issues}/{args.baseline} issues: time {large.seconds / base.seconds:.1f}x, "
        f"peak memory {large.peak_mib / base.peak_mib:.1f}x (linear would be "
        f"{args.issues / args.baseline:.1f}x); rebuild after one change: {rebuilt.seconds:.2f} s"
    )
    # ru_maxrss is KiB on Linux: the whole process, the fixture writing included.
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
