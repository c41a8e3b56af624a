"""ZPL jobs rendered by an independent emulator, then decoded: every label must read back to exactly its issued code.

The emulator is zebrash (IngridHQ's Go ZPL renderer, built to WebAssembly in the npm package
``zpl-renderer-js``, pinned in ``tests/zpl/package.json`` and its lock file). It runs offline under Node through
``tests/zpl/render.cjs``. It is a test tool only: ``.ci/run`` installs it (``npm ci --prefix tests/zpl``) before
pytest; the product never runs npm or Node. The decoder is zxing-cpp; neither is our writer.

Without Node or the package the module is skipped, unless ``OCOP_REQUIRE_TOOLS=1`` (set by ``.ci/run``), in which
case it fails.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from stamps.demo import DEMO_PASSPHRASE, run_demo
from stamps.instance import Instance
from stamps.printing.thermal import DOTS_PER_MM
from stamps.verify import Result
from tests.test_cli import invoke, ok

EMULATOR_DIR = Path(__file__).resolve().parent / "zpl"
RENDER_SCRIPT = EMULATOR_DIR / "render.cjs"
PACKAGE = EMULATOR_DIR / "node_modules" / "zpl-renderer-js" / "package.json"
NODE = shutil.which("node")
BASE_URL = "https://truyxuat.example.vn"
LOT = "PH14-2611-01"
LABELS = 24
LABEL_MM = (50, 30)  # the default zpl label
RENDER_TIMEOUT_SECONDS = 120

MISSING_REASON = ("Node.js not found" if NODE is None else
                  None if PACKAGE.exists() else "the ZPL emulator is not installed: run 'npm ci --prefix tests/zpl'")
REQUIRED = os.environ.get("OCOP_REQUIRE_TOOLS") == "1"

pytestmark = pytest.mark.skipif(MISSING_REASON is not None and not REQUIRED, reason=str(MISSING_REASON))


def render(job: bytes, dpi: int) -> list[Image.Image]:
    """Each label of the ZPL *job* as zebrash prints it on a LABEL_MM label at *dpi*."""
    if MISSING_REASON is not None:
        pytest.fail(f"OCOP_REQUIRE_TOOLS=1 but {MISSING_REASON}", pytrace=False)
    assert NODE is not None
    done = subprocess.run([NODE, str(RENDER_SCRIPT), *map(str, LABEL_MM), str(DOTS_PER_MM[dpi])], input=job,
                          capture_output=True, timeout=RENDER_TIMEOUT_SECONDS, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return [Image.open(io.BytesIO(base64.b64decode(png))) for png in json.loads(done.stdout)["labels"]]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zpl-emulator") / "inst"
    run_demo(root, BASE_URL)
    return root


@pytest.mark.parametrize("dpi", [203, 300])
def test_every_label_zebrash_prints_decodes_to_its_issued_code(demo_root: Path, tmp_path: Path, dpi: int) -> None:
    folder = tmp_path / "zpl"
    ok(invoke(demo_root, "issue", LOT, "--count", LABELS, "--format", "zpl", "--dpi", dpi, "--out", folder,
              passphrase=DEMO_PASSPHRASE.decode()))
    with open(folder / "codes.csv", newline="", encoding="utf-8") as handle:
        issued = [row["code"] for row in csv.DictReader(handle)]
    labels = render((folder / "stamps.zpl").read_bytes(), dpi)
    per_mm = DOTS_PER_MM[dpi]
    assert [label.size for label in labels] == [(LABEL_MM[0] * per_mm, LABEL_MM[1] * per_mm)] * LABELS
    decoded = [[found.text for found in zxingcpp.read_barcodes(label, formats=zxingcpp.BarcodeFormat.QRCode)]
               for label in labels]
    assert decoded == [[code] for code in issued] and len(set(issued)) == LABELS
    instance = Instance.open(demo_root, read_only=True)
    try:
        verifier = instance.verifier()
        assert {verifier.verify(code).result for [code] in decoded} == {Result.GENUINE}
    finally:
        instance.close()
