"""Print-ready stamps: every format opens and holds the right labels, and what is printed decodes and verifies.

PDFs are parsed and rasterised with pypdfium2 (PDFium), QR symbols decoded with
zxing-cpp: neither is the writer (reportlab) nor segno.
"""

from __future__ import annotations

import csv
import hashlib
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from stamps.code import short_code
from stamps.demo import DEMO_PASSPHRASE, run_demo
from stamps.instance import Instance
from stamps import registry
from stamps.printing.jobs import PrintJob, parse_format, pdf_file_parts
from stamps.printing.fonts import POINTS_PER_MM, text_width_mm
from stamps.printing.label import (MIN_READABLE_PT, NAME_EXTRA_PT, BatchTexts, LabelPlan, StampUnit, TextLine,
                                   plan_label, whole_dot_modules)
from stamps.printing.layout import LAYOUTS, LayoutError, custom_sheet
from stamps.printing.pdf import page_qr_paths
from stamps.qr import QUIET_ZONE_MODULES
from stamps.printing.symbols import QRMatrix
from stamps.verify import Result
from tests.test_cli import assert_error, invoke, ok

BASE_URL = "https://truyxuat.example.vn"
PRODUCT = "Trà San tuyết PH.14 hữu cơ"
LOT = "PH14-2611-01"
QR_MODEL_2 = zxingcpp.BarcodeFormat.QRCodeModel2  # a clean symbol can also read as a phantom Micro QR or rMQR


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("printing") / "inst"
    run_demo(root, BASE_URL)  # serials 1-20 issued
    return root


def issue(root: Path, out: Path, count: int, *formats: str, extra: tuple[str, ...] = ()) -> Path:
    args = [arg for fmt in formats for arg in ("--format", fmt)]
    ok(invoke(root, "issue", LOT, "--count", count, *args, *extra, "--out", out, passphrase=DEMO_PASSPHRASE.decode()))
    return out


