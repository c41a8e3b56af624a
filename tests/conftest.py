"""Shared fixtures: the golden vectors of docs/vectors/stamp-vectors.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from stamps.instance import Instance

TEST_BASE_URL = "https://truyxuat.example.vn"
VECTORS_PATH = Path(__file__).resolve().parent.parent / "docs" / "vectors" / "stamp-vectors.json"


def load_vectors() -> dict[str, Any]:
    return json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return load_vectors()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize any test taking ``vector_case`` over every case, with the case title as id."""
    if "vector_case" in metafunc.fixturenames:
        cases = load_vectors()["cases"]
        metafunc.parametrize("vector_case", cases, ids=[case["title"] for case in cases])


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    """A fresh, initialised instance folder (no key yet)."""
    inst = Instance.create(tmp_path / "inst", TEST_BASE_URL)
    yield inst
    inst.close()
