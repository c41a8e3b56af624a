"""Store engines for tests: where a fresh store lives on each engine (a pytest plugin module).

``store_location`` runs a test once per engine: on SQLite a file in the test's
folder, on PostgreSQL a schema of its own in the throw-away database that
``$OCOP_STAMPS_TEST_POSTGRES`` names (``.ci/run`` creates one per run), made
before the test and dropped (CASCADE) after it, so tests never see each
other's rows. ``store`` is the store opened there. Without the variable the
PostgreSQL cases are skipped with one line; with ``OCOP_REQUIRE_TOOLS=1`` (CI)
they fail instead, so a run that should test PostgreSQL never passes quietly.

Only :func:`_postgres_admin` speaks to the database directly (it creates and
drops the schemas); tests reach every store through ``open_store`` alone.
Also here: the few records a store test needs (a signed batch, a trusted key)
and the bodies of the tests' worker processes, which must be importable by a
process started with ``spawn``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import generate_private_key, key_id
from keys.keyring import TrustedKey
from stamps.batch_record import SignedBatchRecord, build_record
from stamps.errors import IssuanceError
from stamps.records import Batch, FarmArea, Producer, Product
from stamps.scans import Scan, Visit
from stamps.store import SerialAllowance, Store, open_store

ENGINES = ("sqlite", "postgresql")
POSTGRES_ENV = "OCOP_STAMPS_TEST_POSTGRES"
REQUIRE_ENV = "OCOP_REQUIRE_TOOLS"
NO_POSTGRES = f"PostgreSQL tests need ${POSTGRES_ENV} (a throw-away database URL); .ci/run sets it"
SCHEMA_PREFIX = "ocop_test_"
DROP_LOCK_TIMEOUT = "10s"  # a store left open in a transaction must not hang the teardown

Location = Path | str


# where stores live ---------------------------------------------------------------------------------------------
def postgres_url() -> str:
    """The throw-away database's URL; skips the test without one (fails it when OCOP_REQUIRE_TOOLS=1)."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {NO_POSTGRES}", pytrace=False)
        pytest.skip(NO_POSTGRES)
    return url


def with_search_path(url: str, schema: str) -> str:
    """*url* whose sessions use *schema* (libpq's ``options=-csearch_path=...``), whatever query it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    option = f"-csearch_path={schema}"
    options = [value for name, value in query if name == "options"]
    rest = [(name, value) for name, value in query if name != "options"]
    merged = " ".join([*options, option])
    return urlunsplit(parts._replace(query=urlencode([*rest, ("options", merged)], quote_via=quote, safe="")))


def url_password(url: str) -> str | None:
    return urlsplit(url).password


def _postgres_admin(url: str, *statements: str) -> None:
    """Run schema statements on the test database (the one place tests use the driver)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(f"SET lock_timeout = '{DROP_LOCK_TIMEOUT}'")
        for statement in statements:
            connection.execute(statement)  # type: ignore[arg-type]


def _close_postgres_pools() -> None:
    """Close this process's PostgreSQL pools: the engine keeps one per URL for the life of the process (a verifier
    has one URL), and every test has a URL of its own (its schema), so without this a run runs out of connections."""
    engine = sys.modules.get("stamps.store.postgres")
    if engine is not None:
        engine.close_pools()


