"""Benchmark: do printed stamps scan? zxing-cpp decodes rendered labels, clean and under single degradations.

Run from the repository root::

    .venv/bin/python bench/scan.py                      # 240 stamps at the automatic module (0.625 mm on a4-24)
    .venv/bin/python bench/scan.py --module-mm 0.375    # 3 dots per module at 203 dpi, the smallest it prints
    .venv/bin/python bench/scan.py --stamps 48 --save-failures /tmp/scan-failures

What is measured: one throw-away instance (the demo's records and key, base
URL ``https://truyxuat.example.vn``, so every stamp is a version 7 QR of 45
modules, level M) signs a batch and issues ``--stamps`` codes. They are laid
out exactly as ``ocop-stamps`` prints them: the default A4 sheet
(``LAYOUTS[DEFAULT_SHEET]``), the module ``plan_label`` chooses for it (the
largest whole number of 203 dpi dots that leaves the text readable: 5 dots,
0.625 mm) unless ``--module-mm`` says otherwise, the label plan of
``plan_label`` and the PDF of ``PdfLabelWriter``. Each page is then
rasterised by PDFium (pypdfium2, grayscale, its default anti-aliasing) and cut
into one image per label, so each decode sees exactly one stamp (with its
text) and the code it must give back is known.

The conditions, each on its own (never combined), all at the module size above:

- clean, 203 dpi: the render a thermal or office printer at 8 dots/mm makes;
- clean, 300 dpi: the other common printer resolution (an extra row, no target);
- blur: Gaussian, sigma 1.0 px at 203 dpi (0.125 mm, a fifth of a 0.625 mm
  module, a third of a 0.375 mm one): a phone focusing slightly in front of
  or behind a small code, so each module edge is smeared over about two
  fifths of a 0.625 mm module (two thirds of a 0.375 mm one);
- noise: additive Gaussian, sigma 25 of 255 grey levels, clipped (a dim
  room's sensor noise), seeded by ``--seed`` and the stamp's index;
- rotation: 15 degrees, canvas expanded, white fill, bicubic;
- perspective: the QR symbol's far side 15 % shorter than its near side (the
  same homography applied to the whole label, white fill, bicubic; the
  canvas is cut at two symbol widths around the symbol, as the text far from
  the QR is magnified when the short side faces it), the foreshortened side
  taking turns between right, left, top and bottom;
- 2 px per module: the page rendered again at ``2 x 25.4 / module_mm`` dpi
  (81.3 dpi for 0.625 mm), i.e. a camera resolving each module with 2 pixels;
- JPEG quality 30: the clean 203 dpi label through Pillow's JPEG encoder.

A stamp counts as decoded when ``zxingcpp.read_barcodes`` (default options,
``formats=BarcodeFormat.QRCode``; the independent decoder the tests use)
returns exactly one symbol and its text is the issued code URL. Every other
stamp is one of:

- phantom: the URL was found, but so was another symbol. In zxing-cpp 3 the
  QRCode format is the QR family (Model 1 and 2, Micro QR, rMQR), and on a
  blurred label a finder-pattern corner of the stamp can decode as a short
  Micro QR of digits. It fails the "exactly one" rule, but the stamp did scan;
- wrong: no URL, but some other text (a misread, worse than no read);
- missed: nothing found.

The codes decoded on the clean 203 dpi row are also checked with the
instance's verifier, on the batch's production date (so the expiry warnings
of later dates do not colour a benchmark run in 2029): all must be genuine.

Targets (from the issue): at least 99 % on the clean 203 dpi render, at least
95 % under each single degradation. A fresh key signs new stamps on every run,
so rates can move by a stamp or two between runs; ``--seed`` fixes the noise.
It is a report: the exit status is 0 whatever the result (non-zero only when
the benchmark itself breaks).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import io
import platform
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageFilter

from stamps.demo import issue_demo_product_codes, run_demo
from stamps.instance import Instance
from stamps.printing.fonts import POINTS_PER_MM
from stamps.printing.label import BatchTexts, LabelPlan, StampUnit, plan_label
from stamps.printing.layout import DEFAULT_SHEET, LAYOUTS, Layout, LayoutError, Slot
from stamps.printing.pdf import PdfLabelWriter
from stamps.printing.symbols import BulkEncoder
from stamps.qr import ERROR_LEVEL, QUIET_ZONE_MODULES
from stamps.verify import Result

BASE_URL = "https://truyxuat.example.vn"
MM_PER_INCH = 25.4
PRINTER_DPI = 203.0
EXTRA_DPI = 300.0
LOW_PIXELS_PER_MODULE = 2
BLUR_SIGMA_PX = 1.0
NOISE_SIGMA = 25.0
ROTATION_DEGREES = 15.0
FORESHORTENING = 0.15
JPEG_QUALITY = 30
TARGET_CLEAN = 0.99
TARGET_DEGRADED = 0.95
SKEW_SIDES = ("right", "left", "top", "bottom")
QR_FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # the QR family, as the tests ask (typed for mypy)

Degrade = Callable[[Image.Image, int], Image.Image]


@dataclasses.dataclass(frozen=True)
class Condition:
    """One row of the table: which render it starts from and what is done to each label."""

    name: str
    render: str  # "203", "300" or "low": which rasterisation (a key of the dpis) the labels are cut from
    target: float | None
    degrade: Degrade | None = None


@dataclasses.dataclass(frozen=True)
class Stamps:
    """The issued stamps of the bench batch, on their open instance."""

    instance: Instance
    units: list[StampUnit]
    texts: BatchTexts
    produced_on: dt.date


@dataclasses.dataclass
class Row:
    condition: Condition
    stamps: int = 0
    decoded: int = 0
    phantom: int = 0
    wrong: int = 0
    missed: int = 0
    seconds: float = 0.0
    decoded_texts: list[str] = dataclasses.field(default_factory=list)
    extra_formats: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    @property
    def rate(self) -> float:
        return self.decoded / self.stamps if self.stamps else 0.0

    @property
    def verdict(self) -> str:
        if self.condition.target is None:
            return "-"
        return "PASS" if self.rate >= self.condition.target else "FAIL"


# stamps -----------------------------------------------------------------


def issue_stamps(root: Path, count: int) -> Stamps:
    """The demo instance plus a batch of the demo product with *count* issued codes (the instance stays open)."""
    run_demo(root, BASE_URL)
    instance = Instance.open(root)
    try:
        batch, codes = issue_demo_product_codes(instance, "BENCH-SCAN", count, count)
        units = [StampUnit.from_issued(issued, batch.signed.digest_prefix) for issued in codes]
    except BaseException:
        instance.close()
        raise
    return Stamps(instance, units, BatchTexts.from_record(batch.record),
                  dt.date.fromisoformat(batch.record["batch"]["production_date"]))


# rendering --------------------------------------------------------------


def page_labels(page: pdfium.PdfPage, slots: list[Slot], label_mm: tuple[float, float], dpi: float) -> list[Image.Image]:
    """The labels at *slots* of one PDF page, each as its own grayscale image at *dpi*."""
    pixels_per_mm = dpi / MM_PER_INCH
    width_mm, height_mm = label_mm
    # a PDF unit is 1/72 in; the writer draws POINTS_PER_MM of them per mm
    image = page.render(scale=dpi / MM_PER_INCH / POINTS_PER_MM, grayscale=True).to_pil().convert("L")
    return [image.crop((round(slot.x_mm * pixels_per_mm), round(slot.y_mm * pixels_per_mm),
                        round((slot.x_mm + width_mm) * pixels_per_mm), round((slot.y_mm + height_mm) * pixels_per_mm)))
            for slot in slots]


# degradations -----------------------------------------------------------


def blur(image: Image.Image, index: int) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(BLUR_SIGMA_PX))  # Pillow's radius is the standard deviation


def noise(seed: int) -> Degrade:
    def degrade(image: Image.Image, index: int) -> Image.Image:
        rng = np.random.default_rng([seed, index])
        pixels = np.asarray(image, dtype=np.float32) + rng.normal(0.0, NOISE_SIGMA, (image.height, image.width))
        return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")

    return degrade


def rotate(image: Image.Image, index: int) -> Image.Image:
    return image.rotate(ROTATION_DEGREES, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def jpeg(image: Image.Image, index: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("L")


def homography(source: list[tuple[float, float]], target: list[tuple[float, float]]) -> np.ndarray:
    """The 3 x 3 projective map taking the four *source* points to the four *target* points."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    h = np.linalg.solve(np.array(rows, dtype=float), np.array(values, dtype=float))
    return np.append(h, 1.0).reshape(3, 3)


