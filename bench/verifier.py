"""Benchmark: the verifier's scan page against a hello-world route, under the production server, on each engine.

Run from the repository root::

    .venv/bin/python bench/verifier.py                    # 10 s per route, 8 connections, 2 workers
    .venv/bin/python bench/verifier.py --duration 3       # a quicker look
    .venv/bin/python bench/verifier.py --database postgresql://ocop:ocop@localhost/ocop_dev --fill-scans 10000000

What is measured: one throw-away instance (the demo's records and key, plus a
second batch from which a pool of distinct stamp codes is issued) is served by
ONE Flask app from ``verify_server.create_app`` with an extra ``/hello`` route
added, under ``verify_server.serve.run(..., server="gunicorn")`` in a child
process over 127.0.0.1. The same load generator, connection count and worker
count then load:

- ``/hello``: "Hello, world!" through the same WSGI server, Flask app and
  after-request hooks (security headers): the ceiling this stack allows;
- ``/V/<TOKEN>``: the page a phone opens, cycling over the code pool so each
  request verifies a different unit (Ed25519 check, batch look-up, scan-log
  write, result page), as phones scanning different units do;
- ``/api/v1/verify?code=<TOKEN>``: the same verification answered as JSON
  (the signed record's part serialised once per batch), over the same pool.

``--database URL`` (a PostgreSQL database the bench may write in) adds the
same routes on PostgreSQL, in the same run: the bench makes a schema of its
own there (``bench_<pid>``, dropped at the end), copies the instance into it
(``Instance.copy_to``: the same records and keys, so the same codes), and
mounts a second app on that database under ``/pg`` beside the first, in the
same gunicorn server and workers. Each route is then loaded on both engines.

``--fill-scans N`` then writes N rows into the scan log of each engine used,
while the server idles, with the engine's own SQL generator (one
``INSERT ... SELECT`` per month, from ``generate_series`` on PostgreSQL and a
recursive CTE on SQLite; never over HTTP, never row by row), and the per-unit
counts those rows imply (see :class:`FillPlan`); then hello-world and the scan
route are loaded again on each engine, so the scan's cost with an almost
empty log and with N rows is measured in the same run, by the same server.

The load generator is ``wrk --latency`` when it is installed (a Lua script
cycles the code paths), otherwise a Python one (threads, raw HTTP/1.1, one
request per connection since gunicorn's sync workers close each connection).
Every route is warmed up for a second before the routes are measured in turn;
with ``--rounds R`` they are measured R times over, in turn, and each route's
round of median rate is reported (on a machine shared with other work).

Targets: the scan route serves at least 60 % of the hello-world rate (on
SQLite); on PostgreSQL it serves at least 80 % of its rate on SQLite (at 2
workers); its 99th-percentile latency is under 50 ms on each engine, also with
the filled log (the issue asks for 10,000,000 rows), showing that a scan's
cost does not grow with the log. It is a report: the exit status is 0
whatever the result (non-zero only when the benchmark itself breaks).

``--breakdown`` also loads, in the same run, routes that each do one more step
of a scan than the one before (``/B/<step>/<TOKEN>``, added to this bench's
apps only, on each engine), all answering a result page of the same size, to
show what each step costs against hello-world:

- ``page``: the route and a 5 KB page (a genuine result page, rendered once);
- ``verify``: + the verification (Ed25519 signature, key status, batch look-up,
  record checks, with the store's change mark read first);
- ``count``: + the unit's scan history read from the scan log (no write);
- ``log``: + the scan logged (the scan route's full work but the page);
and the scan route itself adds the page of this unit. The ``count`` and
``log`` steps scan the same pool of codes as the scan route, so more of its
pages carry the "possible copy" warning than in a run without ``--breakdown``
(a page of the same size and cost).
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import dataclasses
import hashlib
import multiprocessing
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from importlib import metadata
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from flask import Flask, Response, current_app
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from stamps.demo import issue_demo_product_codes, run_demo
from stamps.errors import StampError
from stamps.instance import DB_NAME, Instance
from stamps.scans import Scan
from stamps.store import open_store
from verify_server import create_app
from verify_server.background import wait_until_ready
from verify_server.runtime import Runtime, vietnam_today
from verify_server.serve import run as serve

HOST = "127.0.0.1"
HELLO_PATH = "/hello"
HEALTH_PATH = "/healthz"
SCAN_ROUTE = "/V/<TOKEN>"
API_ROUTE = "/api/v1/verify?code=<TOKEN>"
POOL_BATCH_QUANTITY = 1_000_000  # the fill's serials of the pool's batch (up to FILL_SERIAL_SPAN) stay in it
TARGET_RATIO = 0.60
TARGET_ENGINE_RATIO = 0.80
TARGET_P99_MS = 50.0
WARMUP_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 15.0
USER_AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
ACCEPT_LANGUAGE = "vi-VN,vi;q=0.9,en;q=0.8"
SQLITE, POSTGRESQL, ANY_ENGINE = "sqlite", "postgresql", "-"
ENGINE_MOUNTS = {SQLITE: "", POSTGRESQL: "/pg"}  # where each engine's app answers in the one server
SCHEMA_PREFIX = "bench_"


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One route under load: throughput, latency percentiles and what went wrong."""

    route: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    engine: str = ANY_ENGINE


