"""The embedded engine: SQLite through sqlite-utils, WAL mode, one transaction per change.

Tables: settings, producers, farm_areas, products, batches (signed records),
serial_ranges (issued serials), range_writes (where and whether each range's
files were written), recalls, trusted_keys (the trust store), scans (the
verifier's scan log), unit_sources and scan_keys (which places scanned which
unit today, under today's key) and scan_counts (each unit's counted scans,
distinct places and first scan, kept by triggers in the statements that insert
scans and places; see stamps/scanlog.py). The interface is stamps/store/interface.py.
Every change to trusted_keys bumps the ``trust_generation`` setting (by
trigger), so a long-running verifier knows when to reload its keys.
Records keep their validated JSON form in a ``data`` column; the columns
beside it are what lists and look-ups need.

Every database this project makes is marked with ``PRAGMA application_id``
(:data:`APPLICATION_ID`), and a store opens only a file so marked, or one made
before the mark existed (our ``settings`` table with a base URL; marked when
next opened read-write). Anything else (an empty file, another program's
database, a text file) is refused before a byte of it is written.

Schema changes after the first release are numbered migrations (SQLite's
``user_version``), applied once, in one write transaction, by the first
read-write connection that finds them missing.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator, NamedTuple, ParamSpec, Sequence, TypeVar

from sqlite_utils import Database

from keys.keyring import TrustedKey
from stamps.batch_record import SignedBatchRecord
from stamps.code import SerialRange
from stamps.errors import InstanceError, StampError, StoreError
from stamps.scans import KnownUnit, Scan, UnitCount, Visit
from stamps.trust.envelope import StoredStatement
from stamps.store.common import (MAX_RECORD_ID, TRUSTED_KEY_COLUMNS, already_stored, batch_row, batch_state, decoded,
                                 missing_record, record_json, STATEMENT_COLUMNS, trusted_key, trusted_key_values, utc_now)
from stamps.store.interface import CHANGING_TABLES, TABLES, BatchState, RecordChange, SerialAllowance, UnwrittenRange

BUSY_TIMEOUT_SECONDS = 30
APPLICATION_ID = 0x4F435053  # "OCPS" in the SQLite header: this file is an ocop-stamps database
INSERT_ROWS = 100  # 600 parameters: under SQLite's smallest limit (999)
LOOKUP_ROWS = 500  # values of one IN (...) look-up, likewise
READ_CHUNK_ROWS = 5_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS producers (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS farm_areas (
    id INTEGER PRIMARY KEY, producer_id INTEGER NOT NULL REFERENCES producers(id),
    name TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY, producer_id INTEGER NOT NULL REFERENCES producers(id),
    name TEXT NOT NULL, data TEXT NOT NULL, image BLOB, image_type TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    digest TEXT PRIMARY KEY, digest_prefix TEXT NOT NULL UNIQUE, lot_code TEXT NOT NULL,
    product_name TEXT NOT NULL, key_id TEXT NOT NULL, quantity INTEGER NOT NULL,
    record TEXT NOT NULL, signature TEXT NOT NULL, origin TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS serial_ranges (
    id INTEGER PRIMARY KEY, batch_digest TEXT NOT NULL REFERENCES batches(digest),
    first_serial INTEGER NOT NULL, last_serial INTEGER NOT NULL, issued_at TEXT NOT NULL,
    CHECK (first_serial >= 1 AND last_serial >= first_serial));
CREATE INDEX IF NOT EXISTS serial_ranges_batch ON serial_ranges(batch_digest, last_serial);
CREATE TABLE IF NOT EXISTS recalls (
    batch_digest TEXT PRIMARY KEY REFERENCES batches(digest), kind TEXT NOT NULL,
    reason TEXT NOT NULL, recalled_on TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trusted_keys (
    key_id TEXT PRIMARY KEY, public_key TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
    reason TEXT, added_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY, digest_prefix TEXT NOT NULL, serial INTEGER NOT NULL, scanned_at TEXT NOT NULL,
    result TEXT NOT NULL, client TEXT NOT NULL, counted INTEGER NOT NULL CHECK (counted IN (0, 1)));
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS trusted_keys_{event.lower()} AFTER {event} ON trusted_keys BEGIN
    INSERT OR IGNORE INTO settings (name, value) VALUES ('trust_generation', '0');
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE name = 'trust_generation';
END;""" for event in ("INSERT", "UPDATE", "DELETE"))

