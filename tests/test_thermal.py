"""ZPL and TSPL thermal labels, parsed back and printed on an emulated printer.

Nothing is compared byte for byte: the tests parse each job like a printer
would (label blocks, field origins, graphic sizes, QR commands), decode the
graphics back to images (ZPL's QR is one of them), draw TSPL's QR the way the
printer's own command would (segno from the manual segments), then read the
QR back with zxing-cpp. tests/test_zpl_emulator.py renders whole ZPL jobs with
an independent emulator instead.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator

import pytest
import segno
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFont
from segno import consts

from keys.keyfile import key_hint
from stamps.code import STAMP_TAG, encode_base32, header_bytes, short_code
from stamps.errors import StampError
from stamps.printing import thermal
from stamps.printing.fonts import BOLD, FONT_FILES, POINTS_PER_MM, REGULAR
from stamps.printing.label import MIN_MODULE_MM, BatchTexts, LabelPlan, StampUnit, TextLine, plan_label
from stamps.printing.symbols import bulk_matrix, reference_matrix
from stamps.printing.thermal import ThermalError
from stamps.qr import QUIET_ZONE_MODULES
from stamps.url import code_url, qr_segments

BASE_URL = "https://truyxuat.example.vn"
TEXTS = BatchTexts("Mật ong rừng Bình Liêu", 3, "BL-2611", 500)
DIGEST_PREFIX = bytes(range(10))
SERIALS = (1, 2, 500)
Writer = Callable[..., int]


# ---------------------------------------------------------------------------------------------------
# stamps and plans
# ---------------------------------------------------------------------------------------------------
def stamp_url(serial: int, base_url: str = BASE_URL) -> str:
    """A real, signed stamp URL (a fixed test key): 130 base32 characters that look random, as printed ones do."""
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"thermal test key").digest())
    header = header_bytes(key_hint(key.public_key()), DIGEST_PREFIX, serial)
    return code_url(base_url, encode_base32(header + key.sign(STAMP_TAG + header)))


def stamp_unit(serial: int) -> StampUnit:
    return StampUnit(serial, stamp_url(serial), short_code(DIGEST_PREFIX, serial))


UNITS = [stamp_unit(serial) for serial in SERIALS]


def thermal_plan(dpi: int = 203, label_mm: tuple[float, float] = (50, 30)) -> LabelPlan:
    """The plan a thermal job makes: laid out with the module the printer really prints."""
    return plan_label(label_mm, 45, TEXTS, stamp_unit(TEXTS.quantity), thermal.printer_module_mm(0.375, dpi))


def zpl_job(plan: LabelPlan, dpi: int = 203, units: list[StampUnit] = UNITS) -> bytes:
    handle = io.BytesIO()
    assert thermal.write_zpl(handle, plan, units, dpi=dpi) == len(units)
    return handle.getvalue()


def tspl_job(plan: LabelPlan, dpi: int = 203, units: list[StampUnit] = UNITS) -> bytes:
    handle = io.BytesIO()
    assert thermal.write_tspl(handle, plan, units, dpi=dpi) == len(units)
    return handle.getvalue()


# ---------------------------------------------------------------------------------------------------
# a ZPL reader
# ---------------------------------------------------------------------------------------------------
def zpl_formats(job: bytes) -> list[str]:
    text = job.decode("ascii")
    formats = re.findall(r"\^XA(.*?)\^XZ", text, re.S)
    assert re.sub(r"\^XA.*?\^XZ", "", text, flags=re.S).strip() == "", "ZPL outside ^XA ... ^XZ"
    return formats


def zpl_number(label: str, command: str) -> int:
    values = re.findall(rf"\^{command}(\d+)", label)
    assert len(values) == 1, f"^{command} {values}"
    return int(values[0])


def zpl_fields(label: str) -> list[tuple[int, int, str, str]]:
    """(x, y, command, rest) of each ``^FO x,y ^<command> ... ^FS`` field."""
    return [(int(x), int(y), command, rest)
            for x, y, command, rest in re.findall(r"\^FO(\d+),(\d+)\^([A-Z]{2}A?)(.*?)\^FS", label, re.S)]


def zpl_hex_rows(data: str, per_row: int) -> bytes:
    """ZPL's ASCII graphic data as bytes: hexadecimal digits, ``,`` (the row's rest is zeros), ``:`` (the row before
    again); the other compression characters are not expected from our writer."""
    width, rows, row = 2 * per_row, [], ""
    for char in data:
        if char == ":":
            assert rows and not row, "':' repeats a row that does not exist"
            rows.append(rows[-1])
        elif char == ",":
            rows.append(row.ljust(width, "0"))
            row = ""
        else:
            assert char in "0123456789ABCDEF", char
            row += char
            if len(row) == width:
                rows.append(row)
                row = ""
    assert not row, "a row left unfinished"
    return bytes.fromhex("".join(rows))


def zpl_graphic(rest: str) -> Image.Image:
    """A ^GFA field back to a 1-bit image (ink = 1), after checking its declared sizes against its data."""
    match = re.fullmatch(r",(\d+),(\d+),(\d+),([0-9A-F,:]+)", rest.strip())
    assert match, rest[:40]
    binary, total, per_row = int(match[1]), int(match[2]), int(match[3])
    data = zpl_hex_rows(match[4], per_row)
    assert binary == total == len(data) and total % per_row == 0
    return Image.frombytes("1", (per_row * 8, total // per_row), data)


def zpl_graphics(label: str) -> list[tuple[int, int, Image.Image]]:
    """(x, y, ink) of every field, after checking that every field is a ^GFA graphic (no printer barcode command)."""
    fields = zpl_fields(label)
    assert {command for _, _, command, _ in fields} == {"GFA"} and label.count("^FO") == len(fields)
    return [(x, y, zpl_graphic(rest)) for x, y, _, rest in fields]


def zpl_qr(label: str, plan: LabelPlan, dpi: int) -> tuple[int, int, Image.Image]:
    """(x, y, ink) of the label's one QR graphic: the one as tall as the QR with its quiet zone at the printed module."""
    side = plan.qr_side_mm * thermal.DOTS_PER_MM[dpi]
    found = [graphic for graphic in zpl_graphics(label) if abs(graphic[2].height - side) <= 1]
    assert len(found) == 1
    return found[0]


