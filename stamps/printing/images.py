"""One image per stamp: SVG (vector, millimetre-sized) and PNG (600 dpi), the QR with its quiet zone.

These are for people who place the QR in their own packaging artwork; label
sheets and roll labels are the PDF and thermal outputs. Matrices come from
the bulk encoder (see symbols.py); the SVG is built with ElementTree.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from PIL import Image

from stamps.printing.label import StampUnit
from stamps.printing.symbols import QRMatrix
from stamps.qr import QUIET_ZONE_MODULES

PNG_DPI = 600
IMAGE_MODULE_MM = 0.5  # without --module-mm: DENSO Wave's 4 dots of a 203 dpi printer (images have no label to fill)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def svg_bytes(matrix: QRMatrix, unit: StampUnit, module_mm: float = IMAGE_MODULE_MM) -> bytes:
    """A standalone SVG of *module_mm* per module: one path of the dark runs, on a white quiet zone."""
    side = matrix.size_with_quiet_zone
    root = ElementTree.Element("svg", {"xmlns": SVG_NAMESPACE, "width": f"{side * module_mm:g}mm",
                                       "height": f"{side * module_mm:g}mm", "viewBox": f"0 0 {side} {side}",
                                       "shape-rendering": "crispEdges"})
    ElementTree.SubElement(root, "title").text = f"{unit.short_code} ({unit.serial_line})"
    ElementTree.SubElement(root, "rect", {"width": str(side), "height": str(side), "fill": "#fff"})
    path = "".join(f"M{x + QUIET_ZONE_MODULES} {y + QUIET_ZONE_MODULES}h{length}v1h-{length}z"
                   for y, x, length in matrix.dark_runs())
    ElementTree.SubElement(root, "path", {"d": path, "fill": "#000"})
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def png_pixels_per_module(module_mm: float = IMAGE_MODULE_MM) -> int:
    """Whole pixels per module at 600 dpi, rounded up so the printed module is never smaller than asked."""
    return math.ceil(module_mm * PNG_DPI / 25.4 - 1e-9)


def save_png(matrix: QRMatrix, path: Path, module_mm: float = IMAGE_MODULE_MM) -> None:
    """A 1-bit PNG at 600 dpi with the quiet zone (Pillow writes it)."""
    scale = png_pixels_per_module(module_mm)
    symbol = Image.frombytes("L", (matrix.size, matrix.size), matrix.modules)
    side = matrix.size_with_quiet_zone
    image = Image.new("L", (side, side), 255)
    image.paste(symbol, (QUIET_ZONE_MODULES, QUIET_ZONE_MODULES))
    bilevel = image.convert("1", dither=Image.Dither.NONE)  # modules are already black or white
    bilevel.resize((side * scale, side * scale), Image.Resampling.NEAREST).save(path, format="PNG", dpi=(PNG_DPI, PNG_DPI))