# Migration N (1-based) brings user_version from N-1 to N. Each is a list of
# statements run in one transaction; never edit a released one, add another.
class AddColumn(NamedTuple):
    """A migration step adding a column, skipped when the column is there (every step can run again safely)."""

    table: str
    column: str
    definition: str

    def apply(self, connection: sqlite3.Connection) -> None:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({self.table})")}
        if self.column not in present:
            connection.execute(f"ALTER TABLE {self.table} ADD COLUMN {self.column} {self.definition}")


_BUMP_TRUST_GENERATION = """INSERT OR IGNORE INTO settings (name, value) VALUES ('trust_generation', '0');
            UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE name = 'trust_generation';"""

_MIGRATIONS: tuple[tuple[str | AddColumn, ...], ...] = (
    # 1: a unit's scan history in one row, so a stamp photocopied and scanned 100,000 times answers as fast as a new
    # one. The trigger counts each counted scan in the statement that inserts it (the log is only appended to); the
    # counts are recounted from the log (not added to), so they are exact whatever was written before. The index
    # scans_unit served only the count it replaces; each scan written paid for it (about 0.4 ms of the verifier's
    # 99th-percentile latency under load), so it goes.
    ("""CREATE TABLE IF NOT EXISTS scan_counts (
            digest_prefix TEXT NOT NULL, serial INTEGER NOT NULL, scans INTEGER NOT NULL, first_scanned_at TEXT NOT NULL,
            PRIMARY KEY (digest_prefix, serial)) WITHOUT ROWID""",
     """CREATE TRIGGER IF NOT EXISTS scans_count AFTER INSERT ON scans WHEN NEW.counted = 1 BEGIN
            INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at)
            VALUES (NEW.digest_prefix, NEW.serial, 1, NEW.scanned_at)
            ON CONFLICT (digest_prefix, serial) DO UPDATE
            SET scans = scans + 1, first_scanned_at = min(first_scanned_at, excluded.first_scanned_at);
        END""",
     "DELETE FROM scan_counts",
     """INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at)
            SELECT digest_prefix, serial, count(*), min(scanned_at) FROM scans WHERE counted = 1
            GROUP BY digest_prefix, serial""",
     "DROP INDEX IF EXISTS scans_unit"),  # after the recount, which reads it
    # 2: whether each issued range's files were written. A range is recorded before its files are written, with the
    # hidden folder the run writes them in (a lock file beside it tells whether that run is alive); written_at is set
    # when the folder is moved into place (or a --reprint covering the whole range is), so a range whose run was killed
    # (kill -9, a power cut) is shown with the command that writes it. Ranges issued before this migration count as
    # written: the code that issued them printed the reprint command itself when a run failed, and an alarm on every
    # old range would teach users to ignore the real ones. A table of its own (not columns) keeps the migration
    # idempotent (CREATE ... IF NOT EXISTS, INSERT OR IGNORE).
    ("""CREATE TABLE IF NOT EXISTS range_writes (
            range_id INTEGER PRIMARY KEY REFERENCES serial_ranges(id), staging TEXT, written_at TEXT)""",
     "INSERT OR IGNORE INTO range_writes (range_id, written_at) SELECT id, issued_at FROM serial_ranges"),
    # 3: copy detection by distinct places (stamps/scanlog.py). unit_sources holds which place (a keyed hash of
    # network and device) scanned which unit on which day; its trigger adds each new one to the unit's count of
    # places, so reloading a page from one place adds nothing. scan_keys holds the day's random key. Scans logged
    # before this migration carry no place: each day a unit was scanned on counts as one place (the fewest places
    # that can explain them), so old counts never flag a genuine unit that the new rule would not.
    (AddColumn("scan_counts", "sources", "INTEGER NOT NULL DEFAULT 0"),
     """CREATE TABLE IF NOT EXISTS unit_sources (
            digest_prefix TEXT NOT NULL, serial INTEGER NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL,
            first_seen_at TEXT NOT NULL, PRIMARY KEY (digest_prefix, serial, day, source)) WITHOUT ROWID""",
     "CREATE TABLE IF NOT EXISTS scan_keys (day TEXT PRIMARY KEY, secret BLOB NOT NULL)",
     """CREATE TRIGGER IF NOT EXISTS unit_sources_count AFTER INSERT ON unit_sources BEGIN
            INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at, sources)
            VALUES (NEW.digest_prefix, NEW.serial, 0, NEW.first_seen_at, 1)
            ON CONFLICT (digest_prefix, serial) DO UPDATE
            SET sources = sources + 1, first_scanned_at = min(first_scanned_at, excluded.first_scanned_at);
        END""",
     """UPDATE scan_counts SET sources = days.count
        FROM (SELECT digest_prefix, serial, count(DISTINCT substr(scanned_at, 1, 10)) AS count FROM scans
              WHERE counted = 1 GROUP BY digest_prefix, serial) AS days
        WHERE days.digest_prefix = scan_counts.digest_prefix AND days.serial = scan_counts.serial
              AND scan_counts.sources = 0"""),
    # 4: the trust chain (stamps/trust/). statements keeps every signed statement (endorsements, revocations, recalls,
    # batch records) byte for byte in the order it was accepted; AUTOINCREMENT so a number is never used twice.
    # publications remembers which items a hub holds: what is not there is the outbox.
    ("""CREATE TABLE IF NOT EXISTS statements (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, signer TEXT NOT NULL,
            subject TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, accepted_at TEXT NOT NULL)""",
     "CREATE INDEX IF NOT EXISTS statements_subject ON statements (subject, kind)",
     """CREATE TABLE IF NOT EXISTS publications (
            hub TEXT NOT NULL, item TEXT NOT NULL, sent_at TEXT NOT NULL, PRIMARY KEY (hub, item)) WITHOUT ROWID""",
     # trust_roots keeps every trust root the instance held (stamps/trustroot.py), the newest version in use.
     """CREATE TABLE IF NOT EXISTS trust_roots (
            version INTEGER PRIMARY KEY, body TEXT NOT NULL, installed_at TEXT NOT NULL)""",
     # bundles: the inspectors' bundles a hub operator signed (stamps/trust/bundle.py), per scope ('' or a province).
     """CREATE TABLE IF NOT EXISTS bundles (
            scope TEXT NOT NULL, as_of TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (scope, as_of))""",
     # What a verifier's keyring is built from moves trust_generation too: a kept endorsement or revocation, and a
     # trust root.
     f"""CREATE TRIGGER IF NOT EXISTS statements_trust AFTER INSERT ON statements
         WHEN NEW.kind IN ('endorsement', 'revocation') BEGIN
            {_BUMP_TRUST_GENERATION}
        END""",
     f"""CREATE TRIGGER IF NOT EXISTS trust_roots_insert AFTER INSERT ON trust_roots BEGIN
            {_BUMP_TRUST_GENERATION}
        END"""),
)
SCHEMA_VERSION = len(_MIGRATIONS)




