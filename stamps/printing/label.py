"""What one label says and where each part goes, in millimetres from the label's top-left corner.

A label carries the QR (with its 4-module quiet zone), the product name (bold,
up to two lines), the OCOP stars, the lot code, the unit's serial and its short
code. The plan is made once per batch and label size, so every output format
draws the same label:

- the QR module is a whole number of printer dots (``--dpi``; 8 dots/mm at
  203 dpi): the largest that fits the label while every line of text fits at
  MIN_READABLE_PT or more, else the smallest (with smaller text), unless the
  user fixes it (``--module-mm``);
- the text goes beside the QR (or under it, on a narrow label), at the largest
  size at which every line fits, for every serial and check character;
- the QR and the text block form one group centred on the label both ways,
  the text block centred against the QR, the quiet zone on the label.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stamps.code import BASE32_ALPHABET, IssuedCode, short_code
from stamps.printing.fonts import POINTS_PER_MM, printable, text_width_mm
from stamps.printing.layout import LayoutError
from stamps.qr import QUIET_ZONE_MODULES

MIN_MODULE_MM = 0.33
MAX_MODULE_MM = 2.0
MAX_MODULE_DOTS = 10  # the largest QR cell thermal printers take (TSPL QRCODE "cell width 1~10"); automatic modules too
DEFAULT_DOTS_PER_MM = 8  # a 203 dpi printer, the default --dpi
MIN_READABLE_PT = 6.0  # the automatic module never shrinks the text below this (the product name is 1 pt larger)
PADDING_MM = 1.2  # text stays at least this far from the die-cut edge
MIN_TEXT_COLUMN_MM = 14.0
TEXT_SIZES_PT = (10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0)
NAME_EXTRA_PT = 1.0  # the product name is this much larger than the other lines
LINE_SPACING = 1.22
ELLIPSIS = "…"


@dataclasses.dataclass(frozen=True)
class BatchTexts:
    """The lines every label of a batch shares."""

    product: str
    stars: int | None
    lot_code: str
    quantity: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "BatchTexts":
        product = record["product"]
        return cls(printable(product["name"], "product name"), product.get("ocop_stars"),
                   printable(record["batch"]["lot_code"], "lot code"), int(record["batch"]["quantity"]))

    @property
    def stars_line(self) -> str | None:
        return f"{'★' * self.stars}{'☆' * (5 - self.stars)} OCOP" if self.stars else None


@dataclasses.dataclass(frozen=True)
class StampUnit:
    """One unit's own lines: its serial, its URL (the QR's text) and its short code."""

    serial: int
    url: str
    short_code: str

    @classmethod
    def from_issued(cls, issued: IssuedCode, digest_prefix: bytes) -> "StampUnit":
        return cls(issued.serial, issued.url, short_code(digest_prefix, issued.serial))

    @property
    def serial_line(self) -> str:
        return serial_line(self.serial)

    @property
    def code_line(self) -> str:
        return f"Mã: {self.short_code}"


def serial_line(serial: int) -> str:
    return f"Số: {serial:06d}"


def lot_line(lot_code: str) -> str:
    return f"Lô: {lot_code}"


@dataclasses.dataclass(frozen=True)
class TextLine:
    """One line of text: its left edge and baseline from the label's top-left corner."""

    text: str
    x_mm: float
    baseline_mm: float
    size_pt: float
    bold: bool = False


@dataclasses.dataclass(frozen=True)
class LabelPlan:
    """Where the QR and every line of one batch's labels go."""

    label_mm: tuple[float, float]
    module_mm: float
    qr_modules: int  # the symbol's side, without the quiet zone
    qr_left_mm: float  # the quiet zone's top-left corner
    qr_top_mm: float
    shared_lines: tuple[TextLine, ...]  # product, stars, lot
    serial_slot: TextLine  # text holds an example; each unit's own text goes at this place
    code_slot: TextLine

    @property
    def qr_side_mm(self) -> float:
        return (self.qr_modules + 2 * QUIET_ZONE_MODULES) * self.module_mm

    def unit_lines(self, unit: StampUnit) -> tuple[TextLine, TextLine]:
        return (dataclasses.replace(self.serial_slot, text=unit.serial_line),
                dataclasses.replace(self.code_slot, text=unit.code_line))


