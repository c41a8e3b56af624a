"""The verifier as a WSGI application object, for a server started on its own.

    OCOP_STAMPS_HOME=/srv/ocop gunicorn -c python:verify_server.gunicorn_conf --workers 5 verify_server.wsgi:app

The instance folder comes from ``$OCOP_STAMPS_HOME`` (else the per-user data
folder), a PostgreSQL database from ``$OCOP_STAMPS_DATABASE``; the other settings from the environment variables of
``SETTINGS_FROM_ENVIRONMENT`` (unset: the defaults of ``create_app``).
``ocop-stamps serve`` does the same with command-line options. The gunicorn
configuration module keeps gunicorn's own answers to malformed requests
friendly and its log free of client addresses (verify_server.gunicorn_conf).
"""

from __future__ import annotations

import os

from stamps.errors import StampError
from stamps.instance import default_root
from verify_server.app import create_app

# environment variable -> create_app setting (each a whole number, 0 or more)
SETTINGS_FROM_ENVIRONMENT = {
    "OCOP_COPY_THRESHOLD": "COPY_THRESHOLD",
    "OCOP_RATE_LIMIT": "RATE_LIMIT_PER_MINUTE",
    "OCOP_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "OCOP_KEEP_SCAN_DAYS": "KEEP_SCAN_DAYS",
}


def settings_from_environment() -> dict[str, int]:
    """The settings given in the environment; a StampError naming the variable for one that is not a whole number."""
    settings = {}
    for variable, setting in SETTINGS_FROM_ENVIRONMENT.items():
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        if not value.isascii() or not value.isdigit():
            raise StampError(f"${variable} must be a whole number (it is {value!r}).")
        settings[setting] = int(value)
    return settings


app = create_app({"INSTANCE": str(default_root()), **settings_from_environment()})
