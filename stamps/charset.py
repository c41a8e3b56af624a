"""Which characters a stamp's label can print, known without loading the font.

The embedded label fonts (``stamps/fonts/``) were cut down to exactly these
Unicode ranges (the ``pyftsubset`` command in ``stamps/fonts/README.md``), and a
test checks that both font files map every one of them and nothing else. Records
are checked against this table when they are entered, so the record layer never
loads reportlab; the label code checks against the same table.
"""

from __future__ import annotations

import re

LABEL_FONT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E), (0x00A0, 0x00FF),  # printable ASCII, Latin-1
    (0x0102, 0x0103), (0x0110, 0x0111), (0x0128, 0x0129), (0x0168, 0x0169),  # Ă ă Đ đ Ĩ ĩ Ũ ũ
    (0x01A0, 0x01A1), (0x01AF, 0x01B0),  # Ơ ơ Ư ư
    (0x0300, 0x0303), (0x0309, 0x0309), (0x0323, 0x0323),  # the combining tone marks
    (0x1EA0, 0x1EF9),  # Vietnamese letters with tones (Ạ ... ỹ)
    (0x2013, 0x2014), (0x2018, 0x2019), (0x201C, 0x201D), (0x2022, 0x2022), (0x2026, 0x2026),  # – — ‘ ’ “ ” • …
    (0x20AB, 0x20AC), (0x2116, 0x2116), (0x2122, 0x2122), (0x2605, 0x2606),  # ₫ € № ™ ★ ☆
)
LABEL_CHARACTERS = frozenset(chr(code) for first, last in LABEL_FONT_RANGES for code in range(first, last + 1))
# The same ranges as one regular-expression class (a character outside them), searched in C rather than looped over.
_UNPRINTABLE = re.compile("[^" + "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}"
                                         for first, last in LABEL_FONT_RANGES) + "]")


def first_unprintable(text: str) -> str | None:
    """The first character of *text* (in NFC) that the label font has no glyph for, or None."""
    found = _UNPRINTABLE.search(text)
    return found.group() if found else None


def describe(char: str) -> str:
    """A character as people can find it again: ``'🐝' (U+1F41D)``."""
    return f"{char!r} (U+{ord(char):04X})"
