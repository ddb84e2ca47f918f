"""The shared real-mail corpus through parse and classify (benchmarks/corpus_conformance.py)."""

from __future__ import annotations

import pytest

from tests.support.corpus import corpus_dir, load_benchmark


@pytest.mark.corpus
def test_corpus_requirements_hold() -> None:
    corpus = corpus_dir()
    report = load_benchmark("corpus_conformance").run(corpus)
    assert report.crashes == [], "parse/classify crashed"
    assert report.missed_automatic == [], "bounces and auto-replies that would be answered"
    assert report.wrongly_automatic == [], "human mail that would be ignored"
    assert report.ok
    for name in ("bounce_or_auto", "autoreply", "malformed", "ordinary"):
        assert report.categories[name].crashed == 0
    assert report.categories["bounce_or_auto"].not_automatic == 0
