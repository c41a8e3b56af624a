"""Writing a batch's stamps in the formats people print from, chosen with ``--format FORMAT[:PRESET]``.

Formats (several may be asked for at once; ``codes.csv`` is always written):

- ``pdf[:PRESET]``: label sheets (A4 presets, or ``custom`` with a grid) or roll pages (``roll-WxH``);
- ``zpl[:WxH]``, ``tspl[:WxH]``: thermal label printers (Zebra; TSC/Xprinter), one label per stamp;
- ``svg``, ``png``: one QR image per stamp (for packaging artwork);
- ``csv``: only ``codes.csv`` (serial, code, short code) for a print shop.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from stamps.code import IssuedCode, short_code
from stamps.printing.label import BatchTexts, LabelPlan, StampUnit, check_module_size, plan_label
from stamps.printing.layout import DEFAULT_SHEET, LAYOUTS, Layout, LayoutError, custom_roll, custom_sheet
from stamps.printing.symbols import BulkEncoder
from stamps.qr import stamp_qr_version
from stamps.batch_record import StoredBatch

FORMATS = ("pdf", "zpl", "tspl", "svg", "png", "csv")
DEFAULT_THERMAL_LABEL = "50x30"
PARALLEL_FROM = 2_000
MAX_WORKERS = 8


@dataclasses.dataclass(frozen=True)
class CustomGrid:
    """The options that describe a custom sheet (``--format pdf:custom``)."""

    grid: str | None = None
    label_size: str | None = None
    margins: str = "0x0"
    gaps: str = "0x0"
    page: str = "a4"


@dataclasses.dataclass(frozen=True)
class OutputFormat:
    kind: str
    layout: Layout | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.layout.name}" if self.layout else self.kind


def format_help() -> str:
    """The formats and presets, for ``--help``."""
    sheets = "; ".join(f"{layout.name}: {layout.description}" for layout in LAYOUTS.values() if not layout.roll)
    rolls = ", ".join(layout.name for layout in LAYOUTS.values() if layout.roll)
    return (f"FORMAT[:PRESET], repeatable. pdf (default, preset {DEFAULT_SHEET}) with a sheet preset ({sheets}), "
            f"a roll preset ({rolls}, or roll-WxH) or custom (with --grid and --label-size); "
            f"zpl[:WxH] and tspl[:WxH] for thermal printers (default {DEFAULT_THERMAL_LABEL} mm, see --dpi); "
            "svg and png (one QR image per stamp); csv (codes.csv only, always written).")


def parse_format(text: str, custom: CustomGrid = CustomGrid()) -> OutputFormat:
    """``pdf``, ``pdf:a4-40``, ``pdf:roll-50x30``, ``pdf:custom``, ``zpl:40x30``, ``svg``... as an OutputFormat."""
    kind, _, preset = text.strip().lower().partition(":")
    if kind not in FORMATS:
        raise LayoutError(f"Unknown format {text!r}; choose one of {', '.join(FORMATS)} (see --help for the presets).")
    if kind == "pdf":
        return OutputFormat(kind, _pdf_layout(preset or DEFAULT_SHEET, custom))
    if kind in ("zpl", "tspl"):
        return OutputFormat(kind, custom_roll(preset.removeprefix("roll-") or DEFAULT_THERMAL_LABEL))
    if preset:
        raise LayoutError(f"Format {kind} takes no preset (got {preset!r}).")
    return OutputFormat(kind)


def _pdf_layout(preset: str, custom: CustomGrid) -> Layout:
    if preset == "custom":
        if not custom.grid or not custom.label_size:
            raise LayoutError("--format pdf:custom needs --grid COLUMNSxROWS and --label-size WIDTHxHEIGHT (mm).")
        return custom_sheet(custom.grid, custom.label_size, custom.margins, custom.gaps, custom.page)
    if preset in LAYOUTS:
        return LAYOUTS[preset]
    if preset.startswith("roll-"):
        return custom_roll(preset.removeprefix("roll-"))
    raise LayoutError(f"Unknown preset {preset!r}; choose one of {', '.join(LAYOUTS)}, roll-WxH or custom.")


@dataclasses.dataclass(frozen=True)
class PrintJob:
    """Everything needed to write one batch's stamps: the formats, the batch and the print settings.

    Build it (and call :meth:`plans`) before serials are issued: a label too small or an unknown preset must fail
    before anything is recorded.
    """

    formats: tuple[OutputFormat, ...]
    batch: StoredBatch
    base_url: str
    module_mm: float | None = None  # None: the largest whole-dot module each label has room for (label.plan_label)
    dpi: int = 203
    workers: int = 1  # processes that encode QR symbols for PDFs (see encoding_workers)

    def __post_init__(self) -> None:
        for kind in {fmt.kind for fmt in self.formats} & {"zpl", "tspl"}:  # the printers' resolutions (thermal.py)
            from stamps.printing import thermal

            thermal.dots_per_mm(self.dpi, {"zpl": thermal.ZPL_DPIS, "tspl": thermal.TSPL_DPIS}[kind])
        if self.module_mm is not None:
            check_module_size(self.module_mm)
        kinds = [fmt.kind for fmt in self.formats]
        repeated = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        if repeated:
            raise LayoutError(f"Give each kind of output once (--format {repeated[0]} appears twice); "
                              "issue again with --reprint for another preset.")

    @property
    def outputs(self) -> tuple[OutputFormat, ...]:
        """The formats written besides codes.csv (which is always written)."""
        return tuple(fmt for fmt in self.formats if fmt.kind != "csv")

    @property
    def progress_steps(self) -> int:
        """Progress reported per stamp: one per output (the CSV alone counts one)."""
        return max(1, len(self.outputs))

    @functools.cached_property
    def qr_modules(self) -> int:
        return 17 + 4 * stamp_qr_version(self.base_url)

    def plans(self) -> dict[str, LabelPlan]:
        """A label plan per format that lays out labels, fitted for the batch's widest serial."""
        texts = BatchTexts.from_record(self.batch.record)
        widest = StampUnit(texts.quantity, "", short_code(self.batch.signed.digest_prefix, texts.quantity))
        from stamps.printing.thermal import dots_per_mm

        return {fmt.name: plan_label(fmt.layout.label_mm, self.qr_modules, texts, widest, self._module_mm_for(fmt),
                                     dots_per_mm=dots_per_mm(self.dpi))
                for fmt in self.formats if fmt.layout is not None}

    def _module_mm_for(self, fmt: OutputFormat) -> float | None:
        """A thermal printer prints whole dots: the module it really prints for --module-mm (0.375 mm is 5 dots =
        0.417 mm at 300 dpi); None (automatic) for every format when --module-mm is not given."""
        if fmt.kind in ("zpl", "tspl") and self.module_mm is not None:
            from stamps.printing.thermal import printer_module_mm

            return printer_module_mm(self.module_mm, self.dpi)
        return self.module_mm

    @property
    def image_module_mm(self) -> float:
        """The module of SVG and PNG images, which have no label to fill: --module-mm, or IMAGE_MODULE_MM."""
        from stamps.printing.images import IMAGE_MODULE_MM

        return self.module_mm if self.module_mm is not None else IMAGE_MODULE_MM


