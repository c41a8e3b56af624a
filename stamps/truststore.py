"""The trust store: the public keys an instance trusts, with their status (active, retired, revoked).

Kept in the instance's store (any engine); the values are :mod:`keys.keyring`'s.
Every change to the trusted keys moves the store's ``trust_generation`` setting,
so a long-running verifier knows when to reload its keys.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.keyfile import key_id
from keys.keyring import STATUSES, Keyring, TrustedKey
from stamps.errors import NotFoundError, StampError
from stamps.store import Store

MIN_KEY_ID_DIGITS = 6


class TrustStore:
    """The trusted keys of an instance."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, public_key: Ed25519PublicKey, label: str, status: str = "active") -> TrustedKey:
        """Trust a key (or update the label of one already trusted, keeping its status)."""
        _check_status(status)
        identifier = key_id(public_key)
        self.store.add_trusted_key(TrustedKey(identifier, public_key, label, status))
        return self.get(identifier)

    def set_status(self, identifier: str, status: str, reason: str | None = None) -> TrustedKey:
        """Retire or revoke a key. Revocation is final: a revoked key cannot be made active again."""
        _check_status(status)
        key = self.get(identifier)
        if key.status == "revoked" and status != "revoked":
            raise StampError(f"Key {key.key_id} is revoked; revocation cannot be undone.", hint="Generate a new key.")
        self.store.set_key_status(key.key_id, status, reason)
        return self.get(key.key_id)

    def get(self, identifier: str) -> TrustedKey:
        """A key by its id (or an unambiguous prefix of at least 6 hex digits)."""
        prefix = identifier.strip().lower()
        is_id = len(prefix) >= MIN_KEY_ID_DIGITS and all(char in "0123456789abcdef" for char in prefix)
        keys = self.store.trusted_keys(prefix) if is_id else []
        if len(keys) != 1:
            problem = "matches several keys" if keys else "is not in the trust store"
            raise NotFoundError(f"Key {identifier!r} {problem}.", hint="List keys with 'ocop-stamps keys list'.")
        return keys[0]

    def all(self) -> list[TrustedKey]:
        return self.store.trusted_keys()

    def keyring(self) -> Keyring:
        return Keyring(self.all())

    def generation(self) -> str | None:
        """A value that changes whenever a key is added or changes status."""
        return self.store.setting("trust_generation")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise StampError(f"Key status must be one of: {', '.join(STATUSES)}.")