class Locations:
    """Fresh store locations on either engine, each removed at the end of the test (schemas dropped)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schemas: list[tuple[str, str]] = []

    def new(self, engine: str) -> Location:
        """A location where no store is yet (SQLite: a missing file; PostgreSQL: an empty schema of its own)."""
        if engine == "sqlite":
            return self.folder / f"store-{uuid.uuid4().hex[:8]}.db"
        if engine != "postgresql":
            raise ValueError(f"unknown engine {engine!r}")
        url = postgres_url()
        schema = SCHEMA_PREFIX + uuid.uuid4().hex[:12]
        _postgres_admin(url, f'CREATE SCHEMA "{schema}"')
        self.schemas.append((url, schema))
        return with_search_path(url, schema)

    def remove(self) -> None:
        if not self.schemas:
            return
        try:
            _close_postgres_pools()
        finally:
            schemas, self.schemas = self.schemas, []
            for url, schema in reversed(schemas):
                _postgres_admin(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def other_engine(engine: str) -> str:
    return "postgresql" if engine == "sqlite" else "sqlite"


def engine_of(location: Location) -> str:
    return "postgresql" if isinstance(location, str) and "://" in location else "sqlite"


@pytest.fixture
def new_location(tmp_path: Path) -> Iterator[Callable[[str], Location]]:
    """``new_location(engine)``: another fresh location (e.g. the other engine's, to copy between them)."""
    locations = Locations(tmp_path)
    yield locations.new
    locations.remove()


@pytest.fixture(params=ENGINES)
def store_location(request: pytest.FixtureRequest, new_location: Callable[[str], Location]) -> Location:
    """A fresh location on each engine in turn (the test runs once per engine)."""
    return new_location(request.param)


@pytest.fixture
def postgres_location(new_location: Callable[[str], Location]) -> Location:
    """A fresh PostgreSQL location (skipped, or failed under OCOP_REQUIRE_TOOLS=1, without a server)."""
    return new_location("postgresql")


@pytest.fixture
def open_stores(store_location: Location) -> Iterator[Callable[..., Store]]:
    """``open_stores(location=None, **options)``: more stores (other connections), closed after the test."""
    opened: list[Store] = []

    def opener(location: Location | None = None, **options: Any) -> Store:
        store = open_store(store_location if location is None else location, **options)
        opened.append(store)
        return store

    yield opener
    for store in reversed(opened):
        store.close()


@pytest.fixture
def store(store_location: Location) -> Iterator[Store]:
    """A new, empty store on each engine, closed after the test."""
    opened = open_store(store_location, create=True)
    yield opened
    opened.close()


# what stores hold ----------------------------------------------------------------------------------------------
PRODUCER = {"name": "HTX Chè Xuân Lao", "kind": "cooperative", "province": "Điện Biên",
            "commune": "xã Xuân Lao"}
FARM_AREA = {"name": "Vùng chè Xuân Lao", "kind": "growing", "province": "Điện Biên", "code": "VN-DB-XL-0001-24"}
PRODUCT = {"name": "Trà San tuyết", "category": "Đồ uống - Chè", "ocop_stars": 4,
           "ocop_certificate_no": "DB-2024-0114", "ocop_issued": "2024-06-01"}
BATCH = {"production_date": "2026-10-28", "expiry_date": "2028-10-27", "harvest_date": "2026-10-20",
         "origin_steps": [{"step": "Thu hái", "date": "2026-10-20", "place": "Xuân Lao"}]}
SIGNED_AT = "2026-11-01T08:00:00Z"


def signed_batch(private_key: Ed25519PrivateKey, lot_code: str = "LOT-1", quantity: int = 100,
                 product_name: str = PRODUCT["name"]) -> SignedBatchRecord:
    """A signed record of a batch of the test product (different lot codes or products give different digests)."""
    record = build_record(producer=Producer.from_input(PRODUCER),
                          product=Product.from_input({**PRODUCT, "name": product_name}),
                          farm_areas=[FarmArea.from_input(FARM_AREA)],
                          batch=Batch.from_input({**BATCH, "lot_code": lot_code, "quantity": quantity}),
                          key_id=key_id(private_key.public_key()), signed_at=SIGNED_AT)
    return SignedBatchRecord.sign(record, private_key)


def trusted(private_key: Ed25519PrivateKey | None = None, label: str = "Test key", status: str = "active",
            reason: str | None = None) -> TrustedKey:
    public = (private_key or generate_private_key()).public_key()
    return TrustedKey(key_id=key_id(public), public_key=public, label=label, status=status, reason=reason)


def key_row(key: TrustedKey) -> tuple[str, str, str, str, str | None]:
    """What a trusted key is, comparable across engines (public key objects compare by identity in old versions)."""
    return key.key_id, key.public_hex, key.label, key.status, key.reason


def png_image(seed: int = 0) -> bytes:
    """Bytes a product thumbnail column may hold (a PNG signature and some payload; never decoded)."""
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(str(seed).encode()).digest() * 4


def allow_all(allowance: SerialAllowance) -> None:
    """An allocation check that refuses only what no batch can give."""
    if allowance.recalled:
        raise IssuanceError("The batch is recalled.")


def utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# the tests' worker processes (spawned: each imports this module and opens its own store) --------------------
def run_together(calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], between: Callable[[], Any] | None = None,
                 timeout: float = 60) -> list[Any]:
    """Run each ``(function, args)`` in a process of its own, started together (a barrier); their results in order.

    Each function gets the barrier as its last argument and waits on it once it is ready (its store open), so the
    processes' work overlaps. With *between*, this process waits on the barrier too, then runs *between* while the
    children wait on it a second time. A child's exception fails the test with its text.
    """
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(calls) + (between is not None))
    results = context.Queue()
    processes = [context.Process(target=_child, args=(index, results, function, (*args, start)), daemon=True)
                 for index, (function, args) in enumerate(calls)]
    for process in processes:
        process.start()
    answers: dict[int, Any] = {}
    try:
        if between is not None:
            start.wait(timeout)
            between()
            start.wait(timeout)
        for _ in processes:
            index, ok, value = results.get(timeout=timeout)
            if not ok:
                pytest.fail(f"worker process {index} failed: {value}", pytrace=False)
            answers[index] = value
    finally:
        for process in processes:
            process.join(timeout=timeout)
            if process.is_alive():
                process.terminate()
                process.join()
    return [answers[index] for index in range(len(calls))]


