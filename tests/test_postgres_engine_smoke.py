"""The PostgreSQL engine against a real server: the same calls answer as on SQLite, and what only a server can show
(two processes allocating, two processes storing one visit, a month of the log dropped, a recall seen elsewhere).

Runs when $OCOP_STAMPS_TEST_POSTGRES names a database (postgresql://user:pass@host/db) whose user may create
schemas; each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

psycopg = pytest.importorskip("psycopg")

from keys.keyfile import generate_private_key, key_id  # noqa: E402
from keys.keyring import TrustedKey  # noqa: E402
from stamps.batch_record import SignedBatchRecord  # noqa: E402
from stamps.errors import InstanceError, StampError, StoreError, StoreUnavailable  # noqa: E402
from stamps.scans import Scan, Visit  # noqa: E402
from stamps.store import TABLES, SerialAllowance, Store  # noqa: E402
from stamps.store.postgres import PostgresStore, close_pools  # noqa: E402
from stamps.store.sqlite import SQLiteStore  # noqa: E402

SERVER = os.environ.get("OCOP_STAMPS_TEST_POSTGRES", "")
pytestmark = pytest.mark.skipif(not SERVER, reason="$OCOP_STAMPS_TEST_POSTGRES names no PostgreSQL database")
TIME_COLUMNS = {"created_at", "issued_at", "recorded_at", "added_at", "updated_at", "written_at", "applied_at"}


@pytest.fixture
def new_url() -> Iterator[Callable[[], str]]:
    """Makes a URL whose search_path is a fresh schema; the schemas are dropped at the end."""
    schemas: list[str] = []

    def make() -> str:
        schemas.append(f"t_{secrets.token_hex(6)}")
        with psycopg.connect(SERVER, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schemas[-1]}")
        separator = "&" if "?" in SERVER else "?"
        return f"{SERVER}{separator}options=" + urllib.parse.quote(f"-csearch_path={schemas[-1]}")

    yield make
    close_pools()
    with psycopg.connect(SERVER, autocommit=True) as connection:
        for schema in schemas:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def pg(new_url: Callable[[], str]) -> Iterator[PostgresStore]:
    store = PostgresStore(new_url(), create=True)
    yield store
    store.close()


def signed_batch(lot: str, quantity: int = 1000) -> SignedBatchRecord:
    """A batch record as the store sees it (the store checks no signature)."""
    record = {"format": "ocop-batch-record/1", "key_id": "0123456789abcdef", "batch": {"lot_code": lot, "quantity": quantity},
              "product": {"name": "Trà"}}
    return SignedBatchRecord(json.dumps(record, sort_keys=True).encode(), secrets.token_bytes(64))


def trusted(label: str) -> TrustedKey:
    public = generate_private_key().public_key()
    return TrustedKey(key_id=key_id(public), public_key=public, label=label, status="active")


def outcome(call: Callable[[], Any]) -> Any:
    """A call's answer, or its error's class and message (the same on both engines)."""
    try:
        return call()
    except StampError as error:
        return type(error).__name__, error.message


def exercise(store: Store, batches: list[SignedBatchRecord], keys: list[TrustedKey]) -> list[Any]:
    """Every method of the interface, with what each answered."""
    said: list[Any] = [store.schema_version()]
    mark = store.change_mark()
    store.set_setting("base_url", "https://a.example")
    store.set_setting("base_url", "https://b.example")
    said += [store.setting("base_url"), store.setting("missing"), store.change_mark() != mark]
    producer = store.add_record("producers", {"name": "HTX"}, {"name": "HTX", "n": 1})
    store.add_record("farm_areas", {"producer_id": producer, "name": "Đồi"}, {"name": "Đồi"})
    store.add_record("products", {"producer_id": producer, "name": "Trà", "image": b"\x89PNG", "image_type": "image/png"},
                     {"name": "Trà", "image_sha256": "ab" * 32})
    store.edit_record("producers", producer, lambda data: ({"name": store.record_row("producers", producer)["name"] + "!"},
                                                          {**data, "n": data["n"] + 1}))
    said += [{k: v for k, v in row.items() if k != "created_at"} for table in ("producers", "farm_areas", "products")
             for row in store.record_rows(table)]
    said += [outcome(lambda: store.record_row("producers", 99)), outcome(lambda: store.record_row("products", 0)),
             store.product_image("ab" * 32), store.product_image("cd" * 32)]
    for signed in batches:
        store.insert_batch(signed, "signed here")
    said += [outcome(lambda: store.insert_batch(batches[0], "again")), store.batch_prefixes(),
             store.batch_prefixes(digest_start=batches[1].digest.hex()[:6].upper()), store.batch_prefixes(lot_code="L2"),
             store.batch_record_text(batches[0].digest.hex()), store.batch_record_text("00")]
    digest = batches[0].digest.hex()
    seen: list[SerialAllowance] = []
    said += [store.allocate_serials(digest, 10, None, seen.append), store.allocate_serials(digest, 5, "/tmp/run", seen.append),
             outcome(lambda: store.allocate_serials(digest, 5, None, _refuse)), outcome(lambda: store.allocate_serials("ff", 1, None, seen.append)),
             seen, store.unwritten_ranges(digest)]
    store.mark_written(digest, store.allocate_serials(digest, 1, None, seen.append))
    said += [store.unwritten_ranges(digest), store.batch_state(batches[0].digest_prefix.hex()), store.batch_state("00" * 10)]
    said += [store.add_recall(digest, "recall", "mould", "2026-12-01"), store.add_recall(digest, "recall", "again", "2026-12-02"),
             store.batch_state(batches[0].digest_prefix.hex()).recall]  # type: ignore[union-attr]
    for key in keys:
        store.add_trusted_key(key)
    store.add_trusted_key(TrustedKey(keys[0].key_id, keys[0].public_key, "renamed", "active"))
    store.set_key_status(keys[1].key_id, "revoked", "lost")
    said += [[(k.key_id, k.label, k.status, k.reason) for k in store.trusted_keys()], len(store.trusted_keys(keys[0].key_id[:5])),
             store.setting("trust_generation")]
    said += day_keys(store) + scan_log(store)
    said += [(table, store.table_columns(table), store.table_count(table)) for table in TABLES]
    said += [table_rows(store, table) for table in TABLES]
    return said


def _refuse(allowance: SerialAllowance) -> None:
    raise StampError(f"refused at {allowance.issued}")


def day_keys(store: Store) -> list[Any]:
    made: list[bytes] = []

    def make() -> bytes:
        made.append(bytes([len(made) + 1]) * 32)
        return made[-1]
    return [store.day_key("2026-12-01", make), store.day_key("2026-12-01", make), store.day_key("2026-12-02", make),
            store.day_key("2026-12-01", make), len(made)]


def scan_log(store: Store) -> list[Any]:
    prefix = "aa" * 10
    scans = [Scan(prefix, 1, "2026-10-05T10:00:00Z", "genuine", "page/ios", True),
             Scan(prefix, 1, "2026-11-05T10:00:00Z", "genuine", "page/bot", False),
             Scan(prefix, 2, "2026-12-01T06:00:00Z", "genuine", "api/other", True),
             Scan(prefix, 1, "2026-12-02T06:00:00Z", "genuine", "page/android", True)]
    visits = [Visit(prefix, 1, "2026-10-05", "s1", "2026-10-05T10:00:00Z"), Visit(prefix, 2, "2026-12-01", "s2", "2026-12-01T06:00:00Z"),
              Visit(prefix, 1, "2026-12-02", "s3", "2026-12-02T06:00:00Z")]
    store.record_scans(scans[:2], visits[:1])
    store.record_scans(scans[2:], visits)  # the first visit again: not counted twice
    said: list[Any] = [store.unit_counts(prefix), store.known_unit(prefix, 1, "2026-12-02", "s3"),
                       store.known_unit(prefix, 1, "2026-12-02", "s9"), store.known_unit(prefix, 7, "2026-12-02", "s9")]
    said += [store.prune_scans("2026-11-20T00:00:00Z"), store.table_count("scans"), store.unit_counts(prefix),
             store.clear_counts(prefix, 2, 5), store.unit_counts(prefix), store.forget_places_before("2026-12-02"),
             store.table_count("unit_sources")]
    store.record_scans([Scan(prefix, 3, "2026-09-01T00:00:00Z", "genuine", "page/ios", True)], [])  # a dropped month
    return said + [store.unit_counts(prefix)]


def table_rows(store: Store, table: str) -> list[Any]:
    columns = [column for column in store.table_columns(table) if column not in TIME_COLUMNS]
    return sorted(row for chunk in read_table(store, table, columns) for row in chunk)


def read_table(store: Store, table: str, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The store's read_table, but for SQLite's WITHOUT ROWID tables, whose ORDER BY rowid fails in sqlite.py."""
    if isinstance(store, SQLiteStore) and table in ("scan_counts", "unit_sources"):
        yield [tuple(row) for row in store.db.conn.execute(f"SELECT {', '.join(columns)} FROM {table}")]
        return
    yield from store.read_table(table, columns)