P = ParamSpec("P")
R = TypeVar("R")


def _driver_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn sqlite3's errors into StoreError (one line, with the likely fix) before they leave the store."""
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as error:
            raise database_problem(error) from None
    return wrapped


def database_problem(error: sqlite3.Error) -> StoreError:
    """The ways SQLite refuses, as one line each with the likely fix."""
    text = str(error).lower()
    if "readonly" in text or "read-only" in text:
        return StoreError("The instance folder is read-only, so this change cannot be saved; copy it somewhere writable.")
    if "locked" in text or "busy" in text:
        return StoreError("The database is busy (another ocop-stamps is writing); wait a moment and try again.")
    if "full" in text or "disk i/o" in text:
        return StoreError(f"The database could not be written ({error}); free some disk space and try again.")
    return StoreError(f"The database could not be used ({error}).")


class SQLiteStore:
    """One instance's SQLite file (the embedded default). See :class:`stamps.store.interface.Store`."""

    engine = "sqlite"

    def __init__(self, path: Path, *, create: bool = False, read_only: bool = False, durable: bool = True) -> None:
        """Open (or *create*) the database; ``durable=False`` lets a commit skip the disk flush.

        Without the flush (SQLite's synchronous=NORMAL in WAL mode) a commit
        survives a crash of the program but not a power cut; the verifier uses
        it for its scan log, the CLI never does.
        """
        fresh = create and not path.exists()
        if not fresh and not path.exists():
            raise InstanceError(f"No database at {path}.", hint="Run 'ocop-stamps init --base-url URL' first.")
        try:
            if not fresh:
                _check_ours(path)
            connection = _connect_read_only(path) if read_only else _connect(path)
            if not durable:
                connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as error:
            raise InstanceError(f"Cannot open the database {path}: {error}.") from None
        self.db = Database(connection, execute_plugins=False)
        self.path = path
        self.location = str(path)
        self._depth = 0

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so concurrent writers queue, not interleave."""
        if self._depth:
            yield  # inside an outer transaction: join it
            return
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise database_problem(error) from None
        self._depth += 1
        try:
            yield
        except BaseException:
            self.db.conn.rollback()
            raise
        finally:
            self._depth -= 1
        try:
            self.db.conn.commit()
        except sqlite3.Error as error:
            raise database_problem(error) from None

    @_driver_errors
    def change_mark(self) -> tuple[int, int]:
        """SQLite's ``data_version`` moves when another connection (the CLI, another worker, the scan-log writer)
        commits; ``total_changes`` when this one writes: one cheap pragma instead of the queries."""
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0]), self.db.conn.total_changes

    @_driver_errors
    def schema_version(self) -> int:
        return _user_version(self.db.conn)

    def _one(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.conn.execute(sql, parameters).fetchone()
        return row

    def _run(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one changing statement; returns the rows it changed."""
        return int(self.db.conn.execute(sql, parameters).rowcount)

    # settings ------------------------------------------------------------
    @_driver_errors
    def setting(self, name: str) -> str | None:
        row = self._one("SELECT value FROM settings WHERE name = ?", [name])
        return row[0] if row else None

    @_driver_errors
    def set_setting(self, name: str, value: str) -> None:
        with self.transaction():
            self.db.table("settings").upsert({"name": name, "value": value}, pk="name")

    # records ------------------------------------------------------------
    @_driver_errors
    def add_record(self, table: str, values: dict[str, Any], data: dict[str, Any]) -> int:
        row = {**values, "data": record_json(data), "created_at": utc_now()}
        with self.transaction():
            return int(str(self.db.table(table).insert(row).last_pk))

    @_driver_errors
    def edit_record(self, table: str, record_id: int, rewrite: Callable[[dict[str, Any]], RecordChange]) -> None:
        with self.transaction():
            values, data = rewrite(self.record_row(table, record_id)["data"])
            self.db.table(table).update(record_id, {**values, "data": record_json(data)})

    @_driver_errors
    def record_row(self, table: str, record_id: int) -> dict[str, Any]:
        in_range = 1 <= record_id <= MAX_RECORD_ID
        rows = list(self.db.table(table).rows_where("id = ?", [record_id])) if in_range else []
        if not rows:
            raise missing_record(table, record_id)
        return decoded(rows[0])

    @_driver_errors
    def record_rows(self, table: str) -> list[dict[str, Any]]:
        return [decoded(row) for row in self.db.table(table).rows_where(order_by="id", select="*")]

    @_driver_errors
    def product_image(self, sha256: str) -> tuple[bytes, str] | None:
        row = self._one("SELECT image, image_type FROM products WHERE image IS NOT NULL "
                        "AND json_extract(data, '$.image_sha256') = ? LIMIT 1", [sha256])
        return (bytes(row[0]), str(row[1])) if row else None

    # batches ---------------------------------------------------------------
    @_driver_errors
    def insert_batch(self, signed: SignedBatchRecord, origin: str) -> None:
        with self.transaction():
            clash = self._one("SELECT digest FROM batches WHERE digest_prefix = ?", [signed.digest_prefix.hex()])
            if clash:
                raise already_stored(signed, clash[0])
            self.db.table("batches").insert(batch_row(signed, origin))

    @_driver_errors
    def insert_batches(self, records: Sequence[SignedBatchRecord], origin: str) -> None:
        rows = [tuple(batch_row(signed, origin).values()) for signed in records]
        if not rows:
            return
        columns = list(batch_row(records[0], origin))
        statement = f"INSERT INTO batches ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        with self.transaction():
            try:
                self.db.conn.executemany(statement, rows)
            except sqlite3.IntegrityError:
                clashes = self.batch_digests([signed.digest_prefix.hex() for signed in records])
                signed = next(signed for signed in records if signed.digest_prefix.hex() in clashes)
                raise already_stored(signed, clashes[signed.digest_prefix.hex()]) from None

    @_driver_errors
    def batch_digests(self, digest_prefixes: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(digest_prefixes), LOOKUP_ROWS):
            chunk = list(digest_prefixes[start:start + LOOKUP_ROWS])
            rows = self.db.conn.execute(f"SELECT digest_prefix, digest FROM batches WHERE digest_prefix IN "
                                        f"({', '.join('?' * len(chunk))})", chunk)
            found.update((str(prefix), str(digest)) for prefix, digest in rows)
        return found

    @_driver_errors
    def batch_state(self, digest_prefix: str) -> BatchState | None:
        return batch_state(*self._one(_BATCH_STATE, [digest_prefix]) or [None])

    @_driver_errors
    def batch_record_text(self, digest: str) -> str | None:
        row = self._one("SELECT record FROM batches WHERE digest = ?", [digest])
        return str(row[0]) if row else None

    @_driver_errors
    def batch_prefixes(self, *, digest_start: str | None = None, lot_code: str | None = None) -> list[str]:
        if digest_start is not None:
            where, values = "digest LIKE ?", [digest_start + "%"]
        elif lot_code is not None:
            where, values = "lot_code = ?", [lot_code]
        else:
            where, values = "1", []
        rows = self.db.conn.execute(f"SELECT digest_prefix FROM batches WHERE {where} ORDER BY created_at, digest", values)
        return [str(row[0]) for row in rows]

    @_driver_errors
    def add_recall(self, digest: str, kind: str, reason: str, recalled_on: str) -> str | None:
        with self.transaction():
            earlier = self._one("SELECT recalled_on FROM recalls WHERE batch_digest = ?", [digest])
            if earlier:
                return str(earlier[0])
            self.db.table("recalls").insert({"batch_digest": digest, "kind": kind, "reason": reason,
                                             "recalled_on": recalled_on, "recorded_at": utc_now()})
        return None

    # serials -----------------------------------------------------------------
    @_driver_errors
    def allocate_serials(self, digest: str, count: int, staging: str | None,
                         check: Callable[[SerialAllowance], None]) -> SerialRange:
        with self.transaction():  # BEGIN IMMEDIATE: one writer at a time on the whole file
            row = self._one("SELECT quantity, (SELECT COALESCE(MAX(last_serial), 0) FROM serial_ranges WHERE batch_digest = digest), "
                            "EXISTS (SELECT 1 FROM recalls WHERE batch_digest = digest) FROM batches WHERE digest = ?", [digest])
            if row is None:
                raise StampError(f"Batch {digest[:12]} is not in the store.")
            quantity, issued, recalled = row
            check(SerialAllowance(int(quantity), int(issued), bool(recalled)))
            inserted = self.db.table("serial_ranges").insert({"batch_digest": digest, "first_serial": issued + 1,
                                                              "last_serial": issued + count, "issued_at": utc_now()})
            if staging is not None:
                self._run("INSERT INTO range_writes (range_id, staging) VALUES (?, ?)", [inserted.last_pk, staging])
        return SerialRange(issued + 1, issued + count)

    @_driver_errors
    def mark_written(self, digest: str, serials: SerialRange) -> None:
        with self.transaction():
            self._run("INSERT INTO range_writes (range_id, written_at) SELECT id, ? FROM serial_ranges "
                      "WHERE batch_digest = ? AND first_serial >= ? AND last_serial <= ? ON CONFLICT (range_id) "
                      "DO UPDATE SET written_at = excluded.written_at WHERE range_writes.written_at IS NULL",
                      [utc_now(), digest, serials.first, serials.last])

    @_driver_errors
    def unwritten_ranges(self, digest: str) -> list[UnwrittenRange]:
        """An instance opened read-only before migration 2 ran has no range_writes table: its ranges count as
        written, as the migration will record them."""
        if not self.db["range_writes"].exists():
            return []
        rows = self.db.conn.execute("SELECT s.first_serial, s.last_serial, w.staging FROM serial_ranges s LEFT JOIN "
                                    "range_writes w ON w.range_id = s.id WHERE s.batch_digest = ? AND w.written_at IS NULL "
                                    "ORDER BY s.first_serial", [digest])
        return [UnwrittenRange(int(first), int(last), staging) for first, last, staging in rows]

    # the trust store -----------------------------------------------------------
    @_driver_errors
    def trusted_keys(self, key_id_start: str = "") -> list[TrustedKey]:
        rows = self.db.conn.execute(f"SELECT {', '.join(TRUSTED_KEY_COLUMNS)} FROM trusted_keys WHERE key_id LIKE ? "
                                    "ORDER BY added_at, key_id", [key_id_start + "%"])
        return [trusted_key(row) for row in rows]

    @_driver_errors
    def add_trusted_key(self, key: TrustedKey) -> None:
        now = utc_now()
        with self.transaction():
            if self._one("SELECT 1 FROM trusted_keys WHERE key_id = ?", [key.key_id]):
                self._run("UPDATE trusted_keys SET label = ?, updated_at = ? WHERE key_id = ?", [key.label, now, key.key_id])
            else:
                self.db.table("trusted_keys").insert({**dict(zip(TRUSTED_KEY_COLUMNS, trusted_key_values(key))),
                                                      "added_at": now, "updated_at": now})

    @_driver_errors
    def set_key_status(self, key_id: str, status: str, reason: str | None) -> None:
        with self.transaction():
            self._run("UPDATE trusted_keys SET status = ?, reason = ?, updated_at = ? WHERE key_id = ?",
                      [status, reason, utc_now(), key_id])

    # the scan log --------------------------------------------------------------
    # signed statements ----------------------------------------------------------------------------------------------
    def serialize_statements(self) -> None:
        assert self._depth, "serialize_statements() is for inside a transaction"  # BEGIN IMMEDIATE holds the write lock

    @_driver_errors
    def add_statements(self, statements: Sequence[StoredStatement]) -> int:
        now = utc_now()
        with self.transaction():
            cursor = self.db.conn.executemany(  # its rowcount: the rows inserted, summed (triggers' rows not counted)
                "INSERT OR IGNORE INTO statements (hash, kind, signer, subject, version, body, accepted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [(*statement[:6], now) for statement in statements])
            return max(cursor.rowcount, 0)

    @_driver_errors
    def statements(self, kinds: Sequence[str] = (), *, after: int = 0, subject: str | None = None) -> list[StoredStatement]:
        conditions = ["seq > ?"]
        parameters: list[Any] = [after]
        if kinds:
            conditions.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            parameters.extend(kinds)
        if subject is not None:
            conditions.append("subject = ?")
            parameters.append(subject)
        rows = self.db.conn.execute(f"SELECT {STATEMENT_COLUMNS} FROM statements WHERE {' AND '.join(conditions)} "
                                    "ORDER BY seq", parameters)
        return [StoredStatement(*row) for row in rows]

    @_driver_errors
    def statement(self, statement_hash: str) -> StoredStatement | None:
        row = self._one(f"SELECT {STATEMENT_COLUMNS} FROM statements WHERE hash = ?", [statement_hash])
        return StoredStatement(*row) if row else None

    @_driver_errors
    def trust_root(self) -> str | None:
        row = self._one("SELECT body FROM trust_roots ORDER BY version DESC LIMIT 1")
        return row[0] if row else None

    @_driver_errors
    def add_trust_root(self, version: int, body: str) -> None:
        with self.transaction():
            self._run("INSERT INTO trust_roots (version, body, installed_at) VALUES (?, ?, ?)", [version, body, utc_now()])

    @_driver_errors
    def add_bundle(self, scope: str, as_of: str, body: str) -> None:
        with self.transaction():
            self._run("INSERT OR REPLACE INTO bundles (scope, as_of, body) VALUES (?, ?, ?)", [scope, as_of, body])
            self._run("DELETE FROM bundles WHERE scope = ? AND as_of < ?", [scope, as_of])

    @_driver_errors
    def bundle(self, scope: str) -> str | None:
        row = self._one("SELECT body FROM bundles WHERE scope = ? ORDER BY as_of DESC LIMIT 1", [scope])
        return row[0] if row else None

    @_driver_errors
    def mark_published(self, hub: str, items: Sequence[str]) -> None:
        now = utc_now()
        with self.transaction():
            self.db.conn.executemany("INSERT OR IGNORE INTO publications (hub, item, sent_at) VALUES (?, ?, ?)",
                                     [(hub, item, now) for item in items])

    @_driver_errors
    def published(self, hub: str) -> set[str]:
        return {row[0] for row in self.db.conn.execute("SELECT item FROM publications WHERE hub = ?", [hub])}

    @_driver_errors
    def day_key(self, day: str, make: Callable[[], bytes]) -> bytes:
        found = self._stored_key(day)
        if found is None:
            with self.transaction():
                self._run("INSERT INTO scan_keys (day, secret) SELECT ?1, ?2 WHERE NOT EXISTS "
                          "(SELECT 1 FROM scan_keys WHERE day >= ?1)", [day, make()])
                self._run("DELETE FROM scan_keys WHERE day < (SELECT max(day) FROM scan_keys)")
            found = self._stored_key(day) or self._stored_key(None)
        assert found is not None
        return found

    def _stored_key(self, day: str | None) -> bytes | None:
        """The stored key of *day* (None: the newest), if there is one."""
        where = "WHERE day = ?" if day else "ORDER BY day DESC LIMIT 1"
        row = self._one(f"SELECT secret FROM scan_keys {where}", [day] if day else [])
        return bytes(row[0]) if row else None

    @_driver_errors
    def known_unit(self, digest_prefix: str, serial: int, day: str, source: str) -> KnownUnit:
        places, first, this_place = self.db.conn.execute(_KNOWN, [digest_prefix, serial, day, source]).fetchone()
        return KnownUnit(int(places or 0), first, bool(this_place))

    def scan_reads(self, digest_prefix: str, serial: int, day: str, source: str) -> tuple[Hashable, KnownUnit]:
        return self.change_mark(), self.known_unit(digest_prefix, serial, day, source)  # both in-process: no need to join

    @_driver_errors
    def record_scans(self, scans: Sequence[Scan], visits: Sequence[Visit]) -> None:
        """The triggers keep the per-unit counts; one statement per 100 rows rather than one per row (a flush of 300
        scans takes about as long as the insert alone took row by row). A place another worker wrote first is
        ignored (its trigger does not fire)."""
        with self.transaction():
            self._insert("INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted) VALUES ", scans)
            self._insert("INSERT OR IGNORE INTO unit_sources (digest_prefix, serial, day, source, first_seen_at) VALUES ",
                         visits)

    def _insert(self, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start:start + INSERT_ROWS]
            placeholders = "(" + ", ".join("?" * len(chunk[0])) + ")"
            self._run(statement + ", ".join([placeholders] * len(chunk)), [value for row in chunk for value in row])

    @_driver_errors
    def unit_counts(self, digest_prefix: str) -> list[UnitCount]:
        rows = self.db.conn.execute("SELECT serial, scans, sources, first_scanned_at FROM scan_counts "
                                    "WHERE digest_prefix = ? ORDER BY serial", [digest_prefix])
        return [UnitCount(int(serial), int(scans), int(places), first) for serial, scans, places, first in rows]

    @_driver_errors
    def clear_counts(self, digest_prefix: str, first: int, last: int) -> int:
        unit = "digest_prefix = ? AND serial BETWEEN ? AND ?"
        values = [digest_prefix, first, last]
        with self.transaction():
            cleared = self._run(f"DELETE FROM scan_counts WHERE {unit}", values)
            self._run(f"DELETE FROM unit_sources WHERE {unit}", values)
            self._run(f"UPDATE scans SET counted = 0 WHERE counted = 1 AND {unit}", values)
        return cleared

    def make_room_for_scans(self, day: str) -> None:
        return None  # one table holds every month

    @_driver_errors
    def prune_scans(self, before: str) -> int:
        """In short transactions of 10,000 rows; old rows come first in the log's order, so each chunk is found at once."""
        deleted = 0
        while True:
            with self.transaction():
                count = self._run("DELETE FROM scans WHERE id IN (SELECT id FROM scans WHERE scanned_at < ? LIMIT ?)",
                                  [before, PRUNE_CHUNK_ROWS])
            deleted += count
            if count < PRUNE_CHUNK_ROWS:
                return deleted

    @_driver_errors
    def forget_places_before(self, day: str) -> int:
        with self.transaction():
            return self._run("DELETE FROM unit_sources WHERE day < ?", [day])

    # whole tables ------------------------------------------------------------------
    @_driver_errors
    def table_columns(self, table: str) -> list[str]:
        return [column.name for column in self.db.table(_known_table(table)).columns]

    @_driver_errors
    def table_count(self, table: str) -> int:
        return int(self._one(f"SELECT count(*) FROM [{_known_table(table)}]")[0])  # type: ignore[index]

    def read_table(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        try:
            cursor = self.db.conn.execute(f"SELECT {', '.join(columns)} FROM [{_known_table(table)}]")  # one cursor: chunks never overlap
            while chunk := cursor.fetchmany(READ_CHUNK_ROWS):
                yield [tuple(row) for row in chunk]
        except sqlite3.Error as error:
            raise database_problem(error) from None

    @_driver_errors
    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], *,
                  replace: bool = False) -> int:
        """The count triggers are off while copied scans and places load (dropped and made again in the same
        transaction): the copied counts are the source's, which a pruned log could not recompute."""
        statement = (f"INSERT INTO [{_known_table(table)}] ({', '.join(columns)}) "
                     f"VALUES ({', '.join('?' * len(columns))}) {_on_conflict(table, columns, replace)}")
        with self.transaction():
            triggers = [] if table not in COUNTING_TABLES else self.db.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [table]).fetchall()
            for name, _ in triggers:
                self._run(f"DROP TRIGGER [{name}]")
            loaded = int(self.db.conn.executemany(statement, list(rows)).rowcount)
            for _, sql in triggers:
                self._run(sql)
            return loaded


