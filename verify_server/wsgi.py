"""The verifier as a WSGI application object, for a server started on its own.

    OCOP_STAMPS_HOME=/srv/ocop gunicorn --workers 5 verify_server.wsgi:app

The instance folder comes from ``$OCOP_STAMPS_HOME`` (else the per-user data
folder) and the copy threshold from ``$OCOP_COPY_THRESHOLD`` (default 5).
``ocop-stamps serve`` does the same with command-line options.
"""

from __future__ import annotations

import os

from stamps.errors import StampError
from stamps.instance import default_root
from stamps.scanlog import DEFAULT_COPY_THRESHOLD
from verify_server.app import create_app

COPY_THRESHOLD_ENV = "OCOP_COPY_THRESHOLD"


def copy_threshold_from_environment() -> int:
    value = os.environ.get(COPY_THRESHOLD_ENV, str(DEFAULT_COPY_THRESHOLD)).strip()
    if not value.isascii() or not value.isdigit():
        raise StampError(f"${COPY_THRESHOLD_ENV} must be a whole number of scans (it is {value!r}).")
    return int(value)


app = create_app({"INSTANCE": str(default_root()), "COPY_THRESHOLD": copy_threshold_from_environment()})