def foreshortened(box: tuple[float, float, float, float], side: str) -> list[tuple[float, float]]:
    """The corners (TL, TR, BR, BL) of *box* with *side* made FORESHORTENING shorter, centred on the same line."""
    x0, y0, x1, y1 = box
    dx, dy = FORESHORTENING / 2 * (x1 - x0), FORESHORTENING / 2 * (y1 - y0)
    return {
        "right": [(x0, y0), (x1, y0 + dy), (x1, y1 - dy), (x0, y1)],
        "left": [(x0, y0 + dy), (x1, y0), (x1, y1), (x0, y1 - dy)],
        "top": [(x0 + dx, y0), (x1 - dx, y0), (x1, y1), (x0, y1)],
        "bottom": [(x0, y0), (x1, y0), (x1 - dx, y1), (x0 + dx, y1)],
    }[side]


def perspective(plan: LabelPlan, dpi: float) -> Degrade:
    """Warp each label so its QR symbol's far side is FORESHORTENING shorter (the side taking turns by index)."""
    scale = dpi / MM_PER_INCH
    inset = QUIET_ZONE_MODULES * plan.module_mm
    left, top = (plan.qr_left_mm + inset) * scale, (plan.qr_top_mm + inset) * scale
    side = plan.qr_modules * plan.module_mm * scale
    symbol = (left, top, left + side, top + side)
    square = [(symbol[0], symbol[1]), (symbol[2], symbol[1]), (symbol[2], symbol[3]), (symbol[0], symbol[3])]

    def degrade(image: Image.Image, index: int) -> Image.Image:
        corners = [(0.0, 0.0), (image.width, 0.0), (image.width, image.height), (0.0, image.height)]
        warped_symbol = foreshortened(symbol, SKEW_SIDES[index % len(SKEW_SIDES)])
        forward = homography(square, warped_symbol)
        mapped = np.array([forward @ (x, y, 1.0) for x, y in corners])
        if np.any(mapped[:, 2] <= 0):
            raise SystemExit("the perspective warp puts part of the label behind the camera; lower FORESHORTENING")
        points = mapped[:, :2] / mapped[:, 2:]
        margin = 2 * side  # the canvas: the warped label, but no more than 2 symbol sides around the symbol
        low = np.floor(np.maximum(points.min(axis=0), np.min(warped_symbol, axis=0) - margin))
        high = np.ceil(np.minimum(points.max(axis=0), np.max(warped_symbol, axis=0) + margin))
        shift = np.array([[1.0, 0.0, -low[0]], [0.0, 1.0, -low[1]], [0.0, 0.0, 1.0]])
        inverse = np.linalg.inv(shift @ forward)  # Pillow wants output pixel -> input pixel
        coefficients = tuple((inverse / inverse[2, 2]).flatten()[:8])
        size = (int(high[0] - low[0]), int(high[1] - low[1]))
        return image.transform(size, Image.Transform.PERSPECTIVE, coefficients, resample=Image.Resampling.BICUBIC,
                               fillcolor=255)

    return degrade


