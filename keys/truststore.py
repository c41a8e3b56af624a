"""The trust store: public keys with a status (active, retired, revoked).

A key id inside a stamp is only a hint; :class:`Keyring` returns every key that
shares it, and the status stored here decides what a good signature means.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.keyfile import KEY_HINT_BYTES, fingerprint, key_id, public_key_bytes, public_key_from_bytes
from stamps.errors import NotFoundError, StampError
from stamps.store import Store, utc_now

STATUSES = ("active", "retired", "revoked")


@dataclasses.dataclass(frozen=True)
class TrustedKey:
    """A public key as the trust store knows it."""

    key_id: str
    public_key: Ed25519PublicKey
    label: str
    status: str
    reason: str | None = None

    @property
    def hint(self) -> bytes:
        return fingerprint(self.public_key)[:KEY_HINT_BYTES]

    @property
    def public_hex(self) -> str:
        return public_key_bytes(self.public_key).hex()


class Keyring:
    """Trusted keys looked up by the 3-byte hint a stamp carries."""

    def __init__(self, keys: list[TrustedKey]) -> None:
        self._by_hint: dict[bytes, list[TrustedKey]] = {}
        for key in keys:
            self._by_hint.setdefault(key.hint, []).append(key)

    def candidates(self, hint: bytes) -> list[TrustedKey]:
        """Every trusted key whose fingerprint starts with *hint* (usually one, possibly none)."""
        return self._by_hint.get(hint, [])

    def __iter__(self) -> Iterator[TrustedKey]:
        for keys in self._by_hint.values():
            yield from keys


class TrustStore:
    """The ``trusted_keys`` table of an instance."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, public_key: Ed25519PublicKey, label: str, status: str = "active") -> TrustedKey:
        """Trust a key (or update the label of one already trusted, keeping its status)."""
        if status not in STATUSES:
            raise StampError(f"Key status must be one of: {', '.join(STATUSES)}.")
        identifier = key_id(public_key)
        now = utc_now()
        with self.store.write() as db:
            existing = list(db.table("trusted_keys").rows_where("key_id = ?", [identifier]))
            if existing:
                db.table("trusted_keys").update(identifier, {"label": label, "updated_at": now})
            else:
                db.table("trusted_keys").insert({"key_id": identifier, "public_key": public_key_bytes(public_key).hex(),
                                           "label": label, "status": status, "reason": None,
                                           "added_at": now, "updated_at": now})
        return self.get(identifier)

    def set_status(self, identifier: str, status: str, reason: str | None = None) -> TrustedKey:
        """Retire or revoke a key. Revocation is final: a revoked key cannot be made active again."""
        if status not in STATUSES:
            raise StampError(f"Key status must be one of: {', '.join(STATUSES)}.")
        key = self.get(identifier)
        if key.status == "revoked" and status != "revoked":
            raise StampError(f"Key {key.key_id} is revoked; revocation cannot be undone.", hint="Generate a new key.")
        with self.store.write() as db:
            db.table("trusted_keys").update(key.key_id, {"status": status, "reason": reason, "updated_at": utc_now()})
        return self.get(key.key_id)

    def get(self, identifier: str) -> TrustedKey:
        """A key by its id (or an unambiguous prefix of at least 6 hex digits)."""
        rows = self._rows_matching(identifier.strip().lower())
        if len(rows) != 1:
            problem = "matches several keys" if rows else "is not in the trust store"
            raise NotFoundError(f"Key {identifier!r} {problem}.", hint="List keys with 'ocop-stamps keys list'.")
        return _trusted_key(rows[0])

    def all(self) -> list[TrustedKey]:
        return [_trusted_key(row) for row in self.store.db.table("trusted_keys").rows_where(order_by="added_at")]

    def keyring(self) -> Keyring:
        return Keyring(self.all())

    def _rows_matching(self, prefix: str) -> list[dict[str, object]]:
        if len(prefix) < 6 or any(char not in "0123456789abcdef" for char in prefix):
            return []
        return list(self.store.db.table("trusted_keys").rows_where("key_id LIKE ?", [prefix + "%"]))


def _trusted_key(row: dict[str, object]) -> TrustedKey:
    return TrustedKey(key_id=str(row["key_id"]), public_key=public_key_from_bytes(bytes.fromhex(str(row["public_key"]))),
                      label=str(row["label"]), status=str(row["status"]),
                      reason=None if row["reason"] is None else str(row["reason"]))
