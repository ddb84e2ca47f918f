"""Secrets fetched when needed: the access token an XOAUTH2 login (IMAP or SMTP) uses.

The token is never logged, and neither is the command line (it may carry a client secret):
errors name the configuration key instead.
"""

from __future__ import annotations

import shlex
import subprocess

from mailproc.errors import MailprocError

TOKEN_COMMAND_TIMEOUT = 60  # seconds; a token service slower than this counts as down


class TokenCommandError(MailprocError):
    """The token command is missing, could not run, failed or printed nothing."""


def token_from_command(command: str, key: str) -> str:
    """Run `command` (split like a shell would, but without one) and return what it prints.

    `key` is where the command is configured (e.g. "intake.imap.token_command"): every
    error names it, with the exit status and the last line the command wrote to stderr.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise TokenCommandError(f"{key} cannot be split into a command line: {exc}") from None
    if not argv:
        raise TokenCommandError(f'{key} is empty: auth = "xoauth2" needs a command that prints a token')
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=TOKEN_COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise TokenCommandError(f"{key} did not finish within {TOKEN_COMMAND_TIMEOUT} s") from None
    except OSError as exc:
        raise TokenCommandError(f"{key} could not run {argv[0]!r}: {exc.strerror or exc}") from None
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        # The last line of stderr usually says why.
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        what = f"failed (exit {done.returncode})" if done.returncode else "printed no token"
        raise TokenCommandError(f"{key} {what}: {reason}")
    return token