# ---------------------------------------------------------------------------------------------------
# a TSPL reader
# ---------------------------------------------------------------------------------------------------
def tspl_commands(job: bytes) -> list[tuple[str, str, bytes]]:
    """(command, arguments, bitmap bytes) of each command line; BITMAP's binary data is read by its declared size."""
    commands, at = [], 0
    while at < len(job):
        if job.startswith(b"BITMAP ", at):
            head_end = at + len(b"BITMAP ")
            for _ in range(5):
                head_end = job.index(b",", head_end) + 1
            x, y, width, height, mode = job[at + 7:head_end - 1].decode("ascii").split(",")
            size = int(width) * int(height)
            data = job[head_end:head_end + size]
            assert len(data) == size and job[head_end + size:head_end + size + 2] == b"\r\n"
            commands.append(("BITMAP", f"{x},{y},{width},{height},{mode}", data))
            at = head_end + size + 2
            continue
        end = job.index(b"\r\n", at)
        name, _, arguments = job[at:end].decode("ascii").partition(" ")
        commands.append((name, arguments, b""))
        at = end + 2
    return commands


def tspl_labels(job: bytes) -> tuple[list[tuple[str, str, bytes]], list[list[tuple[str, str, bytes]]]]:
    """The job's setup commands and the commands of each label (CLS ... PRINT 1,1)."""
    commands = tspl_commands(job)
    first = next(index for index, command in enumerate(commands) if command[0] == "CLS")
    labels: list[list[tuple[str, str, bytes]]] = []
    for command in commands[first:]:
        if command[0] == "CLS":
            labels.append([])
        labels[-1].append(command)
    assert all(label[-1][:2] == ("PRINT", "1,1") for label in labels)
    return commands[:first], labels


