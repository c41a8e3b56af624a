"""The golden vectors pass an independent verifier written in JavaScript from docs/stamp-format.md alone.

tests/independent/verify.mjs was written without reading this project's Python code: every vector it reproduces
shows that the specification is enough to build an interoperable verifier.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import VECTORS_PATH, load_vectors

DRIVER = Path(__file__).resolve().parent / "independent" / "run-vectors.mjs"


def node() -> str:
    """The node executable; skips (or fails with OCOP_REQUIRE_TOOLS=1) when it is missing."""
    found = shutil.which("node")
    if found is None:
        if os.environ.get("OCOP_REQUIRE_TOOLS") == "1":
            pytest.fail("node is required (OCOP_REQUIRE_TOOLS=1) for the independent JavaScript verifier")
        pytest.skip("node is not installed: cannot run the independent JavaScript verifier")
    return found


def run_driver(vectors_path: Path) -> tuple[int, dict[str, Any]]:
    """Run the driver on a vectors file: its exit code and its JSON report."""
    done = subprocess.run([node(), str(DRIVER), str(vectors_path)], capture_output=True, text=True, timeout=60)
    assert done.stdout, f"the driver printed no report (exit {done.returncode}): {done.stderr}"
    return done.returncode, json.loads(done.stdout)


def test_every_vector_matches_the_independent_verifier() -> None:
    vectors = load_vectors()
    returncode, report = run_driver(VECTORS_PATH)
    assert report["mismatches"] == []
    assert returncode == 0
    assert report["cases_checked"] == report["cases_total"] == len(vectors["cases"])
    canonical = vectors["canonical_json"]
    assert report["canonical_checked"] == report["canonical_total"] == len(canonical["cases"]) + len(canonical["refused"])


def altered_copy(tmp_path: Path, alter: Any) -> Path:
    """A copy of the vectors file with one expectation changed by ``alter``."""
    vectors = load_vectors()
    alter(vectors)
    copy = tmp_path / "stamp-vectors.json"
    copy.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    return copy


def case_named(vectors: dict[str, Any], title: str) -> dict[str, Any]:
    return next(case for case in vectors["cases"] if case["title"] == title)


def set_result(title: str, result: str) -> Any:
    return lambda vectors: case_named(vectors, title)["expected"].update(result=result)


def reverse_reasons(title: str) -> Any:
    return lambda vectors: case_named(vectors, title)["expected"]["reasons"].reverse()


def set_canonical_sha256(vectors: dict[str, Any]) -> None:
    vectors["canonical_json"]["cases"][0]["sha256"] = "00" * 32


def make_refused_text_canonical(vectors: dict[str, Any]) -> None:
    next(item for item in vectors["canonical_json"]["refused"] if item["title"] == "white-space")["text"] = '{"a":1}'


@pytest.mark.parametrize("alter, section, title", [
    (set_result("genuine-retired-key", "revoked_key"), "cases", "genuine-retired-key"),
    (set_result("not-a-stamp-vertical-tab", "genuine"), "cases", "not-a-stamp-vertical-tab"),
    (reverse_reasons("warning-product-expired"), "cases", "warning-product-expired"),
    (set_canonical_sha256, "canonical_json", "escapes-and-key-order"),
    (make_refused_text_canonical, "canonical_json.refused", "white-space"),
], ids=["result", "not-a-stamp-accepted", "reason-order", "canonical-sha256", "refused-text-accepted"])
def test_the_driver_fails_on_an_altered_expectation(tmp_path: Path, alter: Any, section: str, title: str) -> None:
    returncode, report = run_driver(altered_copy(tmp_path, alter))
    assert returncode == 1
    assert [(mismatch["section"], mismatch["title"]) for mismatch in report["mismatches"]] == [(section, title)]


def test_the_driver_refuses_an_unreadable_vectors_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    done = subprocess.run([node(), str(DRIVER), str(missing)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "cannot read the vectors file" in done.stderr
