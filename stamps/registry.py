"""Keeping the cooperative's records and its signed batches in the store (any engine: no SQL here)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Hashable, Mapping, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_id
from stamps.truststore import TrustStore
from stamps import validation as v
from stamps.batch_record import SignedBatchRecord, StoredBatch, build_record, check_record
from stamps.errors import NotFoundError, StampError, ValidationError
from stamps.records import RECORD_TABLES, Batch, FarmArea, Producer, Product, edited, image_kind
from stamps.store import MAX_RECORD_ID, RecordChange, Store, utc_now

RECALL_KINDS = ("voluntary", "mandatory")
RECORD_CACHE_SIZE = 1024
LOOKUP_CACHE_SIZE = 1024


RECORD_KINDS: dict[str, type[Producer] | type[FarmArea] | type[Product]] = {
    "producers": Producer, "farm_areas": FarmArea, "products": Product}
Record = TypeVar("Record", Producer, FarmArea, Product)


def add_producer(store: Store, data: Mapping[str, Any]) -> int:
    producer = Producer.from_input(data)
    return store.add_record("producers", {"name": producer.name}, producer.to_dict())


def add_farm_area(store: Store, producer_id: int, data: Mapping[str, Any]) -> int:
    area = FarmArea.from_input(data)
    store.record_row("producers", producer_id)
    return store.add_record("farm_areas", {"producer_id": producer_id, "name": area.name}, area.to_dict())


def add_product(store: Store, producer_id: int, data: Mapping[str, Any], image: bytes | None = None) -> int:
    fields, image_columns = _with_image(data, image)
    product = Product.from_input(fields)
    store.record_row("producers", producer_id)
    values = {"producer_id": producer_id, "name": product.name, **image_columns}
    return store.add_record("products", values, product.to_dict())


def _with_image(data: Mapping[str, Any], image: bytes | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The product fields with the image's hash, and the image columns (none when no image is given)."""
    fields = dict(data)
    if "image_sha256" in fields:
        raise ValidationError("image_sha256", "is computed from the image file (--image); do not give it")
    if image is None:
        return fields, {}
    fields["image_sha256"] = hashlib.sha256(image).hexdigest()
    return fields, {"image": image, "image_type": image_kind(image)}


def product_image(store: Store, sha256: str) -> tuple[bytes, str] | None:
    """The product thumbnail whose SHA-256 a signed record names, with its media type; None if not held here."""
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        return None
    found = store.product_image(sha256)
    if found is None or hashlib.sha256(found[0]).hexdigest() != sha256:
        return None
    return found


def edit_producer(store: Store, producer_id: int, changes: Mapping[str, Any]) -> None:
    """Correct a producer: *changes* replace the stored fields, the whole record is checked again."""
    _edit(store, "producers", producer_id, changes)


def edit_farm_area(store: Store, area_id: int, changes: Mapping[str, Any], producer_id: int | None = None) -> None:
    """Correct a farm area (and move it to producer *producer_id* when given)."""
    _edit(store, "farm_areas", area_id, changes, {} if producer_id is None else {"producer_id": producer_id})


def edit_product(store: Store, product_id: int, changes: Mapping[str, Any], producer_id: int | None = None,
                 image: bytes | None = None) -> None:
    """Correct a product (its producer and its thumbnail too, when given)."""
    fields, columns = _with_image(changes, image)
    _edit(store, "products", product_id, fields, {**columns, **({} if producer_id is None else {"producer_id": producer_id})})


def _edit(store: Store, table: str, record_id: int, changes: Mapping[str, Any], columns: Mapping[str, Any] = {}) -> None:
    """Validate the stored record with *changes* over it and write it back, in one transaction.

    Signed batches are not touched: each holds the snapshot of its records made when it was signed.
    """
    def rewrite(stored: dict[str, Any]) -> RecordChange:
        record = RECORD_KINDS[table].from_input(edited(stored, changes))
        if "producer_id" in columns:
            store.record_row("producers", columns["producer_id"])
        return {**columns, "name": record.name}, record.to_dict()

    store.edit_record(table, record_id, rewrite)


def producer(store: Store, producer_id: int) -> Producer:
    return _stored_record(store, "producers", producer_id, Producer)[1]


def farm_area(store: Store, area_id: int) -> tuple[int, FarmArea]:
    row, area = _stored_record(store, "farm_areas", area_id, FarmArea)
    return int(row["producer_id"]), area


def product(store: Store, product_id: int) -> tuple[int, Product]:
    row, found = _stored_record(store, "products", product_id, Product)
    return int(row["producer_id"]), found


def _stored_record(store: Store, table: str, record_id: int, kind: type[Record]) -> tuple[dict[str, Any], Record]:
    """A stored row and its record; one that breaks a rule made since it was entered names the edit that fixes it."""
    row = store.record_row(table, record_id)
    label, command = RECORD_TABLES[table]
    try:
        return row, kind.from_input(row["data"])
    except ValidationError as error:
        option = f"--{error.field.replace('_', '-')} ..." if error.field in kind.FIELDS else "--from-json FILE"
        raise ValidationError(f"{label} {record_id} {error.field}", error.rule,
                              hint=f"It was entered before this rule; correct it with "
                                   f"'ocop-stamps {command} edit {record_id} {option}', then try again.") from None


