"""Issuing stamp codes: serials are recorded in one transaction, then signed and written out.

Order matters: the serial range is committed before any file is written, and
files are written in a hidden folder that is renamed into place only when
complete, so an interrupted run leaves no partial output under the final name.
Codes are deterministic (Ed25519 signatures are), so an issued range can be
written again with :func:`reprint_range` without issuing anything new.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_hint, key_id
from stamps.code import STAMP_TAG, encode_base32, header_bytes
from stamps.errors import IssuanceError
from stamps.registry import StoredBatch
from stamps.store import Store, utc_now
from stamps.url import code_url

MAX_ISSUE_COUNT = 10_000_000


@dataclasses.dataclass(frozen=True)
class SerialRange:
    """Serials first..last, both included."""

    first: int
    last: int

    def __len__(self) -> int:
        return self.last - self.first + 1


@dataclasses.dataclass(frozen=True)
class IssuedCode:
    serial: int
    token: str
    url: str


class StampSigner:
    """Signs unit codes for one batch with the key that signed the batch record."""

    def __init__(self, private_key: Ed25519PrivateKey, batch: StoredBatch, base_url: str) -> None:
        if key_id(private_key.public_key()) != batch.record["key_id"]:
            raise IssuanceError(f"Batch {batch.digest[:12]} was signed with key {batch.record['key_id']}, not with this key.")
        self._sign = private_key.sign
        self._hint = key_hint(private_key.public_key())
        self._prefix = batch.signed.digest_prefix
        self._base_url = base_url

    def code(self, serial: int) -> IssuedCode:
        header = header_bytes(self._hint, self._prefix, serial)
        token = encode_base32(header + self._sign(STAMP_TAG + header))
        return IssuedCode(serial, token, code_url(self._base_url, token))

    def codes(self, serials: SerialRange) -> Iterator[IssuedCode]:
        return (self.code(serial) for serial in range(serials.first, serials.last + 1))


def allocate_serials(store: Store, batch: StoredBatch, count: int) -> SerialRange:
    """Record the next *count* serials of the batch, atomically; never past its quantity, never twice."""
    if not 1 <= count <= MAX_ISSUE_COUNT:
        raise IssuanceError(f"--count must be between 1 and {MAX_ISSUE_COUNT:,}.")
    with store.write() as db:
        quantity, issued = db.execute(
            "SELECT quantity, (SELECT COALESCE(MAX(last_serial), 0) FROM serial_ranges WHERE batch_digest = digest) "
            "FROM batches WHERE digest = ?", [batch.digest]).fetchone()
        if db.execute("SELECT 1 FROM recalls WHERE batch_digest = ?", [batch.digest]).fetchone():
            raise IssuanceError(f"Batch {batch.digest[:12]} is recalled; no more stamps can be issued for it.")
        if issued + count > quantity:
            raise IssuanceError(f"Only {quantity - issued:,} of the batch's {quantity:,} serials are left; asked for {count:,}.",
                                hint="Issue fewer, or create a new batch.")
        db.table("serial_ranges").insert({"batch_digest": batch.digest, "first_serial": issued + 1,
                                    "last_serial": issued + count, "issued_at": utc_now()})
    return SerialRange(issued + 1, issued + count)


def reprint_range(batch: StoredBatch, first: int, last: int) -> SerialRange:
    """A range of serials that were already issued, to write again."""
    if not 1 <= first <= last:
        raise IssuanceError("The range to reprint must be FIRST-LAST with 1 <= FIRST <= LAST.")
    if last > batch.issued:
        raise IssuanceError(f"Only serials 1-{batch.issued} of this batch have been issued; {last} has not.",
                            hint="Issue new serials with --count instead.")
    return SerialRange(first, last)


@contextlib.contextmanager
def staged_output(parent: Path) -> Iterator[Path]:
    """A hidden working folder under *parent*, made before anything is issued (so an unwritable
    place fails early) and removed unless :func:`publish` moved it into place."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".issue-", suffix=".partial", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def default_destination(parent: Path, batch: StoredBatch, serials: SerialRange) -> Path:
    """LOT-DIGEST8-FIRST-LAST under *parent*, made unique with -2, -3, ... if it exists."""
    lot = batch.record["batch"]["lot_code"].replace("/", "-")
    path = parent / f"{lot}-{batch.digest[:8]}-{serials.first:07d}-{serials.last:07d}"
    number = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{number}")
        number += 1
    return candidate


def publish(staging: Path, destination: Path) -> Path:
    """Move a complete staging folder to its final name (refusing to replace anything)."""
    if destination.exists():
        raise IssuanceError(f"{destination} already exists; it was not replaced.")
    staging.rename(destination)
    return destination
