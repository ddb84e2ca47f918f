"""Run a command in this process and write its peak RSS (VmHWM, KiB) to a file at exit.

    python benchmarks/peak_rss.py OUT mailproc ARGS...    # `python -m mailproc ARGS...`
    python benchmarks/peak_rss.py OUT ceiling HOST PORT USER

Why not os.wait4's ru_maxrss: Linux carries a process's high-water mark across fork and
execve, so a child started by a large parent (a benchmark holding a 25 MB message and its
imports) reports at least the parent's peak. VmHWM belongs to the address space the
command runs in, which starts empty at execve. Only the standard library is imported here,
so the floor is the command's own.
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def _write_peak(out: Path) -> None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            out.write_text(line.split()[1])


def main() -> None:
    out, what, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
    atexit.register(_write_peak, out)
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    if what == "mailproc":
        sys.argv = ["mailproc", *args]
        runpy.run_module("mailproc", run_name="__main__", alter_sys=True)
    else:
        from benchmarks.ceiling_fetch import fetch_and_parse

        fetch_and_parse(args[0], int(args[1]), args[2])


if __name__ == "__main__":
    main()