def test_every_method_answers_as_on_sqlite(pg: PostgresStore, tmp_path: Path) -> None:
    batches, keys = [signed_batch("L1"), signed_batch("L2")], [trusted("a"), trusted("b")]
    lite = SQLiteStore(tmp_path / "stamps.db", create=True)
    on_sqlite, on_postgres = exercise(lite, batches, keys), exercise(pg, batches, keys)
    for step, (expected, got) in enumerate(zip(on_sqlite, on_postgres)):
        assert got == expected, f"step {step}"
    assert len(on_sqlite) == len(on_postgres)


def test_copy_from_sqlite_loses_nothing_and_reruns(new_url: Callable[[], str], tmp_path: Path) -> None:
    lite = SQLiteStore(tmp_path / "stamps.db", create=True)
    exercise(lite, [signed_batch("L1"), signed_batch("L2")], [trusted("a"), trusted("b")])
    target = PostgresStore(new_url(), create=True)
    for attempt in (1, 2):
        for table in TABLES:
            columns = lite.table_columns(table)
            added = sum(target.load_rows(table, columns, chunk) for chunk in read_table(lite, table, columns))
            assert added == (lite.table_count(table) if attempt == 1 else 0), table
            assert target.table_count(table) == lite.table_count(table), table
    for table in TABLES:  # trust_generation moved once per key loaded (as on SQLite): a verifier reloads its keys
        assert [row for row in table_rows(target, table) if row[0] != "trust_generation"] == \
            [row for row in table_rows(lite, table) if row[0] != "trust_generation"], table
    assert target.add_record("producers", {"name": "next"}, {}) == 2  # ids go on after the copied ones
    [first_batch] = target.batch_prefixes(lot_code="L1")
    digest = target.batch_state(first_batch).digest  # type: ignore[union-attr]
    assert target.allocate_serials(digest, 1, None, lambda allowance: None).first == 17


