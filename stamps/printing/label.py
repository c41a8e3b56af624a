"""What one label says and where each part goes, in millimetres from the label's top-left corner.

A label carries the QR (with its 4-module quiet zone), the product name (bold,
up to two lines), the OCOP stars, the lot code, the unit's serial and its short
code. The plan is made once per batch and label size: the largest text size at
which every line fits beside the QR (or under it, on a narrow label), so every
output format draws the same label.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from stamps.code import BASE32_ALPHABET, short_code
from stamps.issuance import IssuedCode
from stamps.printing.fonts import POINTS_PER_MM, printable, text_width_mm
from stamps.printing.layout import LayoutError
from stamps.qr import QUIET_ZONE_MODULES

DEFAULT_MODULE_MM = 0.375  # 3 dots of a 203 dpi printer; DENSO's 4-dot 0.5 mm is available with --module-mm
MIN_MODULE_MM = 0.33
MAX_MODULE_MM = 2.0
PADDING_MM = 1.2
MIN_TEXT_COLUMN_MM = 14.0
TEXT_SIZES_PT = (7.5, 7.0, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0)
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


def plan_label(label_mm: tuple[float, float], qr_modules: int, texts: BatchTexts, example: StampUnit,
               module_mm: float = DEFAULT_MODULE_MM) -> LabelPlan:
    """The plan for labels of *label_mm*: the QR at *module_mm* per module, the text beside or under it."""
    check_module_size(module_mm)
    width, height = label_mm
    side = (qr_modules + 2 * QUIET_ZONE_MODULES) * module_mm
    if side > min(width, height):
        raise LayoutError(f"The QR needs {side:.1f} x {side:.1f} mm at {module_mm:g} mm per module; a {width:g} x {height:g} mm "
                          "label is too small (choose a larger label or a smaller --module-mm).")
    widest_example = StampUnit(max(texts.quantity, example.serial), example.url, _widest_check(example.short_code))
    if width - side - PADDING_MM >= MIN_TEXT_COLUMN_MM:  # text beside the QR, both clear of the die-cut edge
        qr_left, qr_top = min(PADDING_MM, width - side - PADDING_MM - MIN_TEXT_COLUMN_MM), (height - side) / 2
        column = (qr_left + side, PADDING_MM, width - qr_left - side - PADDING_MM, height - 2 * PADDING_MM)
    else:  # text under the QR
        qr_left, qr_top = (width - side) / 2, 0.0
        column = (PADDING_MM, side, width - 2 * PADDING_MM, height - side - PADDING_MM)
    lines = _fit(texts, widest_example, column)
    if lines is None:
        raise LayoutError(f"The product name, stars, lot, serial and short code do not fit on a {width:g} x {height:g} mm label "
                          "beside its QR, even in 4 pt type; choose a larger label.")
    shared, serial_slot, code_slot = lines[:-2], lines[-2], lines[-1]
    return LabelPlan(label_mm, module_mm, qr_modules, qr_left, qr_top, tuple(shared), serial_slot, code_slot)


def _widest_check(code: str) -> str:
    """*code* with its check character replaced by the widest one it can have, so every unit's line fits."""
    return code[:-1] + max(BASE32_ALPHABET, key=lambda char: text_width_mm(char, TEXT_SIZES_PT[0]))


def _fit(texts: BatchTexts, unit: StampUnit, column: tuple[float, float, float, float]) -> list[TextLine] | None:
    """The lines at the largest size that fits the column (name wrapped to two lines, then shortened), centred."""
    left, top, width, height = column
    for size in TEXT_SIZES_PT:
        name_size = size + 1
        name = _wrapped(texts.product, name_size, width, last_size=size == TEXT_SIZES_PT[-1])
        others = [line for line in (texts.stars_line, lot_line(texts.lot_code), unit.serial_line, unit.code_line) if line]
        if name is None or any(text_width_mm(line, size) > width for line in others):
            continue
        rows = [(line, name_size, True) for line in name] + [(line, size, False) for line in others]
        block = sum(row_size for _, row_size, _ in rows) * LINE_SPACING / POINTS_PER_MM
        if block > height:
            continue
        return list(_placed(rows, left, top + (height - block) / 2))
    return None


def _placed(rows: Iterable[tuple[str, float, bool]], left: float, top: float) -> Iterator[TextLine]:
    y = top
    for text, size, bold in rows:
        line_height = size * LINE_SPACING / POINTS_PER_MM
        yield TextLine(text, left, y + line_height * 0.8, size, bold)
        y += line_height


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
