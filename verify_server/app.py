"""Flask app factory for the verifier: reads the same instance store and trust store as the CLI.

It never needs a private key: it reads batch records and public keys and
appends to the scan log. Configuration (``create_app(config)``):

- ``INSTANCE``: the instance folder (default as for the CLI);
- ``DATABASE``: a PostgreSQL URL holding the instance's records (default
  None: the instance folder's SQLite file); several verifier processes and
  machines can serve one PostgreSQL database;
- ``COPY_THRESHOLD``: earlier scans of one unit above which a genuine result
  becomes "genuine, warning: possible copy" (default 5);
- ``SCAN_FLUSH_SECONDS``: how long scans are gathered before they are written
  together (default 0.25; 0 writes each scan at once), see ScanLog;
- ``KEEP_SCAN_DAYS``: drop scan-log rows older than this many days (default
  None: keep them all; the per-unit counts always stay);
- ``RATE_LIMIT_PER_MINUTE``: scans and API checks one client may make a minute
  in one worker process before it gets 429 (default 60; 0: no limit);
- ``TRUSTED_PROXIES``: how many reverse proxies in front of the verifier set
  X-Forwarded-For and X-Forwarded-Proto (default 0: the connection's own
  address is the client's, and the proxy headers are ignored).

Every failure becomes a friendly page (JSON under ``/api/``): 4xx for
anything a visitor sends, 503 when the instance cannot be used, and never a
traceback.
"""

from __future__ import annotations

import http
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from stamps.errors import StampError
from stamps.instance import default_database, default_root
from stamps.scanlog import DEFAULT_COPY_THRESHOLD, DEFAULT_FLUSH_SECONDS, DEFAULT_RATE_LIMIT_PER_MINUTE
from verify_server import routes
from verify_server.i18n import choose_language, text
from verify_server.runtime import Runtime
from verify_server.shells import PageShells
from verify_server.security import (ERROR_MAX_AGE, add_cors_headers, add_security_headers, cache_for,
                                    content_security_policy)

def _templates_folder() -> Path:
    """verify_server/templates in an installed copy, else the checkout's top-level templates/."""
    installed = Path(__file__).resolve().parent / "templates"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "templates"


TEMPLATES = _templates_folder()
MAX_REQUEST_BYTES = 16 * 1024
# The words of each error page, by status; any other 4xx says "bad request".
ERROR_TEXTS: dict[int, tuple[str, str]] = {404: ("not_found", "not_found_text"), 429: ("too_many", "too_many_text")}
# Under /api/ a program reads the answer, not a shopper: no "scan the QR code again".
API_ERROR_TEXTS: dict[int, tuple[str, str]] = {404: ("not_found", "api_not_found_text"),
                                               405: ("bad_request", "api_method_text")}
CACHED_ERRORS = (400, 404)  # the same answer for anyone, whenever asked
COUNT_SETTINGS = {"COPY_THRESHOLD": 0, "RATE_LIMIT_PER_MINUTE": 0, "TRUSTED_PROXIES": 0, "KEEP_SCAN_DAYS": 1}  # least value
OPTIONAL_SETTINGS = frozenset({"KEEP_SCAN_DAYS"})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The verifier app; see the module text for the configuration keys."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=None)
    app.config.update(INSTANCE=str(default_root()), DATABASE=default_database(), COPY_THRESHOLD=DEFAULT_COPY_THRESHOLD, SCAN_FLUSH_SECONDS=DEFAULT_FLUSH_SECONDS,
                      KEEP_SCAN_DAYS=None, RATE_LIMIT_PER_MINUTE=DEFAULT_RATE_LIMIT_PER_MINUTE, TRUSTED_PROXIES=0,
                      MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    app.config.update(config or {})
    _check_counts(app.config)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # JSON answers keep their documented key order
    app.extensions["ocop_runtime"] = Runtime(Path(app.config["INSTANCE"]), float(app.config["SCAN_FLUSH_SECONDS"]),
                                             keep_scan_days=app.config["KEEP_SCAN_DAYS"],
                                             rate_limit_per_minute=app.config["RATE_LIMIT_PER_MINUTE"],
                                             database=app.config["DATABASE"])
    app.extensions["ocop_record_html"] = {}
    app.extensions["ocop_batch_json"] = {}
    app.extensions["ocop_page_shells"] = PageShells()
    style = (TEMPLATES / "verify.css").read_text(encoding="utf-8")
    policy = content_security_policy(style)
    app.jinja_env.globals.update(inline_style=style, text=text)
    app.context_processor(lambda: {"host": routes.shown_host()})
    app.register_blueprint(routes.blueprint)
    app.after_request(lambda response: add_cors_headers(add_security_headers(response, policy, secure=request.is_secure),
                                                        request.path, request.method))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StampError, _unavailable)
    app.register_error_handler(Exception, _internal_error)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _check_counts(config: Mapping[str, Any]) -> None:
    """Refuse a setting that is not a whole number of what it counts, naming the setting."""
    for name, least in COUNT_SETTINGS.items():
        value = config[name]
        if value is None and name in OPTIONAL_SETTINGS:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise StampError(f"{name} must be a whole number, {least} or more (it is {value!r}).")


def _http_error(error: HTTPException) -> Any:
    status = error.code or 400
    response = _error_page(status, *_error_texts(status))
    for name, value in error.get_headers():  # e.g. Allow on a 405, Retry-After on a 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _error_texts(status: int) -> tuple[str, str]:
    """The title and text keys of the error page for *status* (any 4xx not in ERROR_TEXTS says "bad request")."""
    return ERROR_TEXTS.get(status, ("bad_request", "bad_request_text"))


def _unavailable(error: Exception) -> Any:
    assert isinstance(error, StampError)
    current_app.logger.error("verifier unavailable: %s", error.diagnostics())
    return _error_page(503, "unavailable", "unavailable_text")


def _internal_error(error: Exception) -> Any:
    current_app.logger.exception("verifier failed: %s", error)
    return _error_page(500, "unavailable", "unavailable_text")


def _error_page(status: int, title_key: str, text_key: str) -> Any:
    """The same message as a page, or as JSON under /api/; client errors may be cached, server errors not."""
    lang = choose_language(request)
    if request.path.startswith("/api/"):
        title_key, text_key = API_ERROR_TEXTS.get(status, (title_key, text_key))
        response: Response = jsonify({"error": title_key, "message": text(text_key, "en"), "message_vi": text(text_key, "vi")})
    else:
        response = current_app.make_response(render_template("error.html", lang=lang, title_key=title_key, text_key=text_key))
    response.status_code = status
    response.vary.add("Accept-Language")
    return cache_for(response, ERROR_MAX_AGE) if status in CACHED_ERRORS else response


def raw_error_response(app: Flask, status: int) -> bytes:
    """The error page for *status* with every header the app adds, as raw HTTP/1.1 bytes (for the WSGI server's own
    refusals of requests it cannot parse, which never reach the app); the connection closes after it."""
    with app.test_request_context("/"):
        response = app.process_response(_error_page(status, *_error_texts(status)))
    body = response.get_data()
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    head += [f"{name}: {value}" for name, value in response.headers.items() if name.lower() not in ("content-length", "connection")]
    head += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
