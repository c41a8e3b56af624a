"""The verifier as a child process, for the demo and for tests that need a real server.

The child is ``ocop-stamps serve`` itself (the production WSGI server), so
what the demo shows is what a deployment runs.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from stamps.errors import StampError

READY_TIMEOUT_SECONDS = 30.0


def lan_address() -> str | None:
    """This machine's address on the local network (the one a phone on the same Wi-Fi reaches), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def start_verifier(instance: Path, host: str, port: int, *, workers: int = 2, quiet: bool = False) -> subprocess.Popen[bytes]:
    """Start ``ocop-stamps serve`` for *instance* and return once it answers /healthz."""
    command = [sys.executable, "-m", "cli", "--instance", str(instance.resolve()), "serve", "--host", host, "--port", str(port),
               "--workers", str(workers)] + (["--no-access-log"] if quiet else [])
    child = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent,
                             stdout=subprocess.DEVNULL if quiet else None, stderr=subprocess.DEVNULL if quiet else None)
    try:
        wait_until_ready(f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/healthz", child.poll)
    except BaseException:
        stop_verifier(child)
        raise
    return child


def wait_until_ready(health_url: str, exit_code: Callable[[], int | None], timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll *health_url* until it answers 200; *exit_code* says whether the server process has stopped meanwhile.

    *exit_code* is ``Popen.poll`` for a subprocess, or a function giving
    ``Process.exitcode`` for a multiprocessing child: None while it runs.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stopped = exit_code()
        if stopped is not None:
            raise StampError(f"The verifier stopped at start (exit code {stopped}).",
                             hint="Run 'ocop-stamps serve' by itself to see why.")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise StampError(f"The verifier did not answer within {timeout:.0f} s.", hint="Run 'ocop-stamps serve' by itself to see why.")


def stop_verifier(child: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop (SIGTERM: gunicorn stops its workers gracefully); kill it if it hangs."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
