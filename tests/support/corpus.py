"""The shared corpus of real-world mail (../shared/corpus) and the benchmark scripts that read it."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    """`$MAILPROC_CORPUS`, else `../shared/corpus` beside the repository; the test calling it
    skips with a message where the corpus (its MANIFEST.csv) is absent."""
    override = os.environ.get("MAILPROC_CORPUS")
    corpus = Path(override) if override else ROOT.parent / "shared" / "corpus"
    if not (corpus / "MANIFEST.csv").is_file():
        pytest.skip(f"no corpus at {corpus} (set MAILPROC_CORPUS to the shared corpus directory)")
    return corpus


def load_benchmark(name: str) -> ModuleType:
    """benchmarks/<name>.py as a module (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmarks/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module