def tspl_graphic(arguments: str, data: bytes) -> tuple[int, int, Image.Image]:
    x, y, width, height, mode = map(int, arguments.split(","))
    assert mode == 1 and len(data) == width * height
    return x, y, Image.frombytes("1", (width * 8, height), bytes(byte ^ 0xFF for byte in data))  # TSPL: 1 = white


def tspl_qr(label: list[tuple[str, str, bytes]]) -> tuple[int, int, int, list[tuple[str, str]]]:
    """(x, y, cell width, segments) of the label's one QRCODE, its manual-mode content split into segments."""
    arguments = [arguments for name, arguments, _ in label if name == "QRCODE"]
    assert len(arguments) == 1
    match = re.fullmatch(r'(\d+),(\d+),M,(\d+),M,0,M2,S7,"(.*)"', arguments[0])
    assert match, arguments[0]
    segments = []
    for part in match[4].split("!"):
        if part[0] == "B":
            count = int(part[1:5])
            assert len(part) == 5 + count
            segments.append((part[5:], "byte"))
        else:
            assert part[0] == "A"
            segments.append((part[1:], "alphanumeric"))
    return int(match[1]), int(match[2]), int(match[3]), segments


# ---------------------------------------------------------------------------------------------------
# the emulated printer
# ---------------------------------------------------------------------------------------------------
def blank_label(plan: LabelPlan, dpi: int) -> Image.Image:
    per_mm = thermal.DOTS_PER_MM[dpi]
    return Image.new("L", (round(plan.label_mm[0] * per_mm), round(plan.label_mm[1] * per_mm)), 255)


def print_ink(canvas: Image.Image, x: int, y: int, ink: Image.Image) -> None:
    """Print the 1 bits of *ink* as black dots at (x, y): what both printers do with their graphics."""
    assert 0 <= x and 0 <= y and y + ink.height <= canvas.height
    canvas.paste(0, (x, y), ink.convert("L"))


def print_symbol(canvas: Image.Image, x: int, y: int, symbol: Image.Image, module: int, plan: LabelPlan,
                 dpi: int) -> None:
    """Draw a symbol (L, 0 = dark, one pixel per module) at *module* dots, after checking its quiet zone is clear
    of text and lies where the plan put the QR."""
    per_mm = thermal.DOTS_PER_MM[dpi]
    quiet = QUIET_ZONE_MODULES * module
    side = symbol.width * module
    box = (x - quiet, y - quiet, x + side + quiet, y + side + quiet)
    assert symbol.width == plan.qr_modules, "the printer's symbol is not the version the label was laid out for"
    assert abs(box[0] - plan.qr_left_mm * per_mm) <= 1 and abs(box[1] - plan.qr_top_mm * per_mm) <= 1
    assert box[2] - box[0] <= plan.qr_side_mm * per_mm + 1
    clipped = (max(0, box[0]), max(0, box[1]), min(canvas.width, box[2]), min(canvas.height, box[3]))
    assert canvas.crop(clipped).getextrema() == (255, 255), "text inside the QR's quiet zone"
    assert 0 <= x and 0 <= y and x + side <= canvas.width and y + side <= canvas.height
    dark = symbol.point(lambda value: 255 if value < 128 else 0).resize((side, side), Image.Resampling.NEAREST)
    canvas.paste(0, (x, y), dark)


def segno_symbol(segments: list[tuple[str, str]]) -> Image.Image:
    """What TSPL's manual input builds: exactly these segments, level M (segno)."""
    modes = {"byte": consts.MODE_BYTE, "alphanumeric": consts.MODE_ALPHANUMERIC}
    symbol = segno.make([(text, modes[mode]) for text, mode in segments], error="M",  # type: ignore[arg-type]
                        boost_error=False, micro=False)
    size = len(symbol.matrix)
    return Image.frombytes("L", (size, size), bytes(0 if dark else 255 for row in symbol.matrix for dark in row))


