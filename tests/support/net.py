"""Loopback test servers: a free port, and waiting until a server (or anything) is ready."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A loopback port that was free a moment ago (nothing listens there now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def wait_for_greeting(
    host: str, port: int, greeting: bytes, proc: subprocess.Popen[bytes], timeout: float
) -> None:
    """Return once the server on host:port sends a line starting with `greeting`; fail fast
    if its process `proc` exits first, and after `timeout` seconds otherwise."""

    def greeted() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"test server exited early with status {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                return sock.recv(200).startswith(greeting)
        except OSError:
            return False

    if not wait_until(greeted, timeout, interval=0.05):
        raise RuntimeError(f"test server on {host}:{port} did not greet within {timeout}s")


def catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has installed a handler for `signum` (Linux: SigCgt in /proc), so
    that a test sends SIGTERM only once the process handles it rather than dies of it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False