@dataclasses.dataclass(frozen=True)
class Target:
    """A route to load: its name in the report, the engine it reads, and the request paths it cycles over."""

    route: str
    engine: str
    paths: list[str]


LoadRun = Callable[[str, list[str], float], Measurement]


# setup ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def build_instance(root: Path, base_url: str, pool: int) -> tuple[list[str], str]:
    """The demo instance plus a large batch of the demo product: the paths (/V/TOKEN) of *pool* issued codes, and
    that batch's digest prefix (hex)."""
    run_demo(root, base_url)
    instance = Instance.open(root)
    try:
        batch, codes = issue_demo_product_codes(instance, "BENCH-VERIFIER", POOL_BATCH_QUANTITY, pool)
        return ["/V/" + issued.token for issued in codes], batch.signed.digest_prefix.hex()
    finally:
        instance.close()


def copy_instance(root: Path, database: str) -> None:
    """The instance's records, keys and codes, copied into the PostgreSQL schema *database* (``db copy``)."""
    started = time.perf_counter()
    instance = Instance.open(root)
    try:
        report = instance.copy_to(database)
    finally:
        instance.close()
    print(f"copied to PostgreSQL: {sum(table.copied for table in report.tables):,} rows, "
          f"{report.batches_verified} batch records verified, in {time.perf_counter() - started:.1f} s")


def build_app(root: Path, *, database: str | None = None, breakdown: bool = False) -> Flask:
    """The verifier app with a hello-world route beside the real ones (same server, hooks and workers)."""
    app = create_app({"INSTANCE": str(root), "DATABASE": database,
                      "RATE_LIMIT_PER_MINUTE": 0})  # one load generator is every client
    app.add_url_rule(HELLO_PATH, "hello", lambda: "Hello, world!")
    if breakdown:
        add_breakdown_routes(app)
    return app


def build_server_app(root: Path, database: str | None, *, breakdown: bool) -> Any:
    """What the server runs: the SQLite app, and with *database* the same app on PostgreSQL mounted under /pg."""
    app = build_app(root, breakdown=breakdown)
    if database is None:
        return app
    return DispatcherMiddleware(app, {ENGINE_MOUNTS[POSTGRESQL]: build_app(root, database=database, breakdown=breakdown)})


def engine_path(engine: str, path: str) -> str:
    return ENGINE_MOUNTS[engine] + path


BREAKDOWN_STEPS = ("page", "verify", "count", "log")


def add_breakdown_routes(app: Flask) -> None:
    """``/B/<step>/<token>``: the first *step* of BREAKDOWN_STEPS' work for a scan, then a genuine page's bytes."""
    page: list[bytes] = []

    def step_route(step: str, token: str) -> Response:
        if not page:  # a genuine result page of the real size, rendered once (through the real route)
            page.append(app.test_client().get("/V/" + token, headers={"User-Agent": "bench"}).get_data())
        depth = BREAKDOWN_STEPS.index(step)
        if depth >= 1:
            runtime: Runtime = current_app.extensions["ocop_runtime"]
            verification = runtime.verifier().verify(token, today=vietnam_today())
            if depth >= 2:
                runtime.scan_log.record(runtime.instance().store, verification, "page/android", "127.0.0.0/24",
                                        current_app.config["COPY_THRESHOLD"], log=depth >= 3)
        return Response(page[0], 200, [("Vary", "Accept-Language"), ("Cache-Control", "no-store")],
                        content_type="text/html; charset=utf-8")

    app.add_url_rule(f"/B/<any({', '.join(BREAKDOWN_STEPS)}):step>/<token>", "breakdown", step_route)


# the server -------------------------------------------------------------


def _serve_child(app: Any, port: int, workers: int) -> None:
    """The child's main thread becomes gunicorn's arbiter (it installs signal handlers)."""
    serve(app, host=HOST, port=port, workers=workers, server="gunicorn", access_log=False)


def start_server(app: Any, port: int, workers: int) -> BaseProcess:
    """Fork the server and return once /healthz answers 200."""
    child = multiprocessing.get_context("fork").Process(target=_serve_child, args=(app, port, workers),
                                                        name="ocop-bench-verifier")
    child.start()
    try:
        wait_until_ready(f"http://{HOST}:{port}{HEALTH_PATH}", lambda: child.exitcode)
    except StampError as error:
        stop_server(child)
        raise SystemExit(error.diagnostics()) from None
    except BaseException:
        stop_server(child)
        raise
    return child