def read_qr(canvas: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(canvas, formats=zxingcpp.BarcodeFormat.QRCodeModel2)]


def emulate_zpl(job: bytes, plan: LabelPlan, dpi: int) -> Iterator[tuple[Image.Image, Image.Image]]:
    """Each label printed: (the text graphics alone, the whole label with its QR graphic)."""
    for label in zpl_formats(job):
        canvas = blank_label(plan, dpi)
        qr = zpl_qr(label, plan, dpi)
        for x, y, ink in zpl_graphics(label):
            if (x, y, ink) != qr:
                print_ink(canvas, x, y, ink)
        text_only = canvas.copy()
        quiet_zone_clear_of_text(canvas, qr[0], qr[1], qr[2].height)
        print_ink(canvas, *qr)
        yield text_only, canvas


def quiet_zone_clear_of_text(canvas: Image.Image, x: int, y: int, side: int) -> None:
    box = (max(0, x), max(0, y), min(canvas.width, x + side), min(canvas.height, y + side))
    assert canvas.crop(box).getextrema() == (255, 255), "text inside the QR's quiet zone"


def emulate_tspl(job: bytes, plan: LabelPlan, dpi: int) -> Iterator[tuple[Image.Image, Image.Image]]:
    for label in tspl_labels(job)[1]:
        canvas = blank_label(plan, dpi)
        for name, arguments, data in label:
            if name == "BITMAP":
                x, y, ink = tspl_graphic(arguments, data)
                print_ink(canvas, x, y, ink)
        text_only = canvas.copy()
        x, y, module, segments = tspl_qr(label)
        print_symbol(canvas, x, y, segno_symbol(segments), module, plan, dpi)
        yield text_only, canvas


def expected_text(plan: LabelPlan, unit: StampUnit, dpi: int) -> Image.Image:
    """The label's lines drawn straight onto a label by Pillow, cut at the same ink threshold."""
    per_mm = thermal.DOTS_PER_MM[dpi]
    coverage = Image.new("L", blank_label(plan, dpi).size, 0)
    draw = ImageDraw.Draw(coverage)
    lines: list[TextLine] = [*plan.shared_lines, *plan.unit_lines(unit)]
    for line in lines:
        font = ImageFont.truetype(str(FONT_FILES[BOLD if line.bold else REGULAR]), line.size_pt / POINTS_PER_MM * per_mm,
                                  layout_engine=ImageFont.Layout.BASIC)
        draw.text((round(line.x_mm * per_mm), round(line.baseline_mm * per_mm)), line.text, fill=255, font=font,
                  anchor="ls")
    return coverage.point(lambda value: 0 if value >= thermal.INK_THRESHOLD else 255)


# ---------------------------------------------------------------------------------------------------
# module size and resolution
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("module_mm", "dpi", "dots"), [
    (0.375, 203, 3), (0.5, 203, 4), (0.33, 203, 3), (0.375, 300, 5), (0.5, 300, 6), (0.33, 300, 4), (0.375, 600, 9)])
def test_a_module_is_the_fewest_whole_dots_not_smaller_than_asked(module_mm: float, dpi: int, dots: int) -> None:
    assert thermal.printer_module_dots(module_mm, dpi) == dots
    printed = thermal.printer_module_mm(module_mm, dpi)
    assert printed >= module_mm >= MIN_MODULE_MM and printed == dots / thermal.DOTS_PER_MM[dpi]
    assert thermal.printer_module_dots(printed, dpi) == dots  # a plan laid out with it keeps its size


@pytest.mark.parametrize(("module_mm", "dpi"), [(0.375, 150), (0.375, 204), (0.3, 203), (0.5, 600)])
def test_an_impossible_module_or_resolution_is_refused(module_mm: float, dpi: int) -> None:
    with pytest.raises(ThermalError) as caught:
        thermal.printer_module_dots(module_mm, dpi)
    assert isinstance(caught.value, StampError) and caught.value.diagnostics()


