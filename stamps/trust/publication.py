"""What a producer (or an office) publishes to a hub, and how a hub answers (the format, without storage).

Request (``POST /api/v1/publish``, UTF-8 JSON, at most :data:`MAX_REQUEST_BYTES`)::

    {"format": "ocop-publish/1", "items": [ITEM, ...]}        1 to MAX_ITEMS items, accepted in this order

An ITEM is a DSSE envelope of an endorsement, a revocation or a recall (stamps.trust.envelope), or a signed batch
record as ``batch export`` writes it (``{"format": "ocop-signed-batch/1", "digest", "record", "signature"}``).
Each item's hash is SHA-256 over its canonical JSON (for a statement: its usual hash). The hub accepts every item
or none (one transaction); an item it already holds (the same statement hash, or a batch record with the same
digest) is answered ``held``, so publishing again is safe.

Answer 200::

    {"format": "ocop-publish-result/1", "accepted": N, "held": M,
     "items": [{"index": 0, "kind": "endorsement", "hash": "...", "status": "accepted"}, ...]}

(a batch record's entry also has its ``digest``). Refusal, with the status of :data:`REJECTIONS`::

    {"error": CODE, "message": the code's message, "detail": what exactly, "index": I or null, "hash": H or null}
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from stamps.batch_record import EXPORT_FORMAT, RECORD_FORMAT, SignedBatchRecord, build_record
from stamps.canonical import canonical_json
from stamps.errors import TrustError, ValidationError
from stamps.records import Batch, FarmArea, Producer, Product

PUBLISH_FORMAT = "ocop-publish/1"
RESULT_FORMAT = "ocop-publish-result/1"
PUBLISHED_KINDS = ("endorsement", "revocation", "recall")
BATCH_RECORD = "batch-record"  # a batch record's kind among a hub's kept statements
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_ITEMS = 2_000
MAX_ITEM_BYTES = 64 * 1024
PART_CACHE_SIZE = 4_096


class Rejection(NamedTuple):
    """How a hub answers one kind of refusal."""

    status: int
    message: str


# Every reason a hub refuses a publication: code -> HTTP status and message (the JSON error's "error" and "message").
REJECTIONS: dict[str, Rejection] = {
    "malformed": Rejection(400, "The request or one of its items is not in the publish format."),
    "too_large": Rejection(413, f"The request (at most {MAX_REQUEST_BYTES:,} bytes and {MAX_ITEMS:,} items) or one of "
                                f"its items (at most {MAX_ITEM_BYTES:,} bytes) is too large."),
    "wrong_kind": Rejection(422, "Only endorsements, revocations, recalls and batch records are published."),
    "bad_signature": Rejection(403, "A signature does not match what it signs."),
    "wrong_signer": Rejection(403, "The item is signed by another key than the one allowed to sign it."),
    "unknown_office": Rejection(403, "The item is signed by a key that is no OCOP office's in the hub's trust root."),
    "out_of_scope": Rejection(403, "An OCOP office signed outside its scope (another province, or stars it may not attest)."),
    "key_not_endorsed": Rejection(403, "No OCOP office of the hub's trust root endorses the signing key."),
    "key_revoked": Rejection(403, "The signing key was revoked."),
    "endorsement_revoked": Rejection(403, "The OCOP office withdrew its endorsement of the signing key."),
    "endorsement_expired": Rejection(403, "The signing key's endorsement is not valid today (on the hub's clock)."),
    "trust_root_expired": Rejection(403, "The hub's trust root has expired: it takes nothing a producer signed until it "
                                         "holds a current one."),
    "producer_mismatch": Rejection(422, "The batch record names another producer than the one endorsed for its key."),
    "unknown_batch": Rejection(422, "The recall names a batch the hub does not hold; publish the batch record first."),
    "replayed": Rejection(409, "The hub holds another statement of this subject with the same or a newer version."),
    "digest_prefix_taken": Rejection(409, "The hub holds another batch record with the same 80-bit digest prefix."),
    "not_a_hub": Rejection(404, "This verifier is not a hub: it holds no trust root, so it takes no publications."),
}
# Codes the chain's rules raise under another name than the hub answers with.
CODE_ALIASES = {"unknown_key": "key_not_endorsed"}


class Rejected(TrustError):
    """A publication refused as a whole, naming the item (index in the request, hash) that was refused, if any."""

    def __init__(self, message: str, *, code: str, index: int | None = None, item_hash: str | None = None) -> None:
        code = CODE_ALIASES.get(code, code)
        super().__init__(message, code=code if code in REJECTIONS else "malformed")
        self.index = index
        self.item_hash = item_hash

    @property
    def status(self) -> int:
        return REJECTIONS[self.code].status

    def to_json(self) -> dict[str, Any]:
        return {"error": self.code, "message": REJECTIONS[self.code].message, "detail": self.message,
                "index": self.index, "hash": self.item_hash}

    @classmethod
    def of(cls, error: TrustError, index: int, item: Any) -> "Rejected":
        return cls(error.message, code=error.code, index=index, item_hash=item_hash(item))


def item_hash(item: Any) -> str:
    """SHA-256 of an item's canonical JSON (of its sorted JSON when it cannot be canonical: a malformed item)."""
    try:
        data = canonical_json(item)
    except (TypeError, ValueError):
        data = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")
    return hashlib.sha256(data).hexdigest()


