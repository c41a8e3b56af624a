"""Thermal label printers: ZPL (Zebra) and TSPL (TSC, Xprinter), one label per stamp.

A ZPL label carries the QR as a graphic drawn from our own matrix, so every
firmware prints exactly the reference symbol; a TSPL label has the printer
draw the QR with its own command from the reference segments. Text goes as
1-bit bitmaps because the printers' built-in fonts have no Vietnamese letters.
The lines every label of a batch shares are rendered once per batch.

Why each choice (sources in brackets; what could not be checked on a printer
is marked *unverified*):

- Dots per millimetre. Print heads are made in dots per millimetre: "203 dpi"
  is 8 dots/mm, "300 dpi" 12 and "600 dpi" 24 [barcodefactory.com, "203, 300
  or 600 dpi thermal label printer"; Labelary's densities are the same]. Using
  300/25.4 = 11.81 instead would drift 0.8 mm across a 50 mm label.
- QR module. A module is a whole number of dots, rounded up so it is never
  smaller than the label was laid out for; the label must therefore be laid
  out with :func:`printer_module_mm` (0.375 mm is 3 dots at 203 dpi, but 5
  dots = 0.417 mm at 300 dpi; the automatic module of label.plan_label is
  whole dots already), and the writers refuse a plan whose QR would print
  larger than its place. More than 10 dots per module is refused rather than
  risked [Brother's FBPL, a TSPL dialect, QRCODE "cell width 1~10"].
- ZPL QR as a ``^GFA`` graphic, not ``^BQ``. ZPL's ``^BQ`` has no way to give
  several character modes in one normal-mode symbol (its "mixed" mode is
  structured append), so with automatic input (``^FDMA,``) the firmware picks
  the segments: zebrash (the ``zpl-renderer-js`` package), an independent
  emulator, drew version 9 instead of the reference version 7 and overlapped
  the text (0 of 24 labels decoded). The graphic is the bulk encoder's
  matrix (symbols.py: zxing-cpp, checked against segno's reference size) with
  its 4-module quiet zone, each module a square of whole dots; the tests
  render whole jobs with zebrash and decode every label. It also removes the
  ``^FO`` + ``^BQ`` offset by the printer-persistent ``^BY`` height.
- ZPL ``^GFA`` bits are 1 = a printed dot, in hexadecimal with the byte count
  twice ("for ASCII download, the parameter should match parameter c") and
  the bytes per row [ZPL II guide, ^GF]. Two of ZPL's ASCII compressions
  shorten the data: "a comma in the data pads the current line with 00"
  [^GF], and ``:`` repeats the previous line [the ASCII format "follows the
  format for other download commands", whose "Alternative Data Compression
  Scheme for ~DG and ~DB Commands" defines it], so a module's repeated dot
  rows cost one character each (a 300 dpi QR is 3 KB instead of 18 KB).
  *Unverified* on a printer; zebrash reads both. Every label pins ``^LH0,0``
  (the label home persists in the printer), ``^CI28`` (UTF-8), ``^PW``/``^LL``
  (the label in dots) and ``^PQ1``.
- TSPL QR is Model 2 (``M2``; the manual's default is the original Model 1)
  in manual mode with the reference segments, ``"B0008https://!A<REST>"``, so
  the printer cannot pick a larger version [TSC M23 programming manual,
  QRCODE: "B" then a 4-digit byte count; "!" followed by N, A, B or K switches
  the character set, with a mixed "N123456!A..." example; S7 is the default
  mask FBPL documents]. *Unverified* on a printer, and on Xprinter's TSPL
  clones in particular.
- TSPL ``BITMAP`` bits are 1 = white, 0 = a printed dot, leftmost pixel in the
  most significant bit [kubesail/raster-to-tspl-js sets 1 for light pixels;
  LPrint's TSPL driver sends CUPS white-space rasters]; mode 1 (OR) only adds
  dots, so a bitmap's white padding can never erase the QR.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from PIL import Image, ImageDraw, ImageFont

from stamps.errors import StampError
from stamps.printing.fonts import BOLD, FONT_FILES, POINTS_PER_MM, REGULAR
from stamps.printing.label import MAX_MODULE_DOTS, MIN_MODULE_MM, LabelPlan, StampUnit, TextLine
from stamps.printing.symbols import BulkEncoder, QRMatrix, reference_matrix
from stamps.qr import QUIET_ZONE_MODULES
from stamps.url import MODE_BYTE, qr_segments

DOTS_PER_MM = {203: 8, 300: 12, 600: 24}
ZPL_DPIS = (203, 300, 600)
TSPL_DPIS = (203, 300)
DEFAULT_GAP_MM = 2.0
INK_THRESHOLD = 128  # antialiased glyph coverage (0-255) from which a dot is printed
_STAMP_URL = re.compile(r"https?://[0-9A-Z$%*+\-./:]+")
_INK_TABLE = [0] * INK_THRESHOLD + [255] * (256 - INK_THRESHOLD)
_DARK_TABLE = [255 - value for value in _INK_TABLE]  # a matrix's 0 (dark module) becomes ink

Progress = Callable[[int], None]


class ThermalError(StampError):
    """Something a thermal printer cannot print as asked: its resolution, the QR size, or a URL."""


@dataclasses.dataclass(frozen=True)
class QRPlacement:
    """Where the printer draws the symbol: its top-left corner (without the quiet zone) in dots."""

    x: int
    y: int
    module_dots: int
    modules: int

    @property
    def side(self) -> int:
        return self.modules * self.module_dots


@dataclasses.dataclass(frozen=True)
class Bitmap:
    """A text line or a QR as a 1-bit image at (x, y) dots: rows of *width_bytes*, 1 bits for printed dots, MSB
    leftmost.

    *width* is the ink width (the glyphs', or the QR's with its quiet zone); rows are padded with white to whole bytes.
    """

    x: int
    y: int
    width: int
    width_bytes: int
    height: int
    ink: bytes


def dots_per_mm(dpi: int, supported: tuple[int, ...] = ZPL_DPIS) -> int:
    """The printer's dots per millimetre at *dpi*; ThermalError for a resolution it does not come in."""
    if dpi not in supported or dpi not in DOTS_PER_MM:
        raise ThermalError(f"Thermal labels are made for {', '.join(map(str, supported))} dpi printers, not {dpi} dpi.",
                           hint="Use the resolution printed on the printer's label (--dpi).")
    return DOTS_PER_MM[dpi]


