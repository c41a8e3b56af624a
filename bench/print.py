"""Benchmark: printing stamps (PDF sheets, SVG, PNG) against bare QR encoding by segno and zxing-cpp.

Run from the repository root::

    .venv/bin/python bench/print.py              # 10,000 stamps per PDF run
    .venv/bin/python bench/print.py --stamps 2000   # a quicker look

What is measured, in one run on this machine:

- baselines, for the same stamp URLs: segno's bare ``segno.make(url, error="m")`` and zxing-cpp's bare
  ``create_barcode(url, QRCode, ec_level="M")``, symbols per second;
- the PDF pipeline as ``ocop-stamps issue`` runs it: serials recorded in the store, each code signed, encoded by
  zxing-cpp (checked against segno's version), laid out on A4 3 x 8 sheets with the Vietnamese text and written
  with reportlab, plus codes.csv; once in one process, once spreading encoding over every core;
- SVG and PNG per stamp, the same way;
- peak memory (max RSS) of the process that wrote the 10,000-stamp PDF.

Each pipeline runs in a fresh child process (so its peak memory is its own). Targets: PDF sheets in one process
>= 40 % of zxing-cpp's bare rate, faster again with both cores, and peak memory < 200 MB for 10,000 stamps. It is a
report: the exit status is 0 whatever the result.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import shutil
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import segno
import zxingcpp

from stamps import registry
from stamps.demo import DEMO_PASSPHRASE, create_demo_product_batch, run_demo
from stamps.instance import Instance
from stamps.issuance import StampSigner, allocate_serials, staged_output
from stamps.printing.jobs import PrintJob, parse_format, write_stamps

BASE_URL = "https://truyxuat.example.vn"  # a version 7 symbol, as the design brief's 30-character host gives
BATCH_QUANTITY = 1_000_000
TARGET_RATIO = 0.40
TARGET_MEMORY_MB = 200.0
SEGNO_SAMPLE = 300


def build_instance(root: Path) -> str:
    """The demo instance and a large batch of its product; returns the batch digest."""
    run_demo(root, BASE_URL)
    instance = Instance.open(root)
    try:
        return create_demo_product_batch(instance, instance.signing_key(DEMO_PASSPHRASE), "BENCH-PRINT", BATCH_QUANTITY).digest
    finally:
        instance.close()


def sample_urls(root: Path, digest: str, count: int) -> list[str]:
    """URLs of real stamps (serials issued for the purpose) for the baselines."""
    instance = Instance.open(root)
    try:
        batch = registry.find_batch(instance.store, digest)
        serials = allocate_serials(instance.store, batch, count)
        signer = StampSigner(instance.signing_key(DEMO_PASSPHRASE), batch, instance.base_url)
        return [issued.url for issued in signer.codes(serials)]
    finally:
        instance.close()


def rate(function: Any, items: list[str]) -> float:
    started = time.perf_counter()
    for item in items:
        function(item)
    return len(items) / (time.perf_counter() - started)


def pipeline_child(root: str, digest: str, fmt: str, count: int, workers: int, results: Any) -> None:
    """Issue *count* serials and write them in *fmt*, timed from the serial allocation to the synced files."""
    instance = Instance.open(Path(root))
    batch = registry.find_batch(instance.store, digest)
    key = instance.signing_key(DEMO_PASSPHRASE)
    job = PrintJob((parse_format(fmt),), batch, instance.base_url, workers=workers)
    out = Path(root) / "bench-output"
    out.mkdir(exist_ok=True)
    started = time.perf_counter()
    with staged_output(out) as staging:
        serials = allocate_serials(instance.store, batch, count)
        signer = StampSigner(key, batch, instance.base_url)
        write_stamps(staging, job, lambda: signer.codes(serials))
        seconds = time.perf_counter() - started
        size = sum(path.stat().st_size for path in staging.rglob("*") if path.is_file())
    instance.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put({"seconds": seconds, "peak_mb": peak_mb, "bytes": size})


def run_pipeline(root: Path, digest: str, fmt: str, count: int, workers: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=pipeline_child, args=(str(root), digest, fmt, count, workers, results))
    child.start()
    found = results.get(timeout=1800)
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"the {fmt} run failed (exit {child.exitcode})")
    return {"rate": count / found["seconds"], **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stamps", type=int, default=10_000, help="stamps per PDF run (default 10,000)")
    parser.add_argument("--images", type=int, default=1_000, help="stamps per SVG / PNG run (default 1,000)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    root = Path(tempfile.mkdtemp(prefix="ocop-bench-print-")) / "inst"
    try:
        digest = build_instance(root)
        urls = sample_urls(root, digest, 2_000)
        zxing_rate = rate(lambda url: zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M"), urls)
        segno_rate = rate(lambda url: segno.make(url, error="m", micro=False), urls[:SEGNO_SAMPLE])
        runs = [("PDF sheets a4-24, 1 process", "pdf:a4-24", args.stamps, 1),
                (f"PDF sheets a4-24, {cores} processes", "pdf:a4-24", args.stamps, cores),
                ("PDF roll 50x30, 1 process", "pdf:roll-50x30", args.images, 1),
                ("SVG per stamp", "svg", args.images, 1),
                ("PNG per stamp", "png", args.images, 1)]
        measured = [(label, count, run_pipeline(root, digest, fmt, count, workers)) for label, fmt, count, workers in runs]
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
    report(zxing_rate, segno_rate, measured, cores)


def report(zxing_rate: float, segno_rate: float, measured: list[tuple[str, int, dict[str, float]]], cores: int) -> None:
    print(f"machine        : {platform.machine()}, {cores} cores, CPython {platform.python_version()}")
    print(f"libraries      : zxing-cpp {metadata.version('zxing-cpp')}, segno {metadata.version('segno')}, "
          f"reportlab {metadata.version('reportlab')}, numpy {metadata.version('numpy')}")
    print(f"symbols        : version 7-M (45 x 45 modules), URLs behind {BASE_URL}\n")
    print(f"{'run':36} {'stamps':>7} {'stamps/s':>9} {'vs zxing':>9} {'vs segno':>9} {'peak MB':>8} {'output MB':>9}")
    print(f"{'baseline: zxing-cpp create_barcode':36} {2000:>7,} {zxing_rate:>9,.0f} {1:>9.0%} {zxing_rate / segno_rate:>8.1f}x")
    print(f"{'baseline: segno make':36} {SEGNO_SAMPLE:>7,} {segno_rate:>9,.0f} {segno_rate / zxing_rate:>9.0%} {1:>8.1f}x")
    for label, count, found in measured:
        print(f"{label:36} {count:>7,} {found['rate']:>9,.0f} {found['rate'] / zxing_rate:>9.0%} "
              f"{found['rate'] / segno_rate:>8.1f}x {found['peak_mb']:>8.0f} {found['bytes'] / 1e6:>9.1f}")
    single, parallel = measured[0][2], measured[1][2]
    print()
    print(f"target: PDF sheets, 1 process >= {TARGET_RATIO:.0%} of zxing-cpp   "
          f"{'PASS' if single['rate'] >= TARGET_RATIO * zxing_rate else 'FAIL'} ({single['rate'] / zxing_rate:.0%})")
    print(f"target: faster with {cores} processes        "
          f"{'PASS' if parallel['rate'] > single['rate'] else 'FAIL'} ({parallel['rate'] / single['rate']:.2f}x)")
    print(f"target: peak memory < {TARGET_MEMORY_MB:.0f} MB ({measured[0][1]:,} stamps)   "
          f"{'PASS' if single['peak_mb'] < TARGET_MEMORY_MB else 'FAIL'} ({single['peak_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