def check_module_size(module_mm: float) -> None:
    """0.33 mm (the least that scans reliably) to 2 mm per QR module."""
    if not MIN_MODULE_MM <= module_mm <= MAX_MODULE_MM:  # also refuses NaN
        raise LayoutError(f"A QR module of {module_mm:g} mm is outside {MIN_MODULE_MM:g}-{MAX_MODULE_MM:g} mm "
                          f"(below {MIN_MODULE_MM:g} mm phones cannot read it reliably).")


def whole_dot_modules(dots_per_mm: int = DEFAULT_DOTS_PER_MM) -> list[float]:
    """The module sizes a printer of *dots_per_mm* prints exactly, largest first, within the allowed range."""
    sizes = (dots / dots_per_mm for dots in range(MAX_MODULE_DOTS, 0, -1))
    return [size for size in sizes if MIN_MODULE_MM <= size <= MAX_MODULE_MM]


def plan_label(label_mm: tuple[float, float], qr_modules: int, texts: BatchTexts, example: StampUnit,
               module_mm: float | None = None, *, dots_per_mm: int = DEFAULT_DOTS_PER_MM) -> LabelPlan:
    """The plan for labels of *label_mm*: the QR at *module_mm* per module (None: the largest whole-dot module of a
    *dots_per_mm* printer that leaves the text readable), the text beside or under it, the whole group centred."""
    widest = StampUnit(max(texts.quantity, example.serial), example.url, _widest_check(example.short_code))
    if module_mm is not None:
        check_module_size(module_mm)
        return _planned(label_mm, qr_modules, module_mm, texts, widest, TEXT_SIZES_PT[-1])
    fitting = [size for size in whole_dot_modules(dots_per_mm) if _qr_side(qr_modules, size) <= min(label_mm)]
    for size in fitting:  # the largest module at which the text stays readable
        plan = _arranged(label_mm, qr_modules, size, texts, widest, MIN_READABLE_PT)
        if plan is not None:
            return plan
    smallest = fitting[-1] if fitting else whole_dot_modules(dots_per_mm)[-1]
    return _planned(label_mm, qr_modules, smallest, texts, widest, TEXT_SIZES_PT[-1])  # smaller text, or the error


def _qr_side(qr_modules: int, module_mm: float) -> float:
    return (qr_modules + 2 * QUIET_ZONE_MODULES) * module_mm


def _planned(label_mm: tuple[float, float], qr_modules: int, module_mm: float, texts: BatchTexts, unit: StampUnit,
             min_size: float) -> LabelPlan:
    """The plan at *module_mm* with text of at least *min_size*, or the LayoutError saying what does not fit."""
    width, height = label_mm
    side = _qr_side(qr_modules, module_mm)
    if side > min(width, height):
        raise LayoutError(f"The QR needs {side:.1f} x {side:.1f} mm at {module_mm:g} mm per module; a {width:g} x {height:g} mm "
                          "label is too small (choose a larger label or a smaller --module-mm).")
    plan = _arranged(label_mm, qr_modules, module_mm, texts, unit, min_size)
    if plan is None:
        raise LayoutError(f"The product name, stars, lot, serial and short code do not fit on a {width:g} x {height:g} mm label "
                          f"beside or under its QR, even in {min_size:g} pt type; choose a larger label.")
    return plan


def _arranged(label_mm: tuple[float, float], qr_modules: int, module_mm: float, texts: BatchTexts, unit: StampUnit,
              min_size: float) -> LabelPlan | None:
    """The text beside the QR where the column is wide enough, else under it; None if neither fits."""
    symbol, quiet = qr_modules * module_mm, QUIET_ZONE_MODULES * module_mm
    for arrange in (_beside, _under):
        placed = arrange(label_mm, symbol, quiet, texts, unit, min_size)
        if placed is not None:
            qr_left, qr_top, lines = placed
            return LabelPlan(label_mm, module_mm, qr_modules, qr_left, qr_top, tuple(lines[:-2]), lines[-2], lines[-1])
    return None


Placed = tuple[float, float, list[TextLine]]  # the quiet zone's top-left corner and the lines


