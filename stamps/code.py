"""The stamp token: a compact, signed binary structure written in base32.

Layout of format version 1 (81 bytes, 130 base32 characters)::

    offset  size  field
    0       1     format version (0x01)
    1       3     key hint: first 3 bytes of SHA-256(raw Ed25519 public key)
    4       10    batch digest prefix: first 10 bytes (80 bits) of the batch digest
    14      3     serial, unsigned big-endian, 1 .. 16,777,215
    17      64    Ed25519 signature over STAMP_TAG || bytes 0..16

Everything parsed here is *unverified*: a :class:`UnverifiedStamp` proves
nothing until :mod:`stamps.verify` has checked its signature.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from typing import NamedTuple

from stamps.errors import CodeFormatError

FORMAT_VERSION = 1
STAMP_TAG = b"OCOP-STAMP\x00"
KEY_HINT_BYTES = 3
DIGEST_PREFIX_BYTES = 10
SERIAL_BYTES = 3
SIGNATURE_BYTES = 64
HEADER_BYTES = 1 + KEY_HINT_BYTES + DIGEST_PREFIX_BYTES + SERIAL_BYTES
TOKEN_BYTES = HEADER_BYTES + SIGNATURE_BYTES
TOKEN_CHARS = (TOKEN_BYTES * 8 + 4) // 5
MAX_SERIAL = 2 ** (8 * SERIAL_BYTES) - 1
BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_NOT_BASE32 = b"!"


def _to_base32hex_table() -> bytes:
    """Each byte of RFC 4648 base32 text (either letter case) to its base32hex digit, which int() reads; others to "!"."""
    table = bytearray(_NOT_BASE32 * 256)
    for char, digit in zip(BASE32_ALPHABET, "0123456789ABCDEFGHIJKLMNOPQRSTUV"):
        table[ord(char)] = table[ord(char.lower())] = ord(digit)
    return bytes(table)


_TO_BASE32HEX = _to_base32hex_table()
_WHOLE_BYTE_LENGTHS = frozenset({0, 2, 4, 5, 7})  # characters mod 8 that end on whole bytes (RFC 4648, section 6)


class UnverifiedStamp(NamedTuple):
    """The fields of a stamp token, before any signature check (a tuple: one is made per scan)."""

    key_hint: bytes
    digest_prefix: bytes
    serial: int
    signature: bytes
    version: int = FORMAT_VERSION

    def header(self) -> bytes:
        """Bytes 0..16 of the token: version, key hint, digest prefix, serial."""
        return header_bytes(self.key_hint, self.digest_prefix, self.serial, self.version)

    def signing_bytes(self) -> bytes:
        """Exactly what the producer's key signed."""
        return STAMP_TAG + self.header()

    def to_bytes(self) -> bytes:
        return self.header() + self.signature

    @property
    def token(self) -> str:
        """The base32 token (upper case, no padding)."""
        return encode_base32(self.to_bytes())


@dataclasses.dataclass(frozen=True)
class SerialRange:
    """Serials first..last of a batch, both included."""

    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1

    def covers(self, other: SerialRange) -> bool:
        return self.first <= other.first and other.last <= self.last


class IssuedCode(NamedTuple):
    """One unit's signed code as issued: its serial, its token and the full stamp URL the QR carries."""

    serial: int
    token: str
    url: str


def header_bytes(key_hint: bytes, digest_prefix: bytes, serial: int, version: int = FORMAT_VERSION) -> bytes:
    """Pack the signed header; refuses values that do not fit the layout."""
    if len(key_hint) != KEY_HINT_BYTES or len(digest_prefix) != DIGEST_PREFIX_BYTES:
        raise ValueError("key hint must be 3 bytes and digest prefix 10 bytes")
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"serial must be between 1 and {MAX_SERIAL}")
    return bytes([version]) + key_hint + digest_prefix + serial.to_bytes(SERIAL_BYTES, "big")


def signing_bytes(key_hint: bytes, digest_prefix: bytes, serial: int) -> bytes:
    """The bytes a producer signs for one unit: STAMP_TAG || header."""
    return STAMP_TAG + header_bytes(key_hint, digest_prefix, serial)


def encode_base32(data: bytes) -> str:
    """RFC 4648 base32, upper case, padding removed."""
    return base64.b32encode(data).decode("ascii").rstrip("=")


def decode_base32(text: str) -> bytes:
    """Strict base32: ASCII, canonical only (unused trailing bits must be zero), any letter case."""
    try:
        # One pass in C maps both letter cases onto base32hex digits and every other character onto "!".
        digits = text.encode("ascii").translate(_TO_BASE32HEX)
    except UnicodeEncodeError:
        digits = _NOT_BASE32
    if not digits or _NOT_BASE32 in digits:
        raise CodeFormatError("The code holds characters that base32 does not use.", kind="bad_base32")
    unused_bits = len(digits) * 5 % 8
    if int(digits[-1:], 32) & ((1 << unused_bits) - 1):
        raise CodeFormatError("The code is not canonical base32.", kind="bad_base32")
    if len(digits) % 8 not in _WHOLE_BYTE_LENGTHS:
        raise CodeFormatError("The code is not valid base32 (its length cannot hold whole bytes).", kind="bad_base32")
    # int() reads base32hex digits in C (base64.b32decode is Python).
    value = int(digits, 32) >> unused_bits
    return value.to_bytes(len(digits) * 5 // 8, "big")


def decode_token(token: str) -> UnverifiedStamp:
    """Parse a token into its fields; CodeFormatError says why it is not a stamp."""
    if len(token) != TOKEN_CHARS:
        raise CodeFormatError(f"A stamp token has {TOKEN_CHARS} characters, this one has {len(token)}.", kind="wrong_length")
    data = decode_base32(token)
    if len(data) != TOKEN_BYTES:
        raise CodeFormatError("The code has the wrong number of bytes.", kind="wrong_length")
    if data[0] != FORMAT_VERSION:
        raise CodeFormatError(f"Unknown stamp format version {data[0]}.", kind="unknown_version")
    serial = int.from_bytes(data[14:HEADER_BYTES], "big")
    if serial == 0:
        raise CodeFormatError("Serial 0 is never issued.", kind="bad_serial")
    return UnverifiedStamp(
        key_hint=data[1:4], digest_prefix=data[4:14], serial=serial, signature=data[HEADER_BYTES:], version=data[0]
    )


SHORT_CODE_BATCH_CHARS = 6


def short_code(digest_prefix: bytes, serial: int) -> str:
    """The unit's reference for people: ``BATCH6-SERIAL-C``, e.g. ``KQ2MXA-000123-T``, printed under the QR.

    Six base32 characters of the batch digest (30 bits), the serial (at least six digits) and a check character
    (base32 of SHA-256 over the rest) that catches a mistyped character 31 times in 32. It names a unit so a
    person can read it out or type it; it proves nothing (only the QR's signature does).
    """
    batch = encode_base32(digest_prefix)[:SHORT_CODE_BATCH_CHARS]
    body = f"{batch}-{serial:06d}"
    check = BASE32_ALPHABET[hashlib.sha256(body.encode("ascii")).digest()[0] % 32]
    return f"{body}-{check}"