def encoding_workers(count: int) -> int:
    """Every core for a job large enough to repay starting the processes (about 0.1 s), one otherwise."""
    return min(os.cpu_count() or 1, MAX_WORKERS) if count >= PARALLEL_FROM else 1


UnitSource = Callable[[], Iterable[IssuedCode]]


def write_stamps(folder: Path, job: PrintJob, codes: UnitSource, *,
                 progress: Callable[[int], None] = lambda done: None) -> list[Path]:
    """codes.csv and every asked-for format in *folder*; *codes* gives the issued codes afresh for each output
    (codes are deterministic: signing again costs 30 us a stamp), so no output holds more than one PDF file's
    stamps in memory. *progress* gets 1 per stamp and output (see PrintJob.progress_steps). Returns what was written."""
    plans = job.plans()
    encoder = BulkEncoder(job.qr_modules)
    prefix = job.batch.signed.digest_prefix

    def units() -> Iterator[StampUnit]:
        return (StampUnit.from_issued(issued, prefix) for issued in codes())

    written = [_write_csv(folder / "codes.csv", units(), progress if not job.outputs else _ignore)]
    for fmt in job.outputs:
        written += _write_format(folder, fmt, plans.get(fmt.name), units, job, encoder, progress)
    return written


def _ignore(done: int) -> None:
    return None


