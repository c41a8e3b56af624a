"""An instance on PostgreSQL, end to end: the CLI, `db copy` from SQLite, and several verifier processes on one
database seeing a recall or a revocation on their very next scan. Needs a real server ($OCOP_STAMPS_TEST_POSTGRES,
see tests/store_engines.py); skipped with a reason without it, failed in CI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from cli import cli as ocop_cli
from stamps.demo import DEMO_PASSPHRASE, DemoRun
from stamps.instance import Instance
from verify_server.background import stop_verifier, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
WORKER_SCANS = 24  # answers per check: with two workers taking connections in turn, both answer many of them


def run_cli(*arguments: str, database: str | None = None, instance: Path | None = None,
            passphrase: str = "correct horse battery") -> Result:
    options = (["--instance", str(instance)] if instance else []) + (["--database", database] if database else [])
    return CliRunner().invoke(ocop_cli, [*options, *arguments], env={"OCOP_STAMPS_HOME": None, "OCOP_STAMPS_DATABASE": None,
                                                                      "OCOP_STAMPS_PASSPHRASE": passphrase})


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output} {result.exception!r}"
    return result.output


def test_every_command_works_on_postgresql_and_the_folder_holds_only_keys_and_output(
        postgres_location: str, tmp_path: Path) -> None:
    folder = tmp_path / "inst"
    ok(run_cli("init", "--base-url", "https://truyxuat.example.vn", database=postgres_location, instance=folder))
    ok(run_cli("keys", "generate", "--label", "HTX", database=postgres_location, instance=folder))
    ok(run_cli("producer", "add", "--name", "HTX Hợp Tiến", "--kind", "cooperative", "--province", "Quảng Ninh",
               "--commune", "xã Bình Liêu", database=postgres_location, instance=folder))
    ok(run_cli("farm", "add", "--producer", "1", "--name", "Vùng ong", "--kind", "raising", "--province", "Quảng Ninh",
               database=postgres_location, instance=folder))
    ok(run_cli("product", "add", "--producer", "1", "--name", "Mật ong rừng", "--category", "Mật ong", "--ocop-stars", "3",
               "--ocop-certificate-no", "QN-2026-0331", "--ocop-issued", "15/10/2026", database=postgres_location, instance=folder))
    ok(run_cli("batch", "create", "--product", "1", "--farm-area", "1", "--lot-code", "MO-1", "--quantity", "50",
               "--harvest-date", "2026-11-10", "--production-date", "2026-11-20", "--expiry-date", "2029-10-15",
               database=postgres_location, instance=folder))
    ok(run_cli("issue", "MO-1", "--count", "5", "--format", "csv", "--out", str(tmp_path / "out"),
               database=postgres_location, instance=folder))
    first_code = (tmp_path / "out" / "codes.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[1]
    assert json.loads(ok(run_cli("verify", "--json", first_code, database=postgres_location, instance=folder)))["result"] == "genuine"
    ok(run_cli("recall", "MO-1", "--reason", "Kiểm nghiệm", database=postgres_location, instance=folder))
    assert json.loads(run_cli("verify", "--json", first_code, database=postgres_location, instance=folder).output)["result"] == "recalled"
    assert sorted(path.name for path in folder.iterdir()) == ["private-keys"]  # no database file beside the keys
    assert "up to date" in ok(run_cli("db", "migrate", database=postgres_location, instance=folder))


def test_db_copy_moves_an_instance_with_nothing_lost_and_can_run_again(
        demo: DemoRun, postgres_location: str, apps: Callable[..., Any], code: Callable[[int], str]) -> None:
    app = apps(SCAN_FLUSH_SECONDS=0)
    for serial, address in [(1, "203.0.113.5"), (1, "198.51.100.7"), (2, "203.0.113.5")]:
        app.test_client().get("/api/v1/verify", query_string={"code": code(serial)}, environ_base={"REMOTE_ADDR": address})
    ok(run_cli("recall", demo.batch.digest, "--reason", "Thu hồi thử", instance=demo.instance_root,
               passphrase=DEMO_PASSPHRASE.decode()))  # the recall is signed with the batch's key
    before = ok(run_cli("scans", "list", demo.batch.digest, "--csv", instance=demo.instance_root))

    first = ok(run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root))
    assert "batch records verify there" in first
    again = ok(run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root))
    copied_again = [line.split()[2] for line in again.splitlines()[1:] if line.split()[0] in TABLE_NAMES]
    assert copied_again and set(copied_again) == {"0"}  # re-run: nothing new, nothing doubled

    source = Instance.open(demo.instance_root, read_only=True)
    target = Instance.open(demo.instance_root, read_only=True, database=postgres_location)
    try:
        for table in TABLE_NAMES:
            assert target.store.table_count(table) == source.store.table_count(table), table
    finally:
        source.close()
        target.close()
    assert ok(run_cli("scans", "list", demo.batch.digest, "--csv", database=postgres_location)) == before
    answer = json.loads(run_cli("verify", "--json", code(1), database=postgres_location).output)
    assert answer["result"] == "recalled" and answer["stamp"]["signature_verified"] is True


TABLE_NAMES = ("settings", "producers", "farm_areas", "products", "batches", "serial_ranges", "range_writes", "recalls",
               "trusted_keys", "scans", "scan_counts", "unit_sources", "scan_keys")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture()
def two_workers(demo: DemoRun, postgres_location: str, tmp_path: Path) -> Iterator[int]:
    """`ocop-stamps serve --workers 2` on the demo copied to PostgreSQL, with no instance folder at all."""
    ok(run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root))
    port = free_port()
    command = [sys.executable, "-m", "cli", "--instance", str(tmp_path / "no-folder"), "--database", postgres_location,
               "serve", "--port", str(port), "--workers", "2", "--rate-limit", "0", "--no-access-log"]
    with open(tmp_path / "server.log", "wb") as log:
        child = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", child.poll)
        yield port
    finally:
        stop_verifier(child)


def results(port: int, stamp_url: str) -> set[str]:
    """The result of WORKER_SCANS checks of one code, each on a new connection (the workers take them in turn)."""
    query = urllib.parse.urlencode({"code": stamp_url})
    found = set()
    for _ in range(WORKER_SCANS):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/verify?{query}", timeout=10) as answer:
            found.add(json.loads(answer.read())["result"])
    return found


def test_two_verifier_processes_see_a_recall_and_a_revocation_on_the_very_next_scan(
        demo: DemoRun, postgres_location: str, two_workers: int, code: Callable[[int], str]) -> None:
    assert results(two_workers, code(3)) == {"genuine"}  # both workers have read and kept the batch and the keys
    ok(run_cli("recall", demo.batch.digest, "--reason", "Lô hàng lỗi", database=postgres_location))
    assert results(two_workers, code(3)) == {"recalled"}
    ok(run_cli("revoke", demo.batch.record["key_id"], "--reason", "lost", database=postgres_location))
    assert results(two_workers, code(4)) == {"revoked_key"}


def test_db_copy_refuses_a_database_holding_another_instance_and_brings_changes_on_a_rerun(
        demo: DemoRun, postgres_location: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    ok(run_cli("init", "--base-url", "https://khac.example.vn", database=postgres_location, instance=other))
    refused = run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root)
    assert refused.exit_code == 1 and "already holds another instance's data" in refused.output
    assert "Traceback" not in refused.output and "ocop:" not in refused.output.replace("ocop:ocop@", "")

    fresh = postgres_location.replace("search_path%3D", "search_path%3Dx")  # not a schema that exists: refused too
    assert run_cli("db", "copy", "--to", fresh, instance=demo.instance_root).exit_code == 1


def test_a_second_db_copy_brings_a_revocation_and_an_edit_made_since(demo: DemoRun, postgres_location: str) -> None:
    ok(run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root))
    ok(run_cli("revoke", demo.batch.record["key_id"], "--reason", "lost", instance=demo.instance_root,
               passphrase=DEMO_PASSPHRASE.decode()))  # the key signs its own revocation
    ok(run_cli("producer", "edit", "1", "--phone", "0912345678", instance=demo.instance_root))
    ok(run_cli("db", "copy", "--to", postgres_location, instance=demo.instance_root))
    assert " revoked " in ok(run_cli("keys", "list", database=postgres_location))
    assert json.loads(ok(run_cli("producer", "show", "1", database=postgres_location)))["phone"] == "0912345678"


@pytest.mark.parametrize("given", ["garbage", "host=localhost user=ocop password=S3cretPW dbname=ocop",
                                   "mysql://ocop:S3cretPW@localhost/ocop"])
def test_a_database_that_is_not_a_postgresql_url_is_refused_in_one_line_and_not_shown(
        given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for arguments in (("init", "--base-url", "https://x.example.vn"), ("batch", "list")):
        result = run_cli(*arguments, database=given, instance=tmp_path / "inst")
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
        assert "PostgreSQL URL" in result.output and "S3cretPW" not in result.output and "garbage" not in result.output
    demo_copy = run_cli("db", "copy", "--to", given, instance=tmp_path / "inst")
    assert demo_copy.exit_code == 1 and "S3cretPW" not in demo_copy.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inst"]  # no stray file beside it, no database in it
    assert list((tmp_path / "inst").iterdir()) == []