def printer_module_dots(module_mm: float, dpi: int) -> int:
    """Whole dots per QR module: the fewest that are at least *module_mm* (a smaller module scans worse)."""
    if module_mm < MIN_MODULE_MM:
        raise ThermalError(f"A QR module of {module_mm:g} mm is too small to scan reliably; use {MIN_MODULE_MM:g} mm or more.")
    dots = math.ceil(module_mm * dots_per_mm(dpi) - 1e-6)
    if dots > MAX_MODULE_DOTS:
        raise ThermalError(f"A QR module of {module_mm:g} mm is {dots} dots at {dpi} dpi; thermal printers take at most "
                           f"{MAX_MODULE_DOTS}.", hint="Choose a smaller --module-mm.")
    return dots


def printer_module_mm(module_mm: float, dpi: int) -> float:
    """The module size a *dpi* printer really prints for *module_mm*: lay thermal labels out with this."""
    return printer_module_dots(module_mm, dpi) / dots_per_mm(dpi)


def qr_placement(plan: LabelPlan, dpi: int) -> QRPlacement:
    """The symbol's place in dots, or ThermalError if the printed QR would outgrow the place the plan gave it."""
    per_mm = dots_per_mm(dpi)
    module = printer_module_dots(plan.module_mm, dpi)
    quiet = QUIET_ZONE_MODULES * module
    printed = plan.qr_modules * module + 2 * quiet
    if printed > plan.qr_side_mm * per_mm + 1:  # one dot of slack for rounding
        raise ThermalError(f"At {dpi} dpi a QR module prints as {module} dots ({module / per_mm:.3f} mm), larger than the "
                           f"{plan.module_mm:g} mm this label was laid out for.",
                           hint=f"Lay the label out with a {printer_module_mm(plan.module_mm, dpi):.4f} mm module "
                                "(thermal.printer_module_mm).")
    placement = QRPlacement(_dots(plan.qr_left_mm, per_mm) + quiet, _dots(plan.qr_top_mm, per_mm) + quiet, module,
                            plan.qr_modules)
    _check_inside(plan, per_mm, placement.x, placement.y, placement.side, placement.side, "The QR")
    return placement


