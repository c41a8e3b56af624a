"""The label font: DejaVu Sans Condensed cut down to Vietnamese, shipped inside the package (see stamps/fonts/).

Text widths come from the same font files for every output, so a label is laid
out identically in a PDF, an SVG and a thermal printer's bitmap.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from stamps.printing.layout import LayoutError

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "OCOPSans"
BOLD = "OCOPSans-Bold"
FONT_FILES = {REGULAR: FONTS_DIR / "DejaVuSansCondensed-vi.ttf", BOLD: FONTS_DIR / "DejaVuSansCondensed-Bold-vi.ttf"}
POINTS_PER_MM = 72 / 25.4


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register both faces with reportlab once per process; returns their names (regular, bold)."""
    for name, path in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return REGULAR, BOLD


def text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    """How wide *text* is at *size_pt* points, in millimetres."""
    register_fonts()
    return pdfmetrics.stringWidth(text, BOLD if bold else REGULAR, size_pt) / POINTS_PER_MM


def printable(text: str, what: str = "text") -> str:
    """*text* in NFC (the font has precomposed Vietnamese letters; nothing shapes combining marks on a label),
    refused with a LayoutError naming the first character the label font cannot print (it would print as a box)."""
    normalized = unicodedata.normalize("NFC", text)
    missing = [char for char in normalized if ord(char) not in _covered(REGULAR) or ord(char) not in _covered(BOLD)]
    if missing:
        raise LayoutError(f"The {what} {text!r} holds {missing[0]!r} (U+{ord(missing[0]):04X}), which the label font cannot "
                          "print; change the record or write it without that character.")
    return normalized


@functools.cache
def _covered(name: str) -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(name).face.charToGlyph)
