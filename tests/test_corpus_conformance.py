"""The shared real-mail corpus through parse and classify (benchmarks/corpus_conformance.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus_conformance.py"


def load_benchmark() -> ModuleType:
    # benchmarks/ is a folder of scripts, not a package: load the module from its file.
    spec = importlib.util.spec_from_file_location("corpus_conformance", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.mark.corpus
def test_corpus_requirements_hold() -> None:
    bench = load_benchmark()
    corpus: Path = bench.default_corpus_dir()
    if not (corpus / "MANIFEST.csv").is_file():
        pytest.skip(f"no corpus at {corpus} (set MAILPROC_CORPUS to the shared corpus directory)")
    report = bench.run(corpus)
    assert report.crashes == [], "parse/classify crashed"
    assert report.missed_automatic == [], "bounces and auto-replies that would be answered"
    assert report.wrongly_automatic == [], "human mail that would be ignored"
    assert report.ok
    for name in ("bounce_or_auto", "autoreply", "malformed", "ordinary"):
        assert report.categories[name].crashed == 0
    assert report.categories["bounce_or_auto"].not_automatic == 0