@pytest.mark.parametrize(("write", "dpi"), [(thermal.write_zpl, 150), (thermal.write_zpl, 96),
                                            (thermal.write_tspl, 600), (thermal.write_tspl, 150)])
def test_writers_refuse_unsupported_resolutions(write: Writer, dpi: int) -> None:
    handle = io.BytesIO()
    with pytest.raises(ThermalError, match=f"not {dpi} dpi"):
        write(handle, thermal_plan(), UNITS, dpi=dpi)
    assert handle.getvalue() == b""


def test_a_plan_laid_out_for_a_smaller_module_is_refused() -> None:
    plan = plan_label((50, 30), 45, TEXTS, stamp_unit(TEXTS.quantity), 0.375)  # 5 dots = 0.417 mm at 300 dpi
    for write in (thermal.write_zpl, thermal.write_tspl):
        with pytest.raises(ThermalError, match="larger than the 0.375 mm") as caught:
            write(io.BytesIO(), plan, UNITS, dpi=300)
        assert "printer_module_mm" in caught.value.diagnostics()


# ---------------------------------------------------------------------------------------------------
# ZPL
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_zpl_has_one_format_per_stamp_with_the_qr_as_a_graphic(dpi: int) -> None:
    plan = thermal_plan(dpi)
    per_mm = thermal.DOTS_PER_MM[dpi]
    formats = zpl_formats(zpl_job(plan, dpi))
    assert len(formats) == len(UNITS)
    for label in formats:
        width, length = zpl_number(label, "PW"), zpl_number(label, "LL")
        assert (width, length) == (round(plan.label_mm[0] * per_mm), round(plan.label_mm[1] * per_mm))
        assert "^CI28" in label and "^LH0,0" in label and zpl_number(label, "PQ") == 1
        assert "^BQ" not in label and "^BY" not in label  # the printer draws no barcode of its own
        graphics = zpl_graphics(label)
        assert len(graphics) == len(plan.shared_lines) + 2 + 1 == label.count("^FS")
        for x, y, graphic in graphics:
            ink = graphic.getbbox()
            assert 0 <= x < width and 0 <= y < length
            assert ink is not None and x + ink[2] <= width and y + graphic.height <= length


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_zpl_qr_graphic_is_the_reference_checked_matrix_at_whole_dots(dpi: int) -> None:
    """Each module a square of whole dots, the quiet zone white, at the plan's place: exactly our own symbol."""
    plan = thermal_plan(dpi)
    per_mm = thermal.DOTS_PER_MM[dpi]
    module = thermal.printer_module_dots(plan.module_mm, dpi)
    for label, unit in zip(zpl_formats(zpl_job(plan, dpi)), UNITS):
        x, y, ink = zpl_qr(label, plan, dpi)
        assert (x, y) == (round(plan.qr_left_mm * per_mm), round(plan.qr_top_mm * per_mm))
        side = (plan.qr_modules + 2 * QUIET_ZONE_MODULES) * module
        assert ink.height == side and ink.crop((0, 0, side, side)).getbbox() == (
            QUIET_ZONE_MODULES * module, QUIET_ZONE_MODULES * module, side - QUIET_ZONE_MODULES * module,
            side - QUIET_ZONE_MODULES * module)
        assert ink.crop((side, 0, ink.width, side)).getbbox() is None  # the padding to whole bytes is white
        matrix = bulk_matrix(unit.url)
        assert matrix.size == reference_matrix(unit.url).size == plan.qr_modules
        quiet = QUIET_ZONE_MODULES * module
        for row in range(matrix.size):
            for column in range(matrix.size):
                dots = ink.crop((quiet + column * module, quiet + row * module,
                                 quiet + (column + 1) * module, quiet + (row + 1) * module)).getextrema()
                assert dots == ((255, 255) if matrix.is_dark(column, row) else (0, 0))


