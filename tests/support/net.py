"""Loopback networking for test servers: a free port, and waiting for a server to greet."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A loopback port that was free a moment ago (nothing listens there now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_greeting(
    host: str, port: int, greeting: bytes, proc: subprocess.Popen[bytes], timeout: float
) -> None:
    """Return once the server on host:port sends a line starting with `greeting`; fail fast
    if its process `proc` exits first, and after `timeout` seconds otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"test server exited early with status {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1.0) as sock:
                if sock.recv(200).startswith(greeting):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"test server on {host}:{port} did not greet within {timeout}s")
