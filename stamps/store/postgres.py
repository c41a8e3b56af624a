"""The server engine: PostgreSQL through psycopg 3, for verifiers on several machines sharing one database.

Same tables and columns as :mod:`stamps.store.sqlite` (see its docstring for
what each holds), in the current schema of the URL's connection (its
``search_path``), plus two of this engine's own: ``schema_migrations`` (the
applied migrations) and ``changes`` (one row whose version moves on every
commit that touches settings, batches, serial ranges, recalls or trusted keys;
:meth:`PostgresStore.change_mark` reads it).

How it differs from the embedded engine, and why:

* **Connections.** One :class:`psycopg_pool.ConnectionPool` per process and
  URL, made on first use in that process: a gunicorn worker forks from a master
  that may have used the store, and a connection must never be shared across a
  fork. Connections are in autocommit mode, so a read is one round trip; a
  write runs in :meth:`PostgresStore.transaction`, which pins one pooled
  connection to the store object until it commits.
* **Serials.** An allocation locks its batch's row (``SELECT ... FOR UPDATE``),
  then reads what was issued in a new statement, which sees every allocation
  committed before the lock was granted: gap-free and never doubled, whatever
  the number of processes and machines.
* **Scan log.** ``scans`` is partitioned by month of ``scanned_at`` (ISO text,
  so the bounds are text too: ``'2026-12'`` to ``'2027-01'``); retention drops
  whole months. There are no count triggers: :meth:`PostgresStore.record_scans`
  keeps ``scan_counts`` by UPSERT in the statement that appends the scans.
* **Change mark.** SQLite's ``data_version`` has no equivalent across machines,
  so a trigger bumps the ``changes`` row in every transaction that changes what
  a verifier caches; the bump runs at commit (a deferred trigger), so it never
  holds a lock while the transaction does anything else.

Every driver error is turned into :class:`~stamps.errors.StoreError` (or
:class:`~stamps.errors.StoreUnavailable`) before it leaves this module, and no
message names the password.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import datetime as dt
import itertools
import logging
import os
import re
import threading
from typing import Any, Callable, Concatenate, Iterable, Iterator, NamedTuple, ParamSpec, Sequence, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from keys.keyring import TrustedKey
from stamps.batch_record import SignedBatchRecord
from stamps.code import SerialRange
from stamps.errors import InstanceError, StampError, StoreError, StoreUnavailable
from stamps.scans import KnownUnit, Scan, UnitCount, Visit
from stamps.trust.envelope import StoredStatement
from stamps.store.common import (MAX_RECORD_ID, TRUSTED_KEY_COLUMNS, already_stored, batch_row, batch_state, decoded,
                                 missing_record, record_json, STATEMENT_COLUMNS, trusted_key, trusted_key_values, utc_now)
from stamps.store.interface import CHANGING_TABLES, TABLES, BatchState, RecordChange, SerialAllowance, UnwrittenRange

Connection = psycopg.Connection[TupleRow]
Query = str | sql.SQL | sql.Composed  # a statement: text, or composed with quoted names

CONNECT_TIMEOUT_SECONDS = 10  # a wrong address or a server that is down fails within this
POOL_TIMEOUT_SECONDS = 5.0  # the longest a call waits for a pooled connection (a verifier's request waits no longer)
POOL_MIN_SIZE = 1  # a sync gunicorn worker needs two at most (its request and its scan-log flush)
POOL_MAX_SIZE = 8
DDL_LOCK_TIMEOUT = "10s"  # making or dropping a month of the scan log waits no longer for the table
READ_CHUNK_ROWS = 5_000
_cursor_numbers = itertools.count(1)  # server-side cursors' names, unique on a connection
MINIMUM_SERVER_VERSION = 120000  # PostgreSQL 12

_CONNECTION_LOST = ("08", "57P01", "57P02", "57P03")  # SQLSTATE classes and codes of a connection that is gone
_BUSY = ("40001", "40P01", "55P03", "57014")  # serialization failure, deadlock, lock not available, cancelled

# ---------------------------------------------------------------------------------------------------------------------
# The schema. The embedded engine reached its current schema in three migrations (SQLite's user_version 1..3); this
# engine starts there, so one number names the same tables on both: migration 3 makes them all, and a later change
# is migration 4 on both engines. Never edit a released migration, add one.

_TABLES_DDL = (
    'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
    'CREATE TABLE changes (one_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (one_row), version BIGINT NOT NULL, '
    'changed_by BIGINT)',
    'INSERT INTO changes (version) VALUES (0)',
    'CREATE TABLE settings (name TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)',
    'CREATE TABLE producers (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL, '
    'data TEXT NOT NULL, created_at TEXT NOT NULL)',
    'CREATE TABLE farm_areas (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
    'producer_id BIGINT NOT NULL REFERENCES producers(id), name TEXT NOT NULL, data TEXT NOT NULL, '
    'created_at TEXT NOT NULL)',
    'CREATE TABLE products (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
    'producer_id BIGINT NOT NULL REFERENCES producers(id), name TEXT NOT NULL, data TEXT NOT NULL, image BYTEA, '
    'image_type TEXT, created_at TEXT NOT NULL)',
    "CREATE INDEX products_image_sha256 ON products (((data::jsonb) ->> 'image_sha256')) WHERE image IS NOT NULL",
    'CREATE TABLE batches (digest TEXT COLLATE "C" PRIMARY KEY, digest_prefix TEXT COLLATE "C" NOT NULL UNIQUE, '
    'lot_code TEXT NOT NULL, product_name TEXT NOT NULL, key_id TEXT NOT NULL, quantity BIGINT NOT NULL, '
    'record TEXT NOT NULL, signature TEXT NOT NULL, origin TEXT NOT NULL, created_at TEXT COLLATE "C" NOT NULL)',
    'CREATE INDEX batches_lot_code ON batches (lot_code)',
    'CREATE TABLE serial_ranges (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
    'batch_digest TEXT COLLATE "C" NOT NULL REFERENCES batches(digest), first_serial BIGINT NOT NULL, '
    'last_serial BIGINT NOT NULL, issued_at TEXT NOT NULL, CHECK (first_serial >= 1 AND last_serial >= first_serial))',
    'CREATE INDEX serial_ranges_batch ON serial_ranges (batch_digest, last_serial)',
    'CREATE TABLE range_writes (range_id BIGINT PRIMARY KEY REFERENCES serial_ranges(id), staging TEXT, '
    'written_at TEXT)',
    'CREATE TABLE recalls (batch_digest TEXT COLLATE "C" PRIMARY KEY REFERENCES batches(digest), kind TEXT NOT NULL, '
    'reason TEXT NOT NULL, recalled_on TEXT NOT NULL, recorded_at TEXT NOT NULL)',
    'CREATE TABLE trusted_keys (key_id TEXT COLLATE "C" PRIMARY KEY, public_key TEXT NOT NULL UNIQUE, '
    "label TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')), reason TEXT, "
    'added_at TEXT COLLATE "C" NOT NULL, updated_at TEXT NOT NULL)',
    # The log: one partition a month (made as scans arrive), a primary key with the partition key in it (so a copy
    # can skip rows already there), and a BRIN index on the time, a few pages per month, so pruning part of a month
    # reads only the old pages; the index costs the appends next to nothing (the SQLite engine dropped its index on
    # the log because each scan paid for it).
    'CREATE TABLE scans (id BIGINT GENERATED BY DEFAULT AS IDENTITY, digest_prefix TEXT COLLATE "C" NOT NULL, '
    'serial INTEGER NOT NULL, scanned_at TEXT COLLATE "C" NOT NULL, result TEXT NOT NULL, client TEXT NOT NULL, '
    'counted SMALLINT NOT NULL CHECK (counted IN (0, 1)), PRIMARY KEY (id, scanned_at)) PARTITION BY RANGE (scanned_at)',
    'CREATE INDEX scans_scanned_at ON scans USING brin (scanned_at)',
    'CREATE TABLE scan_counts (digest_prefix TEXT COLLATE "C" NOT NULL, serial INTEGER NOT NULL, '
    'scans BIGINT NOT NULL, first_scanned_at TEXT COLLATE "C" NOT NULL, sources BIGINT NOT NULL DEFAULT 0, '
    'PRIMARY KEY (digest_prefix, serial))',
    'CREATE TABLE unit_sources (digest_prefix TEXT COLLATE "C" NOT NULL, serial INTEGER NOT NULL, '
    'day TEXT COLLATE "C" NOT NULL, source TEXT COLLATE "C" NOT NULL, first_seen_at TEXT COLLATE "C" NOT NULL, '
    'PRIMARY KEY (digest_prefix, serial, day, source))',
    'CREATE TABLE scan_keys (day TEXT COLLATE "C" PRIMARY KEY, secret BYTEA NOT NULL)',
)
# Serials are at most 16,777,215 (three bytes of the stamp), so INTEGER holds them in the big scan tables.

_TRIGGERS_DDL = (
    # As the SQLite triggers do: every row changed in trusted_keys moves trust_generation by one.
    """CREATE FUNCTION ocop_trust_generation() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
       BEGIN
           INSERT INTO settings (name, value) VALUES ('trust_generation', '1')
           ON CONFLICT (name) DO UPDATE SET value = (settings.value::bigint + 1)::text;
           RETURN NULL;
       END $$""",
    """CREATE TRIGGER trusted_keys_generation AFTER INSERT OR UPDATE OR DELETE ON trusted_keys
       FOR EACH ROW EXECUTE FUNCTION ocop_trust_generation()""",
    # The change mark: once per transaction, at its commit (deferred), so the one row is locked only while the
    # transaction commits, and two transactions never wait for each other through it.
    """CREATE FUNCTION ocop_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
       BEGIN
           UPDATE changes SET version = version + 1, changed_by = txid_current()
           WHERE changed_by IS DISTINCT FROM txid_current();
           RETURN NULL;
       END $$""",
) + tuple(f"""CREATE CONSTRAINT TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ocop_changed()"""
          for table in ("settings", "batches", "serial_ranges", "recalls", "trusted_keys"))


class Migration(NamedTuple):
    """The statements that bring the schema to version *number*, run in one transaction."""

    number: int
    statements: tuple[str, ...]


# 4: the trust chain, as SQLite's migration 4. A statement's seq is taken under a lock held to commit
# (add_statements), so seq order is commit order: a reader that has seen seq N never later finds a smaller one.
_STATEMENTS_DDL = (
    'CREATE TABLE statements (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, hash TEXT COLLATE "C" NOT NULL '
    'UNIQUE, kind TEXT COLLATE "C" NOT NULL, signer TEXT COLLATE "C" NOT NULL, subject TEXT COLLATE "C" NOT NULL, '
    'version BIGINT NOT NULL, body TEXT NOT NULL, accepted_at TEXT NOT NULL)',
    'CREATE INDEX statements_subject ON statements (subject, kind)',
    'CREATE TABLE publications (hub TEXT COLLATE "C" NOT NULL, item TEXT COLLATE "C" NOT NULL, sent_at TEXT NOT NULL, '
    'PRIMARY KEY (hub, item))',
    'CREATE TABLE trust_roots (version BIGINT PRIMARY KEY, body TEXT NOT NULL, installed_at TEXT NOT NULL)',
    'CREATE TABLE bundles (scope TEXT COLLATE "C" NOT NULL, as_of TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL, '
    'PRIMARY KEY (scope, as_of))',
    """CREATE CONSTRAINT TRIGGER statements_changed AFTER INSERT OR UPDATE OR DELETE ON statements
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ocop_changed()""",
    # As SQLite's: a kept endorsement or revocation, and the trust root, move trust_generation.
    """CREATE TRIGGER statements_trust AFTER INSERT ON statements FOR EACH ROW
       WHEN (NEW.kind IN ('endorsement', 'revocation')) EXECUTE FUNCTION ocop_trust_generation()""",
    """CREATE TRIGGER trust_roots_generation AFTER INSERT ON trust_roots FOR EACH ROW
       EXECUTE FUNCTION ocop_trust_generation()""",
    """CREATE CONSTRAINT TRIGGER trust_roots_changed AFTER INSERT OR UPDATE OR DELETE ON trust_roots
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ocop_changed()""",
)

_MIGRATIONS = (Migration(3, _TABLES_DDL + _TRIGGERS_DDL), Migration(4, _STATEMENTS_DDL))
SCHEMA_VERSION = _MIGRATIONS[-1].number

# Each table's primary key: the order a copy reads it in.
_KEYS = {"settings": ("name",), "producers": ("id",), "farm_areas": ("id",), "products": ("id",),
         "batches": ("digest",), "serial_ranges": ("id",), "range_writes": ("range_id",), "recalls": ("batch_digest",),
         "trusted_keys": ("key_id",), "scans": ("id", "scanned_at"), "scan_counts": ("digest_prefix", "serial"),
         "unit_sources": ("digest_prefix", "serial", "day", "source"), "scan_keys": ("day",), "statements": ("seq",),
         "publications": ("hub", "item"), "trust_roots": ("version",),
         "bundles": ("scope", "as_of")}
_IDENTITY_TABLES = frozenset({"producers", "farm_areas", "products", "serial_ranges", "scans", "statements"})
assert set(_KEYS) == set(TABLES)

# ---------------------------------------------------------------------------------------------------------------------
# What a process keeps per database URL: its pool (never used across a fork), and what it learned of the schema.


class _Process:
    """The pools this process opened, by URL, and the schema facts it learned (which stay true in a forked child)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.pools: dict[str, ConnectionPool[Connection]] = {}
        self.schema_versions: dict[str, int] = {}  # URL -> the version this process found or made
        self.months: dict[str, set[str]] = {}  # URL -> months of the scan log known to have a partition


