"""Shared fixtures: the golden vectors of docs/vectors/stamp-vectors.json, fresh instances, the demo and verifier apps."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask

from stamps.demo import DEMO_PASSPHRASE, DemoRun, run_demo
from stamps.instance import Instance
from stamps.issuance import StampSigner
from verify_server import create_app

pytest_plugins = ["store_engines"]  # the store's engines: SQLite, and PostgreSQL when $OCOP_STAMPS_TEST_POSTGRES is set

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


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo instance per module (making one derives a key from a passphrase, which is slow on purpose)."""
    return run_demo(tmp_path_factory.mktemp("template") / "inst", TEST_BASE_URL)


@pytest.fixture()
def demo(demo_template: DemoRun, tmp_path: Path) -> DemoRun:
    """A private copy of the module's demo instance, so each test starts with an empty scan log."""
    root = tmp_path / "inst"
    shutil.copytree(demo_template.instance_root, root)
    return dataclasses.replace(demo_template, instance_root=root)


@pytest.fixture()
def code(demo: DemoRun) -> Callable[[int], str]:
    """The stamp URL of a serial of the demo batch."""
    instance = Instance.open(demo.instance_root)
    key = instance.signing_key(DEMO_PASSPHRASE)
    instance.close()
    return lambda serial: StampSigner(key, demo.batch, TEST_BASE_URL).code(serial).url


@pytest.fixture()
def apps(demo: DemoRun) -> Iterator[Callable[..., Flask]]:
    """Verifier apps over the demo instance (two apps stand for two worker processes); closed after the test."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        app = create_app({"INSTANCE": str(demo.instance_root), "TESTING": True, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["ocop_runtime"].close()
