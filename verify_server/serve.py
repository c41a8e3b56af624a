"""Run the verifier under a production WSGI server.

gunicorn (several worker processes) on Linux and macOS, waitress (several
threads; gunicorn does not run on Windows) on Windows, or Flask's development
server with ``dev``. The access log never records the client's IP address.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from typing import Any

from flask import Flask

from stamps.errors import StampError

SERVERS = ("gunicorn", "waitress", "dev")
ACCESS_LOG_FORMAT = '%(t)s "%(r)s" %(s)s %(b)s %(L)ss'  # no %(h)s: never the client's address
# What `serve` sets in gunicorn, and verify_server/gunicorn_conf.py for gunicorn started by hand: the worker that
# answers malformed requests with the app's page and logs no address, gunicorn's default request limits spelled out.
GUNICORN_SETTINGS: dict[str, Any] = {
    "worker_class": "verify_server.gunicorn_worker.FriendlySyncWorker", "loglevel": "warning", "errorlog": "-",
    "access_log_format": ACCESS_LOG_FORMAT, "proc_name": "ocop-verifier",
    "limit_request_line": 4094, "limit_request_fields": 100, "limit_request_field_size": 8190,
}


def default_server() -> str:
    return "waitress" if os.name == "nt" else "gunicorn"


def default_workers() -> int:
    """gunicorn's advice: two workers per core, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line, before anything starts, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: SO_REUSEADDR there would bind beside a running server
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:  # POSIX: like the server itself, do not count connections left in TIME_WAIT as "in use"
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StampError(f"Port {port} on {host} is already in use.",
                                 hint="Stop the other program or pass another --port.") from None
            raise StampError(f"Cannot listen on {host}:{port}: {error.strerror or error}.",
                             hint="Check --host (an address of this machine, 0.0.0.0 for all) and --port.") from None


def run(app: Flask, *, host: str, port: int, workers: int, server: str, access_log: bool = True) -> None:
    """Serve *app* until interrupted (Ctrl+C or SIGTERM)."""
    if server not in SERVERS:
        raise StampError(f"Unknown server {server!r}; choose one of: {', '.join(SERVERS)}.")
    check_port_free(host, port)
    if server == "gunicorn":
        _run_gunicorn(app, host, port, workers, access_log)
        return
    signal.signal(signal.SIGTERM, _exit_cleanly)  # gunicorn does this itself; others would die without atexit
    if server == "waitress":
        _run_waitress(app, host, port, workers)
    else:
        app.run(host=host, port=port, debug=False, threaded=True, use_reloader=False)


def _exit_cleanly(_signal: int, _frame: Any) -> None:
    """Stop like Ctrl+C does, so the scan log writes what it has gathered."""
    sys.exit(0)


def _run_gunicorn(app: Flask, host: str, port: int, workers: int, access_log: bool) -> None:
    try:
        from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
    except ImportError:
        raise StampError("gunicorn is not installed (it does not run on Windows).",
                         hint="Use --server waitress, or install gunicorn.") from None

    class EmbeddedGunicorn(BaseApplication):  # type: ignore[misc]
        """gunicorn's documented way to serve an application object from Python."""

        def load_config(self) -> None:
            bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            options: dict[str, Any] = {"bind": bind, "workers": workers, **GUNICORN_SETTINGS,
                                       "accesslog": "-" if access_log else None}
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return app

    EmbeddedGunicorn().run()


def _run_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    try:
        import waitress  # type: ignore[import-untyped]
    except ImportError:
        raise StampError("waitress is not installed.", hint="Install it with 'pip install waitress', or use --server gunicorn.") from None
    waitress.serve(app, host=host, port=port, threads=threads, ident="ocop-verifier")