# decoding ---------------------------------------------------------------


def run_condition(row: Row, labels: list[Image.Image], indices: list[int], units: list[StampUnit],
                  failures: Path | None) -> None:
    """Degrade and decode *labels* (the stamps of *indices*), adding what happened to *row*."""
    condition = row.condition
    started = time.perf_counter()
    for index, label in zip(indices, labels, strict=True):
        unit = units[index]
        image = condition.degrade(label, index) if condition.degrade else label
        found = zxingcpp.read_barcodes(image, formats=QR_FORMATS)
        texts = [barcode.text for barcode in found]
        row.stamps += 1
        if texts == [unit.url]:
            row.decoded += 1
            row.decoded_texts.append(texts[0])
            continue
        if unit.url in texts:
            row.phantom += 1
            row.extra_formats.update(str(barcode.format) for barcode in found if barcode.text != unit.url)
        elif texts:
            row.wrong += 1
        else:
            row.missed += 1
        if failures is not None:
            image.save(failures / f"{_slug(condition.name)}-{unit.serial:06d}.png")
    row.seconds += time.perf_counter() - started


def run_pages(pdf_path: Path, layout: Layout, units: list[StampUnit], dpis: dict[str, float], rows: list[Row],
              failures: Path | None) -> float:
    """Rasterise page after page (one page's labels in memory at a time) and run every row on it; seconds rendering."""
    slots = list(layout.slots(len(units)))
    rendering = 0.0
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        for number in range(layout.pages_for(len(units))):
            indices = [index for index, slot in enumerate(slots) if slot.page == number]
            started = time.perf_counter()
            page = document[number]
            try:
                labels = {key: page_labels(page, [slots[index] for index in indices], layout.label_mm, dpi)
                          for key, dpi in dpis.items()}
            finally:
                page.close()
            rendering += time.perf_counter() - started
            for row in rows:
                run_condition(row, labels[row.condition.render], indices, units, failures)
    finally:
        document.close()
    return rendering


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def count_genuine(stamps: Stamps, texts: list[str]) -> int:
    verifier = stamps.instance.verifier()
    return sum(verifier.verify(text, today=stamps.produced_on).result is Result.GENUINE for text in texts)


