"""Per-unit scan counts (scan_counts) and the verifier's cheap steady state: what a scan reads, and when it reads again.

A unit's history is one row kept in the transaction that writes its scans, so
a stamp photocopied and scanned many thousands of times is answered with the
same work as a new one; instances made before the table existed count their
logged scans into it when first opened. While nothing changes, a scan reads
only the change mark and that row; a recall or a revocation by the CLI is
seen on the very next scan.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any, Callable

from click.testing import CliRunner
from flask import Flask

from cli import cli as ocop_cli
from stamps import registry
from stamps.demo import DEMO_PASSPHRASE, DemoRun
from stamps.instance import DB_NAME, Instance
from stamps.store import sqlite as sqlite_engine
from stamps.scanlog import ScanLog
from stamps.store.sqlite import SCHEMA_VERSION, SQLiteStore as Store
from stamps.verify import Result

ANDROID = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
BOT = "facebookexternalhit/1.1"
HEAVY_SCANS = 20_000

SIGNING_ENV = {"OCOP_STAMPS_HOME": None, "OCOP_STAMPS_PASSPHRASE": DEMO_PASSPHRASE.decode()}  # recall and revoke sign


def connect(demo: DemoRun) -> sqlite3.Connection:
    return sqlite3.connect(demo.instance_root / DB_NAME)


def api(app: Flask, url: str, user_agent: str = ANDROID, address: str = "127.0.0.1") -> dict[str, Any]:
    body: dict[str, Any] = app.test_client().get("/api/v1/verify", query_string={"code": url},
                                                 headers={"User-Agent": user_agent},
                                                 environ_base={"REMOTE_ADDR": address}).get_json()
    return body


def others(app: Flask, url: str, address: str = "127.0.0.1", user_agent: str = ANDROID) -> int:
    """The other places the unit was scanned from, as the API tells a scan from *address*."""
    count: int = api(app, url, user_agent, address)["scans"]["other_places"]
    return count


def counts_table(connection: sqlite3.Connection) -> dict[tuple[str, int], tuple[int, str]]:
    rows = connection.execute("SELECT digest_prefix, serial, scans, first_scanned_at FROM scan_counts").fetchall()
    return {(prefix, serial): (count, first) for prefix, serial, count, first in rows}


def places_table(connection: sqlite3.Connection) -> dict[tuple[str, int], int]:
    rows = connection.execute("SELECT digest_prefix, serial, sources FROM scan_counts").fetchall()
    return {(prefix, serial): places for prefix, serial, places in rows}


def counts_from_log(connection: sqlite3.Connection) -> dict[tuple[str, int], tuple[int, str]]:
    rows = connection.execute("SELECT digest_prefix, serial, count(*), min(scanned_at) FROM scans WHERE counted = 1 "
                              "GROUP BY digest_prefix, serial").fetchall()
    return {(prefix, serial): (count, first) for prefix, serial, count, first in rows}


def runtime_connection(app: Flask) -> sqlite3.Connection:
    """The connection the app's requests use in this thread (the test client runs them here)."""
    connection: sqlite3.Connection = app.extensions["ocop_runtime"].instance().store.db.conn
    return connection


# --- the migration -----------------------------------------------------------------------------------------

def make_old_instance(demo: DemoRun, scans: list[tuple[str, int, str, str, str, int]]) -> None:
    """Turn the demo instance into one made before scan_counts existed, with *scans* in its log."""
    with connect(demo) as connection:
        connection.execute("DROP TRIGGER scans_count")
        connection.execute("DROP TABLE scan_counts")
        connection.execute("PRAGMA user_version = 0")
        connection.execute("CREATE INDEX scans_unit ON scans(digest_prefix, serial, counted)")
        connection.executemany("INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted) "
                               "VALUES (?, ?, ?, ?, ?, ?)", scans)
    connection.close()


def test_opening_an_older_instance_counts_the_scans_already_logged(demo: DemoRun, apps: Callable[..., Flask],
                                                                   code: Callable[[int], str]) -> None:
    prefix = demo.batch.digest[:20]
    make_old_instance(demo, [
        (prefix, 1, "2026-11-02T08:00:00Z", "genuine", "page/android", 1),
        (prefix, 1, "2026-11-01T07:00:00Z", "genuine", "page/ios", 1),        # the first, logged out of order
        (prefix, 1, "2026-10-30T06:00:00Z", "genuine", "page/bot", 0),        # a bot: never counted
        (prefix, 1, "2026-11-03T09:00:00Z", "genuine_warning", "api/other", 1),
        (prefix, 2, "2026-11-01T07:00:00Z", "forged", "page/android", 0),     # did not verify: not counted
    ])
    Instance.open(demo.instance_root).close()
    with connect(demo) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert counts_table(connection) == {(prefix, 1): (3, "2026-11-01T07:00:00Z")}
        assert places_table(connection) == {(prefix, 1): 3}  # three days with counted scans: three places at least
    connection.close()
    answer = api(apps(), code(1))["scans"]
    assert (answer["other_places"], answer["first_scanned_at"]) == (3, "2026-11-01T07:00:00Z")
    assert others(apps(), code(2)) == 0