def _on_conflict(table: str, columns: Sequence[str], replace: bool) -> str:
    """Skip a row whose key is here; with *replace*, overwrite it where a value differs."""
    if not replace:
        return "ON CONFLICT DO NOTHING"
    keys = CHANGING_TABLES[table]
    changed = [column for column in columns if column not in keys]
    return (f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in changed)} "
            f"WHERE NOT ({' AND '.join(f'{c} IS excluded.{c}' for c in changed)})")


def _known_table(table: str) -> str:
    if table not in TABLES:
        raise StampError(f"There is no table {table!r} in an ocop-stamps store.")
    return table


PRUNE_CHUNK_ROWS = 10_000
COUNTING_TABLES = ("scans", "unit_sources")  # whose triggers keep scan_counts

_BATCH_STATE = """
SELECT b.digest, b.signature, b.origin,
       (SELECT COALESCE(MAX(last_serial), 0) FROM serial_ranges WHERE batch_digest = b.digest),
       r.kind, r.reason, r.recalled_on
FROM batches b LEFT JOIN recalls r ON r.batch_digest = b.digest
WHERE b.digest_prefix = ?
"""

_KNOWN = """
SELECT c.sources, c.first_scanned_at,
       EXISTS (SELECT 1 FROM unit_sources WHERE digest_prefix = ?1 AND serial = ?2 AND day = ?3 AND source = ?4)
FROM (SELECT 1) LEFT JOIN scan_counts c ON c.digest_prefix = ?1 AND c.serial = ?2
"""