_process = _Process()
_inherited: list[_Process] = []  # a parent's pools, kept (never used, never closed) so a child does not finalize them


def _here() -> _Process:
    """This process's registry; in a forked child, a new one that keeps what the parent learned, but not its pools."""
    global _process
    if _process.pid != os.getpid():
        parent, _process = _process, _Process()
        _inherited.append(parent)
        _process.schema_versions = dict(parent.schema_versions)
        _process.months = {url: set(months) for url, months in parent.months.items()}
    return _process


def _pool(url: str) -> ConnectionPool[Connection]:
    """This process's pool for *url*, opened on first use (its connections are made in the background)."""
    here = _here()
    with here.lock:
        pool = here.pools.get(url)
        if pool is None:
            pool = here.pools[url] = ConnectionPool(
                url, kwargs=_connect_options(url), min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE,
                timeout=POOL_TIMEOUT_SECONDS, configure=_configure, name="ocop-stamps", open=True)
            # No check= on checkout: it would cost every call a second round trip. A read on a connection the
            # server dropped is retried once instead (_rows).
        return pool


def close_pools() -> None:
    """Close this process's pools and forget what it learned of its databases (tests; at exit)."""
    here = _here()
    with here.lock:
        pools = list(here.pools.values())
        here.pools.clear()
        here.schema_versions.clear()
        here.months.clear()
    for pool in pools:
        pool.close()


