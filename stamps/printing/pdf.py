"""PDF label sheets and roll pages, written with reportlab: vector QR paths, embedded Vietnamese font.

Why reportlab: measured here on 10,000 labels (3 x 8 A4 sheets, unique 45 x 45
QR each, three Vietnamese lines), reportlab wrote 3,450 labels/s from ready
matrices against fpdf2's 3,020/s and pydyf's 520/s; it embeds and subsets
TrueType fonts with a ToUnicode map (text extracts with every diacritic), and
takes raw path operators (``addLiteral``), so a QR is one path of one
rectangle per horizontal run of dark modules, built with numpy for a whole page
at once. A85 encoding is switched off (it only makes the file 25 % larger and
slower to write).

Pages are produced one at a time from the codes' iterator: only one page of
matrices exists at any moment, but reportlab keeps each finished page's
content (about 8 KB per label, compressed only when the file is closed)
until it writes the file: 10,000 labels peak at about 160 MB, so larger jobs
are split into files of at most ``MAX_LABELS_PER_FILE`` (jobs.py).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import itertools
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from reportlab import rl_config
from reportlab.pdfgen import canvas

from stamps.printing.fonts import BOLD, POINTS_PER_MM, REGULAR, register_fonts
from stamps.printing.label import LabelPlan, StampUnit, TextLine
from stamps.printing.layout import Layout, Slot
from stamps.printing.symbols import BulkEncoder, QRMatrix
from stamps.qr import QUIET_ZONE_MODULES

MAX_LABELS_PER_FILE = 10_000
PR_SET_PDEATHSIG = 1  # prctl option, linux/prctl.h
PARENT_POLL_SECONDS = 0.5
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # what a starting pool holds back (encoding_pool)
_DIGITS = np.array([list(b"%3d" % number) for number in range(1000)], dtype=np.uint8)

rl_config.useA85 = 0  # plain compressed streams: smaller and faster (the process only writes PDFs this way)


def page_qr_paths(matrices: Sequence[QRMatrix]) -> list[bytes]:
    """PDF path operators (module units, y down) for each symbol: one ``x y w 1 re`` per horizontal dark run.

    Numbers are fixed-width (space-padded, which PDF reads as whitespace) so numpy writes every record of a page at
    once: 14 bytes a run for symbols under 100 modules (version 7 has about 520 runs), 17 above.
    """
    size = matrices[0].size
    width = 2 if size < 100 else 3
    digits = _DIGITS[:, 3 - width:]
    dark = np.frombuffer(b"".join(matrix.modules for matrix in matrices), dtype=np.uint8).reshape(len(matrices), size, size) == 0
    padded = np.zeros((len(matrices), size, size + 2), dtype=np.int8)
    padded[:, :, 1:-1] = dark
    edges = np.diff(padded, axis=2)
    symbol, ys, xs = np.nonzero(edges == 1)
    _, _, ends = np.nonzero(edges == -1)
    record = 3 * width + 8
    records = np.empty((xs.size, record), dtype=np.uint8)
    for column, values in enumerate((xs, ys, ends - xs)):
        start = column * (width + 1)
        records[:, start:start + width] = digits[values]
        records[:, start + width] = 32
    records[:, 3 * width + 3:] = np.frombuffer(b"1 re\n", dtype=np.uint8)
    body = records.tobytes()
    bounds = np.searchsorted(symbol, np.arange(len(matrices) + 1)) * record
    return [body[bounds[index]:bounds[index + 1]] for index in range(len(matrices))]


def encode_page(urls: Sequence[str], expected_size: int | None = None) -> list[bytes]:
    """The path operators of one page's symbols (runs in a worker process when encoding is spread over cores)."""
    encoder = BulkEncoder(expected_size)
    return page_qr_paths([encoder.matrix(url) for url in urls])


