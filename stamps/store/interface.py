"""What every store engine offers the services: the one interface between the project and its databases.

The services (``stamps.registry``, ``stamps.issuance``, ``stamps.scanlog``,
``stamps.truststore``) speak only this; each engine (``stamps.store.sqlite``, the
embedded default, and ``stamps.store.postgres``) implements it with its own SQL
and driver, and wraps its driver's errors in :class:`stamps.errors.StoreError`
before they leave it. A store belongs to one thread at a time.

Rows come back as the project's value types (:class:`~keys.keyring.TrustedKey`)
or as the small tuples below; nothing here knows SQL.
"""

from __future__ import annotations

from typing import Any, Callable, ContextManager, Hashable, Iterable, Iterator, NamedTuple, Protocol, Sequence

from keys.keyring import TrustedKey
from stamps.batch_record import SignedBatchRecord
from stamps.code import SerialRange
from stamps.scans import KnownUnit, Scan, UnitCount, Visit
from stamps.trust.envelope import StoredStatement

RecordChange = tuple[dict[str, Any], dict[str, Any]]  # a record row's new columns, and its new data

# Every table, in the order a copy fills them (each after the tables it refers to).
TABLES = ("settings", "producers", "farm_areas", "products", "batches", "serial_ranges", "range_writes", "recalls",
          "trusted_keys", "scans", "scan_counts", "unit_sources", "scan_keys", "statements", "publications",
          "trust_roots", "bundles")
# The tables whose rows change after they are written (a record edited, a key retired or revoked, a range's files
# written), by the columns that name a row: a repeated copy brings their changes over (load_rows(replace=True)).
CHANGING_TABLES = {"settings": ("name",), "producers": ("id",), "farm_areas": ("id",), "products": ("id",),
                   "range_writes": ("range_id",), "trusted_keys": ("key_id",)}


class BatchState(NamedTuple):
    """What can change about a stored batch, with the digest and signature of its (never changing) record."""

    digest: str
    signature: str
    origin: str
    issued: int  # the highest serial issued, 0 before the first
    recall: dict[str, str] | None  # kind, reason, recalled_on


class SerialAllowance(NamedTuple):
    """What decides whether more serials of a batch may be issued, read inside the allocating transaction."""

    quantity: int
    issued: int
    recalled: bool


class UnwrittenRange(NamedTuple):
    """An issued range whose files were not (yet) written, with the folder of the run writing them, if recorded."""

    first: int
    last: int
    staging: str | None