def stop_server(child: BaseProcess) -> None:
    """SIGTERM: gunicorn's arbiter stops its workers gracefully; kill only if it hangs."""
    if child.is_alive():
        child.terminate()
        child.join(STOP_TIMEOUT_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()


def check_route(port: int, path: str) -> None:
    """One request before any load, so a broken route fails loudly instead of as a fast error rate."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{path[:40]} answered {status}, not 200")


# the PostgreSQL schema ------------------------------------------------------


def with_search_path(url: str, schema: str) -> str:
    """*url* whose sessions use *schema* (libpq's ``options=-csearch_path=...``), whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = [value for name, value in query if name == "options"]
    rest = [(name, value) for name, value in query if name != "options"]
    merged = " ".join([*options, f"-csearch_path={schema}"])
    return urlunsplit(parts._replace(query=urlencode([*rest, ("options", merged)], quote_via=quote, safe="")))


def _postgres_admin(url: str, statement: str) -> None:
    """One statement on the database itself (the bench's schema is made and dropped here, not by the store)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(statement)
    except psycopg.Error as error:
        raise SystemExit(f"--database: {statement.split(' ')[0]} SCHEMA failed: {str(error).strip()}") from None


@contextlib.contextmanager
def postgres_schema(url: str | None) -> Iterator[str | None]:
    """A schema of this run's own in the database *url* (its URL; None without *url*), dropped at the end."""
    if url is None:
        yield None
        return
    schema = f"{SCHEMA_PREFIX}{os.getpid()}"
    _postgres_admin(url, f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(url, schema)
    finally:
        _postgres_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        print(f"dropped the schema {schema}")


# filling the scan log: raw SQL through each driver (a bench tool, not the product) ----------


FILL_BATCHES = 256  # digest prefixes the fill's scans name: the pool's batch and made-up ones
FILL_SERIAL_SPAN = 1_000_000  # the fill's serials are spread over 1..this in every batch
FILL_UNITS_PER_ROW = 2 / 3  # 1.5 scans per unit on average: a third of the units are scanned twice
FILL_DAYS = 365
FILL_RESULT = "genuine"
FILL_CLIENTS_SQL = "CASE WHEN i % 10 < 6 THEN 'page/android' WHEN i % 10 < 9 THEN 'page/ios' ELSE 'api/other' END"
SEED_CLIENT = "page/bot"  # the seed scans are not counted, so they never change a unit's counts
ISO_SECOND = "%Y-%m-%dT%H:%M:%SZ"
SCAN_FLUSH_WAIT_SECONDS = 1.0  # several times the verifier's scan-log flush interval (0.25 s)


@dataclasses.dataclass(frozen=True)
class FillPlan:
    """*rows* scan-log rows made up by formula, so each engine's SQL generates the same rows and the counts they imply.

    Row i (0 <= i < rows) scans unit u = i % units at ``start + i * span // rows`` (epoch seconds): the log's order
    is time order, as in an append-only log. Unit u is serial ``1 + (u // batches) * stride`` of the batch
    ``prefixes[u % batches]`` (consecutive scans hit different batches; serials spread over 1..FILL_SERIAL_SPAN).
    So unit u is scanned ``(rows - 1 - u) // units + 1`` times (once or twice), first at row u, each time from
    another place: its ``scan_counts`` row follows without reading the log. The prefixes are sorted, so listing
    units batch by batch, serial by serial (``j = b * per_batch + k``) lists them in the key order of scan_counts.
    """

    rows: int
    prefixes: tuple[str, ...]
    start: int
    span: int

    @property
    def batches(self) -> int:
        return len(self.prefixes)

    @property
    def units(self) -> int:
        return max(1, round(self.rows * FILL_UNITS_PER_ROW))

    @property
    def per_batch(self) -> int:
        return -(-self.units // self.batches)

    @property
    def stride(self) -> int:
        return max(1, FILL_SERIAL_SPAN // self.per_batch)

    def parameters(self) -> dict[str, Any]:
        """The numbers every fill statement is written with, by name."""
        return {"rows": self.rows, "units": self.units, "batches": self.batches, "per_batch": self.per_batch,
                "stride": self.stride, "start": self.start, "span": self.span}

    def scanned_at(self, row: int) -> str:
        return time.strftime(ISO_SECOND, time.gmtime(self.start + row * self.span // self.rows))

    def first_row_at(self, moment: int) -> int:
        """The first row scanned at *moment* (epoch seconds) or later (``rows`` if none)."""
        offset = max(0, moment - self.start)
        return min(self.rows, -(-offset * self.rows // self.span))

    def months(self) -> list[tuple[str, int, int]]:
        """Each month the rows fall in: (YYYY-MM, its first row, the row after its last)."""
        found = []
        year, month = time.gmtime(self.start)[:2]
        while (first := self.first_row_at(_epoch(year, month, 1))) < self.rows:
            next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
            end = self.first_row_at(_epoch(next_year, next_month, 1))
            if end > first:
                found.append((f"{year:04d}-{month:02d}", first, end))
            year, month = next_year, next_month
        return found

    def seed_scans(self) -> list[Scan]:
        """One uncounted (bot) scan at the start of each month, written by the store, which makes the month's
        partition on PostgreSQL; the bulk rows go in after them."""
        return [Scan(self.prefixes[0], 1, self.scanned_at(first), FILL_RESULT, SEED_CLIENT, False)
                for _, first, _ in self.months()]


def _epoch(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0))


def fill_plan(rows: int, pool_prefix: str, now: float) -> FillPlan:
    """*rows* scans of the pool's batch and made-up batches over the FILL_DAYS days before yesterday."""
    made_up = [hashlib.sha256(f"bench-fill-batch-{number}".encode()).hexdigest()[:len(pool_prefix)]
               for number in range(FILL_BATCHES - 1)]
    end = int(now) - 86_400
    return FillPlan(rows, tuple(sorted([pool_prefix, *made_up])), end - FILL_DAYS * 86_400, FILL_DAYS * 86_400)


@dataclasses.dataclass(frozen=True)
class FillReport:
    """How one engine's fill went: seconds per step, and the scan log's tables afterwards."""

    engine: str
    scans_seconds: float
    counts_seconds: float
    tidy: str
    tidy_seconds: float
    scan_rows: int
    count_rows: int
    size: str


def seed_scan_log(location: Path | str, plan: FillPlan) -> None:
    """The seed scans, through the store's own ``record_scans`` (so PostgreSQL makes the month partitions)."""
    store = open_store(location)
    try:
        store.record_scans(plan.seed_scans(), [])
    finally:
        store.close()


def table_rows(location: Path | str, table: str) -> int:
    store = open_store(location, read_only=True)
    try:
        return store.table_count(table)
    finally:
        store.close()


@contextlib.contextmanager
def sqlite_guard(path: Path) -> Iterator[None]:
    """A read-only connection the bench holds while it writes the file beside the running server.

    SQLiteStore reads the file's header with a plain open() and close() when it opens, and closing any descriptor of
    a file drops every POSIX lock the process holds on it: a worker, whose scan log opens a store at each flush,
    loses the shared lock its connection holds, so the bench's last read-write connection to close takes itself for
    the last one of all, checkpoints and deletes the WAL under the workers (their next statement fails: "disk I/O
    error", "file is not a database"). With this connection open in the bench, none of its writers' closes is the
    process's last; being read-only, it never deletes the WAL when it closes itself.
    """
    guard = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        guard.execute("SELECT count(*) FROM sqlite_master").fetchone()
        yield
    finally:
        guard.close()


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


# SQLite: one transaction, the scans' count trigger off (the counts are generated), no disk flush ----------

SQLITE_FILL_SCANS = """
WITH RECURSIVE seq(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :end)
INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted)
SELECT batch.prefix, 1 + (u / :batches) * :stride,
       strftime('%Y-%m-%dT%H:%M:%SZ', :start + i * :span / :rows, 'unixepoch'), :result, {clients}, 1
FROM (SELECT i, i % :units AS u FROM seq) JOIN temp.fill_batches AS batch ON batch.b = u % :batches
""".format(clients=FILL_CLIENTS_SQL)

SQLITE_FILL_COUNTS = """
WITH RECURSIVE unit(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM unit WHERE j + 1 < :batches * :per_batch)
INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at, sources)
SELECT batch.prefix, 1 + k * :stride, (:rows - 1 - u) / :units + 1,
       strftime('%Y-%m-%dT%H:%M:%SZ', :start + u * :span / :rows, 'unixepoch'), (:rows - 1 - u) / :units + 1
FROM (SELECT j / :per_batch AS b, j % :per_batch AS k, (j % :per_batch) * :batches + j / :per_batch AS u FROM unit)
     JOIN temp.fill_batches AS batch USING (b)
WHERE u < :units
ON CONFLICT (digest_prefix, serial) DO UPDATE SET scans = scans + excluded.scans, sources = sources + excluded.sources,
    first_scanned_at = min(first_scanned_at, excluded.first_scanned_at)
"""


def fill_sqlite_scan_log(path: Path, plan: FillPlan) -> FillReport:
    """The plan's rows and counts in the SQLite file, then the WAL folded back into it."""
    seed_scan_log(path, plan)
    connection = sqlite3.connect(str(path), isolation_level=None, timeout=60)
    try:
        connection.executescript("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY")
        connection.execute("BEGIN IMMEDIATE")
        triggers = _drop_triggers(connection, "scans")
        _sqlite_fill_batches(connection, plan)
        values = {**plan.parameters(), "result": FILL_RESULT}
        scans = _timed(lambda: [connection.execute(SQLITE_FILL_SCANS, {**values, "first": first, "end": end})
                                for _, first, end in plan.months()])
        counts = _timed(lambda: connection.execute(SQLITE_FILL_COUNTS, values))
        for sql in triggers:
            connection.execute(sql)
        tidy = _timed(lambda: (connection.execute("COMMIT"), connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")))
    finally:
        connection.close()
    size = sum(file.stat().st_size for file in path.parent.glob(path.name + "*"))
    return FillReport(SQLITE, scans, counts, "commit + checkpoint", tidy, table_rows(path, "scans"),
                      table_rows(path, "scan_counts"), f"{size / 1e9:.2f} GB (the whole file)")


def _drop_triggers(connection: sqlite3.Connection, table: str) -> list[str]:
    """Drop *table*'s triggers (in the open transaction); the statements that make them again."""
    triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                  [table]).fetchall()
    for name, _ in triggers:
        connection.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def _sqlite_fill_batches(connection: sqlite3.Connection, plan: FillPlan) -> None:
    connection.execute("CREATE TEMP TABLE fill_batches (b INTEGER PRIMARY KEY, prefix TEXT NOT NULL)")
    connection.executemany("INSERT INTO temp.fill_batches VALUES (?, ?)", enumerate(plan.prefixes))


# PostgreSQL: one INSERT ... SELECT per month partition, then the counts, then VACUUM ANALYZE ----------

PG_ISO_SECOND = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
PG_FILL_SCANS = """
INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted)
SELECT (%(prefixes)s::text[])[(u %% %(batches)s)::int + 1], 1 + (u / %(batches)s) * %(stride)s,
       to_char(to_timestamp(%(start)s + i * %(span)s / %(rows)s) AT TIME ZONE 'UTC', {iso}), %(result)s, {clients}, 1
FROM (SELECT i, i %% %(units)s AS u FROM generate_series(%(first)s::bigint, %(end)s::bigint - 1) AS i) AS fill
""".format(iso=PG_ISO_SECOND, clients=FILL_CLIENTS_SQL.replace("%", "%%"))

PG_FILL_COUNTS = """
INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at, sources)
SELECT (%(prefixes)s::text[])[b::int + 1], 1 + k * %(stride)s, (%(rows)s - 1 - u) / %(units)s + 1,
       to_char(to_timestamp(%(start)s + u * %(span)s / %(rows)s) AT TIME ZONE 'UTC', {iso}),
       (%(rows)s - 1 - u) / %(units)s + 1
FROM (SELECT j / %(per_batch)s AS b, j %% %(per_batch)s AS k, (j %% %(per_batch)s) * %(batches)s + j / %(per_batch)s AS u
      FROM generate_series(0::bigint, %(batches)s::bigint * %(per_batch)s - 1) AS j) AS unit
WHERE u < %(units)s
ON CONFLICT (digest_prefix, serial) DO UPDATE SET scans = scan_counts.scans + excluded.scans,
    sources = scan_counts.sources + excluded.sources,
    first_scanned_at = least(scan_counts.first_scanned_at, excluded.first_scanned_at)
""".format(iso=PG_ISO_SECOND)

PG_LOG_SIZE = """
SELECT (SELECT COALESCE(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'scans'::regclass),
       pg_total_relation_size('scan_counts')
"""


def fill_postgres_scan_log(url: str, plan: FillPlan) -> FillReport:
    """The plan's rows (one statement per month partition) and counts in the schema of *url*, then VACUUM ANALYZE
    (what autovacuum does after such a load), so the planner and the visibility map know the new rows."""
    import psycopg

    seed_scan_log(url, plan)
    values = {**plan.parameters(), "prefixes": list(plan.prefixes), "result": FILL_RESULT}
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET synchronous_commit = off")
        scans = _timed(lambda: [connection.execute(PG_FILL_SCANS, {**values, "first": first, "end": end})
                                for _, first, end in plan.months()])
        counts = _timed(lambda: connection.execute(PG_FILL_COUNTS, values))
        tidy = _timed(lambda: connection.execute("VACUUM (ANALYZE) scans, scan_counts"))
        log_bytes, count_bytes = connection.execute(PG_LOG_SIZE).fetchone() or (0, 0)
    return FillReport(POSTGRESQL, scans, counts, "vacuum analyze", tidy, table_rows(url, "scans"),
                      table_rows(url, "scan_counts"),
                      f"scans {int(log_bytes) / 1e9:.2f} GB, scan_counts {int(count_bytes) / 1e9:.2f} GB (with indexes)")


FILLERS: dict[str, Callable[[Any, FillPlan], FillReport]] = {SQLITE: fill_sqlite_scan_log,
                                                            POSTGRESQL: fill_postgres_scan_log}


def fill_scan_logs(locations: dict[str, Path | str], plan: FillPlan) -> list[FillReport]:
    """Fill each engine's scan log by the same plan, one engine after the other, printing each as it ends."""
    time.sleep(SCAN_FLUSH_WAIT_SECONDS)  # the workers write their last scans before the fill takes the write lock
    print(f"\nfilling the scan log: {plan.rows:,} rows per engine, {plan.units:,} units of {plan.batches} batches, "
          f"{len(plan.months())} months ({plan.scanned_at(0)[:10]} to {plan.scanned_at(plan.rows - 1)[:10]})")
    reports = []
    for engine, location in locations.items():
        reports.append(report := FILLERS[engine](location, plan))
        print_fill(report)
    print(f"  sync       : {_timed(os.sync):.1f} s (the fill's dirty pages written out, so the disk is idle "
          f"again when the load starts)")
    return reports


# wrk --------------------------------------------------------------------


WRK_SCRIPT = """\
wrk.headers["User-Agent"] = "{user_agent}"
wrk.headers["Accept-Language"] = "{accept_language}"
local paths = {{
{paths}
}}
local started = 0
function setup(thread)
  thread:set("offset", started * {stride})
  started = started + 1
end
function init(args)
  position = offset or 0
end
function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
"""

_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUEST_COUNT = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_PERCENTILE = r"^\s+{0}%\s+([\d.]+)(us|ms|s|m|h)\s*$"
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def wrk_threads(connections: int) -> int:
    return max(1, min(2, connections))


def write_wrk_script(folder: Path, name: str, paths: list[str], threads: int) -> Path:
    """A Lua script that cycles *paths*, each wrk thread starting at a different place in the pool."""
    script = folder / f"{name}.lua"
    script.write_text(WRK_SCRIPT.format(user_agent=USER_AGENT, accept_language=ACCEPT_LANGUAGE,
                                        paths=",\n".join(f'"{path}"' for path in paths),
                                        stride=max(1, len(paths) // threads)), encoding="utf-8")
    return script


def wrk_load(port: int, connections: int, folder: Path) -> LoadRun:
    threads = wrk_threads(connections)

    def load(route: str, paths: list[str], duration: float) -> Measurement:
        script = write_wrk_script(folder, route.strip("/").replace("/", "-") or "root", paths, threads)
        command = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
                   "-s", str(script), f"http://{HOST}:{port}/"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"wrk failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(route, done.stdout)

    return load


def parse_wrk(route: str, output: str) -> Measurement:
    """The numbers of one ``wrk --latency`` report."""
    rate = _REQUESTS_PER_SECOND.search(output)
    count = _REQUEST_COUNT.search(output)
    if rate is None or count is None:
        raise SystemExit(f"cannot read wrk's report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET_ERRORS.search(output)
    return Measurement(route, int(count.group(1)), float(rate.group(1)), _wrk_percentile(output, 50),
                       _wrk_percentile(output, 99), int(non_2xx.group(1)) if non_2xx else 0,
                       sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)


def _wrk_percentile(output: str, percent: int) -> float:
    found = re.search(_PERCENTILE.format(percent), output, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk's report has no {percent}% latency line:\n{output}")
    return float(found.group(1)) * _UNIT_MS[found.group(2)]


def wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (unknown version)"


# the Python load generator ----------------------------------------------


@dataclasses.dataclass
class _Tally:
    latencies: list[float] = dataclasses.field(default_factory=list)
    non_2xx: int = 0
    errors: int = 0


def python_load(port: int, connections: int) -> LoadRun:
    def load(route: str, paths: list[str], duration: float) -> Measurement:
        tallies = [_Tally() for _ in range(connections)]
        start = time.perf_counter()
        deadline = start + duration
        workers = [threading.Thread(target=_connection_loop, args=(port, paths, number, connections, deadline, tally))
                   for number, tally in enumerate(tallies)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start
        latencies = sorted(latency for tally in tallies for latency in tally.latencies)
        if not latencies:
            raise SystemExit(f"no request to {route} completed")
        return Measurement(route, len(latencies), len(latencies) / elapsed, _percentile(latencies, 50),
                           _percentile(latencies, 99), sum(t.non_2xx for t in tallies), sum(t.errors for t in tallies))

    return load


def _connection_loop(port: int, paths: list[str], number: int, stride: int, deadline: float, tally: _Tally) -> None:
    """One simulated client: request after request (a new connection each) until *deadline*."""
    position = number * max(1, len(paths) // stride)
    while time.perf_counter() < deadline:
        path = paths[position % len(paths)]
        position += 1
        started = time.perf_counter()
        try:
            status = _one_request(port, path)
        except OSError:
            tally.errors += 1
            continue
        tally.latencies.append((time.perf_counter() - started) * 1000.0)
        if not 200 <= status < 300:
            tally.non_2xx += 1


def _one_request(port: int, path: str) -> int:
    """GET *path* over a fresh connection; the response's status code."""
    head = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Accept-Language: {ACCEPT_LANGUAGE}\r\nConnection: close\r\n\r\n").encode("ascii")
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(head)
        received = bytearray()
        while chunk := connection.recv(65536):
            received += chunk
    status_line = bytes(received.split(b"\r\n", 1)[0]).split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError("malformed response")
    return int(status_line[1])


def _percentile(ordered: list[float], percent: int) -> float:
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


# report -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Phase:
    """One round of loads: what each engine's scan log held when it began, and each route's measurement."""

    name: str
    log_rows: dict[str, int]
    results: list[Measurement]

    def find(self, route: str, engine: str) -> Measurement | None:
        return next((row for row in self.results if row.route == route and row.engine == engine), None)

    @property
    def hello(self) -> Measurement:
        found = self.find(HELLO_PATH, ANY_ENGINE)
        assert found is not None
        return found


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def print_setup(generator: str, args: argparse.Namespace, database: str | None) -> None:
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(f"load generator : {generator}, {args.connections} connections, {args.duration:g} s per route{rounds} "
          f"(after {WARMUP_SECONDS:g} s warm-up)")
    print(f"server         : gunicorn {_version('gunicorn')} (sync), {args.workers} workers, Flask {_version('flask')}, "
          f"over {HOST}")
    print(f"code pool      : {args.pool:,} distinct stamp codes (cycled)")
    engines = "SQLite " + sqlite3.sqlite_version + " (the instance file, WAL)"
    if database is not None:
        engines += f"; PostgreSQL {_postgres_version(database)} (psycopg {_version('psycopg')}, the same app under " \
                   f"{ENGINE_MOUNTS[POSTGRESQL]}/, schema {SCHEMA_PREFIX}{os.getpid()})"
    print(f"engines        : {engines}")
    print(f"python         : {platform.python_implementation()} {platform.python_version()}")


def _postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        return str(connection.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]


def print_fill(report: FillReport) -> None:
    print(f"  {report.engine:<11}: scans {report.scans_seconds:.1f} s, counts {report.counts_seconds:.1f} s, "
          f"{report.tidy} {report.tidy_seconds:.1f} s (total "
          f"{report.scans_seconds + report.counts_seconds + report.tidy_seconds:.1f} s); "
          f"scans {report.scan_rows:,} rows, scan_counts {report.count_rows:,} rows; {report.size}")


def print_phase(phase: Phase) -> None:
    """The phase's table: each route and engine, against the phase's own hello-world."""
    logs = ", ".join(f"{engine} {rows:,} rows" for engine, rows in phase.log_rows.items())
    print(f"\n== {phase.name} scan log ({logs}) ==")
    width = max(14, *(len(row.route) + 2 for row in phase.results))
    print(f"{'route':<{width}}{'engine':<12}{'requests':>10}{'req/s':>10}{'vs hello':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'non-2xx':>9}{'errors':>8}")
    for row in phase.results:
        print(f"{row.route:<{width}}{row.engine:<12}{row.requests:>10,}{row.requests_per_second:>10,.0f}"
              f"{row.requests_per_second / phase.hello.requests_per_second:>10.1%}{row.p50_ms:>9.2f}{row.p99_ms:>9.2f}"
              f"{row.non_2xx:>9,}{row.errors:>8,}")


def print_verdicts(phases: list[Phase], workers: int) -> None:
    """The targets, for each phase, then how the scan route changed with the log's size."""
    print()
    for phase in phases:
        scans = {engine: found for engine in ENGINE_MOUNTS if (found := phase.find(SCAN_ROUTE, engine))}
        _verdict_line(f"{phase.name}: scan / hello, sqlite", f"{scans[SQLITE].requests_per_second / phase.hello.requests_per_second:.1%}",
                      f">= {TARGET_RATIO:.0%}", scans[SQLITE].requests_per_second >= TARGET_RATIO * phase.hello.requests_per_second)
        if POSTGRESQL in scans:
            ratio = scans[POSTGRESQL].requests_per_second / scans[SQLITE].requests_per_second
            _verdict_line(f"{phase.name}: scan postgresql / sqlite", f"{ratio:.1%}",
                          f">= {TARGET_ENGINE_RATIO:.0%} (at 2 workers; {workers} here)", ratio >= TARGET_ENGINE_RATIO)
        for engine, scan in scans.items():
            _verdict_line(f"{phase.name}: scan p99, {engine}", f"{scan.p99_ms:.2f} ms", f"< {TARGET_P99_MS:g} ms",
                          scan.p99_ms < TARGET_P99_MS)
    if len(phases) == 2:
        print_growth(*phases)
    failed = [f"{row.route} ({row.engine}, {phase.name})" for phase in phases for row in phase.results if row.non_2xx]
    errored = [f"{row.route} ({row.engine}, {phase.name})" for phase in phases for row in phase.results if row.errors]
    _verdict_line("responses", "all 2xx" if not failed else "NOT all 2xx on " + ", ".join(failed), "", not failed)
    if errored:
        print(f"socket errors on {', '.join(errored)} (see the errors column)")


def print_growth(before: Phase, after: Phase) -> None:
    """The scan route with the log as the run left it and after the fill: what the log's size costs a scan."""
    for engine in ENGINE_MOUNTS:
        empty, filled = before.find(SCAN_ROUTE, engine), after.find(SCAN_ROUTE, engine)
        if empty is None or filled is None:
            continue
        hello_ratio = (filled.requests_per_second / after.hello.requests_per_second) / \
                      (empty.requests_per_second / before.hello.requests_per_second)
        print(f"log growth, {engine:<10}: {before.log_rows[engine]:,} -> {after.log_rows[engine]:,} rows: "
              f"{empty.requests_per_second:,.0f} -> {filled.requests_per_second:,.0f} req/s "
              f"({filled.requests_per_second / empty.requests_per_second:.1%}; vs each phase's hello {hello_ratio:.1%}), "
              f"p50 {empty.p50_ms:.2f} -> {filled.p50_ms:.2f} ms, p99 {empty.p99_ms:.2f} -> {filled.p99_ms:.2f} ms")


def _verdict_line(label: str, value: str, target: str, ok: bool) -> None:
    print(f"{label:<36}: {value:<10} {('target ' + target) if target else '':<40} {'PASS' if ok else 'FAIL'}")


# main -------------------------------------------------------------------


def measure(load: LoadRun, targets: list[Target], duration: float, rounds: int) -> list[Measurement]:
    """Warm every route up, then measure each in turn, *rounds* times over; per route, the round of median rate
    (a machine shared with other work slows whichever route runs at that moment: rounds spread that over all)."""
    for target in targets:
        load(target.route, target.paths, WARMUP_SECONDS)
    runs: list[list[Measurement]] = [[] for _ in targets]
    for _ in range(rounds):
        for target, found in zip(targets, runs):
            found.append(dataclasses.replace(load(target.route, target.paths, duration), engine=target.engine))
    return [sorted(found, key=lambda run: run.requests_per_second)[len(found) // 2] for found in runs]


def scan_targets(paths: list[str], engines: list[str], *, api: bool) -> list[Target]:
    """Hello-world, then the scan route (and the API) on each engine, over the same pool of codes."""
    targets = [Target(HELLO_PATH, ANY_ENGINE, [HELLO_PATH])]
    targets += [Target(SCAN_ROUTE, engine, [engine_path(engine, path) for path in paths]) for engine in engines]
    if api:
        api_paths = [path.replace("/V/", "/api/v1/verify?code=", 1) for path in paths]
        targets += [Target(API_ROUTE, engine, [engine_path(engine, path) for path in api_paths]) for engine in engines]
    return targets


def breakdown_targets(paths: list[str], engines: list[str]) -> list[Target]:
    return [Target(f"/B/{step}/<TOKEN>", engine, [engine_path(engine, path.replace("/V/", f"/B/{step}/", 1))
                                                  for path in paths])
            for engine in engines for step in BREAKDOWN_STEPS]


def run_phase(name: str, load: LoadRun, targets: list[Target], args: argparse.Namespace,
              locations: dict[str, Path | str]) -> Phase:
    """Load *targets*, noting first how many rows each engine's scan log holds; print the table."""
    phase = Phase(name, {engine: table_rows(location, "scans") for engine, location in locations.items()},
                  measure(load, targets, args.duration, args.rounds))
    print_phase(phase)
    return phase


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the verifier's scan page against hello-world under gunicorn, "
                                                 "on SQLite and PostgreSQL, with an empty and a filled scan log.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per route (default 10)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every route this many times, in turn, and report the median (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--pool", type=int, default=5000, help="distinct stamp codes to cycle over (default 5000)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk when installed (auto), or force one")
    parser.add_argument("--breakdown", action="store_true",
                        help="also load routes doing each step of a scan in turn (page, verify, count, log)")
    parser.add_argument("--database", metavar="URL",
                        help="also measure on PostgreSQL: a postgresql:// URL of a database the bench may write in "
                             "(it makes a schema of its own there, dropped at the end)")
    parser.add_argument("--fill-scans", type=int, default=0, metavar="N",
                        help="then write N rows into each engine's scan log (by SQL, not HTTP) and measure again")
    args = parser.parse_args()
    if args.fill_scans < 0:
        parser.error("--fill-scans must be 0 or more")
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    return args


def main() -> None:
    args = parse_arguments()
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ocop-bench-verifier-") as folder, \
            postgres_schema(args.database) as database:
        generator = wrk_version() + " --latency (Lua path cycling)" if use_wrk else "Python threads (raw HTTP/1.1)"
        print_setup(generator, args, database)
        root = Path(folder) / "instance"
        paths, pool_prefix = build_instance(root, f"http://{HOST}:{port}", args.pool)
        if database is not None:
            copy_instance(root, database)
        locations: dict[str, Path | str] = {SQLITE: root / DB_NAME, **({POSTGRESQL: database} if database else {})}
        load = wrk_load(port, args.connections, Path(folder)) if use_wrk else python_load(port, args.connections)
        child = start_server(build_server_app(root, database, breakdown=args.breakdown), port, args.workers)
        try:
            phases = run_phases(args, load, paths, pool_prefix, locations, port)
        finally:
            stop_server(child)
        if child.exitcode not in (0, None):
            print(f"(the server exited with code {child.exitcode})")
    print_verdicts(phases, args.workers)


def run_phases(args: argparse.Namespace, load: LoadRun, paths: list[str], pool_prefix: str,
               locations: dict[str, Path | str], port: int) -> list[Phase]:
    """Every route with the scan log as the run leaves it; with --fill-scans, the scan route again after the fill."""
    engines = list(locations)
    first = scan_targets(paths[:-1], engines, api=True)
    first[1:1] = breakdown_targets(paths[:-1], engines) if args.breakdown else []
    for target in first:
        check_route(port, engine_path(target.engine, paths[-1]) if target.route == SCAN_ROUTE else target.paths[0])
    phases = [run_phase("empty", load, first, args, locations)]
    if args.fill_scans:
        with sqlite_guard(Path(locations[SQLITE])):
            fill_scan_logs(locations, fill_plan(args.fill_scans, pool_prefix, time.time()))
        phases.append(run_phase("filled", load, scan_targets(paths[:-1], engines, api=False), args, locations))
    return phases


if __name__ == "__main__":
    main()