def issued_codes(folder: Path) -> dict[str, tuple[int, str]]:
    with open(folder / "codes.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {row["code"]: (int(row["serial"]), row["short_code"]) for row in rows}


def decoded_pages(pdf: Path, dpi: int) -> list[list[str]]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        pages = []
        for page in document:
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            pages.append([found.text for found in zxingcpp.read_barcodes(image, formats=QR_MODEL_2)])
        return pages
    finally:
        document.close()


def page_texts(pdf: Path) -> list[str]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


@pytest.mark.parametrize("dpi", [300, 203])
def test_a4_sheets_decode_to_exactly_the_issued_codes_which_verify(demo_root: Path, tmp_path: Path, dpi: int) -> None:
    folder = issue(demo_root, tmp_path / "sheets", 30, "pdf:a4-24")
    codes = issued_codes(folder)
    pages = decoded_pages(folder / "stamps.pdf", dpi)
    assert [len(found) for found in pages] == [24, 6]
    assert sorted(text for found in pages for text in found) == sorted(codes)
    verifier = Instance.open(demo_root, read_only=True).verifier()
    assert {verifier.verify(text).result for found in pages for text in found} == {Result.GENUINE}


@pytest.mark.parametrize("preset", [name for name in LAYOUTS])
def test_every_preset_holds_its_grid_of_labels(demo_root: Path, tmp_path: Path, preset: str) -> None:
    layout = LAYOUTS[preset]
    count = layout.per_page + 1
    folder = issue(demo_root, tmp_path / preset, count, f"pdf:{preset}")
    pages = decoded_pages(folder / "stamps.pdf", 300)
    assert [len(found) for found in pages] == [layout.per_page, 1]
    assert sorted(text for found in pages for text in found) == sorted(issued_codes(folder))
    document = pdfium.PdfDocument(str(folder / "stamps.pdf"))
    width_pt, height_pt = document[0].get_size()
    assert (round(width_pt / 72 * 25.4, 1), round(height_pt / 72 * 25.4, 1)) == layout.page_mm
    document.close()


def test_vietnamese_text_extracts_exactly_with_every_label_line(demo_root: Path, tmp_path: Path) -> None:
    folder = issue(demo_root, tmp_path / "text", 3, "pdf:a4-14")
    [text] = page_texts(folder / "stamps.pdf")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for serial, code in sorted(issued_codes(folder).values()):
        assert f"Số: {serial:06d}" in lines and f"Mã: {code}" in lines
    assert lines.count(PRODUCT) == 3 and lines.count(f"Lô: {LOT}") == 3 and lines.count("★★★★☆ OCOP") == 3


def test_the_font_is_embedded_and_no_standard_font_is_referenced(demo_root: Path, tmp_path: Path) -> None:
    data = (issue(demo_root, tmp_path / "font", 1, "pdf:roll-50x30") / "stamps.pdf").read_bytes()
    assert b"/FontFile2" in data and b"/ToUnicode" in data
    assert b"Helvetica" not in data


def test_qr_is_drawn_as_vector_paths_not_images(demo_root: Path, tmp_path: Path) -> None:
    document = pdfium.PdfDocument(str(issue(demo_root, tmp_path / "vector", 2, "pdf:roll-40x30") / "stamps.pdf"))
    kinds = {obj.type for page in document for obj in page.get_objects()}
    document.close()
    assert pdfium.raw.FPDF_PAGEOBJ_IMAGE not in kinds and pdfium.raw.FPDF_PAGEOBJ_PATH in kinds


def test_custom_sheet(demo_root: Path, tmp_path: Path) -> None:
    folder = issue(demo_root, tmp_path / "custom", 7, "pdf:custom",
                   extra=("--grid", "2x3", "--label-size", "90x40", "--margins", "10x10", "--gaps", "5x2"))
    assert [len(found) for found in decoded_pages(folder / "stamps.pdf", 203)] == [6, 1]


def test_svg_and_png_per_stamp_decode(demo_root: Path, tmp_path: Path) -> None:
    folder = issue(demo_root, tmp_path / "images", 3, "svg", "png")
    codes = issued_codes(folder)
    by_serial = {serial: code for code, (serial, _) in codes.items()}
    for serial, code in by_serial.items():
        png = Image.open(folder / "png" / f"{serial:07d}.png")
        assert round(png.info["dpi"][0]) == 600 and [r.text for r in zxingcpp.read_barcodes(png, formats=QR_MODEL_2)] == [code]
        svg = ElementTree.parse(folder / "svg" / f"{serial:07d}.svg").getroot()
        assert svg.get("width", "").endswith("mm")
        assert [r.text for r in zxingcpp.read_barcodes(rasterised_svg(svg), formats=QR_MODEL_2)] == [code]
    assert not (folder / "stamps.pdf").exists()


def rasterised_svg(svg: ElementTree.Element) -> Image.Image:
    """Draw the SVG's one path (``Mx yhWv1h-Wz`` runs) at 8 px per unit: enough of a renderer for our own files."""
    side = int(svg.get("viewBox", "0 0 0 0").split()[2])
    image = Image.new("L", (side * 8, side * 8), 255)
    draw = ImageDraw.Draw(image)
    path = next(element for element in svg if element.tag.endswith("path")).get("d", "")
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        left, top = int(x) * 8, int(y) * 8
        draw.rectangle((left, top, left + int(width) * 8 - 1, top + 7), fill=0)
    return image


def test_csv_lists_serial_code_and_short_code(demo_root: Path, tmp_path: Path) -> None:
    folder = issue(demo_root, tmp_path / "csv", 4, "csv")
    assert sorted(path.name for path in folder.iterdir()) == ["codes.csv"]
    rows = issued_codes(folder)
    assert len(rows) == 4 and all(re.fullmatch(r"[A-Z2-7]{6}-\d{6}-[A-Z2-7]", short) for _, short in rows.values())


def test_a_label_too_small_fails_before_any_serial_is_issued(demo_root: Path, tmp_path: Path) -> None:
    issue(demo_root, tmp_path / "first", 1, "csv")  # the passphrase is right: the failures below are the layouts'
    before = ok(invoke(demo_root, "batch", "list"))
    secret = DEMO_PASSPHRASE.decode()
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--format", "pdf:custom", "--grid", "2x2", "--label-size",
                        "18x18", "--out", tmp_path / "x", passphrase=secret), contains="too small")
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--format", "pdf:a4-99", "--out", tmp_path / "x",
                        passphrase=secret), contains="Unknown preset")
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--module-mm", "0.2", "--out", tmp_path / "x",
                        passphrase=secret), exit_code=2, contains="0.33")
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--module-mm", "nan", "--out", tmp_path / "x",
                        passphrase=secret), contains="outside")
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--format", f"pdf:roll-{'1' * 400}x50", "--out",
                        tmp_path / "x", passphrase=secret), contains="ordinary numbers")
    assert_error(invoke(demo_root, "issue", LOT, "--count", 5, "--format", "pdf:a4-24", "--format", "pdf:a4-40", "--out",
                        tmp_path / "x", passphrase=secret), contains="once")
    assert ok(invoke(demo_root, "batch", "list")) == before and not (tmp_path / "x").exists()


