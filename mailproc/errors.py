"""Exceptions that carry the exit code the CLI should use: 1 for a failure of the work,
2 for bad usage or configuration. The CLI maps them in one place (`mailproc.cli.boundary`)."""

from __future__ import annotations


class MailprocError(Exception):
    """A failure of the work (exit 1) with a message a user can act on."""

    exit_code = 1


class UsageError(MailprocError):
    """The command was used wrongly (exit 2): the message says what would have been valid."""

    exit_code = 2


class ConfigError(MailprocError):
    """Bad configuration (exit 2): names the file, the key and what is valid."""

    exit_code = 2

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{key}: {problem}")


class SchemaError(MailprocError):
    """The database schema is older or newer than this version of mailproc (exit 2)."""

    exit_code = 2


class SourceError(MailprocError):
    """The mailbox could not be reached or refused an operation."""


class TransportError(MailprocError):
    """Outgoing mail could not be handed to the transport."""


class StorageUnavailable(MailprocError):
    """The database or the disk under it failed: not the fault of the message being processed,
    so it is not counted against the message; the pass stops and says why."""