def test_migration_runs_once_and_a_new_instance_starts_migrated(demo: DemoRun, tmp_path: Path) -> None:
    prefix = demo.batch.digest[:20]
    make_old_instance(demo, [(prefix, 1, "2026-11-02T08:00:00Z", "genuine", "page/android", 1)])
    for _ in range(3):  # later openings find the version set and leave the counts alone
        Instance.open(demo.instance_root).close()
    with connect(demo) as connection:
        assert counts_table(connection) == {(prefix, 1): (1, "2026-11-02T08:00:00Z")}
    connection.close()
    fresh = Store(tmp_path / "new.db", create=True)
    assert fresh.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert fresh.db.execute("SELECT count(*) FROM scan_counts").fetchone()[0] == 0
    fresh.close()
    for store in (Store(demo.instance_root / DB_NAME), Store(tmp_path / "new.db")):  # the count it served is gone
        assert store.db.execute("SELECT name FROM sqlite_master WHERE name = 'scans_unit'").fetchall() == []
        store.close()


# --- counts across flushes and workers ---------------------------------------------------------------------

def test_counts_stay_right_across_flushes_and_two_workers(demo: DemoRun, apps: Callable[..., Flask],
                                                          code: Callable[[int], str]) -> None:
    first, second = apps(SCAN_FLUSH_SECONDS=60), apps(SCAN_FLUSH_SECONDS=60)
    one, two = code(1), code(2)
    assert [others(first, one, f"198.51.100.{host}") for host in range(3)] == [0, 0, 0]  # one place: no other
    assert [others(first, one, f"203.0.{net}.1") for net in range(3)] == [1, 2, 3]     # its own pending places
    assert others(second, one, "192.0.2.1") == 0                                       # the other's: not written yet
    assert others(second, one, "192.0.2.1", BOT) == 1   # a bot sees that network's phone as another place; not counted
    assert others(second, two, "192.0.2.1") == 0
    first_log, second_log = (app.extensions["ocop_runtime"].scan_log for app in (first, second))
    assert first_log.flush() == 6
    assert others(second, one, "192.0.2.1") == 4        # 4 places written by the first; its own place is this one
    assert second_log.flush() == 4                      # one x 2, the bot's, two
    assert others(first, one, "198.51.100.9") == 4      # 5 places, this one among them
    assert api(first, demo.tampered_url)["scans"] is None  # did not verify: neither counted nor shown
    for log in (first_log, second_log):
        log.close()
    with connect(demo) as connection:
        counted = counts_table(connection)
        assert counted == counts_from_log(connection)
        prefix = demo.batch.digest[:20]
        assert {unit: count for unit, (count, _) in counted.items()} == {(prefix, 1): 9, (prefix, 2): 1}
        assert places_table(connection) == {(prefix, 1): 5, (prefix, 2): 1}
    connection.close()


def test_scans_written_at_once_keep_the_counts_too(demo: DemoRun, apps: Callable[..., Flask],
                                                   code: Callable[[int], str]) -> None:
    app = apps(SCAN_FLUSH_SECONDS=0)
    assert [others(app, code(3), address) for address in ("198.51.100.1", "198.51.100.2", "192.0.2.1")] == [0, 0, 1]
    app.test_client().get("/V/" + code(3).rsplit("/", 1)[1], query_string={"lang": "en"})  # logged; its place counted
    with connect(demo) as connection:
        assert counts_table(connection) == counts_from_log(connection) == {
            (demo.batch.digest[:20], 3): (4, connection.execute("SELECT min(scanned_at) FROM scans").fetchone()[0])}
        assert places_table(connection) == {(demo.batch.digest[:20], 3): 3}  # 198.51.100, 192.0.2 and 127.0.0
    connection.close()


# --- a heavily scanned unit --------------------------------------------------------------------------------

def scan_many_times(demo: DemoRun, url: str, times: int) -> None:
    """*times* counted scans of one unit, written through the scan log as a worker writes them."""
    instance = Instance.open(demo.instance_root)
    log = ScanLog(lambda: Instance.open(demo.instance_root).store, flush_seconds=3600)
    try:
        verification = instance.verifier().verify(url)
        for scan in range(times):
            log.record(instance.store, verification, "page/android", f"10.{scan // 256 % 256}.{scan % 256}.0/24", threshold=5)
        assert log.flush(instance.store) == times
    finally:
        log.close()
        instance.close()