def test_help_lists_the_presets() -> None:
    from click.testing import CliRunner

    from cli import cli as ocop_cli

    shown = CliRunner().invoke(ocop_cli, ["issue", "--help"]).output
    assert all(name in shown for name in LAYOUTS) and "zpl" in shown and "tspl" in shown


def test_layouts_refuse_what_does_not_fit() -> None:
    with pytest.raises(LayoutError, match="do not fit"):
        custom_sheet("3x8", "70x40")
    with pytest.raises(LayoutError, match="Unknown format"):
        parse_format("docx")


def test_long_product_names_wrap_then_shorten_and_every_line_fits() -> None:
    texts = BatchTexts("Mật ong hoa nhãn rừng nguyên sinh Bình Liêu thu hoạch vụ xuân năm hai nghìn", 5, "BL-1", 999_999)
    unit = StampUnit(1, "", short_code(bytes(10), 999_999))
    width, height = LAYOUTS["roll-40x30"].label_mm
    plan = plan_label((width, height), 45, texts, unit)
    names = [line for line in plan.shared_lines if line.bold]
    assert len(names) == 2 and names[1].text.endswith("…") and names[0].text.startswith("Mật ong")
    for serial in (1, 77, 999_999):  # every check character, at the widest serial, stays on the label
        for line in plan.unit_lines(StampUnit(serial, "", short_code(bytes(10), serial))):
            assert line.x_mm + text_width_mm(line.text, line.size_pt) <= width - 1.0
    assert all(line.x_mm + text_width_mm(line.text, line.size_pt, bold=line.bold) <= width for line in plan.shared_lines)
    assert plan.code_slot.baseline_mm <= height


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=21 * 21, max_size=21 * 21), min_size=1, max_size=4))
def test_pdf_paths_redraw_exactly_the_dark_modules(symbols: list[bytes]) -> None:
    matrices = [QRMatrix(21, bytes(0 if byte < 128 else 255 for byte in data)) for data in symbols]
    for matrix, ops in zip(matrices, page_qr_paths(matrices)):
        dark = set()
        for x, y, width in re.findall(rb"\s*(\d+)\s+(\d+)\s+(\d+) 1 re", ops):
            dark |= {(int(x) + step, int(y)) for step in range(int(width))}
        assert dark == {(x, y) for y in range(21) for x in range(21) if matrix.is_dark(x, y)}


