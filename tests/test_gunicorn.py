"""The verifier under real gunicorn: requests gunicorn refuses itself get the app's page and headers; no address is logged."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from stamps.demo import run_demo
from verify_server.background import stop_verifier, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(os.name == "nt", reason="gunicorn does not run on Windows")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log

    def send(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """*raw* sent as is on a new connection; the status, headers and body of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(raw)
            connection.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        return int(lines[0].split()[1]), headers, body


def launch(how: str, instance: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line (and environment) of the verifier started by `ocop-stamps serve`, or by gunicorn by hand."""
    if how == "serve":
        return ([sys.executable, "-m", "cli", "--instance", str(instance), "serve", "--port", str(port), "--workers", "1",
                 "--rate-limit", "0"], dict(os.environ))
    return ([sys.executable, "-m", "gunicorn", "-c", "python:verify_server.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--access-logfile", "-", "verify_server.wsgi:app"],
            {**os.environ, "OCOP_STAMPS_HOME": str(instance), "OCOP_RATE_LIMIT": "0"})


@pytest.fixture(scope="module", params=["serve", "gunicorn_conf"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("gunicorn")
    demo = run_demo(folder / "inst", "https://truyxuat.example.vn")
    port, log = free_port(), folder / "server.log"
    command, environment = launch(request.param, demo.instance_root, port)
    with open(log, "wb") as output:
        if request.param != "serve":
            output.write(b"Verifier for this test, started by hand\n")
        child = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=output)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", child.poll)
        yield Server(port, log)
    finally:
        stop_verifier(child)


REFUSED = [
    (b"GET /V/" + b"A" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 10_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(150)) + b"\r\n", 431),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    (b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 400),
    (b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
]


@pytest.mark.parametrize("raw, status", REFUSED, ids=["long-url", "big-header", "many-headers", "garbage-line",
                                                      "http-version", "method", "header-name", "content-length"])
def test_requests_gunicorn_refuses_get_the_apps_page_and_headers(server: Server, raw: bytes, status: int) -> None:
    got, headers, body = server.send(raw)
    assert got == status
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    assert "Yêu cầu không hợp lệ".encode() in body and b"English" in body
    assert int(headers["Content-Length"]) == len(body)


def test_fuzzed_requests_never_bypass_the_headers_and_no_address_is_logged(server: Server) -> None:
    chance = random.Random(12)
    alphabet = b"GET /V?%&=:\r\n\t AZaz09\x00\xff"
    for _ in range(200):
        junk = bytes(chance.choice(alphabet) for _ in range(chance.randrange(1, 300)))
        status, headers, _ = server.send(junk + b"\r\n\r\n")
        assert status < 500 or status == 501, junk
        assert "Content-Security-Policy" in headers, junk
    server.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    startup, log = server.log.read_text(encoding="utf-8", errors="replace").split("\n", 1)
    assert startup.startswith("Verifier for")  # names the address the server itself listens on
    assert "refused a malformed request" in log and '"GET /healthz HTTP/1.1" 200' in log  # both logs were written
    assert "127.0.0.1" not in log and "ip=" not in log