def _allocate_many(url: str, digest: str, times: int, results: Any) -> None:
    store = PostgresStore(url)
    ranges = [store.allocate_serials(digest, 7, None, lambda allowance: None) for _ in range(times)]
    results.put([(serials.first, serials.last) for serials in ranges])


def test_two_processes_allocate_disjoint_gap_free(pg: PostgresStore) -> None:
    signed = signed_batch("L1")
    pg.insert_batch(signed, "here")  # the parent has used the pool before it forks
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_allocate_many, args=(pg._url, signed.digest.hex(), 40, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    ranges = sorted(results.get(timeout=60) + results.get(timeout=60))
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert ranges == [(1 + 7 * n, 7 + 7 * n) for n in range(80)]
    assert pg.batch_state(signed.digest_prefix.hex()).issued == 560  # type: ignore[union-attr]


def _record_visit(url: str, start: Any, done: Any) -> None:
    store = PostgresStore(url, durable=False)
    prefix = "bb" * 10
    start.wait(timeout=30)
    for n in range(20):
        store.record_scans([Scan(prefix, 1, f"2026-12-01T06:00:{n:02d}Z", "genuine", "page/ios", True)],
                           [Visit(prefix, 1, "2026-12-01", f"place{n}", f"2026-12-01T06:00:{n:02d}Z")])
    done.put(True)


def test_one_visit_from_two_processes_counts_once(pg: PostgresStore) -> None:
    context = multiprocessing.get_context("fork")
    start, done = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_record_visit, args=(pg._url, start, done)) for _ in range(2)]
    for worker in workers:
        worker.start()
    assert done.get(timeout=60) and done.get(timeout=60)
    for worker in workers:
        worker.join(timeout=30)
    [count] = pg.unit_counts("bb" * 10)
    assert (count.scans, count.places, count.first_scanned_at) == (40, 20, "2026-12-01T06:00:00Z")


