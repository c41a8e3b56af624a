"""Signed batch records: a canonical snapshot of a batch, hashed for its identity and signed.

    message   = RECORD_TAG || canonical_json(record)
    digest    = SHA-256(message)            (the batch's identity)
    signature = Ed25519(private key, message)

A stamp names the first 10 bytes of the digest, so a verifier holding the
record can prove that the record it shows is the one the producer signed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stamps.canonical import canonical_json
from stamps.code import DIGEST_PREFIX_BYTES
from stamps.errors import StampError, ValidationError
from stamps.records import Batch, FarmArea, Producer, Product

RECORD_TAG = b"OCOP-BATCH-RECORD\x00"
RECORD_FORMAT = "ocop-batch-record/1"
EXPORT_FORMAT = "ocop-signed-batch/1"


class RecordSignatureError(StampError):
    """A signed batch record whose signature or digest does not check out."""


def build_record(
    *, producer: Producer, product: Product, farm_areas: list[FarmArea], batch: Batch, key_id: str, signed_at: str
) -> dict[str, Any]:
    """The snapshot that is signed: the batch with its producer, product and farm areas as they are now."""
    return {
        "format": RECORD_FORMAT,
        "key_id": key_id,
        "signed_at": signed_at,
        "producer": producer.to_dict(),
        "product": product.to_dict(),
        "farm_areas": [area.to_dict() for area in farm_areas],
        "batch": batch.to_dict(),
    }


def check_record(record: Any) -> None:
    """Refuse a record that our own records could not have produced (for imports from elsewhere)."""
    try:
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise RecordSignatureError(f"The batch record is not of format {RECORD_FORMAT}.")
        key_id = record.get("key_id")
        if not (isinstance(key_id, str) and len(key_id) == 16 and all(c in "0123456789abcdef" for c in key_id)):
            raise RecordSignatureError("The batch record's key_id must be 16 lower-case hex digits.")
        rebuilt = build_record(
            producer=Producer.from_input(record["producer"]), product=Product.from_input(record["product"]),
            farm_areas=[FarmArea.from_input(area) for area in record["farm_areas"]], batch=Batch.from_input(record["batch"]),
            key_id=key_id, signed_at=str(record["signed_at"]),
        )
    except (KeyError, TypeError, AttributeError):
        raise RecordSignatureError("The batch record lacks required parts (producer, product, farm_areas, batch, signed_at).") from None
    except ValidationError as error:
        raise RecordSignatureError(f"The batch record is not valid: {error.diagnostics()}") from None
    if rebuilt != record:
        raise RecordSignatureError("The batch record holds fields or forms this version does not produce.")


@dataclasses.dataclass(frozen=True)
class SignedBatchRecord:
    """Canonical record bytes with their signature; the digest is derived, never stored apart."""

    canonical: bytes
    signature: bytes

    @property
    def message(self) -> bytes:
        return RECORD_TAG + self.canonical

    @functools.cached_property
    def digest(self) -> bytes:
        return hashlib.sha256(self.message).digest()

    @property
    def digest_prefix(self) -> bytes:
        return self.digest[:DIGEST_PREFIX_BYTES]

    @functools.cached_property
    def record(self) -> dict[str, Any]:
        """The record as a JSON object (parsed once; treat it as read-only)."""
        record: dict[str, Any] = json.loads(self.canonical)
        return record

    @classmethod
    def sign(cls, record: dict[str, Any], private_key: Ed25519PrivateKey) -> "SignedBatchRecord":
        canonical = canonical_json(record)
        return cls(canonical, private_key.sign(RECORD_TAG + canonical))

    def verify(self, public_key: Ed25519PublicKey) -> None:
        """Raise RecordSignatureError unless *public_key* signed exactly these bytes."""
        try:
            public_key.verify(self.signature, self.message)
        except InvalidSignature:
            raise RecordSignatureError("The batch record's signature does not match its content.") from None

    def export(self) -> dict[str, Any]:
        """A self-contained JSON document for inspectors and other verifiers."""
        return {"format": EXPORT_FORMAT, "digest": self.digest.hex(),
                "record": self.canonical.decode("utf-8"), "signature": self.signature.hex()}

    @classmethod
    def from_export(cls, document: Any) -> "SignedBatchRecord":
        """Read an exported record; checks its shape and that the record is canonical."""
        if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
            raise RecordSignatureError(f"This is not an exported batch record (format {EXPORT_FORMAT}).")
        try:
            signed = cls(document["record"].encode("utf-8"), bytes.fromhex(document["signature"]))
            canonical_again = canonical_json(json.loads(signed.canonical))
        except (KeyError, AttributeError, ValueError, TypeError):
            raise RecordSignatureError("The exported batch record is damaged (record or signature unreadable).") from None
        if canonical_again != signed.canonical or document.get("digest") != signed.digest.hex():
            raise RecordSignatureError("The exported batch record is not canonical or its digest does not match.")
        return signed


@dataclasses.dataclass(frozen=True)
class StoredBatch:
    """A signed batch as a store holds it, with what has happened to it since."""

    signed: SignedBatchRecord
    origin: str
    issued: int
    recall: dict[str, str] | None

    @property
    def digest(self) -> str:
        return self.signed.digest.hex()

    @property
    def record(self) -> dict[str, Any]:
        return self.signed.record
