"""Copy detection a prankster cannot poison: distinct places, daily keys, rate limits, reports, retention."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from flask import Flask

from cli import cli as ocop_cli
from stamps import scanlog
from stamps.demo import DemoRun
from stamps.instance import DB_NAME, Instance
from verify_server import routes
from verify_server.ratelimit import RateLimiter



def scan(app: Flask, url: str, address: str, **headers: str) -> Any:
    return app.test_client().get("/V/" + url.rsplit("/", 1)[1], headers=headers, environ_base={"REMOTE_ADDR": address})


def other_places(app: Flask, url: str, address: str, **headers: str) -> int:
    response = app.test_client().get("/api/v1/verify", query_string={"code": url}, headers=headers,
                                     environ_base={"REMOTE_ADDR": address})
    places: int = response.get_json()["scans"]["other_places"]
    return places


def run_cli(demo: DemoRun, *arguments: str) -> Any:
    return CliRunner().invoke(ocop_cli, ["--instance", str(demo.instance_root), *arguments], env={"OCOP_STAMPS_HOME": None})


def database(demo: DemoRun) -> sqlite3.Connection:
    return sqlite3.connect(demo.instance_root / DB_NAME)


# --- places, not requests --------------------------------------------------------------------------------

def test_no_address_is_stored_only_keyed_hashes_of_networks(demo: DemoRun, apps: Callable[..., Flask],
                                                             code: Callable[[int], str]) -> None:
    app = apps(SCAN_FLUSH_SECONDS=0)
    scan(app, code(1), "198.51.100.23")
    scan(app, code(1), "2001:db8:77:1::5")
    with database(demo) as connection:
        dump = "\n".join(connection.iterdump())
        sources = [row[0] for row in connection.execute("SELECT source FROM unit_sources")]
    connection.close()
    assert "198.51.100" not in dump and "2001:db8" not in dump.lower()
    assert len(sources) == 2 and all(len(source) == 32 and int(source, 16) >= 0 for source in sources)


def test_the_key_of_a_day_is_random_shared_by_workers_and_replaced_the_next_day(
        demo: DemoRun, apps: Callable[..., Flask], code: Callable[[int], str], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = apps(SCAN_FLUSH_SECONDS=0), apps(SCAN_FLUSH_SECONDS=0)
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 1))
    scan(first, code(2), "198.51.100.23")
    scan(second, code(2), "198.51.100.24")  # the same network, another worker: the same place
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 2))
    scan(second, code(2), "198.51.100.23")
    with database(demo) as connection:
        keys = connection.execute("SELECT day FROM scan_keys").fetchall()
        visits = connection.execute("SELECT day, source FROM unit_sources ORDER BY day").fetchall()
    connection.close()
    assert keys == [("2026-12-02",)]  # yesterday's key is gone: yesterday's hashes can no longer be matched
    assert [day for day, _ in visits] == ["2026-12-01", "2026-12-02"] and visits[0][1] != visits[1][1]


def test_places_of_past_days_are_forgotten_and_the_counts_stay(demo: DemoRun, apps: Callable[..., Flask],
                                                               code: Callable[[int], str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    app = apps(SCAN_FLUSH_SECONDS=0)
    for day in (1, 2):
        monkeypatch.setattr(routes, "vietnam_today", lambda day=day: dt.date(2026, 12, day))
        scan(app, code(3), "198.51.100.23")
    instance = Instance.open(demo.instance_root)
    assert scanlog.forget_past_places(instance.store, "2026-12-02") == 1
    instance.close()
    assert other_places(app, code(3), "192.0.2.1") == 2


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_place(demo: DemoRun, apps: Callable[..., Flask],
                                                                   code: Callable[[int], str]) -> None:
    trusting, not_trusting = apps(TRUSTED_PROXIES=1), apps()
    for host in range(3):  # three shoppers on three networks, all through one proxy on 10.0.0.2
        scan(trusting, code(4), "10.0.0.2", **{"X-Forwarded-For": f"203.0.{host}.9"})
        scan(not_trusting, code(5), "10.0.0.2", **{"X-Forwarded-For": f"203.0.{host}.9"})
    for app in (trusting, not_trusting):
        app.extensions["ocop_runtime"].scan_log.flush()
    assert other_places(trusting, code(4), "10.0.0.3") == 3
    assert other_places(not_trusting, code(5), "10.0.0.3") == 0  # one place: the proxy (the headers are not believed)


def test_an_untrusted_proxy_is_reported_once(apps: Callable[..., Flask], code: Callable[[int], str],
                                             caplog: pytest.LogCaptureFixture) -> None:
    routes._warn_untrusted_proxy.cache_clear()
    app = apps()
    for host in range(3):
        scan(app, code(6), "10.0.0.2", **{"X-Forwarded-For": f"203.0.{host}.9"})
    warnings = [record for record in caplog.records if "--trusted-proxies" in record.getMessage()]
    assert len(warnings) == 1 and "203.0" not in warnings[0].getMessage()


# --- rate limits -----------------------------------------------------------------------------------------

def test_a_flooding_client_gets_429_with_retry_after_and_others_do_not(apps: Callable[..., Flask],
                                                                       code: Callable[[int], str]) -> None:
    app = apps(RATE_LIMIT_PER_MINUTE=5)
    answers = [scan(app, code(7), "198.51.100.23") for _ in range(7)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 2
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 12 and refused.headers["Cache-Control"] == "no-store"
    assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True) and "Content-Security-Policy" in refused.headers
    api = app.test_client().get("/api/v1/verify", query_string={"code": code(7)}, environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert api.status_code == 429 and api.get_json()["error"] == "too_many"
    assert api.headers["Access-Control-Allow-Origin"] == "*"
    assert scan(app, code(7), "198.51.100.24").status_code == 200  # another client of the same network
    assert app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "198.51.100.23"}).status_code == 200


def test_refused_scans_are_neither_logged_nor_counted(demo: DemoRun, apps: Callable[..., Flask],
                                                      code: Callable[[int], str]) -> None:
    app = apps(RATE_LIMIT_PER_MINUTE=2, SCAN_FLUSH_SECONDS=0)
    for _ in range(5):
        scan(app, code(8), "198.51.100.23")
    with database(demo) as connection:
        assert connection.execute("SELECT count(*) FROM scans").fetchone()[0] == 2
    connection.close()


def test_the_rate_limiter_refills_and_forgets_idle_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert [limiter.wait_seconds("a") for _ in range(61)] == [0] * 60 + [1]
    now[0] += 1.0
    assert limiter.wait_seconds("a") == 0 and limiter.wait_seconds("a") == 1
    assert RateLimiter(0).wait_seconds("a") == 0  # off
    limiter._forget_refilled(now[0] + 61)
    assert limiter._buckets == {}


# --- reports for producers and inspectors, retention -----------------------------------------------------

def scans_from_places(app: Flask, url: str, places: int) -> None:
    for place in range(places):
        scan(app, url, f"203.0.{place}.9")
    app.extensions["ocop_runtime"].scan_log.flush()


def test_scans_list_shows_each_scanned_unit_as_a_table_and_csv(demo: DemoRun, apps: Callable[..., Flask],
                                                               code: Callable[[int], str], tmp_path: Path) -> None:
    app = apps()
    scans_from_places(app, code(3), 2)
    scans_from_places(app, code(9), 7)
    table = run_cli(demo, "scans", "list", demo.batch.digest[:16])
    assert table.exit_code == 0, table.output
    rows = table.output.splitlines()
    assert rows[1].split()[:3] == ["3", "2", "2"] and "POSSIBLE COPY" not in rows[1]
    assert rows[2].split()[:3] == ["9", "7", "7"] and rows[2].endswith("POSSIBLE COPY")
    assert rows[-1] == "2 of 20 issued units scanned; 1 possible copy (scanned from more than 5 places)."
    out = tmp_path / "scans.csv"
    written = run_cli(demo, "scans", "list", demo.batch.digest[:16], "--csv", "--out", str(out), "--copy-threshold", "1")
    assert written.exit_code == 0, written.output
    records = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["serial"], r["places"], r["possible_copy"]) for r in records] == [("3", "2", "yes"), ("9", "7", "yes")]
    assert all(r["first_scanned_at"].endswith("Z") for r in records)


def test_scans_clear_forgets_the_producers_qa_scans(demo: DemoRun, apps: Callable[..., Flask],
                                                    code: Callable[[int], str]) -> None:
    app = apps()
    for serial in (1, 2, 3):
        scans_from_places(app, code(serial), 3)
    result = run_cli(demo, "scans", "clear", demo.batch.digest[:16],
                     "--serials", "1-2")
    assert result.exit_code == 0 and "2 units" in result.output
    app.extensions["ocop_runtime"].close()
    fresh = apps()
    assert other_places(fresh, code(1), "192.0.2.1") == 0 and other_places(fresh, code(3), "192.0.2.1") == 3
    with database(demo) as connection:
        assert connection.execute("SELECT count(*), sum(counted) FROM scans WHERE serial IN (1, 2)").fetchone() == (6, 0)
    connection.close()
    assert run_cli(demo, "scans", "clear", demo.batch.digest[:16]).exit_code != 0  # says which units
    for serials in ("1-99999999999999999999999", "0-3", "3-1", "400-600"):
        refused = run_cli(demo, "scans", "clear", demo.batch.digest[:16], "--serials", serials)
        assert refused.exit_code == 1 and "Traceback" not in refused.output and refused.output.startswith("Error: ")


def test_scans_prune_drops_old_log_rows_and_keeps_the_counts(demo: DemoRun, apps: Callable[..., Flask],
                                                            code: Callable[[int], str]) -> None:
    app = apps()
    scans_from_places(app, code(4), 3)
    with database(demo) as connection:
        connection.execute("UPDATE scans SET scanned_at = '2026-01-01T00:00:00Z' WHERE id <= 2")
    connection.close()
    result = run_cli(demo, "scans", "prune", "--older-than", "30")
    assert result.exit_code == 0 and result.output.startswith("2 scans")
    with database(demo) as connection:
        assert connection.execute("SELECT count(*) FROM scans").fetchone()[0] == 1
    connection.close()
    assert other_places(apps(), code(4), "192.0.2.1") == 3


def test_the_verifier_prunes_by_itself_when_told_to_keep_days(demo: DemoRun, code: Callable[[int], str]) -> None:
    instance = Instance.open(demo.instance_root)
    log = scanlog.ScanLog(lambda: Instance.open(demo.instance_root).store, 3600, keep_days=30)
    verification = instance.verifier().verify(code(5))
    log.record(instance.store, verification, "page/android", "203.0.113.0/24", threshold=5)
    log.flush(instance.store)
    with database(demo) as connection:
        connection.execute("UPDATE scans SET scanned_at = '2026-01-01T00:00:00Z'")
    connection.close()
    log._maintain()
    with database(demo) as connection:
        assert connection.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
        assert connection.execute("SELECT scans, sources FROM scan_counts").fetchall() == [(1, 1)]
    connection.close()
    log.close()
    instance.close()


def test_serve_takes_the_copy_detection_options() -> None:
    help_text = CliRunner().invoke(ocop_cli, ["serve", "--help"]).output
    for option in ("--rate-limit", "--trusted-proxies", "--keep-scans", "--copy-threshold"):
        assert option in help_text


def test_a_request_dated_before_midnight_does_not_bring_yesterdays_key_back(
        demo: DemoRun, apps: Callable[..., Flask], code: Callable[[int], str], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = apps(SCAN_FLUSH_SECONDS=0), apps(SCAN_FLUSH_SECONDS=0)
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 2))
    scan(first, code(4), "198.51.100.23")  # the new day's first scan makes its key
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 1))
    scan(second, code(5), "198.51.100.23")  # a request that took its date just before midnight, late
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 2))
    assert other_places(second, code(4), "198.51.100.23") == 0  # the same place, the same day: still one place
    with database(demo) as connection:
        assert connection.execute("SELECT day FROM scan_keys").fetchall() == [("2026-12-02",)]
    connection.close()


def test_without_a_background_thread_the_upkeep_rides_on_a_scan(demo: DemoRun, code: Callable[[int], str]) -> None:
    with database(demo) as connection:  # an old row, and a place of a past day
        connection.execute("INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted) "
                           "VALUES ('00', 1, '2026-01-01T00:00:00Z', 'genuine', 'page/other', 0)")
        connection.execute("INSERT INTO unit_sources VALUES ('00', 1, '2026-01-01', 'x', '2026-01-01T00:00:00Z')")
    connection.close()
    instance = Instance.open(demo.instance_root)
    log = scanlog.ScanLog(lambda: Instance.open(demo.instance_root).store, 0, keep_days=30)
    log.record(instance.store, instance.verifier().verify(code(5)), "page/android", "203.0.113.0/24", threshold=5)
    instance.close()
    with database(demo) as connection:
        assert connection.execute("SELECT count(*) FROM scans WHERE scanned_at < '2026-02-01'").fetchone()[0] == 0
        assert connection.execute("SELECT count(*) FROM unit_sources WHERE day < '2026-02-01'").fetchone()[0] == 0
    connection.close()
