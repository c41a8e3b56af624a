"""Where labels sit: A4 sticker grids, roll labels, and custom grids, all in millimetres.

A sheet preset names a real sticker product's grid (label size, margins and
gaps as printed on its box), so the stamps land on the stickers. A roll preset
is one label per page, the page the size of the label, for roll and thermal
printers. Sizes are millimetres throughout; the PDF writer converts.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator

from stamps.errors import StampError

A4_MM = (210.0, 297.0)
PAGE_SIZES_MM = {"a4": A4_MM, "a5": (148.0, 210.0), "letter": (215.9, 279.4)}
MIN_LABEL_MM = 15.0
MAX_PAGE_MM = 1000.0  # far beyond any label or sheet, well within PDF's 5 m page limit


class LayoutError(StampError):
    """A layout that cannot be printed: labels off the page, too small for the QR, a malformed size."""


@dataclasses.dataclass(frozen=True)
class Slot:
    """One label's place: the page it is on and its top-left corner, from the page's top-left corner."""

    page: int
    x_mm: float
    y_mm: float


@dataclasses.dataclass(frozen=True)
class Layout:
    """Labels of one size in a grid of *columns* x *rows* per page (1 x 1 for a roll)."""

    name: str
    description: str
    page_mm: tuple[float, float]
    label_mm: tuple[float, float]
    columns: int = 1
    rows: int = 1
    margin_mm: tuple[float, float] = (0.0, 0.0)  # top, left
    gap_mm: tuple[float, float] = (0.0, 0.0)  # between columns, between rows
    roll: bool = False

    def __post_init__(self) -> None:
        sizes = self.page_mm + self.label_mm + self.margin_mm + self.gap_mm
        if not all(math.isfinite(size) and size <= MAX_PAGE_MM for size in sizes):
            raise LayoutError(f"Sizes must be ordinary numbers of millimetres, at most {MAX_PAGE_MM:g}.")
        width, height = self.label_mm
        if width < MIN_LABEL_MM or height < MIN_LABEL_MM:
            raise LayoutError(f"Labels of {width:g} x {height:g} mm are too small; {MIN_LABEL_MM:g} mm is the least each way.")
        if self.columns < 1 or self.rows < 1:
            raise LayoutError("A sheet needs at least one column and one row.")
        if min(self.margin_mm + self.gap_mm) < 0:
            raise LayoutError("Margins and gaps cannot be negative.")
        right = self.margin_mm[1] + self.columns * width + (self.columns - 1) * self.gap_mm[0]
        bottom = self.margin_mm[0] + self.rows * height + (self.rows - 1) * self.gap_mm[1]
        if right > self.page_mm[0] + 0.01 or bottom > self.page_mm[1] + 0.01:
            raise LayoutError(f"{self.columns} x {self.rows} labels of {width:g} x {height:g} mm do not fit on a "
                              f"{self.page_mm[0]:g} x {self.page_mm[1]:g} mm page (they need {right:g} x {bottom:g} mm).")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def pages_for(self, count: int) -> int:
        return math.ceil(count / self.per_page)

    def slots(self, count: int) -> Iterator[Slot]:
        """The places of *count* labels, row by row, page after page."""
        width, height = self.label_mm
        for index in range(count):
            page, place = divmod(index, self.per_page)
            row, column = divmod(place, self.columns)
            yield Slot(page, self.margin_mm[1] + column * (width + self.gap_mm[0]),
                       self.margin_mm[0] + row * (height + self.gap_mm[1]))


def _sheet(name: str, product: str, columns: int, rows: int, label: tuple[float, float], margin: tuple[float, float],
           gap: tuple[float, float] = (0.0, 0.0)) -> Layout:
    description = f"A4 sheet, {columns} x {rows} = {columns * rows} labels of {label[0]:g} x {label[1]:g} mm ({product})"
    return Layout(name, description, A4_MM, label, columns, rows, margin, gap)


def _roll(width: float, height: float) -> Layout:
    return Layout(f"roll-{width:g}x{height:g}", f"roll, one {width:g} x {height:g} mm label per page", (width, height),
                  (width, height), roll=True)


SHEET_PRESETS: tuple[Layout, ...] = (
    _sheet("a4-24", "Avery 3474, Tomy A4 24", 3, 8, (70.0, 37.0), (0.5, 0.0)),
    _sheet("a4-21", "Avery L7160", 3, 7, (63.5, 38.1), (15.15, 7.2), (2.5, 0.0)),
    _sheet("a4-14", "Avery L7163", 2, 7, (99.1, 38.1), (15.15, 4.65), (2.5, 0.0)),
    _sheet("a4-40", "Avery 3657", 4, 10, (48.5, 25.4), (21.5, 8.0)),
)
ROLL_PRESETS: tuple[Layout, ...] = (_roll(50, 30), _roll(40, 30), _roll(50, 25), _roll(60, 40))
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in SHEET_PRESETS + ROLL_PRESETS}
DEFAULT_SHEET = "a4-24"

_SIZE = r"\s*(\d+(?:\.\d+)?)\s*[x×*]\s*(\d+(?:\.\d+)?)\s*"


def parse_pair(text: str, what: str) -> tuple[float, float]:
    """``70x37`` (or ``70×37``) as two numbers; LayoutError naming *what* otherwise."""
    match = re.fullmatch(_SIZE, text)
    if not match:
        raise LayoutError(f"{what} must be two numbers like 70x37, not {text!r}.")
    return float(match.group(1)), float(match.group(2))


def custom_sheet(grid: str, label: str, margins: str = "0x0", gaps: str = "0x0", page: str = "a4") -> Layout:
    """A sheet of any grid: *grid* COLUMNSxROWS, *label* WxH mm, *margins* TOPxLEFT mm, *gaps* COLUMNxROW mm."""
    columns, rows = parse_pair(grid, "The grid (COLUMNSxROWS)")
    if not (columns.is_integer() and rows.is_integer()):
        raise LayoutError(f"The grid counts whole labels, like 3x8, not {grid!r}.")
    if page.lower() not in PAGE_SIZES_MM:
        raise LayoutError(f"Unknown page size {page!r}; choose one of {', '.join(PAGE_SIZES_MM)}.")
    size = parse_pair(label, "The label size (WIDTHxHEIGHT in mm)")
    layout = Layout("custom", f"{page.upper()} sheet, {int(columns)} x {int(rows)} labels of {size[0]:g} x {size[1]:g} mm",
                    PAGE_SIZES_MM[page.lower()], size, int(columns), int(rows),
                    parse_pair(margins, "The margins (TOPxLEFT in mm)"), parse_pair(gaps, "The gaps (COLUMNxROW in mm)"))
    return layout


def custom_roll(label: str) -> Layout:
    """One label of *label* WxH mm per page."""
    width, height = parse_pair(label, "The label size (WIDTHxHEIGHT in mm)")
    return _roll(width, height)