def _beside(label_mm: tuple[float, float], symbol: float, quiet: float, texts: BatchTexts, unit: StampUnit,
            min_size: float) -> Placed | None:
    """QR left, text right: the symbol, a quiet zone and the text block centred across, each centred down.

    The text may come as close to the right edge as the symbol to the left one (its quiet zone), so the group is
    always centred with the quiet zone on the label."""
    width, height = label_mm
    side = symbol + 2 * quiet
    column = width - side - quiet
    block = _fit(texts, unit, column, height - 2 * PADDING_MM, min_size) if column >= MIN_TEXT_COLUMN_MM else None
    if block is None:
        return None
    symbol_left = (width - (symbol + quiet + block.width)) / 2
    return (symbol_left - quiet, (height - side) / 2,
            block.placed(symbol_left + symbol + quiet, (height - block.height) / 2))


def _under(label_mm: tuple[float, float], symbol: float, quiet: float, texts: BatchTexts, unit: StampUnit,
           min_size: float) -> Placed | None:
    """QR above, text below: the symbol, a quiet zone and the text block centred down, each centred across."""
    width, height = label_mm
    side = symbol + 2 * quiet
    block = _fit(texts, unit, width - 2 * PADDING_MM, height - side - quiet, min_size)
    if block is None:
        return None
    symbol_top = (height - (symbol + quiet + block.height)) / 2
    return ((width - side) / 2, symbol_top - quiet,
            block.placed((width - block.width) / 2, symbol_top + symbol + quiet))


def _widest_check(code: str) -> str:
    """*code* with its check character replaced by the widest one it can have, so every unit's line fits."""
    return code[:-1] + max(BASE32_ALPHABET, key=lambda char: text_width_mm(char, TEXT_SIZES_PT[0]))


@dataclasses.dataclass(frozen=True)
class _Block:
    """Lines fitted at one size: (text, size, bold) rows, and the block's width and height in mm."""

    rows: tuple[tuple[str, float, bool], ...]
    width: float
    height: float

    def placed(self, left: float, top: float) -> list[TextLine]:
        """The rows as TextLines, the block's top-left corner at (*left*, *top*)."""
        lines, y = [], top
        for text, size, bold in self.rows:
            line_height = size * LINE_SPACING / POINTS_PER_MM
            lines.append(TextLine(text, left, y + line_height * 0.8, size, bold))
            y += line_height
        return lines


def _fit(texts: BatchTexts, unit: StampUnit, width: float, height: float, min_size: float) -> _Block | None:
    """The lines at the largest size (down to *min_size*) that fits *width* x *height* mm: the name wrapped to two
    lines, shortened with an ellipsis only at the smallest size there is."""
    for size in (size for size in TEXT_SIZES_PT if size >= min_size):
        name_size = size + NAME_EXTRA_PT
        name = _wrapped(texts.product, name_size, width, last_size=size == TEXT_SIZES_PT[-1])
        others = [line for line in (texts.stars_line, lot_line(texts.lot_code), unit.serial_line, unit.code_line) if line]
        if name is None or any(text_width_mm(line, size) > width for line in others):
            continue
        rows = tuple([(line, name_size, True) for line in name] + [(line, size, False) for line in others])
        block = sum(row_size for _, row_size, _ in rows) * LINE_SPACING / POINTS_PER_MM
        if block <= height:
            return _Block(rows, max(text_width_mm(text, row_size, bold=bold) for text, row_size, bold in rows), block)
    return None


def _wrapped(text: str, size: float, width: float, *, last_size: bool) -> list[str] | None:
    """*text* in at most two lines of *width*; shortened with an ellipsis only at the smallest size."""
    words = text.split()
    first: list[str] = []
    while words and text_width_mm(" ".join(first + words[:1]), size, bold=True) <= width:
        first.append(words.pop(0))
    if not words:
        return [" ".join(first)]
    if not first:
        return None if not last_size else [_shortened(" ".join(words), size, width)]
    rest = " ".join(words)
    if text_width_mm(rest, size, bold=True) <= width:
        return [" ".join(first), rest]
    return [" ".join(first), _shortened(rest, size, width)] if last_size else None


def _shortened(text: str, size: float, width: float) -> str:
    while text and text_width_mm(text + ELLIPSIS, size, bold=True) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS
