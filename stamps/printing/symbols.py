"""QR module matrices for stamp URLs: zxing-cpp in bulk, segno as the reference.

Encoding, not signing, is what limits bulk printing: segno's ``make()`` builds
about 100 version-7 symbols a second here (most of it choosing the mask),
zxing-cpp's C++ encoder about 2,200. Bulk output (PDF sheets, roll pages, PNG)
therefore takes its matrices from zxing-cpp, at the same error-correction level
and version as segno's reference symbol; the tests decode what is printed back
to exactly the issued code. The two encoders may choose different masks, so
their matrices differ while holding the same text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import zxingcpp

from stamps.errors import StampError
from stamps.qr import ERROR_LEVEL, QUIET_ZONE_MODULES, make_qr

_DARK_RUN = re.compile(b"\x00+")


@dataclasses.dataclass(frozen=True)
class QRMatrix:
    """A square QR symbol without its quiet zone: ``size`` rows of ``size`` bytes, 0 for a dark module."""

    size: int
    modules: bytes

    @property
    def version(self) -> int:
        return (self.size - 17) // 4

    @property
    def size_with_quiet_zone(self) -> int:
        return self.size + 2 * QUIET_ZONE_MODULES

    def is_dark(self, x: int, y: int) -> bool:
        return self.modules[y * self.size + x] == 0

    def dark_runs(self) -> Iterator[tuple[int, int, int]]:
        """``(y, x, length)`` of each horizontal run of dark modules, row by row: what a vector writer draws."""
        size = self.size
        for y in range(size):
            for run in _DARK_RUN.finditer(self.modules, y * size, (y + 1) * size):
                yield y, run.start() - y * size, run.end() - run.start()


class SymbolError(StampError):
    """The bulk encoder built something other than the stamp's reference symbol."""


def bulk_matrix(url: str) -> QRMatrix:
    """The symbol for a stamp URL from zxing-cpp (the scheme in byte mode, the rest alphanumeric, level M)."""
    barcode = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level=ERROR_LEVEL)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    return QRMatrix(int(image.shape[0]), bytes(memoryview(image)))  # type: ignore[arg-type]  # Image has the buffer protocol


def reference_matrix(url: str) -> QRMatrix:
    """The same symbol from segno (``stamps.qr.make_qr``), as a matrix."""
    symbol = make_qr(url)
    return QRMatrix(int(symbol.symbol_size(border=0)[0]),
                    bytes(0 if dark else 255 for row in symbol.matrix for dark in row))


class BulkEncoder:
    """zxing-cpp matrices, each checked to have the size of segno's reference symbol (*expected_size*, or else the
    size segno gives the first URL)."""

    def __init__(self, expected_size: int | None = None) -> None:
        self._size = expected_size

    def matrix(self, url: str) -> QRMatrix:
        found = bulk_matrix(url)
        if self._size is None:
            self._size = reference_matrix(url).size
        if found.size != self._size:
            raise SymbolError(f"zxing-cpp built a {found.size}-module symbol where segno builds {self._size}; "
                              "refusing to print stamps that differ from the reference.")
        return found