def _write_format(folder: Path, fmt: OutputFormat, plan: LabelPlan | None, units: Callable[[], Iterator[StampUnit]],
                  job: PrintJob, encoder: BulkEncoder, progress: Callable[[int], None]) -> list[Path]:
    if fmt.kind == "pdf":
        assert plan is not None and fmt.layout is not None
        return _write_pdfs(folder, fmt.layout, plan, units(), job, encoder, progress)
    if fmt.kind in ("zpl", "tspl"):
        from stamps.printing import thermal

        assert plan is not None
        path = folder / f"stamps.{fmt.kind}"
        write = thermal.write_zpl if fmt.kind == "zpl" else thermal.write_tspl
        with open(path, "wb") as handle:
            write(handle, plan, units(), dpi=job.dpi, progress=progress)
            _sync(handle)
        return [path]
    return [_write_images(folder / fmt.kind, fmt.kind, units(), job, encoder, progress)]


def _write_pdfs(folder: Path, layout: Layout, plan: LabelPlan, units: Iterator[StampUnit], job: PrintJob,
                encoder: BulkEncoder, progress: Callable[[int], None]) -> list[Path]:
    """stamps.pdf, or stamps-0001.pdf, stamps-0002.pdf, ... as pdf_file_parts splits the job."""
    from stamps.printing.pdf import MAX_LABELS_PER_FILE, PdfLabelWriter

    writer = PdfLabelWriter(layout, plan, encoder, job.workers)
    title = f"{job.batch.record['product']['name']} - {job.batch.record['batch']['lot_code']}"
    paths: list[Path] = []
    for part in pdf_file_parts(units, layout.per_page, MAX_LABELS_PER_FILE):  # one file's units at a time
        path = folder / f"stamps-{len(paths) + 1:04d}.pdf"
        writer.write(path, part, title=title, progress=progress)
        with open(path, "rb") as handle:
            _sync(handle)
        paths.append(path)
    if len(paths) == 1:
        paths = [paths[0].rename(folder / "stamps.pdf")]
    return paths


Item = TypeVar("Item")


def pdf_file_parts(items: Iterable[Item], per_page: int, limit: int) -> Iterator[list[Item]]:
    """The items of each PDF file: all in one file when there are at most *limit*; more are split into files of as
    many whole sheets of *per_page* as *limit* holds, so every file but the last ends on a full sheet."""
    iterator = iter(items)
    first = list(itertools.islice(iterator, limit + 1))
    if len(first) <= limit:
        if first:
            yield first
        return
    per_file = max(per_page, limit // per_page * per_page)
    rest = itertools.chain(first, iterator)
    while part := list(itertools.islice(rest, per_file)):
        yield part


def _write_images(target: Path, kind: str, units: Iterable[StampUnit], job: PrintJob, encoder: BulkEncoder,
                  progress: Callable[[int], None]) -> Path:
    from stamps.printing.images import save_png, svg_bytes

    target.mkdir()
    for unit in units:
        matrix = encoder.matrix(unit.url)
        path = target / f"{unit.serial:07d}.{kind}"
        if kind == "svg":
            path.write_bytes(svg_bytes(matrix, unit, job.image_module_mm))
        else:
            save_png(matrix, path, job.image_module_mm)
        progress(1)
    return target


def _write_csv(path: Path, units: Iterable[StampUnit], progress: Callable[[int], None]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["serial", "code", "short_code"])
        for unit in units:
            writer.writerow([unit.serial, unit.url, unit.short_code])
            progress(1)
        _sync(handle)
    return path


def _sync(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())