def request_body(items: list[Any]) -> bytes:
    """A publish request of *items* (envelopes and exported batch records, in order), as sent."""
    return json.dumps({"format": PUBLISH_FORMAT, "items": items}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_request(body: bytes) -> list[Any]:
    """The items of a publish request; Rejected (``too_large`` or ``malformed``) for anything else."""
    if len(body) > MAX_REQUEST_BYTES:
        raise Rejected(f"The request has {len(body):,} bytes; at most {MAX_REQUEST_BYTES:,} are taken.", code="too_large")
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise Rejected("The request is not UTF-8 JSON.", code="malformed") from None
    if not (isinstance(document, dict) and set(document) == {"format", "items"} and document["format"] == PUBLISH_FORMAT
            and isinstance(document["items"], list) and document["items"]):
        raise Rejected(f'The request must be {{"format": "{PUBLISH_FORMAT}", "items": [...]}} with at least one item.',
                       code="malformed")
    if len(document["items"]) > MAX_ITEMS:
        raise Rejected(f"The request has {len(document['items']):,} items; at most {MAX_ITEMS:,} are taken.",
                       code="too_large")
    return document["items"]


def is_batch_record(item: Any) -> bool:
    return isinstance(item, dict) and item.get("format") == EXPORT_FORMAT


def batch_record_json(signed: SignedBatchRecord) -> bytes:
    """A batch record's export as the hub keeps it (its canonical JSON; the item's hash is over these bytes)."""
    return canonical_json(signed.export())


def checked_record_json(signed: SignedBatchRecord) -> bytes:
    """:func:`batch_record_json` of a record :class:`RecordReader` has read: its text is canonical, hence NFC, and the
    export's other members are ASCII, so json's C encoder writes the same bytes."""
    return _plain_json(signed.export())


class RecordReader:
    """Exported batch records checked as ``batch import`` checks them (the digest named, canonical text, every field by
    the records' rules), with the part a producer's batches share (its producer, product and farm areas, under one
    key) validated once per distinct text. Keeps at most PART_CACHE_SIZE of them; safe to share between threads."""

    def __init__(self) -> None:
        self._shared: dict[bytes, tuple[Any, Any, tuple[Any, ...]]] = {}

    def check(self, signed: SignedBatchRecord, claimed_digest: str) -> None:
        """TrustError ``malformed`` unless *signed* (from :func:`unchecked_record`) is a record our records could have
        written, with the digest its export claims (its signature is not checked here)."""
        if signed.digest.hex() != claimed_digest:
            raise _malformed("the batch record's digest does not match its record")
        try:
            rebuilt = self._rebuilt(signed.record, signed.canonical)
        except (ValueError, RecursionError):
            raise _malformed("the batch record is not JSON") from None
        if _plain_json(rebuilt) != signed.canonical:
            raise _malformed("the batch record is not in canonical form, or holds fields or forms this version does not produce")

    def _rebuilt(self, record: Any, text: bytes) -> dict[str, Any]:
        """The record as our records would write it (stamps.batch_record.check_record, with the shared part remembered)."""
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise _malformed(f"the batch record is not of format {RECORD_FORMAT}")
        key_id = record.get("key_id")
        if not (isinstance(key_id, str) and len(key_id) == 16 and all(c in "0123456789abcdef" for c in key_id)):
            raise _malformed("the batch record's key_id must be 16 lower-case hex digits")
        try:
            producer, product, areas = self._shared_part(record, text)
            return build_record(producer=producer, product=product, farm_areas=list(areas),
                                batch=Batch.from_input(record["batch"]), key_id=key_id, signed_at=str(record["signed_at"]))
        except (KeyError, TypeError, AttributeError):
            raise _malformed("the batch record lacks required parts (producer, product, farm_areas, batch, signed_at)") from None
        except ValidationError as error:
            raise _malformed(f"the batch record is not valid: {error.diagnostics()}") from None

    def _shared_part(self, record: dict[str, Any], text: bytes) -> tuple[Any, Any, tuple[Any, ...]]:
        """The producer, product and farm areas, validated, found by the text from ``"farm_areas":`` to
        ``,"signed_at":`` (in canonical order they lie between the batch and the signing time, with the format and
        the key id). Whatever text this finds, the record is accepted only if its whole text is the canonical form
        of what is rebuilt from these parts (see check), so a look-up by text can never let a wrong part through."""
        start, end = text.find(b'"farm_areas":'), text.find(b',"signed_at":')
        key = text[start:end] if 0 <= start < end else b""
        found = self._shared.get(key) if key else None
        if found is None:
            found = (_Part(Producer.from_input(record["producer"]).to_dict()), _Part(Product.from_input(record["product"]).to_dict()),
                     tuple(_Part(FarmArea.from_input(area).to_dict()) for area in record["farm_areas"]))
            if key:
                if len(self._shared) >= PART_CACHE_SIZE:
                    self._shared.clear()
                self._shared[key] = found
        return found


class _Part(NamedTuple):
    """A validated record part as build_record takes it (its to_dict), kept without the value object behind it."""

    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.data


def unchecked_record(document: Any) -> SignedBatchRecord:
    """The signed record an export holds, read but not checked (its digest is what the hub looks up first)."""
    if not (isinstance(document, dict) and set(document) == {"format", "digest", "record", "signature"}
            and all(isinstance(document[name], str) for name in ("digest", "record", "signature"))):
        raise _malformed("an exported batch record has exactly format, digest, record and signature, as text")
    if len(document["record"]) > MAX_ITEM_BYTES:
        raise TrustError(f"A batch record may be at most {MAX_ITEM_BYTES:,} bytes.", code="too_large")
    try:
        signature = bytes.fromhex(document["signature"])
        canonical = document["record"].encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        raise _malformed("the batch record's text or signature is unreadable") from None
    if len(signature) != 64:
        raise _malformed("an Ed25519 signature is 64 bytes")
    return SignedBatchRecord(canonical, signature)


def _plain_json(record: dict[str, Any]) -> bytes:
    """Canonical JSON of a record our records wrote: its keys are ASCII field names and its values text in NFC,
    bounded integers, lists and objects (records hold no floats and no null), so sorting the keys as Python does
    is RFC 8785's order, and json's C encoder writes the canonical bytes (stamps.canonical checks each value in
    Python: five times slower, and a hub reads thousands of records a second)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _malformed(what: str) -> TrustError:
    return TrustError(f"The item is malformed: {what}.", code="malformed")


__all__ = ["BATCH_RECORD", "MAX_ITEMS", "MAX_ITEM_BYTES", "MAX_REQUEST_BYTES", "PUBLISHED_KINDS", "PUBLISH_FORMAT",
           "REJECTIONS", "RESULT_FORMAT", "RecordReader", "Rejected", "Rejection",
           "batch_record_json", "checked_record_json", "is_batch_record", "item_hash", "read_request", "request_body", "unchecked_record"]
