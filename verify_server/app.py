"""Flask app factory for the verifier: reads the same instance store and trust store as the CLI.

It never needs a private key: it reads batch records and public keys and
appends to the scan log. Configuration (``create_app(config)``):

- ``INSTANCE``: the instance folder (default as for the CLI);
- ``COPY_THRESHOLD``: earlier scans of one unit above which a genuine result
  becomes "genuine, warning: possible copy" (default 5);
- ``SCAN_FLUSH_SECONDS``: how long scans are gathered before they are written
  together (default 0.25; 0 writes each scan at once), see ScanLog.

Every failure becomes a friendly page (JSON under ``/api/``): 4xx for
anything a visitor sends, 503 when the instance cannot be used, and never a
traceback.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from stamps.errors import StampError
from stamps.instance import default_root
from stamps.scanlog import DEFAULT_COPY_THRESHOLD, DEFAULT_FLUSH_SECONDS
from verify_server import routes
from verify_server.i18n import choose_language, text
from verify_server.runtime import Runtime
from verify_server.shells import PageShells
from verify_server.security import ERROR_MAX_AGE, add_security_headers, cache_for, content_security_policy

def _templates_folder() -> Path:
    """verify_server/templates in an installed copy, else the checkout's top-level templates/."""
    installed = Path(__file__).resolve().parent / "templates"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "templates"


TEMPLATES = _templates_folder()
MAX_REQUEST_BYTES = 16 * 1024


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The verifier app; see the module text for the configuration keys."""
    app = Flask(__name__, template_folder=str(TEMPLATES), static_folder=None)
    app.config.update(INSTANCE=str(default_root()), COPY_THRESHOLD=DEFAULT_COPY_THRESHOLD, SCAN_FLUSH_SECONDS=DEFAULT_FLUSH_SECONDS,
                      MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, JSON_SORT_KEYS=False)
    app.config.update(config or {})
    _check_threshold(app.config["COPY_THRESHOLD"])
    app.extensions["ocop_runtime"] = Runtime(Path(app.config["INSTANCE"]), float(app.config["SCAN_FLUSH_SECONDS"]))
    app.extensions["ocop_record_html"] = {}
    app.extensions["ocop_page_shells"] = PageShells()
    style = (TEMPLATES / "verify.css").read_text(encoding="utf-8")
    policy = content_security_policy(style)
    app.jinja_env.globals.update(inline_style=style, text=text)
    app.register_blueprint(routes.blueprint)
    app.after_request(lambda response: add_security_headers(response, policy))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StampError, _unavailable)
    app.register_error_handler(sqlite3.Error, _unavailable)
    app.register_error_handler(Exception, _internal_error)
    return app


def _check_threshold(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StampError(f"COPY_THRESHOLD must be a whole number of scans, 0 or more (it is {value!r}).")


def _http_error(error: HTTPException) -> Any:
    status = error.code or 400
    response = _error_page(status, *(("not_found", "not_found_text") if status == 404 else ("bad_request", "bad_request_text")))
    for name, value in error.get_headers():  # e.g. Allow on a 405
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unavailable(error: Exception) -> Any:
    detail = error.diagnostics() if isinstance(error, StampError) else f"database: {error}"
    current_app.logger.error("verifier unavailable: %s", detail)
    return _error_page(503, "unavailable", "unavailable_text")


def _internal_error(error: Exception) -> Any:
    current_app.logger.exception("verifier failed: %s", error)
    return _error_page(500, "unavailable", "unavailable_text")


def _error_page(status: int, title_key: str, text_key: str) -> Any:
    """The same message as a page, or as JSON under /api/; client errors may be cached, server errors not."""
    lang = choose_language(request)
    if request.path.startswith("/api/"):
        response: Response = jsonify({"error": title_key, "message": text(text_key, "en"), "message_vi": text(text_key, "vi")})
        response.headers["Access-Control-Allow-Origin"] = "*"  # as for the API's answers: a page elsewhere may show the error
    else:
        response = current_app.make_response(render_template("error.html", lang=lang, title_key=title_key, text_key=text_key))
    response.status_code = status
    response.vary.add("Accept-Language")
    return cache_for(response, ERROR_MAX_AGE) if status in (400, 404) else response