atexit.register(close_pools)
# The pool reports each failed attempt itself, several lines a time; the errors that matter reach the user as one line
# through StoreError. Its records still go to the handlers a server configures (the root logger's).
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_here)  # a new registry before the child runs a second thread


def _connect_options(url: str) -> dict[str, Any]:
    """Autocommit, and a connect timeout and application name unless the URL (or the environment) gives them."""
    given = psycopg.conninfo.conninfo_to_dict(url)
    options: dict[str, Any] = {"autocommit": True}
    if "connect_timeout" not in given and "PGCONNECT_TIMEOUT" not in os.environ:
        options["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in given and "PGAPPNAME" not in os.environ:
        options["application_name"] = "ocop-stamps"
    return options


def _configure(connection: Connection) -> None:
    """Every pooled connection runs its transactions in READ COMMITTED, whatever the server's default: the locks
    the writes take rely on each statement seeing what committed before it."""
    connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED


# ---------------------------------------------------------------------------------------------------------------------
# Errors: one line, with the likely fix, and never the password.

P = ParamSpec("P")
R = TypeVar("R")


def _driver_errors(method: Callable[Concatenate[PostgresStore, P], R]) -> Callable[Concatenate[PostgresStore, P], R]:
    """Turn psycopg's errors into StoreError (one line, with the likely fix) before they leave the store."""
    @functools.wraps(method)
    def wrapped(self: PostgresStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as error:
            raise database_problem(error, self.where, self._password) from None
    return wrapped


def database_problem(error: psycopg.Error, where: str, password: str = "") -> StoreError:
    """The ways PostgreSQL (or the pool) refuses, as one line each with the likely fix."""
    reason = _reason(error, password)
    state = error.sqlstate or ""
    if isinstance(error, PoolTimeout):
        return StoreUnavailable(f"No connection to the PostgreSQL database at {where} within {POOL_TIMEOUT_SECONDS:g} s "
                                "(the server is down, or every connection is busy).",
                                hint="Check that the server runs, then try again.")
    if (isinstance(error, psycopg.OperationalError) and not state) or state.startswith(_CONNECTION_LOST):
        return _unreachable(where, reason)
    if state == "25006":
        return StoreError(f"The PostgreSQL database at {where} takes no changes here ({reason}).",
                          hint="Give the primary server's URL, or open the store for writing.")
    if state == "42501":
        return StoreError(f"The database user may not do this at {where} ({reason}).",
                          hint="Grant the user rights on the schema, or use the URL of its owner.")
    if state in _BUSY:
        return StoreError(f"The database is busy ({reason}); wait a moment and try again.")
    if state.startswith("53"):
        return StoreError(f"The database server at {where} is out of resources ({reason}).",
                          hint="Free disk space or raise its limits, then try again.")
    if state in ("42P01", "42703", "42883"):
        return StoreError(f"The database at {where} lacks part of the ocop-stamps schema ({reason}).",
                          hint="Run 'ocop-stamps --database URL db migrate'.")
    return StoreError(f"The PostgreSQL database at {where} could not be used ({reason}).")


def _unreachable(where: str, reason: str) -> StoreUnavailable:
    return StoreUnavailable(f"Cannot reach the PostgreSQL database at {where}: {reason}.",
                            hint="Check --database / $OCOP_STAMPS_DATABASE and that the server runs.")


_CONNECT_NOISE = re.compile(r'^(connection failed: )?(connection to server (at|on) .*? failed: )?(FATAL: +)?')


def _reason(error: psycopg.Error, password: str) -> str:
    """The driver's own words, on one line, without the password."""
    text = (error.diag.message_primary if error.sqlstate else None) or str(error) or type(error).__name__
    text = " ".join(_CONNECT_NOISE.sub("", text.strip().splitlines()[0]).split()).rstrip(".")
    return text.replace(password, "***") if password else text


class _Address(NamedTuple):
    """A URL as it may be shown (without its password), where it points (host/database) and the password."""

    location: str
    where: str
    password: str


@functools.lru_cache(maxsize=64)
def _address(url: str) -> _Address:
    """Split what may be shown of *url* from its password; a URL the driver cannot read is unavailable."""
    try:
        given = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:  # the driver's words would quote the URL, password and all
        raise StoreUnavailable("The database URL cannot be read.",
                               hint="Give it as postgresql://user:password@host/database, with characters such as "
                                    "spaces, @ or / in the password written as %20, %40, %2F.") from None
    host = str(given.get("host") or "localhost")
    port = f":{given['port']}" if given.get("port") else ""
    where = f"{host}{port}/{given.get('dbname') or given.get('user') or os.environ.get('USER', '')}"
    password = str(given.get("password") or "")
    if password in (given.get("user"), given.get("dbname"), given.get("host")):
        password = ""  # a password equal to a name the message shows anyway: hiding it would hide the name
    return _Address(_without_password(url), where, password)


def _without_password(url: str) -> str:
    """*url* without the password in its user part or its query."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, hosts = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}@{hosts}"
    query = urlencode([(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
                       if name != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# ---------------------------------------------------------------------------------------------------------------------
# The schema, checked (and made or migrated) once per process and URL.


def _prepare(url: str, address: _Address, *, create: bool, read_only: bool) -> None:
    """Check that the database holds our schema, making it (*create*) or migrating it (unless *read_only*).

    The first contact is a connection of its own, not the pool's: its error says why the server cannot be reached
    (a wrong password, no such database), where the pool would only time out.
    """
    here = _here()
    known = here.schema_versions.get(url, 0)
    if known >= SCHEMA_VERSION or (known and read_only):
        return
    try:
        connection = psycopg.connect(url, **_connect_options(url))
        _configure(connection)  # its recheck after the lock must see what the lock's holder committed
    except psycopg.Error as error:
        raise _unreachable(address.where, _reason(error, address.password)) from None
    try:
        with connection:
            version = _installed_version(connection, address)
            if version is None and (read_only or not create):
                raise _no_schema(address)
            if not read_only and (version or 0) < SCHEMA_VERSION:
                version = _migrate(connection, address)
    except psycopg.Error as error:
        raise database_problem(error, address.where, address.password) from None
    here.schema_versions[url] = version or 0


def _installed_version(connection: Connection, address: _Address) -> int | None:
    """The schema version in the connection's current schema; None when it holds no ocop-stamps schema."""
    if connection.info.server_version < MINIMUM_SERVER_VERSION:
        raise InstanceError(f"The PostgreSQL server at {address.where} is older than version 12.",
                            hint="Use PostgreSQL 12 or newer.")
    schema, ours = _one(connection, "SELECT current_schema(), EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE "
                                    "schemaname = current_schema() AND tablename = 'schema_migrations')")
    if schema is None:
        raise InstanceError(f"The database URL's search_path names no schema that exists in {address.where}.",
                            hint="Create the schema first, or fix options=-csearch_path=... in the URL.")
    if not ours:
        return None
    return int(_one(connection, "SELECT COALESCE(max(version), 0) FROM schema_migrations")[0])


def _migrate(connection: Connection, address: _Address) -> int:
    """Apply the missing migrations in one transaction, under a lock: concurrent openers wait, then find them done."""
    with connection.transaction():
        _advisory_lock(connection, "migrate")
        version = _installed_version(connection, address)  # another process may have migrated while we waited
        if version is None:
            _refuse_foreign_tables(connection, address)
        for migration in _MIGRATIONS:
            if migration.number > (version or 0):
                for statement in migration.statements:
                    connection.execute(statement)
                connection.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)",
                                   [migration.number, utc_now()])
    return SCHEMA_VERSION