def _child(index: int, results: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        results.put((index, True, function(*args)))
    except BaseException as error:  # noqa: BLE001 - reported to the test, whatever it is
        results.put((index, False, f"{type(error).__module__}.{type(error).__name__}: {error}"))


def allocate_one_at_a_time(location: Location, digest: str, times: int, start: Any) -> list[int]:
    """Allocate *times* ranges of one serial on the batch, each in its own transaction; the serials given."""
    store = open_store(location)
    try:
        start.wait(30)
        return [store.allocate_serials(digest, 1, None, allow_all).first for _ in range(times)]
    finally:
        store.close()


def record_same_visits(location: Location, digest_prefix: str, serials: int, day: str, start: Any) -> None:
    """Record one counted scan and the same place's visit of each unit 1..*serials*, one flush per unit."""
    store = open_store(location, durable=False)
    try:
        start.wait(30)
        for serial in range(1, serials + 1):
            seen_at = f"{day}T10:00:00Z"
            store.record_scans([Scan(digest_prefix, serial, seen_at, "genuine", "worker", True)],
                               [Visit(digest_prefix, serial, day, "the-same-place", seen_at)])
    finally:
        store.close()


def watch_batch(location: Location, digest_prefix: str, key_id: str, start: Any) -> dict[str, Any]:
    """What a verifier worker sees of a batch and a key before and after the parent's change (two barrier waits)."""
    store = open_store(location, read_only=True)
    try:
        def seen() -> tuple[dict[str, str] | None, str]:
            state = store.batch_state(digest_prefix)
            assert state is not None
            return state.recall, store.trusted_keys(key_id)[0].status

        before = seen()
        mark = store.change_mark()
        start.wait(30)  # ready: the parent changes things now
        start.wait(30)  # changed
        moved = store.change_mark() != mark
        after = seen()
        return {"moved": moved, "recall before": before[0], "status before": before[1], "recall after": after[0],
                "status after": after[1]}
    finally:
        store.close()
