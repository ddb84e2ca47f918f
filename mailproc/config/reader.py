"""Typed, key-tracking access to one TOML table, so every error names file and key."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mailproc.errors import ConfigError

T = TypeVar("T")


class Table:
    """A TOML table being read; remembers which keys were used to report unknown ones."""

    def __init__(self, path: str, prefix: str, data: dict[str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.data = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem)

    def _get(self, name: str, kind: type, default: Any, what: str) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is _REQUIRED:
                raise self.error(name, f"is missing; expected {what}")
            return default
        value = self.data[name]
        # bool is an int subclass in Python; a TOML `true` must not pass as a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(name, f"expected {what}, got {value!r}")
        return value

    def text(self, name: str, default: Any = None) -> str:
        value: str = self._get(name, str, _REQUIRED if default is None else default, "a string")
        return value

    def integer(
        self, name: str, default: int | None = None, minimum: int = 0, maximum: int | None = None
    ) -> int:
        value: int = self._get(name, int, _REQUIRED if default is None else default, "an integer")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(name, f"must be at most {maximum}, got {value}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value: bool = self._get(name, bool, default, "true or false")
        return value

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def strings(self, name: str, default: Sequence[str] | None = None) -> tuple[str, ...]:
        fallback = _REQUIRED if default is None else list(default)
        value: list[Any] = self._get(name, list, fallback, "a list of strings")
        if not all(isinstance(item, str) for item in value):
            raise self.error(name, f"expected a list of strings, got {value!r}")
        return tuple(value)

    def table(self, name: str, required: bool = False) -> Table:
        default: Any = _REQUIRED if required else {}
        value: dict[str, Any] = self._get(name, dict, default, "a table")
        return Table(self.path, self.key(name), value)

    def tables(self, name: str) -> list[Table]:
        """An array of tables (`[[name]]`)."""
        value: list[Any] = self._get(name, list, [], "an array of tables")
        if not all(isinstance(item, dict) for item in value):
            raise self.error(name, "expected an array of tables ([[...]])")
        return [Table(self.path, f"{self.key(name)}[{i}]", item) for i, item in enumerate(value)]

    def map(self, build: Callable[[str, Table], T]) -> dict[str, T]:
        """Every sub-table of this table, keyed by its name (e.g. `[lists.gp-subgroup]`)."""
        out: dict[str, T] = {}
        for name, value in self.data.items():
            self.used.add(name)
            if not isinstance(value, dict):
                raise self.error(name, "expected a table")
            out[name] = build(name, Table(self.path, self.key(name), value))
        return out

    def finish(self) -> None:
        """Raise on the first key nobody read: a misspelt key must never be ignored."""
        for name in self.data:
            if name not in self.used:
                close = difflib.get_close_matches(name, sorted(self.used), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                valid = ", ".join(sorted(self.used)) or "none"
                raise self.error(name, f"unknown key{hint} (valid here: {valid})")


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()