def vm_steps(connection: sqlite3.Connection, action: Callable[[], object]) -> int:
    """SQLite virtual-machine instructions run by *action* on *connection* (rows read, not seconds)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection.set_progress_handler(count, 1)
    try:
        action()
    finally:
        connection.set_progress_handler(None, 1)
    return steps


def test_a_heavily_scanned_unit_is_answered_with_the_work_of_a_fresh_one(demo: DemoRun, apps: Callable[..., Flask],
                                                                         code: Callable[[int], str]) -> None:
    heavy, light = code(4), code(5)
    scan_many_times(demo, heavy, HEAVY_SCANS)
    scan_many_times(demo, light, 1)
    app = apps(SCAN_FLUSH_SECONDS=3600)
    connection = runtime_connection(app)
    others(app, code(6))  # the first scan reads the trust store and the batch; the two below find them read
    steps_heavy = vm_steps(connection, lambda: others(app, heavy))
    steps_light = vm_steps(connection, lambda: others(app, light))
    assert steps_heavy == steps_light
    assert others(app, heavy) == HEAVY_SCANS  # and the count is right: every scan came from another place
    plan = " ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sqlite_engine._KNOWN, ["00", 1, "2026-12-01", "x"]))
    assert "SEARCH c USING PRIMARY KEY" in plan and "SEARCH unit_sources USING PRIMARY KEY" in plan


# --- what a scan reads, and when it reads again ------------------------------------------------------------

def statements_of(connection: sqlite3.Connection, action: Callable[[], object]) -> list[str]:
    seen: list[str] = []
    connection.set_trace_callback(seen.append)
    try:
        action()
    finally:
        connection.set_trace_callback(None)
    return seen


def test_a_scan_reads_only_the_change_mark_and_the_unit_while_nothing_changes(
        demo: DemoRun, apps: Callable[..., Flask], code: Callable[[int], str]) -> None:
    app = apps(SCAN_FLUSH_SECONDS=3600)
    connection = runtime_connection(app)
    others(app, code(7))  # the day's first scan makes the day's key (a write), so the next one reads everything again
    others(app, code(7))
    steady = statements_of(connection, lambda: others(app, code(8)))
    assert [statement.split()[:3] for statement in steady] == [  # one pragma: the batch look-up follows the runtime's
        ["PRAGMA", "data_version"], ["SELECT", "c.sources,", "c.first_scanned_at,"]]
    other = Instance.open(demo.instance_root)  # any commit by another connection: the next scan reads again
    other.store.set_setting("unrelated", "x")
    other.close()
    again = " ".join(statements_of(connection, lambda: others(app, code(8))))
    assert "FROM settings" in again and "FROM batches" in again
    assert "record" not in again.split("FROM batches")[0].rsplit("SELECT", 1)[-1]  # the record text stays cached


def test_a_recall_by_the_cli_applies_on_the_very_next_scan(demo: DemoRun, apps: Callable[..., Flask],
                                                          code: Callable[[int], str]) -> None:
    app = apps()
    page = "/V/" + code(9).rsplit("/", 1)[1]
    assert 'data-result="genuine"' in app.test_client().get(page).get_data(as_text=True)
    result = CliRunner().invoke(ocop_cli, ["--instance", str(demo.instance_root), "recall", demo.batch.digest[:16],
                                           "--reason", "Nhiễm nấm mốc", "--mandatory"], env=SIGNING_ENV)
    assert result.exit_code == 0, result.output
    html = app.test_client().get(page).get_data(as_text=True)
    assert 'data-result="recalled"' in html and "Nhiễm nấm mốc" in html
    assert api(app, code(9))["recall"]["kind"] == "mandatory"


def test_a_revocation_by_the_cli_applies_on_the_very_next_scan(demo: DemoRun, apps: Callable[..., Flask],
                                                              code: Callable[[int], str]) -> None:
    app = apps()
    assert api(app, code(10))["result"] == "genuine"
    key_id = demo.batch.record["key_id"]
    result = CliRunner().invoke(ocop_cli, ["--instance", str(demo.instance_root), "revoke", key_id, "--reason", "lộ khóa"],
                                env=SIGNING_ENV)
    assert result.exit_code == 0, result.output
    assert api(app, code(10))["result"] == "revoked_key"


def test_a_verifier_sees_changes_made_through_its_own_store(demo: DemoRun, code: Callable[[int], str]) -> None:
    """Another connection's commit moves data_version; a write through the same connection must count too."""
    instance = Instance.open(demo.instance_root)
    try:
        verifier = instance.verifier()
        assert verifier.verify(code(11)).result is Result.GENUINE
        registry.recall_batch(instance.store, demo.batch.digest, "Sai nhãn", on=dt.date(2026, 11, 20))
        recalled = verifier.verify(code(11))
        assert recalled.result is Result.RECALLED and recalled.batch is not None
        assert recalled.batch.recall == {"kind": "voluntary", "reason": "Sai nhãn", "recalled_on": "2026-11-20"}
    finally:
        instance.close()