def test_zpl_graphics_are_the_labels_lines_as_pillow_draws_them() -> None:
    plan = thermal_plan(203)
    labels = list(emulate_zpl(zpl_job(plan), plan, 203))
    for (text_only, _), unit in zip(labels, UNITS):
        expected = expected_text(plan, unit, 203)
        assert text_only.size == expected.size and ImageChops.difference(text_only, expected).getbbox() is None
    assert labels[0][0].tobytes() != labels[1][0].tobytes()  # each label carries its own serial and code


@pytest.mark.parametrize(("dpi", "label_mm"), [(203, (50, 30)), (300, (50, 30)), (203, (30, 40)), (203, (40, 30))])
def test_zpl_labels_print_a_qr_that_reads_back_to_the_stamp(dpi: int, label_mm: tuple[float, float]) -> None:
    plan = thermal_plan(dpi, label_mm)
    printed = [read_qr(canvas) for _, canvas in emulate_zpl(zpl_job(plan, dpi), plan, dpi)]
    assert printed == [[unit.url] for unit in UNITS]


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 6).flatmap(lambda width: st.lists(
    st.sampled_from([bytes(width), b"\xff" * width, bytes([0x80]) + bytes(width - 1), bytes(width - 1) + b"\x01",
                     bytes(range(16, 16 + width))]) | st.binary(min_size=width, max_size=width), min_size=1, max_size=8)))
def test_zpl_graphic_data_decodes_to_the_same_rows(rows: list[bytes]) -> None:
    """The compressed form (``,`` for trailing zeros, ``:`` for a repeated row) holds exactly the rows given."""
    bitmap = thermal.Bitmap(0, 0, len(rows[0]) * 8, len(rows[0]), len(rows), b"".join(rows))
    data = thermal.zpl_graphic_data(bitmap)
    assert zpl_hex_rows(data, len(rows[0])) == bitmap.ink
    assert len(data) <= 2 * len(bitmap.ink)


# ---------------------------------------------------------------------------------------------------
# TSPL
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dpi", [203, 300])
def test_tspl_sets_the_label_up_once_then_prints_one_label_per_stamp(dpi: int) -> None:
    plan = thermal_plan(dpi)
    per_mm = thermal.DOTS_PER_MM[dpi]
    setup, labels = tspl_labels(tspl_job(plan, dpi))
    assert setup == [("SIZE", "50 mm,30 mm", b""), ("GAP", "2 mm,0 mm", b""), ("DIRECTION", "1,0", b""),
                     ("REFERENCE", "0,0", b"")]
    assert len(labels) == len(UNITS)
    width, length = round(plan.label_mm[0] * per_mm), round(plan.label_mm[1] * per_mm)
    for label, unit in zip(labels, UNITS):
        assert [name for name, _, _ in label].count("BITMAP") == len(plan.shared_lines) + 2
        x, y, module, segments = tspl_qr(label)
        assert segments == qr_segments(unit.url) and "".join(text for text, _ in segments) == unit.url
        assert module == thermal.printer_module_dots(0.375, dpi) and module / per_mm >= MIN_MODULE_MM
        assert 0 <= x < width and 0 <= y < length
        for name, arguments, data in label:
            if name == "BITMAP":
                bx, by, ink = tspl_graphic(arguments, data)
                box = ink.getbbox()
                assert box is not None and 0 <= bx and bx + box[2] <= width and 0 <= by and by + ink.height <= length


def test_tspl_bitmaps_are_the_labels_lines_with_white_as_one() -> None:
    plan = thermal_plan(203)
    job = tspl_job(plan)
    for (text_only, _), unit in zip(emulate_tspl(job, plan, 203), UNITS):
        assert ImageChops.difference(text_only, expected_text(plan, unit, 203)).getbbox() is None
    first_bitmap = next(data for name, _, data in tspl_labels(job)[1][0] if name == "BITMAP")
    assert sum(bin(byte).count("1") for byte in first_bitmap) > 4 * len(first_bitmap)  # mostly paper: white is 1


