"""The redaction gate: every string of the report model passes `detector.redact` (the redactor the
register uses) once, after the numbers are computed and before any rendering. Facts are already
redacted as they are read; this gate also covers names from the configuration and any string a
later change adds to the model, so no output format can carry a patient identifier."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TypeVar

from mailproc.privacy import detector

T = TypeVar("T")


def scrub(value: T, extra: Sequence[detector.ExtraPattern]) -> T:
    """`value` with every string inside it (dataclasses, tuples, lists, dicts) redacted."""
    result: object = value
    if isinstance(value, str):
        result = detector.redact(value, extra)
    elif isinstance(value, tuple | list):
        result = type(value)(scrub(item, extra) for item in value)
    elif isinstance(value, dict):
        result = {key: scrub(item, extra) for key, item in value.items()}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: scrub(getattr(value, f.name), extra) for f in dataclasses.fields(value)}
        result = dataclasses.replace(value, **changes)
    return result  # type: ignore[return-value]  # same type as given, with strings redacted
