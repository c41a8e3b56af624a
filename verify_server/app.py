"""Flask app factory for the verifier: reads the same instance store and trust store as the CLI.

It needs no private key. So far it serves the JSON verification API
(``GET``/``POST /api/v1/verify?code=...``); the shopper's result page comes with
the verifier issue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask, current_app, g, jsonify, render_template, request

from stamps.errors import StampError
from stamps.instance import Instance, default_root

MAX_CODE_LENGTH = 2048
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The verifier app; ``config["INSTANCE"]`` names the instance folder (default as for the CLI)."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(INSTANCE=str(default_root()), MAX_CONTENT_LENGTH=16 * 1024)
    app.config.update(config or {})
    app.teardown_appcontext(_close_instance)
    app.add_url_rule("/api/v1/verify", view_func=verify_api, methods=["GET", "POST"])
    app.register_error_handler(StampError, _unavailable)
    app.register_error_handler(404, _not_found)
    return app


def _instance() -> Instance:
    if "instance" not in g:
        g.instance = Instance.open(Path(current_app.config["INSTANCE"]))
    return g.instance


def _close_instance(_: BaseException | None) -> None:
    instance = g.pop("instance", None)
    if instance is not None:
        instance.close()


def verify_api() -> Any:
    """Verify ``code`` (query string or form field) and answer the documented JSON shape."""
    code = request.values.get("code", "")
    if not code or len(code) > MAX_CODE_LENGTH:
        return jsonify({"error": "missing_code", "message": "Give the stamp code or URL as ?code=..."}), 400
    instance = _instance()
    verifier = instance.verifier()
    return jsonify(verifier.verify(code).to_json())


def _unavailable(error: StampError) -> Any:
    current_app.logger.error("verifier unavailable: %s", error.diagnostics())
    return jsonify({"error": "unavailable", "message": "The verifier is not set up yet."}), 503


def _not_found(_: Exception) -> Any:
    return render_template("error.html"), 404
