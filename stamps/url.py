"""The stamp URL: ``scheme://HOST[/PREFIX]/V/TOKEN`` and the two QR segments that carry it.

The scheme stays lower case (phone cameras do not open ``HTTPS://``) and goes
in a QR byte segment; host, path and token are upper case in one alphanumeric
segment, which keeps the symbol at version 7-M behind a 30-character host.
"""

from __future__ import annotations

import urllib.parse

from stamps.errors import CodeFormatError, InstanceError

SHORT_PATH = "V"
SCHEMES = ("https", "http")
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")  # the QR alphanumeric mode's characters
# What extract_token trims: the "ASCII whitespace" of the WHATWG Infra standard (not str.strip()'s Unicode spaces).
ASCII_WHITESPACE = "\t\n\f\r "
# What a stamp URL's host and path parts may hold: QR alphanumeric characters other than space and "/", in either case.
_URL_CHARS_UPPER = ALPHANUMERIC - {" ", "/"}
URL_CHARS = _URL_CHARS_UPPER | {char.lower() for char in _URL_CHARS_UPPER}
MODE_BYTE = "byte"
MODE_ALPHANUMERIC = "alphanumeric"


def normalize_base_url(url: str) -> str:
    """The verifier base URL as stamps will carry it, or an InstanceError saying what is wrong."""
    raw = url.strip().rstrip("/")
    example = "e.g. https://truyxuat.example.vn or http://192.168.1.20:8000"
    try:
        parts = urllib.parse.urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        raise InstanceError(f"Base URL {url!r} has an invalid host or port ({example}).") from None
    if parts.scheme.lower() not in SCHEMES or not parts.netloc:
        raise InstanceError(f"Base URL {url!r} must start with https:// or http:// and name a host ({example}).")
    if "?" in raw or "#" in raw or "@" in parts.netloc:
        raise InstanceError(f"Base URL {url!r} must not hold a query, a fragment or a user name ({example}).")
    rest = parts.netloc + parts.path
    if not all(map(_is_url_part, rest.split("/"))):  # exactly what extract_token reads back
        raise InstanceError(f"Base URL {url!r} may use only letters, digits and . - : / in host and path, "
                            f"with no empty part (//) ({example}).")
    return f"{parts.scheme.lower()}://{rest.lower()}"


def code_url(base_url: str, token: str) -> str:
    """The full stamp URL: lower-case scheme, everything after it upper case."""
    scheme, rest = base_url.split("://", 1)
    return f"{scheme.lower()}://{rest.upper()}/{SHORT_PATH}/{token.upper()}"


def qr_segments(url: str) -> list[tuple[str, str]]:
    """The QR segments for a stamp URL: the scheme in byte mode, the rest in alphanumeric mode."""
    scheme, rest = url.split("://", 1)
    return [(f"{scheme}://", MODE_BYTE), (rest, MODE_ALPHANUMERIC)]


def extract_token(text: str) -> str:
    """The token of a bare token or a stamp URL, by the steps of docs/stamp-format.md section 4; CodeFormatError otherwise.

    Only ASCII white space is trimmed; text without ':' and '/' is a bare token; anything else must be an
    http:// or https:// URL whose parts before the token are non-empty runs of URL_CHARS, the last of them "V".
    """
    trimmed = text.strip(ASCII_WHITESPACE)
    if ":" not in trimmed and "/" not in trimmed:
        return trimmed
    return _token_from_path(_after_scheme(trimmed))


def _after_scheme(text: str) -> str:
    scheme, separator, rest = text.partition("://")
    if not separator or not scheme.isascii() or scheme.lower() not in SCHEMES:
        raise CodeFormatError("A stamp code is either the bare code or a URL that starts with https:// or http://.",
                              kind="wrong_prefix")
    return rest


def _token_from_path(rest: str) -> str:
    *parts, token = rest.split("/")
    if len(parts) < 2 or parts[-1] not in (SHORT_PATH, SHORT_PATH.lower()) or not all(map(_is_url_part, parts)):
        raise CodeFormatError(f"A stamp URL is https://HOST/{SHORT_PATH}/ and the code; this one is not.", kind="wrong_path")
    return token


def _is_url_part(part: str) -> bool:
    return bool(part) and URL_CHARS.issuperset(part)
