"""The label font: DejaVu Sans Condensed cut down to Vietnamese, shipped inside the package (see stamps/fonts/).

Text widths come from the same font files for every output, so a label is laid
out identically in a PDF, an SVG and a thermal printer's bitmap. reportlab is
loaded on the first width asked for, not on import: a command that only checks
what a label can print (``stamps.charset``) or plans nothing never pays for it.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from stamps.charset import describe, first_unprintable
from stamps.printing.layout import LayoutError

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "OCOPSans"
BOLD = "OCOPSans-Bold"
FONT_FILES = {REGULAR: FONTS_DIR / "DejaVuSansCondensed-vi.ttf", BOLD: FONTS_DIR / "DejaVuSansCondensed-Bold-vi.ttf"}
POINTS_PER_MM = 72 / 25.4


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register both faces with reportlab once per process; returns their names (regular, bold)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    for name, path in FONT_FILES.items():
        try:
            pdfmetrics.registerFont(TTFont(name, str(path)))
        except TTFError as error:
            if isinstance(error.__context__, KeyboardInterrupt):  # reportlab's bare except made Ctrl-C a "corrupt font"
                raise KeyboardInterrupt from None
            raise
    return REGULAR, BOLD


def text_width_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    """How wide *text* is at *size_pt* points, in millimetres."""
    register_fonts()
    from reportlab.pdfbase import pdfmetrics

    return float(pdfmetrics.stringWidth(text, BOLD if bold else REGULAR, size_pt)) / POINTS_PER_MM


def printable(text: str, what: str = "text") -> str:
    """*text* in NFC (the font has precomposed Vietnamese letters; nothing shapes combining marks on a label),
    refused with a LayoutError naming the first character the label font cannot print (it would print as a box)."""
    normalized = unicodedata.normalize("NFC", text)
    missing = first_unprintable(normalized)
    if missing is not None:
        raise LayoutError(f"The {what} {text!r} holds {describe(missing)}, which the label font cannot "
                          "print; change the record or write it without that character.")
    return normalized


def mapped_characters(name: str) -> frozenset[str]:
    """The characters face *name* has a glyph for (its cmap, without entries pointing at the .notdef glyph)."""
    register_fonts()
    from reportlab.pdfbase import pdfmetrics

    return frozenset(chr(code) for code, glyph in pdfmetrics.getFont(name).face.charToGlyph.items() if glyph != 0)