class Store(Protocol):
    """One instance's database, whichever engine holds it."""

    engine: str  # "sqlite" or "postgresql"
    location: str  # where it is, fit to show (a path, or a URL without its password)

    def close(self) -> None: ...

    def transaction(self) -> ContextManager[None]:
        """Run the block's store calls in one write transaction (re-entrant: an inner call joins the outer one)."""
        ...

    def change_mark(self) -> Hashable:
        """A value that moves whenever batches, serials, recalls, keys or settings may have changed since it was
        taken, in this process or any other: a verifier keeps what it read under it and reads again when it moved."""
        ...

    def schema_version(self) -> int: ...

    # settings ------------------------------------------------------------
    def setting(self, name: str) -> str | None: ...

    def set_setting(self, name: str, value: str) -> None: ...

    # records (producers, farm_areas, products) ---------------------------------
    def add_record(self, table: str, values: dict[str, Any], data: dict[str, Any]) -> int:
        """Insert one record row (its columns, and its validated data); returns its id."""
        ...

    def edit_record(self, table: str, record_id: int, rewrite: Callable[[dict[str, Any]], RecordChange]) -> None:
        """Rewrite one record row in one transaction: *rewrite* gets its stored data and gives the new columns and data."""
        ...

    def record_row(self, table: str, record_id: int) -> dict[str, Any]:
        """One row by id, with ``data`` decoded; NotFoundError if absent."""
        ...

    def record_rows(self, table: str) -> list[dict[str, Any]]: ...

    def product_image(self, sha256: str) -> tuple[bytes, str] | None:
        """The stored image (bytes, media type) of a product whose data names this SHA-256, unchecked; None if none."""
        ...

    # batches ---------------------------------------------------------------
    def insert_batch(self, signed: SignedBatchRecord, origin: str) -> None:
        """Store a signed batch; a StampError if it, or another batch with its digest prefix, is there."""
        ...

    def insert_batches(self, records: Sequence[SignedBatchRecord], origin: str) -> None:
        """Store many signed batches in one statement per chunk (a hub accepting publications); a StampError, and
        nothing stored, if one of them, or another batch with its digest prefix, is there."""
        ...

    def batch_digests(self, digest_prefixes: Sequence[str]) -> dict[str, str]:
        """The digests of the held batches with these digest prefixes (hex), by prefix, in one read."""
        ...

    def batch_state(self, digest_prefix: str) -> BatchState | None:
        """The batch a stamp names by its digest prefix (hex), in one read; None if unknown."""
        ...

    def batch_record_text(self, digest: str) -> str | None:
        """The canonical text of a batch's signed record."""
        ...

    def batch_prefixes(self, *, digest_start: str | None = None, lot_code: str | None = None) -> list[str]:
        """Digest prefixes of the batches whose digest starts so, or with this lot code (neither: all), oldest first."""
        ...

    def add_recall(self, digest: str, kind: str, reason: str, recalled_on: str) -> str | None:
        """Record a recall; returns None, or the date of an earlier recall of the batch (then nothing is written)."""
        ...

    # serials -----------------------------------------------------------------
    def allocate_serials(self, digest: str, count: int, staging: str | None,
                         check: Callable[[SerialAllowance], None]) -> SerialRange:
        """Record the batch's next *count* serials in one transaction that no other allocation of the batch, on
        any machine, can interleave with; *check* sees what was issued before and may refuse (by raising)."""
        ...

    def mark_written(self, digest: str, serials: SerialRange) -> None:
        """Record that the files of every issued range of the batch inside *serials* were written."""
        ...

    def unwritten_ranges(self, digest: str) -> list[UnwrittenRange]: ...

    # the trust store -----------------------------------------------------------
    def trusted_keys(self, key_id_start: str = "") -> list[TrustedKey]:
        """The trusted keys whose id starts with *key_id_start* (lower-case hex), in the order they were added."""
        ...

    def add_trusted_key(self, key: TrustedKey) -> None:
        """Trust a key, or give a trusted one the new label (keeping its status)."""
        ...

    def set_key_status(self, key_id: str, status: str, reason: str | None) -> None: ...

    # signed statements (the trust chain) ------------------------------------------------------------------------
    def serialize_statements(self) -> None:
        """Inside a transaction: wait until no other transaction adds statements, and keep them waiting until this one
        ends (a hub's checks of a publication, then its writes, as one step). SQLite's write transactions are
        serialised already; PostgreSQL takes the lock add_statements takes."""
        ...

    def add_statements(self, statements: Sequence[StoredStatement]) -> int:
        """Keep each statement not already kept (by hash), in the given order, stamped with the time now; returns how
        many were new. Their ``seq`` numbers follow the order they were committed in, on every engine."""
        ...

    def statements(self, kinds: Sequence[str] = (), *, after: int = 0, subject: str | None = None) -> list[StoredStatement]:
        """The kept statements of *kinds* (all when empty), optionally about one *subject*, with ``seq`` > *after*,
        in the order they were accepted."""
        ...

    def statement(self, statement_hash: str) -> StoredStatement | None: ...

    def trust_root(self) -> str | None:
        """The newest trust root kept (its canonical text), or None."""
        ...

    def add_trust_root(self, version: int, body: str) -> None:
        """Keep a trust root; one per version (StoreError for a version already kept)."""
        ...

    def add_bundle(self, scope: str, as_of: str, body: str) -> None:
        """Keep a signed inspectors' bundle for *scope* ('' for all provinces), dropping that scope's older ones."""
        ...

    def bundle(self, scope: str) -> str | None:
        """The newest bundle kept for *scope*, or None."""
        ...

    def mark_published(self, hub: str, items: Sequence[str]) -> None:
        """Remember that *hub* holds these items (statement hashes or batch digests)."""
        ...

    def published(self, hub: str) -> set[str]: ...

    # the scan log --------------------------------------------------------------
    def day_key(self, day: str, make: Callable[[], bytes]) -> bytes:
        """The secret of *day* (ISO date), made with *make* by the first process that asks, when older days' keys
        are deleted; asked for a day older than the newest key, the newest key."""
        ...

    def known_unit(self, digest_prefix: str, serial: int, day: str, source: str) -> KnownUnit:
        """A unit's committed places and first scan, and whether *source* already counted on *day*: one read."""
        ...

    def scan_reads(self, digest_prefix: str, serial: int, day: str, source: str) -> tuple[Hashable, KnownUnit]:
        """What a verifier reads for one scan, in one read (one round trip to a server): the change mark and
        :meth:`known_unit`."""
        ...

    def record_scans(self, scans: Sequence[Scan], visits: Sequence[Visit]) -> None:
        """Append scans to the log and add new places, keeping every unit's counts, in one transaction (a place
        another process wrote first is not counted twice)."""
        ...

    def unit_counts(self, digest_prefix: str) -> list[UnitCount]: ...

    def clear_counts(self, digest_prefix: str, first: int, last: int) -> int:
        """Forget the counts and places of serials first..last (the log keeps its rows, marked not counted)."""
        ...

    def make_room_for_scans(self, day: str) -> None:
        """Ready the log for the scans of *day*'s month and the next (PostgreSQL makes their partitions ahead, so a
        scan never waits while one is made; SQLite has nothing to do)."""
        ...

    def prune_scans(self, before: str) -> int:
        """Delete log rows scanned before *before* (ISO UTC); the counts stay. Returns the rows deleted."""
        ...

    def forget_places_before(self, day: str) -> int: ...

    # whole tables, for moving an instance (db copy) ---------------------------------
    def table_columns(self, table: str) -> list[str]: ...

    def table_count(self, table: str) -> int: ...

    def read_table(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        """The table's rows, in chunks."""
        ...

    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], *,
                  replace: bool = False) -> int:
        """Insert rows copied from another store, skipping those already here (by primary key), or with *replace*
        (only for :data:`CHANGING_TABLES`) overwriting those that differ; returns how many were added or changed. Per-unit counts are copied as they are, not recomputed from the (possibly pruned) log; keys that
        arrive move the trust generation, as any key change does."""
        ...