def _refuse_foreign_tables(connection: Connection, address: _Address) -> None:
    """Refuse to make our tables in a schema where another program's tables have our tables' names."""
    rows = connection.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                              "AND tablename = ANY(%s) ORDER BY tablename", [list(TABLES)]).fetchall()
    if rows:
        names = ", ".join(str(row[0]) for row in rows)
        raise InstanceError(f"The database at {address.where} has tables named like ours ({names}) but no "
                            "ocop-stamps schema; nothing was changed.",
                            hint="Give a database (or a schema, with options=-csearch_path=...) of its own.")


def _no_schema(address: _Address) -> InstanceError:
    return InstanceError(f"The PostgreSQL database at {address.where} has no ocop-stamps schema.",
                         hint=f"Run 'ocop-stamps --database {address.location} init --base-url URL' to make it.")


def _advisory_lock(connection: Connection, purpose: str) -> None:
    """Take this schema's lock for *purpose* until the transaction ends (other schemas of the database go on)."""
    connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || %s, 0))", [":" + purpose])


def _one(connection: Connection, query: Query, parameters: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row a query always returns."""
    row = connection.execute(query, parameters).fetchone()
    assert row is not None
    return row


# ---------------------------------------------------------------------------------------------------------------------
# The scan log's months.


class _Partition(NamedTuple):
    """A month of the scan log: its table and its bounds (``'2026-12'`` up to, not including, ``'2027-01'``)."""

    name: str
    start: str
    end: str


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_BOUNDS = re.compile(r"FROM \('([^']*)'\) TO \('([^']*)'\)")


def _month(scanned_at: str) -> str:
    """The month (``YYYY-MM``) of an ISO time; a StoreError for text that is not one."""
    month = str(scanned_at)[:7]
    if not _MONTH.match(month):
        raise StoreError(f"A scan time {scanned_at!r} is not an ISO 8601 time; the scan log cannot hold it.")
    return month


def _next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def _partitions(connection: Connection) -> list[_Partition]:
    """The scan log's partitions, oldest first, as the catalog has them."""
    rows = connection.execute("SELECT c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_inherits i "
                              "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'scans'::regclass")
    found = []
    for name, bound in rows:
        match = _BOUNDS.search(bound or "")
        if match:
            found.append(_Partition(str(name), match.group(1), match.group(2)))
    return sorted(found, key=lambda partition: partition.start)


# ---------------------------------------------------------------------------------------------------------------------


class PostgresStore:
    """One instance's PostgreSQL database (the schema its URL's search_path selects). See
    :class:`stamps.store.interface.Store`.

    Cheap to make: the schema is checked once per process and URL, and the pool is shared by every store of the
    process with the same URL. A store object holds a connection only inside :meth:`transaction`.
    """

    engine = "postgresql"

    def __init__(self, url: str, *, create: bool = False, read_only: bool = False, durable: bool = True) -> None:
        """Open (or *create*, as a schema in an existing database) the store at *url*.

        ``read_only`` never writes (no migration; a write fails as in a read-only transaction); ``durable=False``
        commits with ``synchronous_commit = off`` (the verifier's scan log: a crash of the server may lose the last
        moments of scans, never corrupt them).
        """
        address = _address(url)
        self._url = url
        self.location = address.location
        self.where = address.where
        self._password = address.password
        self._read_only = read_only
        self._durable = durable
        self._pinned: Connection | None = None
        self._closed = False
        _prepare(url, address, create=create, read_only=read_only)
        if not read_only:
            self.make_room_for_scans(dt.datetime.now(dt.timezone.utc).date().isoformat())

    def close(self) -> None:
        """Forget the store (the process's pool stays open for the next store)."""
        self._closed = True

    # connections and transactions ----------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The pinned connection inside a transaction; otherwise one borrowed from the pool for the block."""
        if self._closed:
            raise StoreError(f"The store of {self.where} was closed; open it again.")
        if self._pinned is not None:
            yield self._pinned
            return
        with _pool(self._url).connection() as connection:
            yield connection

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction on one pinned connection (re-entrant: an inner call joins the outer one)."""
        return _as_none(self._transaction())

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """:meth:`transaction`, giving the pinned connection to the store's own methods."""
        if self._pinned is not None:
            yield self._pinned  # inside an outer transaction: join it
            return
        failed: BaseException | None = None
        try:
            with self._connection() as connection, connection.transaction():
                self._start(connection)
                self._pinned = connection
                try:
                    yield connection
                except BaseException as error:
                    failed = error
                    raise
                finally:
                    self._pinned = None
        except psycopg.Error as error:
            if error is failed:
                raise  # the block's own: its method wraps it (and may first retry)
            raise database_problem(error, self.where, self._password) from None  # BEGIN or COMMIT

    def _start(self, connection: Connection) -> None:
        """What this store's transactions say first: read-only, or commits that skip the flush."""
        if self._read_only:
            connection.execute("SET TRANSACTION READ ONLY")
        elif not self._durable:
            connection.execute("SET LOCAL synchronous_commit = off")

    def _rows(self, query: Query, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[TupleRow]:
        """A read's rows; a connection the server dropped (a restart) is retried once on a checked pool."""
        for attempt in (1, 2):
            connection: Connection | None = None
            try:
                with self._connection() as connection:
                    return connection.execute(query, parameters).fetchall()
            except psycopg.OperationalError:
                if attempt == 2 or self._pinned is not None or connection is None or not connection.broken:
                    raise
                _pool(self._url).check()  # drop every idle connection the restart broke, not just this one
        raise AssertionError("unreachable")

    def _row(self, query: Query, parameters: Sequence[Any] | dict[str, Any] = ()) -> TupleRow | None:
        rows = self._rows(query, parameters)
        return rows[0] if rows else None

    def _value(self, query: Query, parameters: Sequence[Any] = ()) -> Any:
        """The one value a query always returns (a count, a version)."""
        row = self._row(query, parameters)
        assert row is not None
        return row[0]

    @_driver_errors
    def change_mark(self) -> int:
        """The ``changes`` row's version: every commit touching settings, batches, serials, recalls or keys, in any
        process, moves it (one round trip, reading a one-row table)."""
        return int(self._value("SELECT version FROM changes"))

    @_driver_errors
    def schema_version(self) -> int:
        return int(self._value("SELECT COALESCE(max(version), 0) FROM schema_migrations"))

    # settings ------------------------------------------------------------
    @_driver_errors
    def setting(self, name: str) -> str | None:
        row = self._row("SELECT value FROM settings WHERE name = %s", [name])
        return str(row[0]) if row else None

    @_driver_errors
    def set_setting(self, name: str, value: str) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT INTO settings (name, value) VALUES (%s, %s) ON CONFLICT (name) "
                               "DO UPDATE SET value = excluded.value", [name, value])

    # records ------------------------------------------------------------
    @_driver_errors
    def add_record(self, table: str, values: dict[str, Any], data: dict[str, Any]) -> int:
        row = {**values, "data": record_json(data), "created_at": utc_now()}
        statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
            _table(table), sql.SQL(", ").join(map(sql.Identifier, row)), sql.SQL(", ").join(sql.Placeholder() * len(row)))
        with self._transaction() as connection:
            return int(_one(connection, statement, list(row.values()))[0])

    @_driver_errors
    def edit_record(self, table: str, record_id: int, rewrite: Callable[[dict[str, Any]], RecordChange]) -> None:
        """The row is locked first, so two edits of one record queue rather than one losing the other's change."""
        with self._transaction() as connection:
            if 1 <= record_id <= MAX_RECORD_ID:
                connection.execute(sql.SQL("SELECT 1 FROM {} WHERE id = %s FOR UPDATE").format(_table(table)), [record_id])
            values, data = rewrite(self.record_row(table, record_id)["data"])
            row = {**values, "data": record_json(data)}
            assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in row)
            connection.execute(sql.SQL("UPDATE {} SET {} WHERE id = %s").format(_table(table), assignments),
                               [*row.values(), record_id])

    @_driver_errors
    def record_row(self, table: str, record_id: int) -> dict[str, Any]:
        rows = self._dicts(sql.SQL("SELECT * FROM {} WHERE id = %s").format(_table(table)), [record_id]) \
            if 1 <= record_id <= MAX_RECORD_ID else []
        if not rows:
            raise missing_record(table, record_id)
        return decoded(rows[0])

    @_driver_errors
    def record_rows(self, table: str) -> list[dict[str, Any]]:
        return [decoded(row) for row in self._dicts(sql.SQL("SELECT * FROM {} ORDER BY id").format(_table(table)))]

    def _dicts(self, query: Query, parameters: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dictionaries by column name."""
        with self._connection() as connection, connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(query, parameters).fetchall()

    @_driver_errors
    def product_image(self, sha256: str) -> tuple[bytes, str] | None:
        row = self._row("SELECT image, image_type FROM products WHERE image IS NOT NULL "
                        "AND (data::jsonb) ->> 'image_sha256' = %s LIMIT 1", [sha256])
        return (bytes(row[0]), str(row[1])) if row else None

    # batches ---------------------------------------------------------------
    @_driver_errors
    def insert_batch(self, signed: SignedBatchRecord, origin: str) -> None:
        """Inserted unless its digest or prefix is there; a batch another process inserts at the same moment is
        waited for, then found, so the clash is reported whichever commits first."""
        row = batch_row(signed, origin)
        statement = sql.SQL("INSERT INTO batches ({}) VALUES ({}) ON CONFLICT DO NOTHING RETURNING 1").format(
            sql.SQL(", ").join(map(sql.Identifier, row)), sql.SQL(", ").join(sql.Placeholder() * len(row)))
        with self._transaction() as connection:
            if connection.execute(statement, list(row.values())).fetchone() is None:
                clash = _one(connection, "SELECT digest FROM batches WHERE digest_prefix = %s", [row["digest_prefix"]])
                raise already_stored(signed, str(clash[0]))

    @_driver_errors
    def insert_batches(self, records: Sequence[SignedBatchRecord], origin: str) -> None:
        """One statement (unnest of column arrays); a clash with any held batch, or within *records*, is found by the
        count inserted, and the whole transaction is rolled back by the error."""
        rows = [batch_row(signed, origin) for signed in records]
        if not rows:
            return
        names = list(rows[0])
        arrays = [[row[name] for row in rows] for name in names]
        types = ["bigint" if name == "quantity" else "text" for name in names]
        statement = sql.SQL("INSERT INTO batches ({}) SELECT * FROM unnest({}) ON CONFLICT DO NOTHING").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.SQL("{}::{}[]").format(sql.Placeholder(), sql.SQL(kind)) for kind in types))
        with self._transaction() as connection:
            if connection.execute(statement, arrays).rowcount != len(rows):
                held = self.batch_digests([row["digest_prefix"] for row in rows])
                signed = next((signed for signed in records if held.get(signed.digest_prefix.hex()) != signed.digest.hex()),
                              records[0])
                raise already_stored(signed, held.get(signed.digest_prefix.hex(), signed.digest.hex()))

    @_driver_errors
    def batch_digests(self, digest_prefixes: Sequence[str]) -> dict[str, str]:
        rows = self._rows("SELECT digest_prefix, digest FROM batches WHERE digest_prefix = ANY(%s::text[])",
                          [list(digest_prefixes)])
        return {str(prefix): str(digest) for prefix, digest in rows}

    @_driver_errors
    def batch_state(self, digest_prefix: str) -> BatchState | None:
        return batch_state(*self._row(_BATCH_STATE, [digest_prefix]) or [None])

    @_driver_errors
    def batch_record_text(self, digest: str) -> str | None:
        row = self._row("SELECT record FROM batches WHERE digest = %s", [digest])
        return str(row[0]) if row else None

    @_driver_errors
    def batch_prefixes(self, *, digest_start: str | None = None, lot_code: str | None = None) -> list[str]:
        """Digests are lower-case hex: the start is matched in lower case, as SQLite's LIKE ignores case."""
        if digest_start is not None:
            where, values = "digest LIKE %s", [digest_start.lower() + "%"]
        elif lot_code is not None:
            where, values = "lot_code = %s", [lot_code]
        else:
            where, values = "true", []
        rows = self._rows(f"SELECT digest_prefix FROM batches WHERE {where} ORDER BY created_at, digest", values)
        return [str(row[0]) for row in rows]

    @_driver_errors
    def add_recall(self, digest: str, kind: str, reason: str, recalled_on: str) -> str | None:
        with self._transaction() as connection:
            added = connection.execute("INSERT INTO recalls (batch_digest, kind, reason, recalled_on, recorded_at) "
                                       "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (batch_digest) DO NOTHING RETURNING 1",
                                       [digest, kind, reason, recalled_on, utc_now()]).fetchone()
            if added is None:
                return str(_one(connection, "SELECT recalled_on FROM recalls WHERE batch_digest = %s", [digest])[0])
        return None

    # serials -----------------------------------------------------------------
    @_driver_errors
    def allocate_serials(self, digest: str, count: int, staging: str | None,
                         check: Callable[[SerialAllowance], None]) -> SerialRange:
        """The batch's row is locked first (another allocation, or a recall, of the batch waits for this commit);
        what was issued is read after the lock, in a statement of its own, so it includes every earlier commit."""
        with self._transaction() as connection:
            batch = connection.execute("SELECT quantity FROM batches WHERE digest = %s FOR UPDATE", [digest]).fetchone()
            if batch is None:
                raise StampError(f"Batch {digest[:12]} is not in the store.")
            issued, recalled = _one(connection, "SELECT (SELECT COALESCE(max(last_serial), 0) FROM serial_ranges "
                                                "WHERE batch_digest = %s), EXISTS (SELECT 1 FROM recalls WHERE "
                                                "batch_digest = %s)", [digest, digest])
            check(SerialAllowance(int(batch[0]), int(issued), bool(recalled)))
            range_id = _one(connection, "INSERT INTO serial_ranges (batch_digest, first_serial, last_serial, issued_at) "
                                        "VALUES (%s, %s, %s, %s) RETURNING id",
                            [digest, issued + 1, issued + count, utc_now()])[0]
            if staging is not None:
                connection.execute("INSERT INTO range_writes (range_id, staging) VALUES (%s, %s)", [range_id, staging])
        return SerialRange(issued + 1, issued + count)

    @_driver_errors
    def mark_written(self, digest: str, serials: SerialRange) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT INTO range_writes (range_id, written_at) SELECT id, %s FROM serial_ranges "
                               "WHERE batch_digest = %s AND first_serial >= %s AND last_serial <= %s "
                               "ON CONFLICT (range_id) DO UPDATE SET written_at = excluded.written_at "
                               "WHERE range_writes.written_at IS NULL", [utc_now(), digest, serials.first, serials.last])

    @_driver_errors
    def unwritten_ranges(self, digest: str) -> list[UnwrittenRange]:
        rows = self._rows("SELECT s.first_serial, s.last_serial, w.staging FROM serial_ranges s LEFT JOIN range_writes w "
                          "ON w.range_id = s.id WHERE s.batch_digest = %s AND w.written_at IS NULL "
                          "ORDER BY s.first_serial", [digest])
        return [UnwrittenRange(int(first), int(last), staging) for first, last, staging in rows]

    # the trust store -----------------------------------------------------------
    @_driver_errors
    def trusted_keys(self, key_id_start: str = "") -> list[TrustedKey]:
        rows = self._rows(f"SELECT {', '.join(TRUSTED_KEY_COLUMNS)} FROM trusted_keys WHERE key_id LIKE %s "
                          "ORDER BY added_at, key_id", [key_id_start.lower() + "%"])
        return [trusted_key(row) for row in rows]

    @_driver_errors
    def add_trusted_key(self, key: TrustedKey) -> None:
        now = utc_now()
        with self._transaction() as connection:
            connection.execute(f"INSERT INTO trusted_keys ({', '.join(TRUSTED_KEY_COLUMNS)}, added_at, updated_at) "
                               "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key_id) "
                               "DO UPDATE SET label = excluded.label, updated_at = excluded.updated_at",
                               [*trusted_key_values(key), now, now])

    @_driver_errors
    def set_key_status(self, key_id: str, status: str, reason: str | None) -> None:
        with self._transaction() as connection:
            connection.execute("UPDATE trusted_keys SET status = %s, reason = %s, updated_at = %s WHERE key_id = %s",
                               [status, reason, utc_now(), key_id])

    # signed statements ----------------------------------------------------------------------------------------------
    @_driver_errors
    def serialize_statements(self) -> None:
        assert self._pinned is not None, "serialize_statements() is for inside a transaction"
        _advisory_lock(self._pinned, "statements")

    @_driver_errors
    def add_statements(self, statements: Sequence[StoredStatement]) -> int:
        now = utc_now()
        with self._transaction() as connection:
            _advisory_lock(connection, "statements")
            columns = list(zip(*(statement[:6] for statement in statements))) or [()] * 6
            return int(connection.execute(  # one statement, rows numbered in the order given
                "INSERT INTO statements (hash, kind, signer, subject, version, body, accepted_at) "
                "SELECT hash, kind, signer, subject, version, body, %s FROM unnest(%s::text[], %s::text[], %s::text[], "
                "%s::text[], %s::bigint[], %s::text[]) WITH ORDINALITY AS given (hash, kind, signer, subject, version, "
                "body, position) ORDER BY position ON CONFLICT (hash) DO NOTHING", [now, *map(list, columns)]).rowcount)

    @_driver_errors
    def statements(self, kinds: Sequence[str] = (), *, after: int = 0, subject: str | None = None) -> list[StoredStatement]:
        rows = self._rows(f"SELECT {STATEMENT_COLUMNS} FROM statements WHERE seq > %(after)s "
                          "AND (cardinality(%(kinds)s::text[]) = 0 OR kind = ANY(%(kinds)s::text[])) "
                          "AND (%(subject)s::text IS NULL OR subject = %(subject)s::text) ORDER BY seq",
                          {"after": after, "kinds": list(kinds), "subject": subject})
        return [StoredStatement(*row) for row in rows]

    @_driver_errors
    def statement(self, statement_hash: str) -> StoredStatement | None:
        rows = self._rows(f"SELECT {STATEMENT_COLUMNS} FROM statements WHERE hash = %s", [statement_hash])
        return StoredStatement(*rows[0]) if rows else None

    @_driver_errors
    def trust_root(self) -> str | None:
        rows = self._rows("SELECT body FROM trust_roots ORDER BY version DESC LIMIT 1")
        return str(rows[0][0]) if rows else None

    @_driver_errors
    def add_trust_root(self, version: int, body: str) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT INTO trust_roots (version, body, installed_at) VALUES (%s, %s, %s)",
                               [version, body, utc_now()])

    @_driver_errors
    def add_bundle(self, scope: str, as_of: str, body: str) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT INTO bundles (scope, as_of, body) VALUES (%s, %s, %s) ON CONFLICT (scope, as_of) "
                               "DO UPDATE SET body = excluded.body", [scope, as_of, body])
            connection.execute("DELETE FROM bundles WHERE scope = %s AND as_of < %s", [scope, as_of])

    @_driver_errors
    def bundle(self, scope: str) -> str | None:
        rows = self._rows("SELECT body FROM bundles WHERE scope = %s ORDER BY as_of DESC LIMIT 1", [scope])
        return str(rows[0][0]) if rows else None

    @_driver_errors
    def mark_published(self, hub: str, items: Sequence[str]) -> None:
        now = utc_now()
        with self._transaction() as connection:
            connection.execute("INSERT INTO publications (hub, item, sent_at) SELECT %s, item, %s FROM unnest(%s::text[]) "
                               "AS item ON CONFLICT DO NOTHING", [hub, now, list(items)])

    @_driver_errors
    def published(self, hub: str) -> set[str]:
        return {row[0] for row in self._rows("SELECT item FROM publications WHERE hub = %s", [hub])}

    # the scan log --------------------------------------------------------------
    @_driver_errors
    def day_key(self, day: str, make: Callable[[], bytes]) -> bytes:
        """Made under a lock, so two processes asking at midnight keep one key; an older day never gets one back."""
        found = self._stored_key(day)
        if found is None:
            with self._transaction() as connection:
                _advisory_lock(connection, "day_key")
                connection.execute("INSERT INTO scan_keys (day, secret) SELECT %(day)s, %(secret)s WHERE NOT EXISTS "
                                   "(SELECT 1 FROM scan_keys WHERE day >= %(day)s) ON CONFLICT (day) DO NOTHING",
                                   {"day": day, "secret": make()})
                connection.execute("DELETE FROM scan_keys WHERE day < (SELECT max(day) FROM scan_keys)")
            found = self._stored_key(day) or self._stored_key(None)
        assert found is not None
        return found

    def _stored_key(self, day: str | None) -> bytes | None:
        """The stored key of *day* (None: the newest), if there is one."""
        where = "WHERE day = %s" if day else "ORDER BY day DESC LIMIT 1"
        row = self._row(f"SELECT secret FROM scan_keys {where}", [day] if day else [])
        return bytes(row[0]) if row else None

    @_driver_errors
    def known_unit(self, digest_prefix: str, serial: int, day: str, source: str) -> KnownUnit:
        return self.scan_reads(digest_prefix, serial, day, source)[1]

    @_driver_errors
    def scan_reads(self, digest_prefix: str, serial: int, day: str, source: str) -> tuple[int, KnownUnit]:
        """The change mark and the unit's history in one statement: a scan's one round trip."""
        row = self._row(_SCAN_READS, {"prefix": digest_prefix, "serial": serial, "day": day, "source": source})
        assert row is not None
        mark, places, first, this_place = row
        return int(mark), KnownUnit(int(places or 0), first, bool(this_place))

    @_driver_errors
    def record_scans(self, scans: Sequence[Scan], visits: Sequence[Visit]) -> None:
        """One statement appends the scans, adds the new places and adds both to the units' counts.

        A place another process stored first is not returned by its insert, so it is not counted; places and counts
        are written in key order, so two workers flushing the same units queue instead of deadlocking. A month whose
        partition another process dropped (pruning) is made again, once.
        """
        if not scans and not visits:
            return
        months = {_month(scan.scanned_at) for scan in scans}
        self._ensure_months(months)
        try:
            self._append(scans, visits)
        except psycopg.errors.CheckViolation as error:
            if self._pinned is not None or not str(error.diag.message_primary).startswith("no partition"):
                raise
            _here().months.pop(self._url, None)
            self._ensure_months(months)
            self._append(scans, visits)

    def _append(self, scans: Sequence[Scan], visits: Sequence[Visit]) -> None:
        columns = list(zip(*scans)) or [()] * len(Scan._fields)
        places = list(zip(*sorted(visits))) or [()] * len(Visit._fields)
        values = {"prefixes": list(columns[0]), "serials": list(columns[1]), "times": list(columns[2]),
                  "results": list(columns[3]), "clients": list(columns[4]), "counted": [int(bool(c)) for c in columns[5]],
                  "place_prefixes": list(places[0]), "place_serials": list(places[1]), "days": list(places[2]),
                  "sources": list(places[3]), "seen": list(places[4])}
        with self._transaction() as connection:
            connection.execute(_RECORD_SCANS, values)

    def _ensure_months(self, months: set[str]) -> None:
        """Make the scan log's partitions for *months* that this process does not know to exist.

        The catalog is read first (no lock); a month still missing is made in a short transaction of its own, on a
        connection of its own (making a partition locks the whole log a moment), under this schema's lock.
        """
        known = _here().months.setdefault(self._url, set())
        if months <= known:
            return
        with _pool(self._url).connection() as connection:
            known.update(partition.start for partition in _partitions(connection))
            missing = sorted(months - known)
            if missing:
                with connection.transaction():
                    connection.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
                    _advisory_lock(connection, "partitions")
                    for month in missing:
                        connection.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF scans FOR VALUES FROM "
                                                   "({}) TO ({})").format(sql.Identifier("scans_" + month.replace("-", "_")),
                                                                          sql.Literal(month),
                                                                          sql.Literal(_next_month(month))))
                known.update(missing)

    @_driver_errors
    def make_room_for_scans(self, day: str) -> None:
        """This month's and next month's partitions, made ahead (by each process's first writable store, and hourly
        by the verifier's upkeep): making one locks the whole log a moment, which a scan should never wait for."""
        month = _month(day)
        self._ensure_months({month, _next_month(month)})

    @_driver_errors
    def unit_counts(self, digest_prefix: str) -> list[UnitCount]:
        rows = self._rows("SELECT serial, scans, sources, first_scanned_at FROM scan_counts WHERE digest_prefix = %s "
                          "ORDER BY serial", [digest_prefix])
        return [UnitCount(int(serial), int(scans), int(places), first) for serial, scans, places, first in rows]

    @_driver_errors
    def clear_counts(self, digest_prefix: str, first: int, last: int) -> int:
        unit = "digest_prefix = %s AND serial BETWEEN %s AND %s"
        values = [digest_prefix, first, last]
        with self._transaction() as connection:
            cleared = connection.execute(f"DELETE FROM scan_counts WHERE {unit}", values).rowcount
            connection.execute(f"DELETE FROM unit_sources WHERE {unit}", values)
            connection.execute(f"UPDATE scans SET counted = 0 WHERE counted = 1 AND {unit}", values)
        return int(cleared)

    @_driver_errors
    def prune_scans(self, before: str) -> int:
        """Whole months before *before* are dropped (counted first: nothing is added to a past month), then the rows
        before it in the month it falls in are deleted in one statement (readers and appenders never wait for it)."""
        deleted = 0
        for partition in self._old_partitions(before):
            deleted += self._drop_partition(partition)
        with self._transaction() as connection:
            deleted += connection.execute("DELETE FROM scans WHERE scanned_at < %s", [before]).rowcount
        return deleted

    def _old_partitions(self, before: str) -> list[_Partition]:
        with self._connection() as connection:
            return [partition for partition in _partitions(connection) if partition.end <= before]

    def _drop_partition(self, partition: _Partition) -> int:
        """Drop one month of the log; returns its rows."""
        table = sql.Identifier(partition.name)
        rows = int(self._value(sql.SQL("SELECT count(*) FROM {}").format(table)))
        with _pool(self._url).connection() as connection, connection.transaction():
            connection.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
            _advisory_lock(connection, "partitions")
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        _here().months.get(self._url, set()).discard(partition.start)
        return rows

    @_driver_errors
    def forget_places_before(self, day: str) -> int:
        with self._transaction() as connection:
            return int(connection.execute("DELETE FROM unit_sources WHERE day < %s", [day]).rowcount)

    # whole tables ------------------------------------------------------------------
    @_driver_errors
    def table_columns(self, table: str) -> list[str]:
        rows = self._rows("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                          "AND table_name = %s ORDER BY ordinal_position", [_known_table(table)])
        return [str(row[0]) for row in rows]

    @_driver_errors
    def table_count(self, table: str) -> int:
        return int(self._value(sql.SQL("SELECT count(*) FROM {}").format(_table(table))))

    def read_table(self, table: str, columns: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
        """In primary-key order, through a server-side cursor (one snapshot; the server holds the rows)."""
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), _table(table),
            sql.SQL(", ").join(map(sql.Identifier, _KEYS[table])))
        try:
            with self._connection() as connection, connection.transaction(), \
                    connection.cursor(name=f"ocop_stamps_read_{next(_cursor_numbers)}") as cursor:
                cursor.itersize = READ_CHUNK_ROWS
                cursor.execute(query)
                while chunk := cursor.fetchmany(READ_CHUNK_ROWS):
                    yield [tuple(row) for row in chunk]
        except psycopg.Error as error:
            raise database_problem(error, self.where, self._password) from None

    @_driver_errors
    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]], *,
                  replace: bool = False) -> int:
        """Rows whose key is here are skipped (with *replace*, overwritten where a value differs); a table with
        generated ids has its next id moved past the largest."""
        rows = list(rows)
        if not rows:
            return 0
        if table == "scans" and "scanned_at" in columns:
            at = list(columns).index("scanned_at")
            self._ensure_months({_month(row[at]) for row in rows})
        statement = sql.SQL("INSERT INTO {} AS here ({}) VALUES ({}) {}").format(
            _table(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)), _on_conflict(table, columns, replace))
        with self._transaction() as connection, connection.cursor() as cursor:
            cursor.executemany(statement, rows)
            added = max(cursor.rowcount, 0)
            if table in _IDENTITY_TABLES and added:
                _move_identity_past(connection, table)
        return added


