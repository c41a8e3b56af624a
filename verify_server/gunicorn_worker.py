"""gunicorn's sync worker, with the verifier's own answer to requests gunicorn refuses before the app sees them.

gunicorn answers a malformed request line, an over-long URL or too many or too
large headers itself, with an English page without the verifier's security
headers, and logs the client's IP address with it ("Invalid request from
ip=..."). This worker answers those with the app's friendly error page (its
headers included: CSP, nosniff, ...) and logs the kind of refusal only, never
an address. ``ocop-stamps serve`` uses it; for gunicorn started by hand see
verify_server/gunicorn_conf.py.
"""

from __future__ import annotations

import socket
from typing import Any

from flask import Flask
from gunicorn.http import errors  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from verify_server.app import raw_error_response

# gunicorn's refusals by the status they get (the name of each error class, as in gunicorn.http.errors); any other
# client error is 400. A class this gunicorn version lacks is simply not listed.
REFUSALS: dict[str, int] = {"LimitRequestLine": 414, "LimitRequestHeaders": 431, "UnsupportedTransferCoding": 501,
                            "ExpectationFailed": 417, "ForbiddenProxyRequest": 403, "ConfigurationProblem": 500}
CLIENT_ERRORS = tuple(cls for name in dir(errors) if isinstance(cls := getattr(errors, name), type)
                      and issubclass(cls, errors.ParseException))


class FriendlySyncWorker(SyncWorker):  # type: ignore[misc]
    """A sync worker whose own error answers are the verifier's pages and whose log holds no client address."""

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, CLIENT_ERRORS) or not isinstance(self.wsgi, Flask):
            super().handle_error(req, client, ("", -1), exc)  # gunicorn's own answer, without the address
            return
        status = REFUSALS.get(type(exc).__name__, 400)
        self.log.warning("refused a malformed request (%s, %s)", type(exc).__name__, status)
        try:
            client.sendall(self._answer(status))
        except OSError:
            self.log.debug("could not send the error page")

    def _answer(self, status: int) -> bytes:
        """The app's error page for *status* as raw HTTP/1.1 bytes (made once per status and worker)."""
        answers: dict[int, bytes] = self.__dict__.setdefault("_answers", {})
        if status not in answers:
            answers[status] = raw_error_response(self.wsgi, status)
        return answers[status]
