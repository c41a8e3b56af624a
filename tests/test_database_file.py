"""The instance database file: only an ocop-stamps database is opened, anything else is refused untouched."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import cli as ocop_cli
from stamps.demo import run_demo
from stamps.errors import InstanceError
from stamps.instance import DB_NAME, Instance
from stamps.store.sqlite import APPLICATION_ID, SQLiteStore as Store

BASE_URL = "https://truyxuat.example.vn"


def another_programs_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('mua mật ong')")
    db.close()


def marked_by_another_program(path: Path) -> None:
    """An SQLite file that even has a settings table with a base_url, but carries another program's application_id."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 1196444487")  # 'GPKG': a GeoPackage
        db.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO settings VALUES ('base_url', 'https://gis.example.vn')")
    db.close()


FOREIGN_FILES = {
    "empty file": (lambda path: path.write_bytes(b""), "is empty (0 bytes)"),
    "text file": (lambda path: path.write_text("Sổ ghi chép của HTX\n" * 50, encoding="utf-8"), "is not an SQLite database"),
    "another program's database": (another_programs_database, "another program's SQLite database"),
    "another program's application_id": (marked_by_another_program, "another program's SQLite database"),
}
COMMANDS = {  # read-only opens, read-write opens and init
    "batch list": ["batch", "list"],
    "verify": ["verify", "https://TRUYXUAT.EXAMPLE.VN/V/" + "A" * 130],
    "keys list": ["keys", "list"],
    "producer add": ["producer", "add", "--name", "HTX A", "--kind", "household", "--province", "P", "--commune", "C"],
    "keys generate": ["keys", "generate", "--unsafe-no-passphrase"],
    "init": ["init", "--base-url", BASE_URL],
}


def invoke(root: Path, args: list[str]) -> Result:
    return CliRunner().invoke(ocop_cli, ["--instance", str(root), *args], env={"OCOP_STAMPS_HOME": None})


def folder_state(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(root.iterdir())}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", FOREIGN_FILES)
def test_a_file_that_is_not_ours_is_refused_and_left_byte_for_byte(tmp_path: Path, kind: str, command: str) -> None:
    make, problem = FOREIGN_FILES[kind]
    root = tmp_path / "inst"
    root.mkdir()
    make(root / DB_NAME)
    before = folder_state(root)
    result = invoke(root, COMMANDS[command])
    assert result.exit_code == 1, (result.output, result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and problem in lines[0], result.stderr
    assert "not an ocop-stamps database" in lines[0] and "--instance" in lines[0]
    assert folder_state(root) == before  # same files (no -wal, -shm or key file), same bytes


def test_a_genuine_stamp_is_not_checked_against_a_foreign_file(tmp_path: Path) -> None:
    """Before: an empty database file verified a genuine stamp as 'unknown issuer', as if the instance were new."""
    demo = run_demo(tmp_path / "demo", BASE_URL)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / DB_NAME).write_bytes(b"")
    result = invoke(tmp_path / "empty", ["verify", demo.genuine_url])
    assert result.exit_code == 1 and "is empty (0 bytes)" in result.stderr and result.stdout == ""


def make_earlier_version_instance(root: Path) -> Path:
    """An instance as versions before the application_id mark made it (our tables, a base URL, id 0)."""
    Instance.create(root, BASE_URL).close()
    with sqlite3.connect(root / DB_NAME) as db:
        db.execute("PRAGMA application_id = 0")
    db.close()
    return root / DB_NAME


def application_id(path: Path) -> int:
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA application_id").fetchone()[0])
    finally:
        db.close()


def test_new_databases_are_marked(tmp_path: Path) -> None:
    assert invoke(tmp_path / "inst", ["init", "--base-url", BASE_URL]).exit_code == 0
    assert application_id(tmp_path / "inst" / DB_NAME) == APPLICATION_ID


def test_an_earlier_versions_instance_opens_read_only_untouched(tmp_path: Path) -> None:
    path = make_earlier_version_instance(tmp_path / "inst")
    before = path.read_bytes()
    result = invoke(tmp_path / "inst", ["batch", "list"])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == before and application_id(path) == 0


def test_an_earlier_versions_instance_is_marked_when_opened_read_write(tmp_path: Path) -> None:
    path = make_earlier_version_instance(tmp_path / "inst")
    result = invoke(tmp_path / "inst", ["producer", "add", "--name", "HTX A", "--kind", "household", "--province", "P",
                                        "--commune", "C"])
    assert result.exit_code == 0, result.output
    assert application_id(path) == APPLICATION_ID
    assert invoke(tmp_path / "inst", ["producer", "list"]).stdout.strip().startswith("1  HTX A")


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "read-write"])
def test_the_store_itself_refuses(tmp_path: Path, read_only: bool) -> None:
    """The library refuses too (the verifier opens its instance through it), not only the CLI."""
    path = tmp_path / DB_NAME
    another_programs_database(path)
    before = path.read_bytes()
    with pytest.raises(InstanceError, match="another program's SQLite database"):
        Store(path, read_only=read_only)
    with pytest.raises(InstanceError, match="another program's SQLite database"):
        Instance.create(tmp_path, BASE_URL)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_opening_another_store_keeps_the_locks_of_the_open_ones(tmp_path: Path) -> None:
    """A verifier worker opens a store at each scan-log flush while its request store stays open: that must not drop
    the open store's locks, or another process closing the last connection it knows of removes the WAL under it."""
    path = tmp_path / "x.db"
    first = Store(path, create=True)
    first.set_setting("base_url", "https://truyxuat.example.vn")
    first.setting("base_url")
    wal = path.with_name("x.db-wal")
    Store(path).close()  # the flush's store, opened and closed beside the open one
    writer = ("import sqlite3; c = sqlite3.connect(%r, isolation_level=None); c.execute('BEGIN IMMEDIATE'); "
              "c.execute(\"INSERT INTO settings VALUES ('k', 'v')\"); c.execute('COMMIT'); c.close()") % str(path)
    subprocess.run([sys.executable, "-c", writer], check=True)
    assert wal.exists()  # the other process saw this one's connection and left the WAL in place
    first.set_setting("after", "yes")
    first.close()
    assert Store(path, read_only=True).setting("after") == "yes"
