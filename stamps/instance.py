"""The instance folder: the database, the private keys and the output, outside the repository.

Where it is: the ``--instance`` option, else ``$OCOP_STAMPS_HOME``, else the
per-user data directory (``~/.local/share/ocop-stamps`` on Linux,
``%LOCALAPPDATA%\\ocop-stamps`` on Windows). The database is the folder's
SQLite file, unless a PostgreSQL URL is given (``--database``, else
``$OCOP_STAMPS_DATABASE``): then the folder holds only the keys and the output,
and a verifier needs no folder at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import platformdirs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import generate_private_key, key_id, load_private_key, save_private_key
from keys.keyring import TrustedKey
from stamps.truststore import TrustStore
from stamps.errors import InstanceError, KeyStoreError
from stamps.store import DATABASE_ENV, Store, migrate, open_store
from stamps.store.transfer import TableCopy, copy_tables
from stamps.trustroot import load_chain
from stamps.url import normalize_base_url
from stamps.verify import Verifier
from stamps import registry

HOME_ENV = "OCOP_STAMPS_HOME"
DB_NAME = "ocop-stamps.db"


def default_database() -> str | None:
    """The database URL of ``$OCOP_STAMPS_DATABASE``, or None (the instance folder's SQLite file)."""
    return os.environ.get(DATABASE_ENV, "").strip() or None


def default_root() -> Path:
    """The instance folder used when none is named."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("ocop-stamps", appauthor=False)


class CopyReport(NamedTuple):
    """What ``db copy`` did: each table's rows, and how many batch records were verified in the target."""

    target: str
    tables: list[TableCopy]
    batches_verified: int


def database_location(root: Path, database: str | None) -> Path | str:
    """Where an instance's records are: the PostgreSQL database *database*, else the folder's SQLite file."""
    return root / DB_NAME if database is None else database


def existing_database(root: Path, database: str | None) -> Path | str:
    """:func:`database_location` of an instance made by ``init``; an InstanceError for a folder without one."""
    if database is None and not (root / DB_NAME).exists():
        raise InstanceError(f"{root} is not an initialised instance.",
                            hint="Run 'ocop-stamps init --base-url https://your-verifier.example.vn' first.")
    return database_location(root, database)


def migrate_database(root: Path, database: str | None) -> tuple[int, int]:
    """Bring the instance's schema up to date (``db migrate``); returns its version before and after."""
    return migrate(existing_database(root, database))


class Instance:
    """An initialised instance folder and its open store."""

    def __init__(self, root: Path, store: Store) -> None:
        self.root = root
        self.store = store
        self.trust = TrustStore(store)

    @classmethod
    def create(cls, root: Path, base_url: str, *, allow_large_qr: bool = False, database: str | None = None) -> "Instance":
        """Create (or re-configure) an instance; its folder is private to the user. With *database* (a PostgreSQL
        URL) the records go there, in a schema made on first use.

        Refuses a base URL so long that stamps would need a QR larger than version 7
        (45 x 45 modules), unless *allow_large_qr*.
        """
        from stamps.qr import MAX_DEFAULT_VERSION, stamp_qr_version  # segno: only init needs it

        normalized = normalize_base_url(base_url)
        version = stamp_qr_version(normalized)
        if version > MAX_DEFAULT_VERSION and not allow_large_qr:
            raise InstanceError(f"Base URL {normalized} is too long: stamps would need QR version {version}, "
                                f"larger than version {MAX_DEFAULT_VERSION} (45 x 45 modules).",
                                hint="Use a host of at most about 30 characters, or pass --allow-large-qr.")
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise InstanceError(f"Cannot create the instance folder {root}: {error.strerror}.") from None
        instance = cls(root, open_store(database_location(root, database), create=True))
        instance.store.set_setting("base_url", normalized)
        return instance

    @classmethod
    def open(cls, root: Path, *, read_only: bool = False, durable: bool = True, database: str | None = None) -> "Instance":
        """Open an instance made by :meth:`create` (read-only: for commands that change nothing), its records in
        *database* (a PostgreSQL URL) when given, else in the folder's SQLite file.

        ``durable=False`` is for the verifier's scan log: see :func:`stamps.store.open_store`.
        """
        return cls(root, open_store(existing_database(root, database), read_only=read_only, durable=durable))

    def close(self) -> None:
        self.store.close()

    def copy_to(self, database: str) -> CopyReport:
        """Copy this instance's records, scans and counts into the PostgreSQL database *database* (its schema made
        when missing), then check that every batch record there still verifies. Safe to run again."""
        target = open_store(database, create=True)  # refuses anything but a PostgreSQL URL
        try:
            if target.location == self.store.location:
                raise InstanceError("The instance's records are already in that database; nothing to copy.")
            tables = copy_tables(self.store, target)
            return CopyReport(target.location, tables, registry.verify_batch_signatures(target))
        finally:
            target.close()

    def verifier(self, batches: registry.BatchLookup | None = None) -> Verifier:
        """A verifier over this instance's trust store and batch records (public keys only).

        Its batch look-ups are cached until the store changes (:class:`registry.BatchLookup`;
        *batches* when the caller follows the store's changes itself), so it belongs to the
        thread that opened this instance, as the store does.
        """
        return Verifier(self.trust.keyring(), batches or registry.BatchLookup(self.store), load_chain(self.store))

    @property
    def keys_dir(self) -> Path:
        return self.root / "private-keys"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def base_url(self) -> str:
        value = self.store.setting("base_url")
        if not value:
            raise InstanceError("The instance has no verifier base URL.", hint="Run 'ocop-stamps init --base-url URL'.")
        return value

    @property
    def signing_key_id(self) -> str:
        value = self.store.setting("signing_key_id")
        if not value:
            raise KeyStoreError("This instance has no signing key yet.", hint="Run 'ocop-stamps keys generate'.")
        return value

    def key_path(self, identifier: str) -> Path:
        return self.keys_dir / f"{identifier}.key.pem"

    def generate_key(self, passphrase: bytes | None, label: str) -> TrustedKey:
        """Make a new signing key: file first (0600), then trust it; the previous signing key is retired."""
        private_key = generate_private_key()
        identifier = key_id(private_key.public_key())
        save_private_key(private_key, self.key_path(identifier), passphrase)
        previous = self.store.setting("signing_key_id")
        trusted = self.trust.add(private_key.public_key(), label)
        self.store.set_setting("signing_key_id", identifier)
        if previous and previous != identifier and self.trust.get(previous).status == "active":
            self.trust.set_status(previous, "retired", "replaced by " + identifier)
        return trusted

    def signing_key(self, passphrase: bytes | None) -> Ed25519PrivateKey:
        """The private key new batches are signed with."""
        return self.private_key(self.signing_key_id, passphrase)

    def private_key(self, identifier: str, passphrase: bytes | None) -> Ed25519PrivateKey:
        """One of this instance's private keys; refuses a revoked one."""
        if self.trust.get(identifier).status == "revoked":
            raise KeyStoreError(f"The key {identifier} is revoked and signs nothing more.",
                                hint="Run 'ocop-stamps keys generate' for a new key and create a new batch.")
        return load_private_key(self.key_path(identifier), passphrase)
