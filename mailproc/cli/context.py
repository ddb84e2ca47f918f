"""What every command shares: the configuration path, lazy settings and app, progress."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from mailproc.app import App, open_app
from mailproc.cli.progress import reporting
from mailproc.config import Settings, load
from mailproc.errors import ConfigError, UsageError


@dataclass
class Context:
    config_path: Path
    # Where the path came from ("--config", "$MAILPROC_CONFIG", "the default"): errors say so.
    config_origin: str = "--config"
    quiet: bool = False
    _settings: Settings | None = field(default=None, repr=False)
    _app: App | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The configuration, read once; a missing file or a folder is a clear error."""
        if self._settings is None:
            path = self.config_path
            if path.is_dir():
                raise UsageError(
                    f"{path} ({self.config_origin}) is a folder; name the configuration file "
                    f"itself, e.g. --config {path / 'config.toml'}"
                )
            if not path.exists():
                raise ConfigError(
                    str(path), "(file)",
                    f"not found ({self.config_origin}); `mailproc init` writes a commented one "
                    "to edit, or name yours with --config",
                )  # fmt: skip
            self._settings = load(path)
        return self._settings

    def app(self, upgrade_schema: bool = False) -> App:
        """The running application; an older schema is upgraded only when asked (watch)."""
        if self._app is None:
            self._app = open_app(self.settings(), upgrade_schema=upgrade_schema)
        return self._app

    def progress(self, label: str) -> AbstractContextManager[Callable[[int, int], None]]:
        """An `on_progress` callback for core work: a bar on a terminal unless --quiet."""
        return reporting(label, enabled=not self.quiet)