class PdfLabelWriter:
    """Draws labels of one plan onto the pages of one layout; *workers* > 1 spreads QR encoding over processes."""

    def __init__(self, layout: Layout, plan: LabelPlan, encoder: BulkEncoder | None = None, workers: int = 1) -> None:
        self.layout = layout
        self.plan = plan
        self.encoder = encoder or BulkEncoder(plan.qr_modules)
        self.workers = workers

    def write(self, path: Path, units: Iterable[StampUnit], *, title: str = "",
              progress: Callable[[int], None] = lambda done: None) -> int:
        """Write the labels of *units* to *path*, page by page; returns how many were written."""
        regular, _ = register_fonts()
        page_width, page_height = (side * POINTS_PER_MM for side in self.layout.page_mm)
        pdf = canvas.Canvas(str(path), pagesize=(page_width, page_height), pageCompression=1, initialFontName=regular,
                            initialFontSize=6)
        pdf.setTitle(title)
        pdf.setCreator("ocop-stamps")
        self._define_shared_lines(pdf)
        written = 0
        for page_units, page_paths in self._encoded_pages(units):
            for slot, unit, path_ops in zip(self.layout.slots(len(page_units)), page_units, page_paths):
                self._draw_label(pdf, slot, unit, path_ops, page_height)
            pdf.showPage()
            written += len(page_units)
            progress(len(page_units))
        pdf.save()
        return written

    def _encoded_pages(self, units: Iterable[StampUnit]) -> Iterator[tuple[list[StampUnit], list[bytes]]]:
        """Pages of units with their QR paths, in order; with workers, a few pages are encoded ahead, no more."""
        pages = _pages(units, self.layout.per_page)
        if self.workers <= 1:
            for page in pages:
                yield page, page_qr_paths([self.encoder.matrix(unit.url) for unit in page])
            return
        ahead: collections.deque[tuple[list[StampUnit], concurrent.futures.Future[list[bytes]]]] = collections.deque()
        with encoding_pool(self.workers) as pool:
            for page in pages:
                ahead.append((page, pool.submit(encode_page, [unit.url for unit in page], self.plan.qr_modules)))
                if len(ahead) > 2 * self.workers:
                    done, future = ahead.popleft()
                    yield done, future.result()
            while ahead:
                done, future = ahead.popleft()
                yield done, future.result()

    def _define_shared_lines(self, pdf: canvas.Canvas) -> None:
        """The lines every label shares, as one form drawn on each label (written once in the file)."""
        width, height = (side * POINTS_PER_MM for side in self.plan.label_mm)
        pdf.beginForm("shared", 0, 0, width, height)
        for line in self.plan.shared_lines:
            _draw_text(pdf, line, height)
        pdf.endForm()

    def _draw_label(self, pdf: canvas.Canvas, slot: Slot, unit: StampUnit, path_ops: bytes, page_height: float) -> None:
        label_height = self.plan.label_mm[1] * POINTS_PER_MM
        left = slot.x_mm * POINTS_PER_MM
        bottom = page_height - slot.y_mm * POINTS_PER_MM - label_height
        module = self.plan.module_mm * POINTS_PER_MM
        qr_left = left + (self.plan.qr_left_mm + QUIET_ZONE_MODULES * self.plan.module_mm) * POINTS_PER_MM
        qr_top = bottom + label_height - (self.plan.qr_top_mm + QUIET_ZONE_MODULES * self.plan.module_mm) * POINTS_PER_MM
        pdf.addLiteral(f"q {module:.5f} 0 0 {-module:.5f} {qr_left:.3f} {qr_top:.3f} cm\n{path_ops.decode('ascii')}f Q")
        pdf.saveState()
        pdf.translate(left, bottom)
        pdf.doForm("shared")
        for line in self.plan.unit_lines(unit):
            _draw_text(pdf, line, label_height)
        pdf.restoreState()


def _draw_text(pdf: canvas.Canvas, line: TextLine, label_height: float) -> None:
    pdf.setFont(BOLD if line.bold else REGULAR, line.size_pt)
    pdf.drawString(line.x_mm * POINTS_PER_MM, label_height - line.baseline_mm * POINTS_PER_MM, line.text)


@contextlib.contextmanager
def encoding_pool(workers: int) -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    """Worker processes that die with this one (:func:`_start_worker`); when the run fails or is interrupted
    (Ctrl-C, SIGTERM), pages not yet started are dropped and the workers are waited for, so none outlives it.

    The workers and the pool's manager thread are started at once, with Ctrl-C and SIGTERM held: a worker forked
    with this process's handlers would raise them itself before its initializer ignores them, and a pool interrupted
    before its manager thread runs cannot stop its workers (the run printed a traceback or hung). A signal that
    arrives meanwhile is delivered as soon as the pool stands, and stops it.
    """
    with _signals_held():
        pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=_process_context(), initializer=_start_worker,
                                                      initargs=(os.getpid(),))
        pool.submit(int)  # starts every worker and the manager thread now (a fork pool starts them all on first use)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _start_worker(parent_pid: int) -> None:
    """Pool initializer: leave Ctrl-C to the parent (it stops the pool) and die with the parent.

    A worker outliving a killed parent waits on its task pipe for ever, holding the instance's files open. On Linux the
    kernel kills it (PR_SET_PDEATHSIG; the pool forks its workers from the thread that submits, which lives as long as
    the process); elsewhere a thread watches the parent. A parent that died before that was set is seen by getppid().
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # forked with them held (encoding_pool): now they may come
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
    if not _kill_with_parent():
        watch_parent(parent_pid)
    if os.getppid() != parent_pid:
        os._exit(1)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait (where POSIX threads allow it) until the block ends, then arrive as usual."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _kill_with_parent() -> bool:
    """Linux: have the kernel send this process SIGKILL when its parent ends; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(parent_pid: int, interval: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process once its parent *parent_pid* is gone (polled every *interval* s)."""
    def watch() -> None:
        parent = multiprocessing.parent_process()  # on Windows its handle tells when it ends; getppid() does not
        while os.getppid() == parent_pid and (parent is None or parent.is_alive()):
            time.sleep(interval)
        os._exit(1)

    watcher = threading.Thread(target=watch, name="parent-watch", daemon=True)
    watcher.start()
    return watcher


def _process_context() -> multiprocessing.context.BaseContext:
    """fork where there is one (workers start at once, sharing the loaded modules), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _pages(units: Iterable[StampUnit], per_page: int) -> Iterator[list[StampUnit]]:
    iterator = iter(units)
    while page := list(itertools.islice(iterator, per_page)):
        yield page
