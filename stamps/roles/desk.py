"""The instance folder of an OCOP office or of the national root operator (a *desk*): a store and one encrypted key.

Like a cooperative's instance (:mod:`stamps.instance`) it lives outside the repository, private to the user, with
its database (or a PostgreSQL URL), and its private key encrypted and owner-only in ``private-keys/``. A desk has
one role, kept in the store's ``role`` setting, so an office's key never ends up in a cooperative's instance, nor
the national key in an office's.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import generate_private_key, key_id, load_private_key, save_private_key
from stamps.errors import InstanceError, KeyStoreError
from stamps.store import Store, open_store

ROLE_SETTING = "role"
ROLES = {"office": ("an OCOP office's", "authority init --name ... --province ... --scope province"),
         "national-root": ("the national root operator's", "authority root init")}
DB_NAME = "ocop-stamps.db"  # the same file name as a cooperative's instance (stamps.instance.DB_NAME)
COOPERATIVE_SETTINGS = ("base_url", "signing_key_id")


class Desk:
    """An office's or the national root operator's instance: its folder, its store and its role."""

    def __init__(self, root: Path, store: Store, role: str) -> None:
        self.root = root
        self.store = store
        self.role = role

    @classmethod
    def create(cls, root: Path, role: str, *, database: str | None = None) -> "Desk":
        """Make a new desk of *role* in *root* (created private when missing); refuses a folder that already has a role."""
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as error:
            raise InstanceError(f"Cannot create the instance folder {root}: {error.strerror}.") from None
        store = open_store(root / DB_NAME if database is None else database, create=True)
        try:
            _check_unused(root, store)
        except InstanceError:
            store.close()
            raise
        return cls(root, store, role)

    @classmethod
    def open(cls, root: Path, role: str, *, database: str | None = None, read_only: bool = False) -> "Desk":
        """Open the desk of *role* in *root*; an InstanceError naming the command that makes one otherwise."""
        if database is None and not (root / DB_NAME).exists():
            raise _not_a_desk(root, role)
        store = open_store(root / DB_NAME if database is None else database, read_only=read_only)
        if store.setting(ROLE_SETTING) != role:
            store.close()
            raise _not_a_desk(root, role)
        return cls(root, store, role)

    def close(self) -> None:
        self.store.close()

    def key_path(self, identifier: str) -> Path:
        return self.root / "private-keys" / f"{identifier}.key.pem"

    def new_key(self, passphrase: bytes) -> Ed25519PrivateKey:
        """A new Ed25519 key, written encrypted (mode 0600) before anything refers to it."""
        if not passphrase:
            raise KeyStoreError("An empty passphrase would leave the key unprotected.", hint="Choose a passphrase.")
        private_key = generate_private_key()
        save_private_key(private_key, self.key_path(key_id(private_key.public_key())), passphrase)
        return private_key

    def private_key(self, identifier: str, passphrase: bytes | None) -> Ed25519PrivateKey:
        """The desk's private key *identifier*, opened with *passphrase*."""
        return load_private_key(self.key_path(identifier), passphrase)

    def settings(self, name: str) -> Any:
        """A JSON setting of the desk (None when unset)."""
        text = self.store.setting(name)
        return json.loads(text) if text else None

    def set_settings(self, name: str, value: Any) -> None:
        self.store.set_setting(name, json.dumps(value, ensure_ascii=False, sort_keys=True))

    def claim(self) -> None:
        """Give the folder its role (the last step of making a desk)."""
        self.store.set_setting(ROLE_SETTING, self.role)


def _check_unused(root: Path, store: Store) -> None:
    held = store.setting(ROLE_SETTING)
    if held:
        raise InstanceError(f"{root} is already {ROLES.get(held, (held,))[0]} instance; it was left as it was.",
                            hint="Give another folder with --instance DIR.")
    if any(store.setting(name) for name in COOPERATIVE_SETTINGS):
        raise InstanceError(f"{root} is a cooperative's instance; an office and the national root keep their own.",
                            hint="Give another folder with --instance DIR.")


def _not_a_desk(root: Path, role: str) -> InstanceError:
    what, command = ROLES[role]
    return InstanceError(f"{root} is not {what} instance.", hint=f"Make one with 'ocop-stamps --instance DIR {command}', "
                                                                 "or give its folder with --instance DIR.")


def write_document(path: Path, data: bytes) -> None:
    """Write *data* to *path* whole or not at all (a temporary file in the same folder, renamed into place)."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def written_with(store: Store, path: Path) -> Iterator[None]:
    """A store transaction whose last step writes *path*: if the commit fails, the file written is removed again."""
    existed = path.exists()
    try:
        with store.transaction():
            yield
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