@pytest.mark.parametrize(("dpi", "label_mm"), [(203, (50, 30)), (300, (50, 30)), (203, (30, 40))])
def test_tspl_labels_print_a_qr_that_reads_back_to_the_stamp(dpi: int, label_mm: tuple[float, float]) -> None:
    plan = thermal_plan(dpi, label_mm)
    printed = [read_qr(canvas) for _, canvas in emulate_tspl(tspl_job(plan, dpi), plan, dpi)]
    assert printed == [[unit.url] for unit in UNITS]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("label_mm", [(50, 30), (60, 40), (30, 40)])
def test_automatic_plans_print_whole_dots_and_read_back(dpi: int, label_mm: tuple[float, float]) -> None:
    """The default plan (no --module-mm) is already whole dots, so both printers print it exactly as planned."""
    plan = plan_label(label_mm, 45, TEXTS, stamp_unit(TEXTS.quantity), dots_per_mm=thermal.DOTS_PER_MM[dpi])
    assert thermal.printer_module_mm(plan.module_mm, dpi) == plan.module_mm
    for job, emulate in ((zpl_job(plan, dpi), emulate_zpl), (tspl_job(plan, dpi), emulate_tspl)):
        assert [read_qr(canvas) for _, canvas in emulate(job, plan, dpi)] == [[unit.url] for unit in UNITS]


# ---------------------------------------------------------------------------------------------------
# both writers
# ---------------------------------------------------------------------------------------------------
WRITERS = [thermal.write_zpl, thermal.write_tspl]


@pytest.mark.parametrize("write", WRITERS)
def test_shared_lines_are_rendered_once_per_batch(write: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    render = thermal.render_line

    def counting(line: TextLine, dpi: int) -> thermal.Bitmap:
        rendered.append(line.text)
        return render(line, dpi)

    monkeypatch.setattr(thermal, "render_line", counting)
    plan = thermal_plan()
    write(io.BytesIO(), plan, UNITS)
    assert sorted(rendered) == sorted([line.text for line in plan.shared_lines]
                                      + [line.text for unit in UNITS for line in plan.unit_lines(unit)])


@pytest.mark.parametrize("write", WRITERS)
def test_progress_counts_each_label(write: Writer) -> None:
    steps: list[int] = []
    assert write(io.BytesIO(), thermal_plan(), iter(UNITS), progress=steps.append) == len(UNITS)
    assert steps == [1] * len(UNITS)


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("url", [
    stamp_url(1)[:-1] + '"', stamp_url(1)[:-1] + "\n", stamp_url(1)[:-1] + "^", stamp_url(1)[:-1] + "~",
    stamp_url(1).replace("/V/", "/v/"), "ftp://TRUYXUAT.EXAMPLE.VN/V/" + "A" * 130, stamp_url(1) + " ",
    stamp_url(1)[:-1] + "\x00", stamp_url(1)[:-1] + "Ư"])
def test_a_url_that_is_not_a_stamp_url_is_refused(write: Writer, url: str) -> None:
    with pytest.raises(ThermalError, match="stamp URL"):
        write(io.BytesIO(), thermal_plan(), [UNITS[0], StampUnit(2, url, "X")])


@pytest.mark.parametrize("write", WRITERS)
def test_a_stamp_whose_qr_is_another_size_is_refused(write: Writer) -> None:
    longer = StampUnit(3, stamp_url(3, "https://ocop-truyxuat.dienbien.gov.vn"), "X")
    with pytest.raises(ThermalError, match="another size"):
        write(io.BytesIO(), thermal_plan(), [UNITS[0], longer])
    other_plan = plan_label((50, 30), 41, TEXTS, stamp_unit(TEXTS.quantity))
    with pytest.raises(ThermalError, match="41-module"):
        write(io.BytesIO(), other_plan, UNITS)


@pytest.mark.parametrize("write", WRITERS)
def test_no_stamps_make_no_labels(write: Writer) -> None:
    handle = io.BytesIO()
    assert write(handle, thermal_plan(), []) == 0
    assert b"^XA" not in handle.getvalue() and b"PRINT" not in handle.getvalue()