def _on_conflict(table: str, columns: Sequence[str], replace: bool) -> sql.Composable:
    """Skip a row whose key is here; with *replace*, overwrite it where a value differs."""
    if not replace:
        return sql.SQL("ON CONFLICT DO NOTHING")
    keys = CHANGING_TABLES[table]
    changed = [sql.Identifier(column) for column in columns if column not in keys]
    return sql.SQL("ON CONFLICT ({}) DO UPDATE SET ({}) = ROW({}) WHERE ({}) IS DISTINCT FROM ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, keys)), sql.SQL(", ").join(changed),
        sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(column) for column in changed),
        sql.SQL(", ").join(sql.SQL("here.{}").format(column) for column in changed),
        sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(column) for column in changed))


def _move_identity_past(connection: Connection, table: str) -> None:
    """Make the next generated number of *table* (in its first key column) larger than every one in it (never back)."""
    column = _KEYS[table][0]
    connection.execute(sql.SQL("SELECT setval(pg_get_serial_sequence(%(table)s, %(column)s), top) FROM "
                               "(SELECT max({}) AS top FROM {}) AS numbers WHERE top > COALESCE(pg_sequence_last_value("
                               "pg_get_serial_sequence(%(table)s, %(column)s)::regclass), 0)").format(
                                   sql.Identifier(column), sql.Identifier(table)),
                       {"table": table, "column": column})