def _check_ours(path: Path) -> None:
    """Refuse a file that is not an ocop-stamps database, having only read it, and only through SQLite.

    Never with a file handle of our own: POSIX locks belong to the process and the file, not to a handle, so closing
    any handle on the database drops the locks every SQLite connection of this process holds on it, and another
    process could then take the WAL file away from under them (SQLite's own connections share their locks safely).
    """
    if path.stat().st_size == 0:
        raise _not_ours(path, "is empty (0 bytes)")
    try:
        probe = _connect_read_only(path)
    except sqlite3.DatabaseError:
        raise _not_ours(path, "is not an SQLite database") from None
    try:
        if not _is_ours(probe):
            raise _not_ours(path, "is another program's SQLite database")
    except sqlite3.DatabaseError:
        raise _not_ours(path, "is not an SQLite database") from None
    finally:
        probe.close()


def _is_ours(connection: sqlite3.Connection) -> bool:
    """Marked as ours, or made before the mark existed: our settings table holding a base URL."""
    application_id = int(connection.execute("PRAGMA application_id").fetchone()[0])
    if application_id:
        return application_id == APPLICATION_ID
    try:
        return connection.execute("SELECT 1 FROM settings WHERE name = 'base_url'").fetchone() is not None
    except sqlite3.OperationalError:  # no such table or column: not our settings table
        return False


