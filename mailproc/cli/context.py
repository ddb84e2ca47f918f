"""What every command shares: lazy settings and app, and error → exit-code handling."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import click

from mailproc.app import App, open_app
from mailproc.config import Settings, load
from mailproc.errors import MailprocError

T = TypeVar("T")


@dataclass
class Context:
    config_path: Path
    quiet: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _app: App | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load(self.config_path)
        return self._settings

    def app(self) -> App:
        if self._app is None:
            self._app = open_app(self.settings())
        return self._app


def run(work: Callable[[], T]) -> T:
    """Run a command body; MailprocError → its message on stderr and its exit code."""
    try:
        return work()
    except MailprocError as exc:
        click.echo(f"mailproc: error: {exc}", err=True)
        sys.exit(exc.exit_code)