def _known_table(table: str) -> str:
    if table not in TABLES:
        raise StampError(f"There is no table {table!r} in an ocop-stamps store.")
    return table


def _table(table: str) -> sql.Identifier:
    """A table's name, quoted, for one of the store's tables only."""
    return sql.Identifier(_known_table(table))


@contextlib.contextmanager
def _as_none(context: contextlib.AbstractContextManager[Any]) -> Iterator[None]:
    with context:
        yield


_BATCH_STATE = """
SELECT b.digest, b.signature, b.origin,
       (SELECT COALESCE(max(last_serial), 0) FROM serial_ranges WHERE batch_digest = b.digest),
       r.kind, r.reason, r.recalled_on
FROM batches b LEFT JOIN recalls r ON r.batch_digest = b.digest
WHERE b.digest_prefix = %s
"""

_SCAN_READS = """
SELECT (SELECT version FROM changes), c.sources, c.first_scanned_at,
       EXISTS (SELECT 1 FROM unit_sources WHERE digest_prefix = %(prefix)s AND serial = %(serial)s
               AND day = %(day)s AND source = %(source)s)
FROM (SELECT 1) AS one LEFT JOIN scan_counts c ON c.digest_prefix = %(prefix)s AND c.serial = %(serial)s
"""

# Appends the scans, adds the places not stored yet (by anyone) and adds both to the units' counts: a counted scan
# adds one scan, a new place one place; the first scan is the earliest of both, as the SQLite triggers keep it.
_RECORD_SCANS = """
WITH logged AS (
    INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted)
    SELECT * FROM unnest(%(prefixes)s::text[], %(serials)s::int[], %(times)s::text[], %(results)s::text[],
                         %(clients)s::text[], %(counted)s::smallint[])
    RETURNING digest_prefix, serial, scanned_at, counted
), placed AS (
    INSERT INTO unit_sources (digest_prefix, serial, day, source, first_seen_at)
    SELECT * FROM unnest(%(place_prefixes)s::text[], %(place_serials)s::int[], %(days)s::text[], %(sources)s::text[],
                         %(seen)s::text[]) AS visit (digest_prefix, serial, day, source, first_seen_at)
    ORDER BY digest_prefix, serial, day, source
    ON CONFLICT DO NOTHING
    RETURNING digest_prefix, serial, first_seen_at
), additions AS (
    SELECT digest_prefix, serial, 1 AS scans, 0 AS places, scanned_at AS first FROM logged WHERE counted = 1
    UNION ALL
    SELECT digest_prefix, serial, 0, 1, first_seen_at FROM placed
)
INSERT INTO scan_counts (digest_prefix, serial, scans, first_scanned_at, sources)
SELECT digest_prefix, serial, sum(scans), min(first), sum(places) FROM additions
GROUP BY digest_prefix, serial ORDER BY digest_prefix, serial
ON CONFLICT (digest_prefix, serial) DO UPDATE
SET scans = scan_counts.scans + excluded.scans, sources = scan_counts.sources + excluded.sources,
    first_scanned_at = least(scan_counts.first_scanned_at, excluded.first_scanned_at)
"""