# report -----------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def print_setup(layout: Layout, plan: LabelPlan, count: int, version: int, low_dpi: float, seed: int) -> None:
    module_px = plan.module_mm * PRINTER_DPI / MM_PER_INCH
    print(f"stamps       : {count:,} codes of one signed batch under {BASE_URL}, QR version {version} "
          f"({plan.qr_modules} modules), level {ERROR_LEVEL}")
    print(f"labels       : {layout.name} ({layout.label_mm[0]:g} x {layout.label_mm[1]:g} mm), module {plan.module_mm:g} mm "
          f"= {module_px:.2f} px at {PRINTER_DPI:g} dpi, QR with quiet zone {plan.qr_side_mm:.1f} mm")
    print(f"render       : pypdfium2 {_version('pypdfium2')} (PDFium {pdfium.PDFIUM_INFO.build}), grayscale, anti-aliased; "
          f"{PRINTER_DPI:g}, {EXTRA_DPI:g} and {low_dpi:.1f} dpi ({LOW_PIXELS_PER_MODULE} px/module)")
    print(f"decoder      : zxing-cpp {_version('zxing-cpp')}, read_barcodes with default options, QR only")
    print(f"degradations : Pillow {_version('pillow')}, numpy {_version('numpy')}, seed {seed}; each alone, "
          f"on the clean {PRINTER_DPI:g} dpi label")
    print(f"python       : {platform.python_implementation()} {platform.python_version()}\n")


def print_report(rows: list[Row], genuine: int, verified_on: dt.date) -> None:
    print(f"{'condition':<38}{'stamps':>7}{'decoded':>8}{'phantom':>8}{'wrong':>6}{'missed':>7}{'rate':>8}{'target':>7}"
          f"{'ms/stamp':>9}  result")
    for row in rows:
        target = f"{row.condition.target:.0%}" if row.condition.target is not None else "-"
        print(f"{row.condition.name:<38}{row.stamps:>7,}{row.decoded:>8,}{row.phantom:>8,}{row.wrong:>6,}{row.missed:>7,}"
              f"{row.rate:>8.1%}{target:>7}{row.seconds * 1000 / max(1, row.stamps):>9.1f}  {row.verdict}")
    clean = rows[0]
    print(f"\nverifier     : {genuine:,} of the {clean.decoded:,} codes decoded on '{clean.condition.name}' are genuine "
          f"(verified as on {verified_on.isoformat()})   {'PASS' if genuine == clean.decoded else 'FAIL'}")
    extras = sum((row.extra_formats for row in rows), collections.Counter[str]())
    if extras:
        print("phantoms     : the stamp's URL plus " + ", ".join(f"{count} x {name}" for name, count in extras.most_common())
              + " (counted as failures: not exactly one symbol)")
    print(f"misreads     : {sum(row.wrong for row in rows):,} labels gave a text other than their URL (and not the URL)")
    failed = [row.condition.name for row in rows if row.verdict == "FAIL"]
    print(f"targets      : {'all met' if not failed else 'NOT met: ' + '; '.join(failed)}")