def render_line(line: TextLine, dpi: int) -> Bitmap:
    """*line* as printer dots: the embedded font at its size, antialiased then cut at INK_THRESHOLD.

    The bitmap is the glyphs' ink box, its width padded to whole bytes, placed so the baseline lands on the
    plan's baseline.
    """
    per_mm = dots_per_mm(dpi)
    font = _font(line.bold, line.size_pt / POINTS_PER_MM * per_mm)
    box = font.getbbox(line.text, anchor="ls")
    left, top, right, bottom = math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])
    width, height = max(1, right - left), max(1, bottom - top)
    image = Image.new("L", (-(-width // 8) * 8, height), 0)
    ImageDraw.Draw(image).text((-left, -top), line.text, fill=255, font=font, anchor="ls")
    ink = image.point(_INK_TABLE, "1").tobytes()
    return Bitmap(_dots(line.x_mm, per_mm) + left, _dots(line.baseline_mm, per_mm) + top, width, image.width // 8,
                  height, ink)


def qr_bitmap(matrix: QRMatrix, qr: QRPlacement) -> Bitmap:
    """The symbol and its white quiet zone at *qr*'s place, each module *qr.module_dots* square."""
    quiet = QUIET_ZONE_MODULES * qr.module_dots
    side = qr.side + 2 * quiet
    dark = Image.frombytes("L", (matrix.size, matrix.size), matrix.modules).point(_DARK_TABLE)
    ink = Image.new("L", (-(-side // 8) * 8, side), 0)
    ink.paste(dark.resize((qr.side, qr.side), Image.Resampling.NEAREST), (quiet, quiet))
    bits = ink.convert("1", dither=Image.Dither.NONE).tobytes()  # modules are already black or white
    return Bitmap(qr.x - quiet, qr.y - quiet, side, ink.width // 8, side, bits)


def write_zpl(handle: BinaryIO, plan: LabelPlan, units: Iterable[StampUnit], *, dpi: int = 203,
              progress: Progress | None = None) -> int:
    """One ZPL format (``^XA`` ... ``^XZ``) per unit into *handle*; returns the number of labels written."""
    per_mm = dots_per_mm(dpi, ZPL_DPIS)
    qr = qr_placement(plan, dpi)
    encoder = BulkEncoder(plan.qr_modules)
    head = f"^XA\n^CI28\n^PW{_dots(plan.label_mm[0], per_mm)}\n^LL{_dots(plan.label_mm[1], per_mm)}\n^LH0,0\n"
    shared = "".join(_zpl_graphic(_placed_line(plan, line, dpi)) for line in plan.shared_lines)
    count = 0
    for unit in _checked_units(plan, units):
        own = "".join(_zpl_graphic(_placed_line(plan, line, dpi)) for line in plan.unit_lines(unit))
        symbol = _zpl_graphic(qr_bitmap(encoder.matrix(unit.url), qr))
        handle.write((head + shared + own + symbol + "^PQ1\n^XZ\n").encode("ascii"))
        count += 1
        if progress:
            progress(1)
    return count


def write_tspl(handle: BinaryIO, plan: LabelPlan, units: Iterable[StampUnit], *, dpi: int = 203,
               gap_mm: float = DEFAULT_GAP_MM, progress: Progress | None = None) -> int:
    """A TSPL job into *handle*: the label setup once, then ``CLS`` ... ``PRINT 1,1`` per unit; returns the count."""
    dots_per_mm(dpi, TSPL_DPIS)
    qr = qr_placement(plan, dpi)
    width, height = plan.label_mm
    handle.write(f"SIZE {width:g} mm,{height:g} mm\r\nGAP {gap_mm:g} mm,0 mm\r\nDIRECTION 1,0\r\nREFERENCE 0,0\r\n"
                 .encode("ascii"))
    shared = b"".join(_tspl_bitmap(_placed_line(plan, line, dpi)) for line in plan.shared_lines)
    count = 0
    for unit in _checked_units(plan, units):
        own = b"".join(_tspl_bitmap(_placed_line(plan, line, dpi)) for line in plan.unit_lines(unit))
        symbol = f'QRCODE {qr.x},{qr.y},M,{qr.module_dots},M,0,M2,S7,"{tspl_qr_content(unit.url)}"\r\n'
        handle.write(b"CLS\r\n" + shared + own + symbol.encode("ascii") + b"PRINT 1,1\r\n")
        count += 1
        if progress:
            progress(1)
    return count


def tspl_qr_content(url: str) -> str:
    """The URL in TSPL's manual QR input: each segment as its mode letter (B with a 4-digit byte count), "!" between."""
    _check_url(url)
    parts = [f"B{len(text):04d}{text}" if mode == MODE_BYTE else f"A{text}" for text, mode in qr_segments(url)]
    return "!".join(parts)


@functools.cache
def _font(bold: bool, size_px: float) -> ImageFont.FreeTypeFont:
    """The label font at *size_px* pixels per em; basic layout, as the precomposed NFC text needs no shaping."""
    return ImageFont.truetype(str(FONT_FILES[BOLD if bold else REGULAR]), size_px,
                              layout_engine=ImageFont.Layout.BASIC)


def _dots(mm: float, per_mm: int) -> int:
    return round(mm * per_mm)


def _placed_line(plan: LabelPlan, line: TextLine, dpi: int) -> Bitmap:
    bitmap = render_line(line, dpi)
    _check_inside(plan, dots_per_mm(dpi), bitmap.x, bitmap.y, bitmap.width, bitmap.height, f"The line {line.text!r}")
    return bitmap


def _check_inside(plan: LabelPlan, per_mm: int, x: int, y: int, width: int, height: int, what: str) -> None:
    """ThermalError if a box starting at (x, y) leaves the label: printers take no negative coordinates."""
    if x < 0 or y < 0 or x + width > _dots(plan.label_mm[0], per_mm) or y + height > _dots(plan.label_mm[1], per_mm):
        raise ThermalError(f"{what} does not fit on the {plan.label_mm[0]:g} x {plan.label_mm[1]:g} mm label.")


def _checked_units(plan: LabelPlan, units: Iterable[StampUnit]) -> Iterator[StampUnit]:
    """*units*, each URL checked printable; the first against the plan's QR size, the rest against the first.

    Segment modes and lengths fix the QR version, so one reference symbol per batch is enough.
    """
    shape: tuple[tuple[str, int], ...] | None = None
    for unit in units:
        _check_url(unit.url)
        found = tuple((mode, len(text)) for text, mode in qr_segments(unit.url))
        if shape is None and reference_matrix(unit.url).size != plan.qr_modules:
            raise ThermalError(f"Serial {unit.serial}'s QR is not the {plan.qr_modules}-module symbol the label was "
                               "laid out for.")
        if shape is not None and found != shape:
            raise ThermalError(f"Serial {unit.serial}'s URL differs in form from the batch's first; its QR would have "
                               "another size.")
        shape = found
        yield unit


def _check_url(url: str) -> None:
    """Only stamp URLs: printer commands quote them raw (a ``"``, ``^`` or control character would break the job)."""
    if not _STAMP_URL.fullmatch(url):
        raise ThermalError(f"Cannot print {url[:80]!r} as a stamp QR: a stamp URL is http:// or https:// followed by "
                           "upper-case letters, digits and $%*+-./: only.")


def _zpl_graphic(bitmap: Bitmap) -> str:
    size = len(bitmap.ink)
    return f"^FO{bitmap.x},{bitmap.y}^GFA,{size},{size},{bitmap.width_bytes},{zpl_graphic_data(bitmap)}^FS\n"


def zpl_graphic_data(bitmap: Bitmap) -> str:
    """The bitmap's rows in ZPL's ASCII hexadecimal: a row equal to the one before as ``:``, trailing zeros as ``,``."""
    rows, previous = [], b""
    for start in range(0, len(bitmap.ink), bitmap.width_bytes):
        row = bitmap.ink[start:start + bitmap.width_bytes]
        if row == previous:
            rows.append(":")
        else:
            digits = row.hex().upper()
            kept = digits.rstrip("0")
            rows.append(kept + "," if len(kept) < len(digits) else digits)
        previous = row
    return "".join(rows)


def _tspl_bitmap(bitmap: Bitmap) -> bytes:
    white_ones = bytes(byte ^ 0xFF for byte in bitmap.ink)
    return (f"BITMAP {bitmap.x},{bitmap.y},{bitmap.width_bytes},{bitmap.height},1,".encode("ascii") + white_ones
            + b"\r\n")
