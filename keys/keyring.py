"""Trusted public keys as values: a key with its status, and a keyring that finds keys by a stamp's hint.

A key id inside a stamp is only a hint; :class:`Keyring` returns every key that
shares it, and the status decides what a good signature means. Where they are
kept is :mod:`stamps.truststore`'s business.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys.keyfile import KEY_HINT_BYTES, fingerprint, public_key_bytes

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