def test_short_code_check_character_catches_most_single_changes() -> None:
    """Change one character of the body: the check character should then (31 times in 32) no longer match."""
    code = short_code(bytes(range(10)), 123)
    assert re.fullmatch(r"[A-Z2-7]{6}-000123-[A-Z2-7]", code)
    body, check = code.rsplit("-", 1)
    caught = total = 0
    for place, char in enumerate(body):
        for other in ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" if char.isalpha() else "0123456789"):
            if other == char:
                continue
            changed = body[:place] + other + body[place + 1:]
            total += 1
            caught += hashlib.sha256(changed.encode()).digest()[0] % 32 != "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".index(check)
    assert caught / total > 0.9




def test_encoding_spread_over_processes_writes_the_same_labels(tmp_path: Path) -> None:
    from stamps.printing.pdf import PdfLabelWriter

    urls = [f"https://TRUYXUAT.EXAMPLE.VN/V/{'A' * 120}{serial:010d}" for serial in range(1, 31)]
    units = [StampUnit(serial, url, short_code(bytes(10), serial)) for serial, url in enumerate(urls, start=1)]
    layout = LAYOUTS["a4-24"]
    plan = plan_label(layout.label_mm, 45, BatchTexts(PRODUCT, 4, LOT, 100), units[0])
    done: list[int] = []
    assert PdfLabelWriter(layout, plan, workers=2).write(tmp_path / "two.pdf", units, progress=done.append) == 30
    assert done == [24, 6]
    pages = decoded_pages(tmp_path / "two.pdf", 203)
    assert [len(found) for found in pages] == [24, 6] and sorted(sum(pages, [])) == sorted(urls)


def test_short_code_golden_value() -> None:
    """The example of docs/stamp-format.md."""
    assert short_code(bytes(range(10)), 123) == "AAAQEA-000123-K"


def test_a_character_the_font_lacks_is_refused_by_name() -> None:
    with pytest.raises(LayoutError, match="U\\+1F375"):
        BatchTexts.from_record({"product": {"name": "Trà 🍵"}, "batch": {"lot_code": "L1", "quantity": 5}})
    assert BatchTexts.from_record({"product": {"name": "Trà Shan™ 50.000€ ₫"}, "batch": {"lot_code": "L1", "quantity": 5}})