def _not_ours(path: Path, what: str) -> InstanceError:
    return InstanceError(f"{path} {what}, not an ocop-stamps database; it was left as it is.",
                         hint="Check that --instance (or $OCOP_STAMPS_HOME) names your instance folder, "
                              "or restore the file from a backup.")


def _connect(path: Path) -> sqlite3.Connection:
    """A read-write connection in WAL mode, marked as ours, schema in place, waiting up to 30 s for other writers."""
    connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)
    if int(connection.execute("PRAGMA application_id").fetchone()[0]) != APPLICATION_ID:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")  # a new file, or one from before the mark
    Database(connection, execute_plugins=False).enable_wal()
    connection.execute("PRAGMA foreign_keys = ON")
    connection.executescript(_SCHEMA)
    _migrate(connection)
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations this database lacks, all in one write transaction (concurrent openers queue, then skip)."""
    if _user_version(connection) >= SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = _user_version(connection)  # another process may have migrated while we waited for the lock
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for step in _MIGRATIONS[number - 1]:
                if isinstance(step, AddColumn):
                    step.apply(connection)
                else:
                    connection.execute(step)
            connection.execute(f"PRAGMA user_version = {number:d}")
    except BaseException:
        connection.rollback()
        raise
    connection.commit()


def _user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes, so an inspector can read an instance on read-only media."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return connection
    except sqlite3.OperationalError:
        # A WAL database in a folder we cannot write to: read it as an unchanging file.
        return sqlite3.connect(uri + "&immutable=1", uri=True)


