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
ERROR_MAX_AGE = 3600
KEYS_MAX_AGE = 300
NO_STORE = "no-store"


def content_security_policy(inline_style: str) -> str:
    """No script, no frames, no third parties; the one inline style sheet by hash."""
    style_hash = base64.b64encode(hashlib.sha256(inline_style.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; img-src 'self' data:; "
            f"style-src 'sha256-{style_hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def add_security_headers(response: Response, policy: str) -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers.setdefault("Cache-Control", NO_STORE)
    return response


def never_store(response: Response) -> Response:
    """A response that depends on the scan log."""
    response.headers["Cache-Control"] = NO_STORE
    return response


def cache_control(seconds: int, *, immutable: bool = False) -> str:
    """The Cache-Control value of a response anyone may keep for *seconds*."""
    return f"public, max-age={seconds}" + (", immutable" if immutable else "")


def cache_for(response: Response, seconds: int, *, immutable: bool = False) -> Response:
    response.headers["Cache-Control"] = cache_control(seconds, immutable=immutable)
    return response
