"""QR symbols for stamp URLs, built by segno from explicit segments."""

from __future__ import annotations

from pathlib import Path

import segno
from segno import consts

from stamps.code import TOKEN_CHARS
from stamps.url import MODE_ALPHANUMERIC, MODE_BYTE, code_url, qr_segments

ERROR_LEVEL = "M"
MAX_DEFAULT_VERSION = 7
QUIET_ZONE_MODULES = 4
_SEGNO_MODES = {MODE_BYTE: consts.MODE_BYTE, MODE_ALPHANUMERIC: consts.MODE_ALPHANUMERIC}


def make_qr(url: str) -> segno.QRCode:
    """The QR symbol for a stamp URL: byte segment for the scheme, alphanumeric for the rest, level M."""
    segments = [(text, _SEGNO_MODES[mode]) for text, mode in qr_segments(url)]
    # segno.make takes a sequence of (text, mode) pairs for explicit segments; its stubs only declare str/bytes/int.
    return segno.make(segments, error=ERROR_LEVEL, boost_error=False, micro=False)  # type: ignore[arg-type]


def save_svg(symbol: segno.QRCode, path: Path, *, scale: float = 4) -> None:
    """A vector SVG with the standard 4-module quiet zone."""
    symbol.save(str(path), kind="svg", scale=scale, border=QUIET_ZONE_MODULES, xmldecl=False)


def save_png(symbol: segno.QRCode, path: Path, *, scale: int = 8) -> None:
    """A PNG with *scale* pixels per module and the 4-module quiet zone."""
    symbol.save(str(path), kind="png", scale=scale, border=QUIET_ZONE_MODULES)


def stamp_qr_version(base_url: str) -> int:
    """The QR version every stamp behind *base_url* gets (all tokens have the same length)."""
    return int(make_qr(code_url(base_url, "A" * TOKEN_CHARS)).version)