def create_batch(
    store: Store, private_key: Ed25519PrivateKey, product_id: int, farm_area_ids: list[int],
    data: Mapping[str, Any], *, signed_at: str | None = None,
) -> StoredBatch:
    """Validate, snapshot, sign and store a batch. The signed record never changes afterwards."""
    batch = Batch.from_input(data)
    producer_id, the_product = product(store, product_id)
    areas = []
    for area_id in _farm_area_ids(farm_area_ids):
        owner, area = farm_area(store, area_id)
        if owner != producer_id:
            raise ValidationError("farm_area_ids", f"farm area {area_id} belongs to another producer than product {product_id}")
        areas.append(area)
    record = build_record(producer=producer(store, producer_id), product=the_product, farm_areas=areas, batch=batch,
                          key_id=key_id(private_key.public_key()), signed_at=signed_at or utc_now())
    signed = SignedBatchRecord.sign(record, private_key)
    store.insert_batch(signed, origin="local")
    return find_batch(store, signed.digest.hex())


def batch_warnings(store: Store, batch: StoredBatch, today: dt.date | None = None) -> list[str]:
    """Warnings about a batch just signed (it stays signed): dates that turn its stamps amber, a reused lot code."""
    today = today or dt.date.today()
    record = batch.record
    expiry = dt.date.fromisoformat(record["batch"]["expiry_date"])
    warnings = [] if expiry >= today else [
        f"The batch's expiry date {expiry} is already past: its stamps verify as 'genuine, warning: past its expiry date'."]
    warnings += _ocop_warnings(record["product"], expiry, today)
    return warnings + _lot_code_warnings(store, batch)


def _ocop_warnings(product: dict[str, Any], expiry: dt.date, today: dt.date) -> list[str]:
    if "ocop_expires" not in product:
        return []
    certificate, ends = product["ocop_certificate_no"], dt.date.fromisoformat(product["ocop_expires"])
    amber = "its stamps verify as 'genuine, warning: OCOP certificate expired'"
    if ends < today:
        return [f"The product's OCOP certificate {certificate} expired on {ends}: {amber}. "
                "Record the renewed certificate (product edit) and sign a new batch."]
    if ends < expiry:
        return [f"The product's OCOP certificate {certificate} expires on {ends}, before the batch does ({expiry}): "
                f"from then on {amber}. Renew it in time; batches signed after the renewal carry the new one."]
    return []


def _lot_code_warnings(store: Store, batch: StoredBatch) -> list[str]:
    """A lot code another batch of this instance has: commands that take a lot code cannot tell the two apart."""
    lot = batch.record["batch"]["lot_code"]
    others = [prefix for prefix in store.batch_prefixes(lot_code=lot) if prefix != batch.signed.digest_prefix.hex()]
    if not others:
        return []
    earlier = ", ".join(prefix[:16] for prefix in others)  # a digest prefix is the digest's first 20 hex digits
    return [f"Lot code {lot} is also used by batch {earlier} in this instance, so 'ocop-stamps issue {lot}' cannot "
            f"tell them apart: name this batch by its digest {batch.digest[:16]} (or use a new lot code)."]


def _farm_area_ids(values: Any) -> list[int]:
    if not isinstance(values, (list, tuple)):
        raise ValidationError("farm_area_ids", "must be a list of farm area ids")
    ids = [v.integer(value, "farm_area_ids", minimum=1, maximum=MAX_RECORD_ID) for value in values]
    return list(dict.fromkeys(ids))


def find_batch(store: Store, reference: str) -> StoredBatch:
    """A batch by digest (or a prefix of at least 8 hex digits) or by its lot code."""
    prefixes = _matching_prefixes(store, reference.strip())
    if len(prefixes) != 1:
        problem = "matches several batches; give more of the digest" if prefixes else "is not a known batch"
        raise NotFoundError(f"{reference!r} {problem}.", hint="List batches with 'ocop-stamps batch list'.")
    return _stored_batch(store, prefixes[0])


def batch_by_prefix(store: Store, digest_prefix: bytes) -> StoredBatch | None:
    """The batch a stamp names, or None when this store does not know it.

    One query reads what can change (serials issued, a recall) and the record's
    digest and signature, never the record's text: a signed record never
    changes, so it is read and parsed once per process (``_SIGNED_RECORDS``).
    """
    state = store.batch_state(digest_prefix.hex())
    if state is None:
        return None
    signed = _SIGNED_RECORDS.get(store, state.digest, state.signature)
    if signed is None:
        return None
    return StoredBatch(signed, state.origin, state.issued, state.recall)