def test_large_jobs_split_into_files_of_full_sheets(demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stamps.printing.pdf as pdf

    monkeypatch.setattr(pdf, "MAX_LABELS_PER_FILE", 50)  # files of 2 sheets of 24 once a job is over 50
    folder = issue(demo_root, tmp_path / "split", 100, "pdf:a4-24")
    files = sorted(folder.glob("stamps-*.pdf"))
    assert [path.name for path in files] == ["stamps-0001.pdf", "stamps-0002.pdf", "stamps-0003.pdf"]
    counts = [[len(found) for found in decoded_pages(path, 203)] for path in files]
    assert counts == [[24, 24], [24, 24], [4]]
    at_limit = issue(demo_root, tmp_path / "at-limit", 50, "pdf:a4-24")
    assert sorted(path.name for path in at_limit.glob("*.pdf")) == ["stamps.pdf"]
    assert [len(found) for found in decoded_pages(at_limit / "stamps.pdf", 203)] == [24, 24, 2]


@pytest.mark.parametrize(("count", "per_page", "sizes"), [
    (0, 24, []), (1, 24, [1]), (9_999, 24, [9_999]), (10_000, 24, [10_000]), (10_001, 24, [9_984, 17]),
    (19_968, 24, [9_984, 9_984]), (19_969, 24, [9_984, 9_984, 1]), (20_000, 24, [9_984, 9_984, 32]),
    (10_000, 40, [10_000]), (10_001, 40, [10_000, 1]), (10_001, 21, [9_996, 5]), (10_000, 14, [10_000]),
    (10_001, 1, [10_000, 1]), (30_000, 1, [10_000, 10_000, 10_000])])
def test_a_pdf_file_holds_up_to_10000_labels_then_whole_sheets(count: int, per_page: int, sizes: list[int]) -> None:
    """docs/printing.md: up to 10,000 labels are one file; a larger job is files of whole sheets of at most 10,000."""
    from stamps.printing.pdf import MAX_LABELS_PER_FILE

    parts = list(pdf_file_parts(range(count), per_page, MAX_LABELS_PER_FILE))
    assert [len(part) for part in parts] == sizes
    assert [item for part in parts for item in part] == list(range(count))
    if len(parts) > 1:
        assert all(len(part) % per_page == 0 and len(part) <= MAX_LABELS_PER_FILE for part in parts[:-1])


def test_progress_counts_every_output(demo_root: Path, tmp_path: Path) -> None:
    from stamps import registry
    from stamps.issuance import StampSigner, allocate_serials
    from stamps.printing.jobs import PrintJob, write_stamps

    instance = Instance.open(demo_root)
    try:
        batch = registry.find_batch(instance.store, LOT)
        serials = allocate_serials(instance.store, batch, 5)
        signer = StampSigner(instance.signing_key(DEMO_PASSPHRASE), batch, instance.base_url)
        job = PrintJob((parse_format("pdf"), parse_format("png"), parse_format("csv")), batch, instance.base_url)
        steps: list[int] = []
        (tmp_path / "out").mkdir()
        write_stamps(tmp_path / "out", job, lambda: signer.codes(serials), progress=steps.append)
    finally:
        instance.close()
    assert job.progress_steps == 2 and sum(steps) == 10


def test_pdf_paths_of_large_symbols_use_three_digit_numbers() -> None:
    import random

    generator = random.Random(7)
    matrix = QRMatrix(101, bytes(generator.choice((0, 255)) for _ in range(101 * 101)))
    [ops] = page_qr_paths([matrix])
    dark = set()
    for x, y, width in re.findall(rb"\s*(\d+)\s+(\d+)\s+(\d+) 1 re", ops):
        dark |= {(int(x) + step, int(y)) for step in range(int(width))}
    assert dark == {(x, y) for y in range(101) for x in range(101) if matrix.is_dark(x, y)}


# ---------------------------------------------------------------------------------------------------
# the label plan: the largest whole-dot module with readable text, the content centred
# ---------------------------------------------------------------------------------------------------
DOTS_PER_MM = {203: 8, 300: 12}


def demo_job(root: Path, fmt: str, dpi: int = 203, module_mm: float | None = None) -> tuple[PrintJob, LabelPlan]:
    """The job ``issue`` builds for the demo batch, and its plan for *fmt*."""
    instance = Instance.open(root, read_only=True)
    try:
        batch = registry.find_batch(instance.store, LOT)
    finally:
        instance.close()
    output = parse_format(fmt)
    job = PrintJob((output,), batch, BASE_URL, module_mm, dpi)
    return job, job.plans()[output.name]


def widest_lines(plan: LabelPlan) -> list[TextLine]:
    """Every line of the plan, the unit lines with the example (widest) text the plan was fitted for."""
    return [*plan.shared_lines, plan.serial_slot, plan.code_slot]


def content_box(plan: LabelPlan) -> tuple[float, float, float, float]:
    """left, top, right, bottom (mm) of what is printed: the QR symbol (without its white quiet zone) and the
    text lines (advance widths; from a line's ascent, size x 0.8 x LINE_SPACING above its baseline, to its
    descent)."""
    quiet = QUIET_ZONE_MODULES * plan.module_mm
    symbol = plan.qr_modules * plan.module_mm
    left, top = plan.qr_left_mm + quiet, plan.qr_top_mm + quiet
    lines = widest_lines(plan)
    line_height = [line.size_pt * 1.22 / POINTS_PER_MM for line in lines]
    text = (min(line.x_mm for line in lines), lines[0].baseline_mm - 0.8 * line_height[0],
            max(line.x_mm + text_width_mm(line.text, line.size_pt, bold=line.bold) for line in lines),
            lines[-1].baseline_mm + 0.2 * line_height[-1])
    return min(left, text[0]), min(top, text[1]), max(left + symbol, text[2]), max(top + symbol, text[3])


def text_block_width(lines: list[TextLine]) -> float:
    return max(text_width_mm(line.text, line.size_pt, bold=line.bold) for line in lines)


def text_sizes(plan: LabelPlan) -> list[float]:
    return [line.size_pt - (NAME_EXTRA_PT if line.bold else 0) for line in widest_lines(plan)]


def test_the_default_a4_24_label_uses_a_large_module_and_centres_its_content(demo_root: Path) -> None:
    _, plan = demo_job(demo_root, "pdf")
    width, height = plan.label_mm
    assert plan.module_mm >= 0.5 and (plan.module_mm * 8).is_integer()  # DENSO's 4 dots or more, whole 203 dpi dots
    assert min(text_sizes(plan)) >= MIN_READABLE_PT
    left, top, right, bottom = content_box(plan)
    assert abs(left - (width - right)) < 0.01 and abs(top - (height - bottom)) < 0.01
    quiet = QUIET_ZONE_MODULES * plan.module_mm
    symbol_middle = plan.qr_top_mm + quiet + plan.qr_modules * plan.module_mm / 2
    lines = widest_lines(plan)
    first_top = lines[0].baseline_mm - 0.8 * lines[0].size_pt * 1.22 / POINTS_PER_MM
    last_bottom = lines[-1].baseline_mm + 0.2 * lines[-1].size_pt * 1.22 / POINTS_PER_MM
    assert abs((first_top + last_bottom) / 2 - symbol_middle) < 0.01  # the text block centred against the QR
    assert min(line.x_mm for line in lines) >= plan.qr_left_mm + plan.qr_side_mm - 1e-9  # clear of the quiet zone


def test_the_rendered_default_label_is_centred_on_its_sticker(demo_root: Path, tmp_path: Path) -> None:
    """Measured on the page PDFium draws: equal margins above and below, the text block centred against the QR,
    and left and right margins equal for the widest short code the batch can print (a narrower check character
    only widens the right margin by how much narrower the printed text block is)."""
    folder = issue(demo_root, tmp_path / "centred", 1, "pdf")
    [(serial, code)] = issued_codes(folder).values()
    _, plan = demo_job(demo_root, "pdf")
    layout = LAYOUTS["a4-24"]
    document = pdfium.PdfDocument(str(folder / "stamps.pdf"))
    try:
        page = document[0].render(scale=600 / 72, grayscale=True).to_pil()
    finally:
        document.close()
    per_mm = 600 / 25.4
    slot = next(layout.slots(1))
    width, height = layout.label_mm
    label = page.crop(tuple(round(value * per_mm) for value in (slot.x_mm, slot.y_mm, slot.x_mm + width,
                                                                 slot.y_mm + height)))
    ink = label.point(lambda value: 255 if value < 128 else 0)
    symbol_right = round((plan.qr_left_mm + plan.qr_side_mm) * per_mm)
    box, qr, text = (ink.getbbox(), ink.crop((0, 0, symbol_right, ink.height)).getbbox(),
                     ink.crop((symbol_right, 0, ink.width, ink.height)).getbbox())
    assert box is not None and qr is not None and text is not None
    left, top, right, bottom = (value / per_mm for value in (box[0], box[1], ink.width - box[2], ink.height - box[3]))
    assert abs(top - bottom) < 0.2 and min(top, bottom) > 4.0, (top, bottom)  # before: 8.1 mm above, 8.6 below
    assert abs((text[1] + text[3]) / 2 - (qr[1] + qr[3]) / 2) / per_mm < 0.6  # the text centred against the QR
    printed = [*plan.shared_lines, *plan.unit_lines(StampUnit(serial, "", code))]
    narrower = text_block_width(widest_lines(plan)) - text_block_width(printed)
    assert -0.2 < right - narrower - left < 0.4, (left, right, narrower)  # before: 2.7 mm left, 11 mm right
    assert left >= QUIET_ZONE_MODULES * plan.module_mm - 0.05


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("fmt", [f"pdf:{name}" for name in LAYOUTS] + ["zpl", "tspl", "zpl:30x40", "pdf:roll-40x60"])
def test_the_automatic_module_is_the_largest_whole_dot_size_that_keeps_the_text_readable(
        demo_root: Path, fmt: str, dpi: int) -> None:
    job, plan = demo_job(demo_root, fmt, dpi)
    texts = BatchTexts.from_record(job.batch.record)
    example = StampUnit(texts.quantity, "", plan.code_slot.text.removeprefix("Mã: "))
    dots = plan.module_mm * DOTS_PER_MM[dpi]
    assert abs(dots - round(dots)) < 1e-9
    larger = [size for size in whole_dot_modules(DOTS_PER_MM[dpi]) if size > plan.module_mm + 1e-9]
    for size in larger:  # each larger module leaves the text too small, or no room for the QR at all
        try:
            bigger = plan_label(plan.label_mm, plan.qr_modules, texts, example, size)
        except LayoutError:
            continue
        assert min(text_sizes(bigger)) < MIN_READABLE_PT, size
    readable = min(text_sizes(plan)) >= MIN_READABLE_PT
    assert readable or plan.module_mm == whole_dot_modules(DOTS_PER_MM[dpi])[-1]  # else the smallest, text shrinks
    assert_centred_and_clear(plan)


def assert_centred_and_clear(plan: LabelPlan) -> None:
    """The QR and its quiet zone on the label, the text clear of the quiet zone and 1.2 mm inside the edge, and the
    content centred both ways."""
    width, height = plan.label_mm
    side = plan.qr_side_mm
    assert 0 <= plan.qr_left_mm and plan.qr_left_mm + side <= width + 1e-9
    assert 0 <= plan.qr_top_mm and plan.qr_top_mm + side <= height + 1e-9
    for line in widest_lines(plan):
        line_height = line.size_pt * 1.22 / POINTS_PER_MM
        line_box = (line.x_mm, line.baseline_mm - 0.8 * line_height,
                    line.x_mm + text_width_mm(line.text, line.size_pt, bold=line.bold), line.baseline_mm + 0.2 * line_height)
        assert 1.2 - 1e-9 <= line_box[0] and line_box[2] <= width - 1.2 + 1e-9
        assert 1.2 - 1e-9 <= line_box[1] and line_box[3] <= height - 1.2 + 1e-9
        assert (line_box[0] >= plan.qr_left_mm + side - 1e-9 or line_box[1] >= plan.qr_top_mm + side - 1e-9), line
    left, top, right, bottom = content_box(plan)
    assert abs(left - (width - right)) < 0.01 and abs(top - (height - bottom)) < 0.01


def test_module_mm_still_fixes_the_module(demo_root: Path) -> None:
    for fmt in ("pdf", "pdf:a4-14", "pdf:roll-50x30"):
        assert demo_job(demo_root, fmt, module_mm=0.4)[1].module_mm == 0.4
    assert demo_job(demo_root, "zpl", 300, module_mm=0.375)[1].module_mm == 5 / 12  # whole dots, rounded up
    job, _ = demo_job(demo_root, "pdf", module_mm=0.4)
    assert job.image_module_mm == 0.4 and demo_job(demo_root, "pdf")[0].image_module_mm == 0.5


def test_module_mm_given_on_the_command_line_is_printed(demo_root: Path, tmp_path: Path) -> None:
    folder = issue(demo_root, tmp_path / "fixed", 2, "pdf:a4-24", extra=("--module-mm", "0.375"))
    document = pdfium.PdfDocument(str(folder / "stamps.pdf"))
    try:
        matrix = [obj.get_matrix() for obj in document[0].get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_PATH]
    finally:
        document.close()
    assert matrix and {round(abs(item.a) / POINTS_PER_MM, 4) for item in matrix} == {0.375}
