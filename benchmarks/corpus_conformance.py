"""Parse and classify every message of the shared real-mail corpus and check the requirements.

Run from the repository root: `python -m benchmarks.corpus_conformance [CORPUS_DIR]`
(default `$MAILPROC_CORPUS`, else `../shared/corpus`). Prints a table per category and
every path that broke a requirement; exits 1 when a requirement fails. Importable:
`run(corpus_dir) -> Report`.

Requirements:
- every `bounce_or_auto` and `autoreply` row is classified AUTOMATIC;
- no file under `sisimai-set-of-emails/maildir/not/` is AUTOMATIC (except the waivers below);
- nothing crashes: `parse` raises only ParseError, and never an internal one; `classify`
  raises nothing.
"""

from __future__ import annotations

import csv
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mailproc.intake.classify import ClassifyContext, Kind, classify
from mailproc.intake.parsing.parser import ParseError, parse

MUST_BE_AUTOMATIC = frozenset({"bounce_or_auto", "autoreply"})
NOT_AUTOMATIC_DIR = "sisimai-set-of-emails/maildir/not/"
# Files whose requirement is wrong for mailproc, each with the reason. They are reported,
# never silently passed.
WAIVERS = {
    "sisimai-set-of-emails/maildir/not/rb-issue-368-bug.eml": (
        "a real bounce (Return-Path: <>, Auto-Submitted: auto-replied, From: postmaster@); "
        "sisimai filed it under not/ as a regression test for a parser crash "
        "(rb-sisimai #368), not as human mail. Never reply to it."
    ),
}
CONTEXT = ClassifyContext(
    group_address="interface.group@example.nhs.scot",
    admins=("admin@example.nhs.scot",),
    reference_prefix="IFG",
)


class EmptyLookup:
    """A thread lookup for a database with no issues and no mail of ours."""

    def issue_for_reference(self, reference: str) -> str | None:
        return None

    def issue_for_message_ids(self, ids: Sequence[str]) -> str | None:
        return None

    def is_own_message_id(self, message_id: str) -> bool:
        return False

    def is_triage_message_id(self, message_ids: Sequence[str]) -> str | None:
        return None


@dataclass
class CategoryCounts:
    """What happened to the rows of one MANIFEST category."""

    rows: int = 0
    parsed: int = 0
    parse_errors: int = 0
    crashed: int = 0
    automatic: int = 0
    not_automatic: int = 0


@dataclass
class Report:
    """Counts per category and the paths that broke (or were waived from) a requirement."""

    categories: dict[str, CategoryCounts] = field(default_factory=dict)
    parse_error_reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)
    missed_automatic: list[str] = field(default_factory=list)
    wrongly_automatic: list[str] = field(default_factory=list)
    waived: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        """Whether every requirement holds."""
        return not (self.crashes or self.missed_automatic or self.wrongly_automatic)


def default_corpus_dir() -> Path:
    """`$MAILPROC_CORPUS`, else `../shared/corpus` beside the repository."""
    env = os.environ.get("MAILPROC_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def run(corpus_dir: Path | str) -> Report:
    """Parse and classify every MANIFEST.csv row under `corpus_dir`."""
    root = Path(corpus_dir)
    report = Report()
    with (root / "MANIFEST.csv").open(newline="", encoding="utf-8") as manifest:
        for row in csv.DictReader(manifest):
            _check_row(report, root, row["path"], row["category"])
    return report


def _check_row(report: Report, root: Path, path: str, category: str) -> None:
    counts = report.categories.setdefault(category, CategoryCounts())
    counts.rows += 1
    try:
        msg = parse((root / path).read_bytes())
        route = classify(msg, CONTEXT, EmptyLookup())
    except ParseError as exc:
        if exc.internal:
            counts.crashed += 1
            report.crashes.append(f"{path}: internal ParseError: {exc.reason}")
        else:
            counts.parse_errors += 1
            report.parse_error_reasons[(category, exc.reason)] += 1
        return
    except Exception as exc:  # the one thing this benchmark exists to catch
        counts.crashed += 1
        report.crashes.append(f"{path}: {type(exc).__name__}: {exc}")
        return
    counts.parsed += 1
    automatic = route.kind is Kind.AUTOMATIC
    counts.automatic += automatic
    counts.not_automatic += not automatic
    report.reasons[route.reason.split(":")[0]] += 1
    _check_requirements(report, path, category, automatic, route.reason)


def _check_requirements(report: Report, path: str, category: str, automatic: bool, reason: str) -> None:
    if path in WAIVERS:
        report.waived.append(f"{path} ({reason}): {WAIVERS[path]}")
    elif category in MUST_BE_AUTOMATIC and not automatic:
        report.missed_automatic.append(f"{path} [{category}] -> {reason}")
    elif path.startswith(NOT_AUTOMATIC_DIR) and automatic:
        report.wrongly_automatic.append(f"{path} -> {reason}")


def render(report: Report) -> str:
    """The report as a plain-text table followed by the lists of problems."""
    head = f"{'category':<22}{'rows':>6}{'parsed':>8}{'errors':>8}{'crashed':>9}{'auto':>6}{'not':>6}"
    lines = [head, "-" * len(head)]
    for name, c in sorted(report.categories.items()):
        lines.append(
            f"{name:<22}{c.rows:>6}{c.parsed:>8}{c.parse_errors:>8}{c.crashed:>9}"
            f"{c.automatic:>6}{c.not_automatic:>6}"
        )
    lines += ["", "ParseError reasons:"]
    lines += [f"  {n:>4}  {cat}: {why}" for (cat, why), n in sorted(report.parse_error_reasons.items())]
    lines += ["", "classification reasons:"]
    lines += [f"  {n:>4}  {why}" for why, n in report.reasons.most_common()]
    for title, paths in (
        ("CRASHED", report.crashes),
        ("MUST BE AUTOMATIC, WAS NOT", report.missed_automatic),
        ("MUST NOT BE AUTOMATIC, WAS", report.wrongly_automatic),
        ("waived (requirement does not apply; see WAIVERS)", report.waived),
    ):
        if paths:
            lines += ["", f"{title}:"] + [f"  {p}" for p in paths]
    lines += ["", "requirements: " + ("all hold" if report.ok else "FAILED")]
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    """Command-line entry: print the report; 1 when a requirement fails, 2 without a corpus."""
    corpus = Path(argv[0]) if argv else default_corpus_dir()
    if not (corpus / "MANIFEST.csv").is_file():
        print(f"no corpus at {corpus} (MANIFEST.csv missing); set MAILPROC_CORPUS", file=sys.stderr)
        return 2
    report = run(corpus)
    print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