def test_pruning_drops_whole_months_and_keeps_counts(pg: PostgresStore) -> None:
    prefix = "cc" * 10
    times = [f"2026-{month:02d}-{day:02d}T00:00:00Z" for month in (9, 10, 11, 12) for day in (1, 15, 28)]
    pg.record_scans([Scan(prefix, 1, at, "genuine", "page/ios", True) for at in times], [])
    partitions = ("SELECT count(*) FROM pg_inherits JOIN pg_class ON pg_class.oid = inhrelid WHERE inhparent = "
                  "'scans'::regclass AND relname BETWEEN 'scans_2026_09' AND 'scans_2026_12'")  # not the months made ahead
    assert pg._row(partitions) == (4,)
    assert pg.prune_scans("2026-11-20T00:00:00Z") == 8  # September and October whole, two rows of November
    assert pg._row(partitions) == (2,)
    assert pg.table_count("scans") == 4
    assert [tuple(count) for count in pg.unit_counts(prefix)] == [(1, 12, 0, "2026-09-01T00:00:00Z")]
    with psycopg.connect(pg._url, autocommit=True) as other:  # another process drops a month this one knows
        other.execute("DROP TABLE scans_2026_12")
    pg.record_scans([Scan(prefix, 1, "2026-12-31T00:00:00Z", "genuine", "page/ios", True)], [])
    assert pg.table_count("scans") == 2  # 28 November, and the new one


def _recall(url: str, digest: str) -> None:
    PostgresStore(url).add_recall(digest, "recall", "mould", "2026-12-01")


def test_a_recall_elsewhere_moves_the_mark_at_once(pg: PostgresStore) -> None:
    signed = signed_batch("L1")
    pg.insert_batch(signed, "here")
    mark = pg.change_mark()
    assert pg.change_mark() == mark  # reading moves nothing
    pg.record_scans([Scan("dd" * 10, 1, "2026-12-01T00:00:00Z", "genuine", "page/ios", True)], [])
    assert pg.change_mark() == mark  # nor does the scan log
    worker = multiprocessing.get_context("spawn").Process(target=_recall, args=(pg._url, signed.digest.hex()))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 0
    assert pg.change_mark() != mark
    assert pg.batch_state(signed.digest_prefix.hex()).recall["reason"] == "mould"  # type: ignore[union-attr,index]


def test_transactions_join_and_roll_back(pg: PostgresStore) -> None:
    with pytest.raises(RuntimeError):
        with pg.transaction():
            pg.set_setting("a", "1")
            with pg.transaction():
                pg.set_setting("b", "2")
            raise RuntimeError("undo")
    assert (pg.setting("a"), pg.setting("b")) == (None, None)
    with pg.transaction():
        pg.set_setting("a", "1")
        other = PostgresStore(pg._url)
        assert other.setting("a") is None  # not committed yet
    assert other.setting("a") == "1"


def test_errors_are_one_line_without_the_password(new_url: Callable[[], str]) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as down:
        PostgresStore("postgresql://ocop:s3cret-pw@localhost:1/nothing")
    assert time.monotonic() - started < 10
    with pytest.raises(StoreUnavailable) as wrong:
        PostgresStore(_with_password(SERVER, "s3cret-pw"))
    for error in (down.value, wrong.value):
        text = error.diagnostics()
        assert "\n" not in text and "s3cret-pw" not in text and "Cannot reach the PostgreSQL database at" in text
    url = new_url()
    with pytest.raises(InstanceError, match="no ocop-stamps schema") as empty:
        PostgresStore(url)
    assert "init --base-url" in empty.value.diagnostics()
    PostgresStore(url, create=True)
    close_pools()  # a fresh process: the read-only store finds the schema on its own
    reader = PostgresStore(url, read_only=True)
    with pytest.raises(StoreError, match="takes no changes"):
        reader.set_setting("x", "y")
    assert PostgresStore(url).location == _with_password(url, "")


def _with_password(url: str, password: str) -> str:
    """*url* with its password replaced (removed when empty)."""
    parts = urllib.parse.urlsplit(url)
    user, _, hosts = parts.netloc.rpartition("@")
    user = user.partition(":")[0] + (f":{password}" if password else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{hosts}"))


def test_another_programs_tables_are_left_alone(new_url: Callable[[], str]) -> None:
    url = new_url()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE settings (k TEXT)")
    with pytest.raises(InstanceError, match="tables named like ours"):
        PostgresStore(url, create=True)


def test_location_hides_the_password() -> None:
    from stamps.store.postgres import _without_password

    assert _without_password("postgresql://u:pw@h:5/d?password=pw&sslmode=require") == "postgresql://u@h:5/d?sslmode=require"