# main -------------------------------------------------------------------


def conditions(plan: LabelPlan, seed: int, low_dpi: float) -> list[Condition]:
    return [
        Condition(f"clean, {PRINTER_DPI:g} dpi", "203", TARGET_CLEAN),
        Condition(f"clean, {EXTRA_DPI:g} dpi (extra)", "300", None),
        Condition(f"blur, Gaussian sigma {BLUR_SIGMA_PX:g} px", "203", TARGET_DEGRADED, blur),
        Condition(f"noise, Gaussian sigma {NOISE_SIGMA:g}/255", "203", TARGET_DEGRADED, noise(seed)),
        Condition(f"rotation {ROTATION_DEGREES:g} deg", "203", TARGET_DEGRADED, rotate),
        Condition(f"perspective, one side {FORESHORTENING:.0%} shorter", "203", TARGET_DEGRADED,
                  perspective(plan, PRINTER_DPI)),
        Condition(f"{LOW_PIXELS_PER_MODULE} px per module ({low_dpi:.1f} dpi)", "low", TARGET_DEGRADED),
        Condition(f"JPEG quality {JPEG_QUALITY}", "203", TARGET_DEGRADED, jpeg),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="Decode rendered stamps with zxing-cpp, clean and under single degradations.")
    parser.add_argument("--stamps", type=int, default=240, help="stamps per condition (default 240; the issue asks >= 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the noise (default 1)")
    parser.add_argument("--module-mm", type=float, default=None,
                        help="QR module size in mm (default: automatic, as ocop-stamps issue prints the sheet)")
    parser.add_argument("--save-failures", type=Path, metavar="DIR", help="write every label that failed to DIR as PNG")
    args = parser.parse_args()
    if args.stamps < 1:
        parser.error("--stamps must be at least 1")
    if args.save_failures is not None:
        args.save_failures.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    layout = LAYOUTS[DEFAULT_SHEET]
    with tempfile.TemporaryDirectory(prefix="ocop-bench-scan-") as folder:
        stamps = issue_stamps(Path(folder) / "instance", args.stamps)
        units = stamps.units
        try:
            symbol = BulkEncoder().matrix(units[0].url)
            try:
                plan = plan_label(layout.label_mm, qr_modules=symbol.size, texts=stamps.texts, example=units[0],
                                  module_mm=args.module_mm)
            except LayoutError as error:
                raise SystemExit(f"--module-mm {args.module_mm:g}: {error}") from None
            low_dpi = LOW_PIXELS_PER_MODULE * MM_PER_INCH / plan.module_mm
            pdf_path = Path(folder) / "stamps.pdf"
            PdfLabelWriter(layout, plan).write(pdf_path, units, title="bench/scan.py")
            prepared = time.perf_counter() - started
            print_setup(layout, plan, len(units), symbol.version, low_dpi, args.seed)
            rows = [Row(condition) for condition in conditions(plan, args.seed, low_dpi)]
            dpis = {"203": PRINTER_DPI, "300": EXTRA_DPI, "low": low_dpi}
            rendering = run_pages(pdf_path, layout, units, dpis, rows, args.save_failures)
            genuine = count_genuine(stamps, rows[0].decoded_texts)
        finally:
            stamps.instance.close()
    print_report(rows, genuine, stamps.produced_on)
    elapsed = time.perf_counter() - started
    print(f"took         : {elapsed:.1f} s ({prepared:.1f} s to issue and write the PDF, {rendering:.1f} s to rasterise, "
          f"{sum(row.seconds for row in rows):.1f} s to degrade and decode)")
    if args.save_failures is not None:
        print(f"failures     : written to {args.save_failures}")


if __name__ == "__main__":
    main()
