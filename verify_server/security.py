"""Security headers and cache rules for every verifier response.

The page's only style sheet is inlined (one request on a weak network) and
allowed by its SHA-256 hash; no script runs at all. Result pages depend on
the scan log (each scan must reach the server to be counted, and the page
shows the count), so they are never stored by browsers or proxies.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Response

STATIC_MAX_AGE = 365 * 24 * 3600
HSTS_MAX_AGE = 365 * 24 * 3600
CORS_MAX_AGE = 24 * 3600
API_PREFIX = "/api/"
ERROR_MAX_AGE = 3600
KEYS_MAX_AGE = 300
NO_STORE = "no-store"


def content_security_policy(inline_style: str) -> str:
    """No script, no frames, no third parties; the one inline style sheet by hash."""
    style_hash = base64.b64encode(hashlib.sha256(inline_style.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; img-src 'self' data:; "
            f"style-src 'sha256-{style_hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def add_security_headers(response: Response, policy: str, *, secure: bool = False) -> Response:
    """The headers every answer carries; HSTS only on an answer that went over HTTPS (directly or by a trusted proxy)."""
    response.headers["Content-Security-Policy"] = policy
    if secure:
        response.headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers.setdefault("Cache-Control", NO_STORE)
    return response


def add_cors_headers(response: Response, path: str, method: str) -> Response:
    """Any origin may read the API's answers (errors included) and POST JSON to it (the preflight is answered)."""
    if path.startswith(API_PREFIX):
        response.headers["Access-Control-Allow-Origin"] = "*"
        if method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE)
    return response


def cache_control(seconds: int, *, immutable: bool = False) -> str:
    """The Cache-Control value of a response anyone may keep for *seconds*."""
    return f"public, max-age={seconds}" + (", immutable" if immutable else "")


def cache_for(response: Response, seconds: int, *, immutable: bool = False) -> Response:
    response.headers["Cache-Control"] = cache_control(seconds, immutable=immutable)
    return response
