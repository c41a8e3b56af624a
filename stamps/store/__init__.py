"""The store: the only code that speaks SQL or imports a database driver.

:func:`open_store` opens one instance's database: the SQLite file in the
instance folder (the embedded default, :mod:`stamps.store.sqlite`), or a
PostgreSQL database named by a URL (:mod:`stamps.store.postgres`), for a
verifier that outgrows one machine. Both implement
:class:`stamps.store.interface.Store`, which is all the services see.
"""

from __future__ import annotations

from pathlib import Path

from stamps.errors import InstanceError
from stamps.store.common import MAX_RECORD_ID, utc_now
from stamps.store.interface import TABLES, BatchState, RecordChange, SerialAllowance, Store, UnwrittenRange

DATABASE_ENV = "OCOP_STAMPS_DATABASE"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

__all__ = ["DATABASE_ENV", "MAX_RECORD_ID", "TABLES", "BatchState", "RecordChange", "SerialAllowance", "Store",
           "UnwrittenRange", "is_database_url", "migrate", "open_store", "utc_now"]


def is_database_url(location: str) -> bool:
    """Whether *location* names a database server (a PostgreSQL URL) rather than a file."""
    return location.lower().startswith(POSTGRES_SCHEMES)


def open_store(location: Path | str, *, create: bool = False, read_only: bool = False, durable: bool = True) -> Store:
    """The store at *location*: a PostgreSQL URL (a str), or the path of an SQLite file (a Path).

    *create* makes a missing database (SQLite: the file; PostgreSQL: the schema in an existing database);
    *read_only* opens it for commands that change nothing; ``durable=False`` lets commits skip the disk flush
    (the verifier's scan log; PostgreSQL: ``synchronous_commit = off`` for that session).
    """
    if isinstance(location, str):
        if not is_database_url(location):  # not shown: a connection string may hold a password
            raise InstanceError("The database must be given as a PostgreSQL URL, and the one given is not one.",
                                hint="Give postgresql://user:password@host/database (to --database, "
                                     "$OCOP_STAMPS_DATABASE or --to), or no --database for the instance folder's "
                                     "SQLite file.")
        from stamps.store.postgres import PostgresStore  # the driver loads only for a PostgreSQL instance

        return PostgresStore(location, create=create, read_only=read_only, durable=durable)
    from stamps.store.sqlite import SQLiteStore

    return SQLiteStore(Path(location), create=create, read_only=read_only, durable=durable)


def migrate(location: Path | str) -> tuple[int, int]:
    """Apply the schema migrations the store at *location* lacks; returns its schema version before and after."""
    reader = open_store(location, read_only=True)
    try:
        before = reader.schema_version()
    finally:
        reader.close()
    writer = open_store(location)  # a read-write open applies what is missing, once, whoever opens first
    try:
        return before, writer.schema_version()
    finally:
        writer.close()
