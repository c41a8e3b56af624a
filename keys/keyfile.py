"""Ed25519 key files: generate, store encrypted with owner-only permissions, load, identify."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stamps.errors import KeyStoreError, WrongPassphraseError

KEY_ID_BYTES = 8
KEY_HINT_BYTES = 3
PRIVATE_KEY_MODE = 0o600


def generate_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key: Ed25519PublicKey) -> bytes:
    """SHA-256 over the raw public key: the root of the key id and the key hint."""
    return hashlib.sha256(public_key_bytes(public_key)).digest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key id people see and the trust store is keyed by: 16 hex digits."""
    return fingerprint(public_key)[:KEY_ID_BYTES].hex()


def key_hint(public_key: Ed25519PublicKey) -> bytes:
    """The 3-byte key id carried inside a stamp code (a hint, not an identity)."""
    return fingerprint(public_key)[:KEY_HINT_BYTES]


def private_key_seed(private_key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed an Ed25519 private key is made from (RFC 8032), e.g. for libsodium's signing functions."""
    return private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes."""
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise KeyStoreError("A public key must be 32 bytes of Ed25519.") from None


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """The public key as SubjectPublicKeyInfo PEM, for export."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key_pem(data: bytes, source: str) -> Ed25519PublicKey:
    """Read an exported public key; anything else is a clear error."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyStoreError(f"{source} is not a PEM public key.", hint="Export one with 'ocop-stamps keys export'.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyStoreError(f"{source} holds a public key that is not Ed25519.")
    return key


def save_private_key(key: Ed25519PrivateKey, path: Path, passphrase: bytes | None) -> None:
    """Write the key as PKCS#8 PEM, encrypted unless *passphrase* is None, readable by the owner only.

    Refuses to overwrite an existing file. The caller decides whether an
    unencrypted key is acceptable (only with an explicit unsafe option).
    """
    if passphrase == b"":
        raise KeyStoreError("An empty passphrase would leave the key unprotected.", hint="Choose a passphrase.")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase is not None else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    except FileExistsError:
        raise KeyStoreError(f"Key file {path} already exists; it was not overwritten.") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    os.chmod(path, PRIVATE_KEY_MODE)


def needs_passphrase(path: Path) -> bool:
    """Whether the key file is encrypted (False for a missing file, so loading it reports that instead)."""
    try:
        return b"ENCRYPTED PRIVATE KEY" in path.read_bytes()[:64]
    except OSError:
        return False


def load_private_key(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Open a private key file; each way it can fail is one clear error."""
    if not path.exists():
        raise KeyStoreError(f"Private key file {path} is missing.", hint="Generate a key with 'ocop-stamps keys generate' or restore it from your backup.")
    _check_owner_only(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyStoreError(f"Cannot read private key file {path}: {error.strerror}.") from None
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise KeyStoreError(f"{path} is not a PEM private key file (it is damaged or another kind of file).",
                            hint="Restore the key file from your backup.")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError:
        if passphrase:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            raise WrongPassphraseError("The private key is encrypted and no passphrase was given.",
                                       hint="Type it at the prompt or set OCOP_STAMPS_PASSPHRASE.") from None
    except ValueError:
        raise WrongPassphraseError("Wrong passphrase for the private key (or the key file is damaged).",
                                   hint="Check the passphrase and try again.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyStoreError(f"{path} does not hold an Ed25519 private key.")
    return key


def _check_owner_only(path: Path) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyStoreError(f"Private key file {path} can be read by other users (mode {mode:o}).",
                            hint=f"Run: chmod 600 '{path}'")