class _SignedRecordCache:
    """Parsed signed records by (digest, signature), bounded; shared by every store and thread of the process.

    Only a record whose text hashes to its digest is kept, so an entry is
    fully named by its key (content-addressed): two instances holding the same
    digest hold the same record, and a damaged row is never remembered as the
    real one (it is parsed again at each look-up, and then fails its checks).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._records: dict[tuple[str, str], SignedBatchRecord] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, digest: str, signature: str) -> SignedBatchRecord | None:
        key = (digest, signature)
        found = self._records.get(key)
        if found is not None:
            return found
        text = store.batch_record_text(digest)
        if text is None:
            return None
        found = SignedBatchRecord(text.encode("utf-8"), bytes.fromhex(signature))
        if found.digest.hex() == digest:
            with self._lock:
                if len(self._records) >= self._size:
                    del self._records[next(iter(self._records))]  # the oldest: a verifier serves few batches at once
                self._records[key] = found
        return found


_SIGNED_RECORDS = _SignedRecordCache(RECORD_CACHE_SIZE)


class BatchLookup:
    """:func:`batch_by_prefix` for a long-running verifier: answers from memory while the store has not changed.

    What was found for a digest prefix (a batch, or None) is kept under the
    store's change mark (:meth:`Store.change_mark`), so a steady stream of
    scans costs one pragma here instead of a query; a recall, an issue or an
    import by the CLI (another connection) or a write through this store moves
    the mark, and the next scan reads again. One per store, hence per thread.

    A caller that takes the mark itself anyway (the verifier server, once per
    request) makes the look-up with ``follows_store=False`` and hands it the
    mark through :meth:`follow`, so a scan reads the pragma once, not twice.
    """

    def __init__(self, store: Store, size: int = LOOKUP_CACHE_SIZE, *, follows_store: bool = True) -> None:
        self._store = store
        self._size = size
        self._follows_store = follows_store
        self._mark: Hashable = None
        self._found: dict[bytes, StoredBatch | None] = {}

    def follow(self, mark: Hashable) -> None:
        """Forget what was found if *mark* (taken before any read that relies on it) moved."""
        if mark != self._mark:
            self._found.clear()
            self._mark = mark

    def __call__(self, digest_prefix: bytes) -> StoredBatch | None:
        if self._follows_store:
            self.follow(self._store.change_mark())  # taken before reading: a change during the read moves it for next time
        if digest_prefix in self._found:
            return self._found[digest_prefix]
        if len(self._found) >= self._size:
            self._found.clear()
        found = self._found[digest_prefix] = batch_by_prefix(self._store, digest_prefix)
        return found


def list_batches(store: Store) -> list[StoredBatch]:
    return [_stored_batch(store, prefix) for prefix in store.batch_prefixes()]


def _matching_prefixes(store: Store, reference: str) -> list[str]:
    """The digest prefixes of the batches *reference* names (a digest prefix first, else a lot code)."""
    lowered = reference.lower()
    if len(lowered) >= 8 and all(char in "0123456789abcdef" for char in lowered):
        found = store.batch_prefixes(digest_start=lowered)
        if found:
            return found
    return store.batch_prefixes(lot_code=reference)


def _stored_batch(store: Store, digest_prefix: str) -> StoredBatch:
    """The full batch behind a digest prefix that is known to be in the store."""
    found = batch_by_prefix(store, bytes.fromhex(digest_prefix))
    assert found is not None
    return found


def recall_batch(store: Store, reference: str, reason: str, kind: str = "voluntary", on: dt.date | None = None) -> StoredBatch:
    """Record a recall (thu hồi): every stamp of the batch then verifies as recalled."""
    batch = find_batch(store, reference)
    cleaned_reason = v.required_text(reason, "reason", max_length=500)
    cleaned_kind = v.choice(kind, "kind", RECALL_KINDS)
    earlier = store.add_recall(batch.digest, cleaned_kind, cleaned_reason, (on or dt.date.today()).isoformat())
    if earlier:
        raise StampError(f"Batch {batch.digest[:12]} was already recalled on {earlier}.")
    return find_batch(store, batch.digest)


def import_batch(store: Store, document: Any) -> StoredBatch:
    """Store a batch exported by another instance, after checking it against the trust store."""
    signed = SignedBatchRecord.from_export(document)
    check_record(signed.record)
    trusted = TrustStore(store).get(signed.record["key_id"])
    signed.verify(trusted.public_key)
    store.insert_batch(signed, origin="imported")
    return find_batch(store, signed.digest.hex())


def load_json_file(path: Path) -> Any:
    """A JSON document from a UTF-8 file; a clear error for anything else."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise StampError(f"{path} is not UTF-8 text.", hint="Save it as UTF-8 (e.g. 'Save as... UTF-8' in your editor).") from None
    except json.JSONDecodeError as error:
        raise StampError(f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}).") from None
    except (ValueError, RecursionError):
        raise StampError(f"{path} is not JSON this tool can read (too deeply nested or a number too long).") from None



def verify_batch_signatures(store: Store) -> int:
    """Check every stored batch record against its signature and the trusted key that made it; returns how many
    were checked, or raises a StampError naming the first that does not verify."""
    trust = TrustStore(store)
    batches = list_batches(store)
    for batch in batches:
        try:
            batch.signed.verify(trust.get(batch.record["key_id"]).public_key)
        except StampError as error:
            raise StampError(f"Batch {batch.digest[:16]} (lot {batch.record['batch']['lot_code']}) does not verify: "
                             f"{error.message}") from None
    return len(batches)
