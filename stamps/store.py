"""The embedded store: SQLite through sqlite-utils, WAL mode, one transaction per change.

Tables: settings, producers, farm_areas, products, batches (signed records),
serial_ranges (issued serials), range_writes (where and whether each range's
files were written), recalls, trusted_keys (the trust store), scans (the
verifier's scan log), unit_sources and scan_keys (which places scanned which
unit today, under today's key) and scan_counts (each unit's counted scans,
distinct places and first scan, kept by triggers in the statements that insert
scans and places; see stamps/scanlog.py).
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
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

from sqlite_utils import Database

from stamps.errors import InstanceError, NotFoundError

class RecordTable(NamedTuple):
    """How people call a row of a record table, and the CLI group that lists and edits them."""

    label: str
    command: str


RECORD_TABLES = {"producers": RecordTable("producer", "producer"), "farm_areas": RecordTable("farm area", "farm"),
                 "products": RecordTable("product", "product")}
RecordChange = tuple[dict[str, Any], dict[str, Any]]  # a record row's new columns, and its new data

BUSY_TIMEOUT_SECONDS = 30
APPLICATION_ID = 0x4F435053  # "OCPS" in the SQLite header: this file is an ocop-stamps database
SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_HEADER_BYTES = 100
MAX_RECORD_ID = 2**63 - 1

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
)
SCHEMA_VERSION = len(_MIGRATIONS)


def utc_now() -> str:
    """The current UTC time, to the second, as ISO 8601 with a Z (formatted once a second: a verifier asks per scan)."""
    global _last_utc_now
    second = int(time.time())
    last = _last_utc_now  # one tuple, swapped whole: threads never see a second with another second's text
    if last[0] != second:
        last = _last_utc_now = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return last[1]


_last_utc_now: tuple[int, str] = (-1, "")


class Store:
    """A handle on one instance database."""

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

    def close(self) -> None:
        self.db.close()

    def change_mark(self) -> tuple[int, int]:
        """A value that moves whenever the database may have changed since it was last taken.

        SQLite's ``data_version`` moves when another connection (the CLI, another
        worker, the scan-log writer) commits; ``total_changes`` when this one
        writes. A long-running reader caches what it read under this mark and
        reads again only when it moved: one cheap pragma instead of the queries.
        """
        return int(self.db.conn.execute("PRAGMA data_version").fetchone()[0]), self.db.conn.total_changes

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so concurrent writers queue, not interleave."""
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.conn.rollback()
            raise
        self.db.conn.commit()

    # settings -----------------------------------------------------------
    def setting(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
        return row[0] if row else None

    def set_setting(self, name: str, value: str) -> None:
        with self.write() as db:
            db.table("settings").upsert({"name": name, "value": value}, pk="name")

    # records ------------------------------------------------------------
    def add_record(self, table: str, values: dict[str, Any], data: dict[str, Any]) -> int:
        """Insert one record row; returns its id."""
        row = {**values, "data": _record_json(data), "created_at": utc_now()}
        with self.write() as db:
            return int(str(db.table(table).insert(row).last_pk))

    def edit_record(self, table: str, record_id: int, rewrite: Callable[[dict[str, Any]], RecordChange]) -> None:
        """Rewrite one record row in one transaction: *rewrite* gets its stored data and gives the new columns and data."""
        with self.write() as db:
            values, data = rewrite(self.record_row(table, record_id)["data"])
            db.table(table).update(record_id, {**values, "data": _record_json(data)})

    def record_row(self, table: str, record_id: int) -> dict[str, Any]:
        """One row by id, with ``data`` decoded; NotFoundError if absent."""
        in_range = 1 <= record_id <= MAX_RECORD_ID
        rows = list(self.db.table(table).rows_where("id = ?", [record_id])) if in_range else []
        if not rows:
            label, command = RECORD_TABLES[table]
            raise NotFoundError(f"There is no {label} with id {record_id}.", hint=f"List them with 'ocop-stamps {command} list'.")
        return _decoded(rows[0])

    def record_rows(self, table: str) -> list[dict[str, Any]]:
        return [_decoded(row) for row in self.db.table(table).rows_where(order_by="id", select="*")]


def _check_ours(path: Path) -> None:
    """Refuse a file that is not an ocop-stamps database, having only read it."""
    with path.open("rb") as handle:
        header = handle.read(SQLITE_HEADER_BYTES)
    if not header:
        raise _not_ours(path, "is empty (0 bytes)")
    if not header.startswith(SQLITE_HEADER) or len(header) < SQLITE_HEADER_BYTES:
        raise _not_ours(path, "is not an SQLite database")
    marked = int.from_bytes(header[68:72], "big")  # the application_id field of the database header
    if marked == APPLICATION_ID:
        return
    if marked:
        raise _not_ours(path, "is another program's SQLite database")
    probe = _connect_read_only(path)  # unmarked: from before the mark (or marked since, in the WAL), or not ours
    try:
        if not _is_ours(probe):
            raise _not_ours(path, "is another program's SQLite database")
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


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "data": json.loads(row["data"])}


def _record_json(data: dict[str, Any]) -> str:
    """A record's data as the ``data`` column keeps it."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
