"""Only the store speaks to a database: no module of the product outside stamps/store/ imports a database driver.

(Tests of one engine read its files directly, and bench/verifier.py fills a scan log with ten million generated
rows by SQL; neither is part of the product.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRIVERS = {"sqlite3", "sqlite_utils", "psycopg", "psycopg_pool", "psycopg2", "sqlalchemy"}
STORE = ROOT / "stamps" / "store"
SOURCES = sorted([*ROOT.glob("stamps/**/*.py"), *ROOT.glob("keys/*.py"), *ROOT.glob("verify_server/*.py"),
                  ROOT / "cli.py"])


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", [path for path in SOURCES if STORE not in path.parents],
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_no_database_driver_outside_the_store(path: Path) -> None:
    assert not imported_modules(path) & DRIVERS


def test_the_store_is_where_the_drivers_are() -> None:
    assert {"sqlite3", "sqlite_utils"} <= imported_modules(STORE / "sqlite.py")
    assert "psycopg" in set().union(*(imported_modules(path) for path in STORE.glob("*.py")))
