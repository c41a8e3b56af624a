"""The store's contract (stamps/store/interface.py), checked on every engine: SQLite, and PostgreSQL when
``$OCOP_STAMPS_TEST_POSTGRES`` names a throw-away database (see tests/store_engines.py).

Every test reaches the store through its interface only, so they say what a store does, not how its SQL reads;
a test that passes on one engine and fails on the other is an engine that breaks the contract. Rows are made
directly (a signed batch, a scan, a visit) rather than through the services that normally write them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import generate_private_key
from stamps.batch_record import SignedBatchRecord
from stamps.code import SerialRange
from stamps.errors import (InstanceError, IssuanceError, NotFoundError, StampError, StoreError, StoreUnavailable,
                           ValidationError)
from stamps.records import FarmArea, Producer, Product
from stamps.scans import KnownUnit, Scan, UnitCount, Visit
from stamps.trust.envelope import StoredStatement
from stamps.store import MAX_RECORD_ID, TABLES, BatchState, SerialAllowance, Store, UnwrittenRange, open_store
from store_engines import (FARM_AREA, PRODUCER, PRODUCT, Location, allocate_one_at_a_time, allow_all,
                           engine_of, key_row, other_engine, png_image, postgres_url, record_same_visits, run_together,
                           signed_batch, trusted, url_password, utc_iso, watch_batch, with_search_path)

PREFIX = "0123456789abcdef0123"  # a unit's batch, as scans name it (20 hex digits); scans need no stored batch
OTHER_PREFIX = "fedcba9876543210fedc"
DAY = "2026-11-20"
NEXT_DAY = "2026-11-21"


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return generate_private_key()


def stored(store: Store, key: Ed25519PrivateKey, lot_code: str = "LOT-1", quantity: int = 100) -> SignedBatchRecord:
    signed = signed_batch(key, lot_code, quantity)
    store.insert_batch(signed, "local")
    return signed


def scan(serial: int, at: str, *, prefix: str = PREFIX, counted: bool = True) -> Scan:
    return Scan(prefix, serial, at, "genuine", "test/1.0", counted)


def visit(serial: int, at: str, source: str = "place-a", *, prefix: str = PREFIX) -> Visit:
    return Visit(prefix, serial, at[:10], source, at)


def add_producer(store: Store, **changes: Any) -> int:
    producer = Producer.from_input({**PRODUCER, **changes})
    return store.add_record("producers", {"name": producer.name}, producer.to_dict())


def add_product(store: Store, producer_id: int, image: bytes | None = None, **changes: Any) -> int:
    fields = {**PRODUCT, **changes}
    columns: dict[str, Any] = {}
    if image is not None:
        fields["image_sha256"] = hashlib.sha256(image).hexdigest()
        columns = {"image": image, "image_type": "image/png"}
    product = Product.from_input(fields)
    values = {"producer_id": producer_id, "name": product.name, **columns}
    return store.add_record("products", values, product.to_dict())


def add_farm_area(store: Store, producer_id: int, **changes: Any) -> int:
    area = FarmArea.from_input({**FARM_AREA, **changes})
    return store.add_record("farm_areas", {"producer_id": producer_id, "name": area.name}, area.to_dict())


def wait_for_next_second() -> None:
    """Rows are stamped to the second: what is made after this is strictly newer than what was made before."""
    time.sleep(1.05 - time.time() % 1)


def never(*_: Any) -> Any:
    raise AssertionError("not to be called")


# opening ---------------------------------------------------------------------------------------------------------
def test_engine_and_location(store: Store, store_location: Location) -> None:
    assert store.engine == engine_of(store_location)
    assert isinstance(store.location, str) and store.location
    password = url_password(str(store_location))
    if password:
        assert f":{password}@" not in store.location, "a store's location is shown: it must not hold the password"


def test_schema_version_is_kept(store: Store, store_location: Location, open_stores: Callable[..., Store]) -> None:
    version = store.schema_version()
    assert isinstance(version, int) and version >= 1
    assert open_stores().schema_version() == version
    assert open_stores(create=True).schema_version() == version


def test_missing_store_is_not_made_without_create(store_location: Location) -> None:
    with pytest.raises(StampError) as refused:
        open_store(store_location)
    assert isinstance(refused.value, (InstanceError, StoreError))
    made = open_store(store_location, create=True)  # and nothing half-made stands in the way
    try:
        assert made.setting("base_url") is None
    finally:
        made.close()


def test_create_again_keeps_the_data(store: Store, store_location: Location, open_stores: Callable[..., Store]) -> None:
    store.set_setting("base_url", "https://truyxuat.example.vn")
    again = open_stores(create=True)
    assert again.setting("base_url") == "https://truyxuat.example.vn"


# settings ----------------------------------------------------------------------------------------------------------
def test_settings(store: Store, open_stores: Callable[..., Store]) -> None:
    assert store.setting("base_url") is None
    store.set_setting("base_url", "https://truyxuat.example.vn")
    store.set_setting("note", "Hợp tác xã — ghi chú")
    store.set_setting("base_url", "https://other.example.vn")  # a second set replaces the first
    assert store.setting("base_url") == "https://other.example.vn"
    assert store.setting("note") == "Hợp tác xã — ghi chú"
    assert open_stores().setting("base_url") == "https://other.example.vn"


# transactions ------------------------------------------------------------------------------------------------------
def test_transaction_commits_at_its_end(store: Store, open_stores: Callable[..., Store]) -> None:
    other = open_stores()
    with store.transaction():
        store.set_setting("a", "1")
        with store.transaction():  # an inner transaction joins the outer one
            store.set_setting("b", "2")
        producer_id = add_producer(store)
        assert other.setting("a") is None and other.setting("b") is None, "seen before the transaction ended"
    assert (other.setting("a"), other.setting("b")) == ("1", "2")
    assert other.record_row("producers", producer_id)["name"] == PRODUCER["name"]


def test_transaction_that_raises_leaves_nothing(store: Store, key: Ed25519PrivateKey,
                                                open_stores: Callable[..., Store]) -> None:
    with pytest.raises(RuntimeError, match="stop"):
        with store.transaction():
            store.set_setting("a", "1")
            add_producer(store)
            with store.transaction():
                store.set_setting("b", "2")
            signed = stored(store, key)
            assert store.allocate_serials(signed.digest.hex(), 5, "/out/.staging", allow_all) == SerialRange(1, 5)
            store.add_trusted_key(trusted(key))
            raise RuntimeError("stop")
    for reader in (store, open_stores()):
        assert reader.setting("a") is None and reader.setting("b") is None
        assert reader.record_rows("producers") == []
        assert reader.batch_prefixes() == [] and reader.trusted_keys() == []
        assert reader.table_count("serial_ranges") == 0
    store.set_setting("a", "after")  # the store is usable after a rollback
    assert store.setting("a") == "after"


# records -----------------------------------------------------------------------------------------------------------
def test_add_record_and_read_rows(store: Store, open_stores: Callable[..., Store]) -> None:
    first = add_producer(store)
    second = add_producer(store, name="Hộ kinh doanh Mật ong Bình Liêu", kind="household")
    area = add_farm_area(store, second)
    assert isinstance(first, int) and isinstance(second, int) and first != second
    row = store.record_row("producers", second)
    assert row["id"] == second and row["name"] == "Hộ kinh doanh Mật ong Bình Liêu"
    assert row["data"] == Producer.from_input({**PRODUCER, "name": row["name"], "kind": "household"}).to_dict()
    assert store.record_row("farm_areas", area)["producer_id"] == second
    assert store.record_row("farm_areas", area)["data"]["code"] == FARM_AREA["code"]
    rows = open_stores().record_rows("producers")
    assert [row["id"] for row in rows] == sorted([first, second])
    assert [row["data"]["name"] for row in rows] == [PRODUCER["name"], "Hộ kinh doanh Mật ong Bình Liêu"]
    assert store.record_rows("products") == []


@pytest.mark.parametrize("record_id", [0, -1, 999, MAX_RECORD_ID, MAX_RECORD_ID + 1, 2**64])
def test_record_not_found(store: Store, record_id: int) -> None:
    add_producer(store)
    with pytest.raises(NotFoundError):
        store.record_row("producers", record_id)
    with pytest.raises(NotFoundError):
        store.edit_record("producers", record_id, never)


def test_edit_record_reads_other_records_inside_its_transaction(store: Store,
                                                                open_stores: Callable[..., Store]) -> None:
    old_owner = add_producer(store)
    new_owner = add_producer(store, name="HTX Hợp Tiến")
    product_id = add_product(store, old_owner)
    seen: list[dict[str, Any]] = []

    def rewrite(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        seen.append(data)
        owner = store.record_row("producers", new_owner)  # the services check the new owner inside the edit
        assert store.record_rows("farm_areas") == []
        changed = Product.from_input({**data, "name": f"Trà của {owner['name']}"}).to_dict()
        return {"name": changed["name"], "producer_id": owner["id"]}, changed

    store.edit_record("products", product_id, rewrite)
    assert seen == [Product.from_input(PRODUCT).to_dict()]
    for reader in (store, open_stores()):
        row = reader.record_row("products", product_id)
        assert (row["name"], row["producer_id"], row["data"]["name"]) == ("Trà của HTX Hợp Tiến", new_owner,
                                                                           "Trà của HTX Hợp Tiến")
        assert row["data"]["ocop_certificate_no"] == PRODUCT["ocop_certificate_no"]


def test_edit_record_refused_changes_nothing(store: Store) -> None:
    producer_id = add_producer(store)
    before = store.record_row("producers", producer_id)

    def refuse(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        store.set_setting("inside", "the edit")  # joins the edit's transaction, so it is undone with it
        raise ValidationError("phone", "must be 8 to 15 digits")

    with pytest.raises(ValidationError):
        store.edit_record("producers", producer_id, refuse)
    assert store.record_row("producers", producer_id) == before
    assert store.setting("inside") is None


def test_product_image(store: Store) -> None:
    producer_id = add_producer(store)
    image = png_image(1)
    add_product(store, producer_id)  # one without an image
    add_product(store, producer_id, image=image, name="Trà có ảnh")
    assert store.product_image(hashlib.sha256(image).hexdigest()) == (image, "image/png")
    assert store.product_image(hashlib.sha256(png_image(2)).hexdigest()) is None
    assert store.product_image("0" * 64) is None


# batches -----------------------------------------------------------------------------------------------------------
def test_insert_batch_and_its_state(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    expected = BatchState(signed.digest.hex(), signed.signature.hex(), "local", 0, None)
    assert store.batch_state(signed.digest_prefix.hex()) == expected
    assert open_stores().batch_state(signed.digest_prefix.hex()) == expected
    imported = signed_batch(key, "LOT-2")
    store.insert_batch(imported, "imported")
    assert store.batch_state(imported.digest_prefix.hex()).origin == "imported"  # type: ignore[union-attr]
    assert store.batch_state("00" * 10) is None


def test_insert_batch_twice_is_refused(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    for inserter in (store, open_stores()):
        with pytest.raises(StampError, match="already in the store"):
            inserter.insert_batch(signed, "imported")
    assert store.batch_prefixes() == [signed.digest_prefix.hex()]
    assert store.batch_state(signed.digest_prefix.hex()).origin == "local"  # type: ignore[union-attr]
    assert store.table_count("batches") == 1


def test_insert_batches_stores_many_in_one_call_and_reads_their_digests(store: Store, key: Ed25519PrivateKey,
                                                                         open_stores: Callable[..., Store]) -> None:
    records = [signed_batch(key, f"LOT-{number}") for number in range(7)]
    store.insert_batches(records, "hub")
    reader = open_stores()
    assert [reader.batch_state(signed.digest_prefix.hex()) for signed in records] == [
        BatchState(signed.digest.hex(), signed.signature.hex(), "hub", 0, None) for signed in records]
    prefixes = [signed.digest_prefix.hex() for signed in records] + ["00" * 10]
    assert reader.batch_digests(prefixes) == {signed.digest_prefix.hex(): signed.digest.hex() for signed in records}
    assert reader.batch_digests([]) == {}
    store.insert_batches([], "hub")


@pytest.mark.parametrize("clash", ["held", "twice in the call"])
def test_insert_batches_with_one_clash_stores_none_of_them(store: Store, key: Ed25519PrivateKey, clash: str) -> None:
    held = stored(store, key, "LOT-HELD")
    fresh = [signed_batch(key, f"LOT-{number}") for number in range(3)]
    given = [*fresh, held] if clash == "held" else [*fresh, fresh[1]]
    with pytest.raises(StampError, match="already in the store"):
        store.insert_batches(given, "hub")
    assert store.batch_digests([signed.digest_prefix.hex() for signed in fresh]) == {}
    assert store.table_count("batches") == 1


def test_batch_record_text(store: Store, key: Ed25519PrivateKey) -> None:
    signed = stored(store, key)
    text = store.batch_record_text(signed.digest.hex())
    assert text == signed.canonical.decode("utf-8")
    assert "Điện Biên" in text  # type: ignore[operator]
    assert SignedBatchRecord(text.encode("utf-8"), signed.signature).digest == signed.digest  # type: ignore[union-attr]
    assert store.batch_record_text("00" * 32) is None


def test_batch_prefixes_by_digest_start_and_lot_code(store: Store, key: Ed25519PrivateKey) -> None:
    batches = [stored(store, key, "LOT-A"), stored(store, key, "LOT-B"), stored(store, key, "LOT-B/2")]
    a, b, b2 = (batch.digest_prefix.hex() for batch in batches)
    assert sorted(store.batch_prefixes()) == sorted([a, b, b2])
    for batch in batches:
        digest = batch.digest.hex()
        for length in (4, 12, 64):
            others = [other for other in batches if other.digest.hex().startswith(digest[:length])]
            assert sorted(store.batch_prefixes(digest_start=digest[:length])) == sorted(
                other.digest_prefix.hex() for other in others)
    assert store.batch_prefixes(lot_code="LOT-B") == [b]
    assert store.batch_prefixes(lot_code="LOT-B/2") == [b2]
    assert store.batch_prefixes(lot_code="LOT") == []
    assert store.batch_prefixes(lot_code="lot-a") == []  # lot codes match exactly
    assert store.batch_prefixes(digest_start="x") == []


def test_batches_and_keys_come_oldest_first(store: Store, key: Ed25519PrivateKey) -> None:
    """Made in two different seconds, the older first although its digest (and key id) sorts after the newer's."""
    candidates = sorted((signed_batch(key, f"LOT-{n}") for n in range(4)), key=lambda signed: signed.digest)
    newer, older = candidates[0], candidates[-1]
    keys = sorted((trusted(label=f"key {n}") for n in range(4)), key=lambda k: k.key_id)
    newer_key, older_key = keys[0], keys[-1]
    store.insert_batch(older, "local")
    store.add_trusted_key(older_key)
    wait_for_next_second()
    store.insert_batch(newer, "local")
    store.add_trusted_key(newer_key)
    assert store.batch_prefixes() == [older.digest_prefix.hex(), newer.digest_prefix.hex()]
    assert store.batch_prefixes(lot_code=older.record["batch"]["lot_code"]) == [older.digest_prefix.hex()]
    assert [k.key_id for k in store.trusted_keys()] == [older_key.key_id, newer_key.key_id]


def test_recall(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    digest, prefix = signed.digest.hex(), signed.digest_prefix.hex()
    assert store.add_recall(digest, "voluntary", "Sai nhãn", "2026-11-25") is None
    expected = {"kind": "voluntary", "reason": "Sai nhãn", "recalled_on": "2026-11-25"}
    assert store.batch_state(prefix).recall == expected  # type: ignore[union-attr]
    assert store.add_recall(digest, "mandatory", "again", "2026-11-28") == "2026-11-25"
    assert open_stores().add_recall(digest, "mandatory", "again", "2026-11-28") == "2026-11-25"
    assert open_stores().batch_state(prefix).recall == expected  # type: ignore[union-attr]
    assert store.table_count("recalls") == 1


# serials -----------------------------------------------------------------------------------------------------------
def test_allocate_serials_in_sequence(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key, quantity=50)
    digest = signed.digest.hex()
    seen: list[SerialAllowance] = []
    assert store.allocate_serials(digest, 10, None, seen.append) == SerialRange(1, 10)
    assert open_stores().allocate_serials(digest, 5, "run-2", seen.append) == SerialRange(11, 15)
    assert store.allocate_serials(digest, 1, None, seen.append) == SerialRange(16, 16)
    assert seen == [SerialAllowance(50, 0, False), SerialAllowance(50, 10, False), SerialAllowance(50, 15, False)]
    assert store.batch_state(signed.digest_prefix.hex()).issued == 16  # type: ignore[union-attr]


def test_refused_allocation_records_nothing(store: Store, key: Ed25519PrivateKey) -> None:
    signed = stored(store, key, quantity=20)
    digest = signed.digest.hex()
    store.allocate_serials(digest, 15, None, allow_all)

    def room_for(count: int) -> Callable[[SerialAllowance], None]:
        def check(allowance: SerialAllowance) -> None:
            if allowance.issued + count > allowance.quantity:
                raise IssuanceError(f"Only {allowance.quantity - allowance.issued} serials are left.")
        return check

    with pytest.raises(IssuanceError, match="Only 5"):
        store.allocate_serials(digest, 10, "refused-run", room_for(10))
    assert store.batch_state(signed.digest_prefix.hex()).issued == 15  # type: ignore[union-attr]
    assert store.unwritten_ranges(digest) == [UnwrittenRange(1, 15, None)]
    assert store.allocate_serials(digest, 5, None, room_for(5)) == SerialRange(16, 20)


def test_allocation_sees_a_recall(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    digest = signed.digest.hex()
    store.allocate_serials(digest, 3, None, allow_all)
    open_stores().add_recall(digest, "mandatory", "Nhiễm khuẩn", "2026-11-26")
    seen: list[SerialAllowance] = []

    def check(allowance: SerialAllowance) -> None:
        seen.append(allowance)
        allow_all(allowance)

    with pytest.raises(IssuanceError):
        store.allocate_serials(digest, 1, None, check)
    assert seen == [SerialAllowance(100, 3, True)]
    assert store.batch_state(signed.digest_prefix.hex()).issued == 3  # type: ignore[union-attr]


def test_allocation_of_an_unknown_batch(store: Store) -> None:
    with pytest.raises(StampError):
        store.allocate_serials("ab" * 32, 1, None, never)


def test_unwritten_ranges_until_marked_written(store: Store, key: Ed25519PrivateKey,
                                               open_stores: Callable[..., Store]) -> None:
    signed, other = stored(store, key), stored(store, key, "LOT-2")
    digest = signed.digest.hex()
    assert store.unwritten_ranges(digest) == []
    store.allocate_serials(digest, 10, "/out/.staging-1", allow_all)
    store.allocate_serials(digest, 10, "/out/.staging-2", allow_all)
    store.allocate_serials(digest, 10, None, allow_all)
    store.allocate_serials(other.digest.hex(), 5, "/out/.other", allow_all)
    assert open_stores().unwritten_ranges(digest) == [UnwrittenRange(1, 10, "/out/.staging-1"),
                                                      UnwrittenRange(11, 20, "/out/.staging-2"),
                                                      UnwrittenRange(21, 30, None)]
    store.mark_written(digest, SerialRange(1, 15))  # marks the ranges wholly inside only
    assert store.unwritten_ranges(digest) == [UnwrittenRange(11, 20, "/out/.staging-2"), UnwrittenRange(21, 30, None)]
    open_stores().mark_written(digest, SerialRange(1, 30))
    store.mark_written(digest, SerialRange(1, 30))  # again: nothing left to mark, no error
    assert store.unwritten_ranges(digest) == []
    assert store.unwritten_ranges(other.digest.hex()) == [UnwrittenRange(1, 5, "/out/.other")]


# the trust store ---------------------------------------------------------------------------------------------------
def test_trusted_keys_add_relabel_and_status(store: Store, open_stores: Callable[..., Store]) -> None:
    first, second = trusted(label="Khóa 2025"), trusted(label="Khóa 2026", status="retired", reason="rotated")
    assert store.trusted_keys() == []
    store.add_trusted_key(first)
    store.add_trusted_key(second)
    assert sorted(key_row(k) for k in store.trusted_keys()) == sorted([key_row(first), key_row(second)])
    store.set_key_status(first.key_id, "revoked", "Lộ khóa")
    relabelled = type(first)(first.key_id, first.public_key, "Khóa chính", "active", None)
    open_stores().add_trusted_key(relabelled)  # a new label; the status stays as it was
    (found,) = store.trusted_keys(first.key_id)
    assert key_row(found) == (first.key_id, first.public_hex, "Khóa chính", "revoked", "Lộ khóa")
    store.set_key_status(first.key_id, "active", None)
    assert key_row(store.trusted_keys(first.key_id)[0])[3:] == ("active", None)
    assert len(store.trusted_keys()) == 2


def test_trusted_keys_by_id_start(store: Store) -> None:
    keys = [trusted(label=f"key {n}") for n in range(6)]
    for k in keys:
        store.add_trusted_key(k)
    for k in keys:
        for length in (1, 4, 16):
            start = k.key_id[:length]
            assert sorted(found.key_id for found in store.trusted_keys(start)) == sorted(
                other.key_id for other in keys if other.key_id.startswith(start))
    assert store.trusted_keys("g") == []


def test_trust_generation_moves_on_every_key_change(store: Store, open_stores: Callable[..., Store]) -> None:
    k = trusted(label="first")
    generations = [store.setting("trust_generation")]
    changes: list[Callable[[], None]] = [
        lambda: store.add_trusted_key(k),
        lambda: store.add_trusted_key(type(k)(k.key_id, k.public_key, "relabelled", "active")),
        lambda: open_stores().set_key_status(k.key_id, "retired", "rotated"),
        lambda: store.add_trusted_key(trusted(label="second")),
    ]
    for change in changes:
        change()
        generations.append(store.setting("trust_generation"))
    assert all(generation is not None for generation in generations[1:])
    assert len(set(generations)) == len(generations), f"a key change left trust_generation as it was: {generations}"


# change marks ------------------------------------------------------------------------------------------------------
CHANGES: dict[str, Callable[[Store, str, str], Any]] = {
    "recall": lambda s, digest, key_id: s.add_recall(digest, "mandatory", "Nhiễm khuẩn", "2026-11-26"),
    "serials": lambda s, digest, key_id: s.allocate_serials(digest, 5, None, allow_all),
    "key status": lambda s, digest, key_id: s.set_key_status(key_id, "revoked", "Lộ khóa"),
    "new key": lambda s, digest, key_id: s.add_trusted_key(trusted(label="another")),
    "setting": lambda s, digest, key_id: s.set_setting("base_url", "https://moved.example.vn"),
}


@pytest.mark.parametrize("by", ["another store", "the same store"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_change_mark_moves_after_a_change(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store],
                                          change: str, by: str) -> None:
    signed = stored(store, key)
    signing_key = trusted(key)
    store.add_trusted_key(signing_key)
    store.allocate_serials(signed.digest.hex(), 5, None, allow_all)
    before_state = store.batch_state(signed.digest_prefix.hex())
    before_keys = [key_row(k) for k in store.trusted_keys()]
    mark = store.change_mark()
    CHANGES[change](open_stores() if by == "another store" else store, signed.digest.hex(), signing_key.key_id)
    assert store.change_mark() != mark, f"a {change} made through {by} did not move the change mark"
    after = (store.batch_state(signed.digest_prefix.hex()), [key_row(k) for k in store.trusted_keys()],
             store.setting("base_url"))
    assert after != (before_state, before_keys, None), "the change is not seen by the next read"


def test_change_mark_stays_while_nothing_changes(store: Store, key: Ed25519PrivateKey,
                                                 open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    open_stores().batch_state(signed.digest_prefix.hex())  # another store reading changes nothing
    mark = store.change_mark()
    store.batch_state(signed.digest_prefix.hex())
    store.trusted_keys()
    assert store.change_mark() == mark
    assert store.change_mark() == mark


# the scan log: day keys --------------------------------------------------------------------------------------------
class Maker:
    """A day key maker that counts its calls."""

    def __init__(self, name: str) -> None:
        self.secret = hashlib.sha256(name.encode()).digest()
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.secret


def test_day_key_is_made_once_a_day(store: Store, open_stores: Callable[..., Store]) -> None:
    first = Maker("first")
    assert store.day_key(DAY, first) == first.secret
    assert store.day_key(DAY, never) == first.secret
    assert open_stores().day_key(DAY, never) == first.secret  # another process gets the same key
    assert first.calls == 1


def test_a_new_day_key_deletes_older_ones(store: Store, open_stores: Callable[..., Store]) -> None:
    old, new = Maker("old"), Maker("new")
    store.day_key(DAY, old)
    assert open_stores().day_key(NEXT_DAY, new) == new.secret
    assert store.day_key(NEXT_DAY, never) == new.secret
    assert store.table_count("scan_keys") == 1
    assert (old.calls, new.calls) == (1, 1)


def test_an_older_day_gets_the_newest_key(store: Store) -> None:
    new = Maker("new")
    store.day_key(NEXT_DAY, new)
    late = Maker("late")  # a request that began before midnight asks for yesterday's key after today's exists
    assert store.day_key(DAY, late) == new.secret
    assert late.calls in (0, 1)  # it may be made, but it is not stored
    assert store.table_count("scan_keys") == 1
    assert store.day_key(NEXT_DAY, never) == new.secret
    assert store.day_key(DAY, Maker("later")) == new.secret
    assert store.table_count("scan_keys") == 1


# the scan log: counts ----------------------------------------------------------------------------------------------
def test_scans_and_places_are_counted(store: Store, open_stores: Callable[..., Store]) -> None:
    assert store.known_unit(PREFIX, 1, DAY, "place-a") == KnownUnit(0, None, False)
    store.record_scans([scan(1, f"{DAY}T08:00:00Z"), scan(1, f"{DAY}T08:05:00Z"), scan(2, f"{DAY}T09:00:00Z")],
                       [visit(1, f"{DAY}T08:00:00Z"), visit(2, f"{DAY}T09:00:00Z")])
    store.record_scans([scan(1, f"{DAY}T10:00:00Z")], [visit(1, f"{DAY}T10:00:00Z", "place-b")])
    for reader in (store, open_stores()):
        assert reader.unit_counts(PREFIX) == [UnitCount(1, 3, 2, f"{DAY}T08:00:00Z"),
                                              UnitCount(2, 1, 1, f"{DAY}T09:00:00Z")]
        assert reader.known_unit(PREFIX, 1, DAY, "place-a") == KnownUnit(2, f"{DAY}T08:00:00Z", True)
        assert reader.known_unit(PREFIX, 1, DAY, "place-c") == KnownUnit(2, f"{DAY}T08:00:00Z", False)
        assert reader.known_unit(PREFIX, 1, NEXT_DAY, "place-a") == KnownUnit(2, f"{DAY}T08:00:00Z", False)
        assert reader.known_unit(PREFIX, 3, DAY, "place-a") == KnownUnit(0, None, False)
        assert reader.known_unit(OTHER_PREFIX, 1, DAY, "place-a") == KnownUnit(0, None, False)
    assert store.table_count("scans") == 4


def test_a_visit_recorded_twice_counts_once(store: Store, open_stores: Callable[..., Store]) -> None:
    at = f"{DAY}T08:00:00Z"
    store.record_scans([scan(1, at)], [visit(1, at)])
    store.record_scans([scan(1, f"{DAY}T08:01:00Z")], [visit(1, f"{DAY}T08:01:00Z")])  # a second flush
    open_stores().record_scans([scan(1, f"{DAY}T08:02:00Z")], [visit(1, f"{DAY}T08:02:00Z")])  # another worker
    assert store.unit_counts(PREFIX) == [UnitCount(1, 3, 1, at)]
    assert store.known_unit(PREFIX, 1, DAY, "place-a") == KnownUnit(1, at, True)
    store.record_scans([], [visit(1, f"{NEXT_DAY}T07:00:00Z")])  # the same place another day is another place
    assert store.unit_counts(PREFIX) == [UnitCount(1, 3, 2, at)]


def test_the_same_visit_twice_in_one_flush_counts_once(store: Store) -> None:
    at = f"{DAY}T08:00:00Z"
    store.record_scans([scan(1, at)], [visit(1, at), visit(1, at)])
    assert store.unit_counts(PREFIX) == [UnitCount(1, 1, 1, at)]


def test_uncounted_scans_are_logged_not_counted(store: Store) -> None:
    store.record_scans([scan(1, f"{DAY}T08:00:00Z", counted=False), scan(2, f"{DAY}T08:00:00Z", counted=False)], [])
    assert store.table_count("scans") == 2
    assert store.unit_counts(PREFIX) == []
    store.record_scans([scan(1, f"{DAY}T09:00:00Z"), scan(1, f"{DAY}T07:00:00Z", counted=False)],
                       [visit(1, f"{DAY}T09:00:00Z")])
    assert store.unit_counts(PREFIX) == [UnitCount(1, 1, 1, f"{DAY}T09:00:00Z")]
    assert store.table_count("scans") == 4


def test_first_scanned_at_is_the_earliest(store: Store, open_stores: Callable[..., Store]) -> None:
    store.record_scans([scan(1, f"{DAY}T12:00:00Z")], [visit(1, f"{DAY}T12:00:00Z")])
    open_stores().record_scans([scan(1, f"{DAY}T06:30:00Z")], [visit(1, f"{DAY}T06:30:00Z", "place-b")])  # flushed late
    store.record_scans([scan(1, f"{NEXT_DAY}T01:00:00Z")], [])
    assert store.unit_counts(PREFIX) == [UnitCount(1, 3, 2, f"{DAY}T06:30:00Z")]
    assert store.known_unit(PREFIX, 1, DAY, "place-b").first_scanned_at == f"{DAY}T06:30:00Z"


def test_unit_counts_are_per_batch_by_serial(store: Store) -> None:
    at = f"{DAY}T08:00:00Z"
    store.record_scans([scan(serial, at) for serial in (30, 2, 11)] + [scan(5, at, prefix=OTHER_PREFIX)],
                       [visit(serial, at) for serial in (30, 2, 11)] + [visit(5, at, prefix=OTHER_PREFIX)])
    assert [count.serial for count in store.unit_counts(PREFIX)] == [2, 11, 30]
    assert store.unit_counts(OTHER_PREFIX) == [UnitCount(5, 1, 1, at)]
    assert store.unit_counts("00" * 10) == []


def test_many_scans_in_one_flush(store: Store) -> None:
    scans = [scan(serial % 250 + 1, f"{DAY}T{serial // 60 % 24:02d}:{serial % 60:02d}:00Z") for serial in range(1000)]
    visits = [visit(serial, f"{DAY}T00:00:00Z", f"place-{serial}") for serial in range(1, 251)]
    store.record_scans(scans, visits)
    counts = store.unit_counts(PREFIX)
    assert len(counts) == 250 and all(count.scans == 4 and count.places == 1 for count in counts)
    assert store.table_count("scans") == 1000


def test_clear_counts(store: Store, open_stores: Callable[..., Store]) -> None:
    at = f"{DAY}T08:00:00Z"
    store.record_scans([scan(serial, at) for serial in (1, 2, 3, 4)] + [scan(2, at, prefix=OTHER_PREFIX)],
                       [visit(serial, at) for serial in (1, 2, 3, 4)] + [visit(2, at, prefix=OTHER_PREFIX)])
    assert open_stores().clear_counts(PREFIX, 2, 3) == 2
    assert [count.serial for count in store.unit_counts(PREFIX)] == [1, 4]
    assert store.unit_counts(OTHER_PREFIX) == [UnitCount(2, 1, 1, at)]
    assert store.known_unit(PREFIX, 2, DAY, "place-a") == KnownUnit(0, None, False)
    assert store.table_count("scans") == 5  # the log keeps its rows
    assert store.clear_counts(PREFIX, 2, 3) == 0
    later = f"{DAY}T09:00:00Z"
    store.record_scans([scan(2, later)], [visit(2, later)])  # counted afresh: the old scans are no longer counted
    assert store.unit_counts(PREFIX)[1] == UnitCount(2, 1, 1, later)
    counted = [bool(row[1]) for chunk in store.read_table("scans", ["serial", "counted", "digest_prefix"])
               for row in chunk if row[0] == 2 and row[2] == PREFIX]
    assert sorted(counted) == [False, True]


def test_prune_scans_keeps_counts(store: Store, open_stores: Callable[..., Store]) -> None:
    """Whole old months go (on PostgreSQL, dropped partitions); the counts stay."""
    now = utc_iso(dt.datetime.now(dt.timezone.utc))
    old = ["2026-01-15T10:00:00Z", "2026-01-20T11:00:00Z", "2025-12-31T23:59:59Z"]
    store.record_scans([scan(1, at) for at in old], [visit(1, old[0])])
    store.record_scans([scan(1, now), scan(2, now)], [visit(1, now, "place-b"), visit(2, now)])
    counts = store.unit_counts(PREFIX)
    assert counts == [UnitCount(1, 4, 2, old[2]), UnitCount(2, 1, 1, now)]
    cutoff = now[:8] + "01T00:00:00Z"  # the first of this month
    assert open_stores().prune_scans(cutoff) == 3
    assert store.table_count("scans") == 2
    assert store.unit_counts(PREFIX) == counts
    assert store.prune_scans(cutoff) == 0
    store.record_scans([scan(1, now)], [])  # the log takes scans after a prune
    assert store.unit_counts(PREFIX)[0].scans == 5


def test_prune_scans_in_the_middle_of_a_month(store: Store) -> None:
    """Rows before the cutoff are gone, in its own month too (PostgreSQL drops the whole months, then deletes the
    rest); rows from the cutoff on stay."""
    times = ["2026-01-15T10:00:00Z", "2026-02-10T10:00:00Z", "2026-02-20T10:00:00Z", "2026-03-02T10:00:00Z"]
    store.record_scans([scan(1, at) for at in times], [])
    before = store.table_count("scans")
    deleted = store.prune_scans("2026-02-15T00:00:00Z")
    kept = sorted(str(row[0])[:10] for chunk in store.read_table("scans", ["scanned_at"]) for row in chunk)
    assert kept == ["2026-02-20", "2026-03-02"]
    assert deleted == before - store.table_count("scans") == 2
    assert store.unit_counts(PREFIX) == [UnitCount(1, 4, 0, times[0])]


def test_forget_places_before(store: Store) -> None:
    store.record_scans([scan(1, f"{DAY}T08:00:00Z")], [visit(1, f"{DAY}T08:00:00Z"), visit(2, f"{DAY}T08:00:00Z")])
    store.record_scans([scan(1, f"{NEXT_DAY}T08:00:00Z")], [visit(1, f"{NEXT_DAY}T08:00:00Z")])
    assert store.forget_places_before(NEXT_DAY) == 2
    assert store.known_unit(PREFIX, 1, DAY, "place-a") == KnownUnit(2, f"{DAY}T08:00:00Z", False)  # counts stay
    assert store.known_unit(PREFIX, 1, NEXT_DAY, "place-a").this_place_counted
    assert store.unit_counts(PREFIX) == [UnitCount(1, 2, 2, f"{DAY}T08:00:00Z"), UnitCount(2, 0, 1, f"{DAY}T08:00:00Z")]
    assert store.forget_places_before(NEXT_DAY) == 0


# whole tables ------------------------------------------------------------------------------------------------------
def filled(store: Store, key: Ed25519PrivateKey) -> SignedBatchRecord:
    """A store holding rows in every table, with a pruned scan and a forgotten place whose counts stay."""
    store.set_setting("base_url", "https://truyxuat.example.vn")
    producer_id = add_producer(store)
    add_farm_area(store, producer_id)
    add_product(store, producer_id, image=png_image(7))
    signed = stored(store, key)
    digest = signed.digest.hex()
    store.allocate_serials(digest, 10, None, allow_all)
    store.mark_written(digest, SerialRange(1, 10))
    store.allocate_serials(digest, 5, "/out/.staging", allow_all)
    store.add_recall(digest, "voluntary", "Sai nhãn", "2026-11-25")
    store.add_trusted_key(trusted(key, label="Khóa HTX"))
    store.set_key_status(trusted(key).key_id, "retired", "rotated")
    prefix = signed.digest_prefix.hex()
    long_ago = "2026-01-15T10:00:00Z"
    store.record_scans([scan(1, long_ago, prefix=prefix)], [visit(1, long_ago, prefix=prefix)])
    store.prune_scans("2026-02-01T00:00:00Z")  # serial 1's count of scans outlives that scan,
    store.forget_places_before("2026-02-01")  # and its count of places that place
    at = f"{DAY}T08:00:00Z"
    store.record_scans([scan(1, at, prefix=prefix), scan(2, at, prefix=prefix),
                        scan(3, at, prefix=prefix, counted=False)],
                       [visit(1, at, prefix=prefix), visit(2, at, "place-b", prefix=prefix)])
    store.day_key(DAY, lambda: b"\x00\xff" * 16)
    store.add_statements([statement("a" * 64, "endorsement", subject="dien-bien/HTX-1", version=1),
                          statement("b" * 64, "recall", subject=digest)])
    store.mark_published("https://hub.example.vn", [digest, "a" * 64])
    store.add_trust_root(1, '{"payload":"e30="}')
    store.add_bundle("", "2026-12-01T08:00:00Z", '{"bundle":1}')
    return signed


def copy_all(source: Store, target: Store) -> dict[str, int]:
    """What ``db copy`` does through the interface: every table, in order; the rows each load found new."""
    loaded = {}
    for table in TABLES:
        columns = source.table_columns(table)
        rows = itertools.chain.from_iterable(source.read_table(table, columns))
        loaded[table] = target.load_rows(table, columns, rows)
    return loaded


def behaviour(store: Store, signed: SignedBatchRecord) -> dict[str, Any]:
    """What the services can see of a filled store (engine-neutral values only)."""
    prefix, digest = signed.digest_prefix.hex(), signed.digest.hex()
    return {
        "base_url": store.setting("base_url"),
        "records": {table: [(row["id"], row["name"], row["data"]) for row in store.record_rows(table)]
                    for table in ("producers", "farm_areas", "products")},
        "image": store.product_image(hashlib.sha256(png_image(7)).hexdigest()),
        "batch": store.batch_state(prefix), "text": store.batch_record_text(digest),
        "prefixes": store.batch_prefixes(), "unwritten": store.unwritten_ranges(digest),
        "keys": [key_row(k) for k in store.trusted_keys()],
        "counts": store.unit_counts(prefix),
        "known": [store.known_unit(prefix, serial, DAY, place)
                  for serial in (1, 2, 3) for place in ("place-a", "place-b")],
        "day key": store.day_key(DAY, never),
        "statements": [item._replace(accepted_at="") for item in store.statements()],
        "published": store.published("https://hub.example.vn"),
        "trust root": store.trust_root(),
        "bundle": store.bundle(""),
        "table counts": {table: store.table_count(table) for table in TABLES},
    }


def test_every_table_can_be_read_whole(store: Store, key: Ed25519PrivateKey) -> None:
    filled(store, key)
    for table in TABLES:
        columns = store.table_columns(table)
        assert columns and len(set(columns)) == len(columns), table
        rows = [row for chunk in store.read_table(table, columns) for row in chunk]
        assert len(rows) == store.table_count(table) >= 1, table
        assert all(len(row) == len(columns) for row in rows), table
        some = columns[-1:]
        assert [row for chunk in store.read_table(table, some) for row in chunk] == [row[-1:] for row in rows], table


def test_unknown_tables_are_refused(store: Store) -> None:
    for call in (lambda: store.table_count("sqlite_master"), lambda: store.table_columns("pg_class"),
                 lambda: list(store.read_table("users", ["name"])),
                 lambda: store.load_rows("settings; DROP TABLE batches", ["name"], [("x",)])):
        with pytest.raises(StampError):
            call()
    assert store.table_count("batches") == 0


def test_load_rows_copies_a_store_and_skips_what_is_there(store: Store, key: Ed25519PrivateKey,
                                                          new_location: Callable[[str], Location],
                                                          open_stores: Callable[..., Store]) -> None:
    signed = filled(store, key)
    target = open_stores(new_location(store.engine), create=True)
    assert copy_all(store, target) == {table: store.table_count(table) for table in TABLES}
    assert behaviour(target, signed) == behaviour(store, signed)
    assert copy_all(store, target) == {table: 0 for table in TABLES}
    assert copy_all(target, store) == {table: 0 for table in TABLES}
    assert behaviour(target, signed) == behaviour(store, signed)
    continues_after_copy(store, target, signed)


@pytest.mark.parametrize("to", ["the same engine", "the other engine"])
def test_load_rows_moves_the_trust_generation_when_keys_arrive(store: Store, key: Ed25519PrivateKey, to: str,
                                                               new_location: Callable[[str], Location],
                                                               open_stores: Callable[..., Store]) -> None:
    """Keys a copy adds move the target's trust generation, so a verifier already serving it reloads its keys."""
    filled(store, key)
    engine = store.engine if to == "the same engine" else other_engine(store.engine)
    target = open_stores(new_location(engine), create=True)
    target.load_rows("settings", ["name", "value"], [("trust_generation", store.setting("trust_generation"))])
    before = target.setting("trust_generation")
    copy_all(store, target)
    assert target.setting("trust_generation") != before
    assert [key_row(k) for k in target.trusted_keys()] == [key_row(k) for k in store.trusted_keys()]


def test_load_rows_copies_to_the_other_engine(store: Store, key: Ed25519PrivateKey,
                                              new_location: Callable[[str], Location],
                                              open_stores: Callable[..., Store]) -> None:
    signed = filled(store, key)
    target = open_stores(new_location(other_engine(store.engine)), create=True)
    for table in TABLES:
        assert sorted(target.table_columns(table)) == sorted(store.table_columns(table)), table
    assert copy_all(store, target) == {table: store.table_count(table) for table in TABLES}
    assert behaviour(target, signed) == behaviour(store, signed)
    assert copy_all(store, target) == {table: 0 for table in TABLES}
    text = target.batch_record_text(signed.digest.hex())
    SignedBatchRecord(text.encode("utf-8"), bytes.fromhex(target.batch_state(  # type: ignore[union-attr]
        signed.digest_prefix.hex()).signature)).verify(key.public_key())  # type: ignore[union-attr]
    continues_after_copy(store, target, signed)


def continues_after_copy(source: Store, target: Store, signed: SignedBatchRecord) -> None:
    """A copied store goes on where its source stopped: new ids, serials and counts follow the copied ones."""
    copied_ids = [row["id"] for row in target.record_rows("producers")]
    assert add_producer(target, name="HTX mới") > max(copied_ids)
    issued = source.batch_state(signed.digest_prefix.hex()).issued  # type: ignore[union-attr]
    target.set_key_status(signed.record["key_id"], "active", None)
    seen: list[SerialAllowance] = []
    assert target.allocate_serials(signed.digest.hex(), 2, None, seen.append) == SerialRange(issued + 1, issued + 2)
    assert seen[0].issued == issued
    prefix = signed.digest_prefix.hex()
    before = {count.serial: count for count in target.unit_counts(prefix)}
    at = f"{DAY}T20:00:00Z"
    target.record_scans([scan(1, at, prefix=prefix)], [visit(1, at, "place-c", prefix=prefix)])
    after = {count.serial: count for count in target.unit_counts(prefix)}
    assert after[1] == before[1]._replace(scans=before[1].scans + 1, places=before[1].places + 1)


# open modes --------------------------------------------------------------------------------------------------------
def test_a_store_without_disk_flushes_works(store: Store, store_location: Location,
                                            open_stores: Callable[..., Store]) -> None:
    quick = open_stores(durable=False)
    quick.record_scans([scan(1, f"{DAY}T08:00:00Z")], [visit(1, f"{DAY}T08:00:00Z")])
    quick.set_setting("from", "quick")
    assert store.unit_counts(PREFIX) == [UnitCount(1, 1, 1, f"{DAY}T08:00:00Z")]
    assert store.setting("from") == "quick"
    assert quick.day_key(DAY, Maker("k")) == store.day_key(DAY, never)


def test_a_read_only_store_reads(store: Store, key: Ed25519PrivateKey, open_stores: Callable[..., Store]) -> None:
    signed = filled(store, key)
    reader = open_stores(read_only=True)
    assert behaviour(reader, signed) == behaviour(store, signed)
    assert reader.schema_version() == store.schema_version()
    reader.change_mark()


def test_a_read_only_store_refuses_changes(store: Store, key: Ed25519PrivateKey,
                                           open_stores: Callable[..., Store]) -> None:
    signed = stored(store, key)
    reader = open_stores(read_only=True)
    digest = signed.digest.hex()
    for change in (lambda: reader.set_setting("a", "b"), lambda: reader.add_recall(digest, "voluntary", "r", DAY),
                   lambda: reader.allocate_serials(digest, 1, None, allow_all),
                   lambda: reader.add_trusted_key(trusted()),
                   lambda: reader.record_scans([scan(1, f"{DAY}T08:00:00Z")], [visit(1, f"{DAY}T08:00:00Z")])):
        with pytest.raises(StoreError):
            change()
    assert store.setting("a") is None and store.batch_state(signed.digest_prefix.hex()) == BatchState(
        signed.digest.hex(), signed.signature.hex(), "local", 0, None)
    assert store.trusted_keys() == [] and store.unit_counts(PREFIX) == []


# driver errors arrive as StoreError ----------------------------------------------------------------------------------
def test_driver_errors_arrive_as_store_errors(store: Store) -> None:
    with pytest.raises(StoreError):  # a farm area of no producer: the database refuses it
        add_farm_area(store, 424242)
    with pytest.raises(StoreError):
        store.load_rows("settings", ["name", "no_such_column"], [("a", "b")])
    with pytest.raises(StoreError):
        list(store.read_table("settings", ["no_such_column"]))
    k = trusted()
    store.add_trusted_key(k)
    with pytest.raises(StoreError):
        store.set_key_status(k.key_id, "lost", None)  # not a status a key can have
    assert key_row(store.trusted_keys()[0]) == key_row(k)
    store.set_setting("still", "usable")  # a refused statement leaves the store usable
    assert store.setting("still") == "usable"


def test_an_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    for name, content in (("text.db", b"base_url = https://example.vn\n" * 10), ("empty.db", b""),
                          ("damaged.db", b"SQLite format 3\x00" + b"\xff" * 200)):
        path = tmp_path / name
        path.write_bytes(content)
        for options in ({}, {"create": True}, {"read_only": True}):
            with pytest.raises(StampError) as refused:
                open_store(path, **options).close()
            assert isinstance(refused.value, (InstanceError, StoreError)), (name, options)
        assert path.read_bytes() == content, f"{name} was changed"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_postgres_at_a_closed_port_is_unavailable() -> None:
    postgres_url()  # run with the other PostgreSQL tests (the engine needs its driver)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        open_store(f"postgresql://ocop:secret-word@127.0.0.1:{_closed_port()}/ocop", create=True)
    assert time.monotonic() - started < 10


def test_postgres_unknown_database_is_unavailable() -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_url())
    with pytest.raises(StoreUnavailable):
        open_store(parts._replace(path="/no_such_database_ocop_test").geturl(), create=True)


def test_each_location_is_a_store_of_its_own(store: Store, new_location: Callable[[str], Location],
                                             open_stores: Callable[..., Store]) -> None:
    store.set_setting("base_url", "https://truyxuat.example.vn")
    assert open_stores(new_location(store.engine), create=True).setting("base_url") is None


def test_a_postgres_location_names_a_schema_of_its_own(postgres_location: Location) -> None:
    opened = open_store(postgres_location, create=True)
    try:
        assert opened.engine == "postgresql"
        assert "search_path" in str(postgres_location)
        opened.set_setting("base_url", "https://truyxuat.example.vn")
        assert opened.setting("base_url") == "https://truyxuat.example.vn"
    finally:
        opened.close()


def test_other_schemes_are_refused() -> None:
    with pytest.raises(InstanceError):
        open_store("mysql://user@host/db")


# the test helper itself --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:p@h/db", "postgresql://u:p@h/db?options=-csearch_path%3Dschema_1"),
    ("postgresql://u:p@h:5433/db?sslmode=disable",
     "postgresql://u:p@h:5433/db?sslmode=disable&options=-csearch_path%3Dschema_1"),
    ("postgresql://h/db?options=-cstatement_timeout%3D5000&application_name=t",
     "postgresql://h/db?application_name=t&options=-cstatement_timeout%3D5000%20-csearch_path%3Dschema_1"),
], ids=["no query", "a query", "options already"])
def test_with_search_path(url: str, expected: str) -> None:
    assert with_search_path(url, "schema_1") == expected


# many processes ------------------------------------------------------------------------------------------------------
def test_two_processes_allocating_get_distinct_gap_free_serials(store: Store, store_location: Location,
                                                                key: Ed25519PrivateKey) -> None:
    signed = stored(store, key, quantity=1000)
    digest = signed.digest.hex()
    first, second = run_together([(allocate_one_at_a_time, (store_location, digest, 50))] * 2)
    assert first == sorted(first) and second == sorted(second)
    assert sorted(first + second) == list(range(1, 101))
    assert store.batch_state(signed.digest_prefix.hex()).issued == 100  # type: ignore[union-attr]


def test_a_change_made_by_one_process_is_seen_by_two_others(store: Store, store_location: Location,
                                                            key: Ed25519PrivateKey) -> None:
    """Two verifier workers (read-only, as a verifier opens its store) see a recall and a revocation at once."""
    signed = stored(store, key)
    signing_key = trusted(key)
    store.add_trusted_key(signing_key)
    digest, prefix = signed.digest.hex(), signed.digest_prefix.hex()

    def change() -> None:
        store.add_recall(digest, "mandatory", "Nhiễm khuẩn", "2026-11-26")
        store.set_key_status(signing_key.key_id, "revoked", "Lộ khóa")

    seen = run_together([(watch_batch, (store_location, prefix, signing_key.key_id))] * 2, between=change)
    recall = {"kind": "mandatory", "reason": "Nhiễm khuẩn", "recalled_on": "2026-11-26"}
    assert seen == [{"moved": True, "recall before": None, "status before": "active", "recall after": recall,
                     "status after": "revoked"}] * 2


def test_two_processes_recording_the_same_visit_count_it_once(store: Store, store_location: Location) -> None:
    run_together([(record_same_visits, (store_location, PREFIX, 40, DAY))] * 2)
    counts = store.unit_counts(PREFIX)
    assert [count.serial for count in counts] == list(range(1, 41))
    assert {(count.scans, count.places) for count in counts} == {(2, 1)}



# --- signed statements (the trust chain) ------------------------------------------------------------------------------

def statement(hash_hex: str, kind: str, *, subject: str = "s", version: int = 1, body: str = "{}") -> StoredStatement:
    return StoredStatement(hash_hex, kind, "0123456789abcdef", subject, version, body)


def test_statements_are_kept_once_in_the_order_given(store: Store) -> None:
    first = [statement("1" * 64, "endorsement", subject="o/p", version=1), statement("2" * 64, "recall", body='{"x":"Điện Biên"}')]
    assert store.add_statements(first) == 2
    assert store.add_statements([statement("2" * 64, "recall"), statement("3" * 64, "endorsement", subject="o/p", version=2)]) == 1
    kept = store.statements()
    assert [item.hash[0] for item in kept] == ["1", "2", "3"]
    assert [item.seq for item in kept] == sorted({item.seq for item in kept})
    assert kept[1].body == '{"x":"Điện Biên"}' and kept[0].accepted_at.endswith("Z")
    assert [item.version for item in store.statements(["endorsement"], subject="o/p")] == [1, 2]
    assert store.statements(after=kept[1].seq) == [kept[2]]
    assert store.statements(["revocation"]) == []
    assert store.statement("2" * 64) == kept[1] and store.statement("9" * 64) is None
    assert store.add_statements([]) == 0


def test_statements_added_in_a_failed_transaction_are_not_kept(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_statements([statement("1" * 64, "recall")])
            raise RuntimeError("refused half-way")
    assert store.statements() == []


def test_published_items_are_remembered_per_hub(store: Store) -> None:
    store.mark_published("https://a.example.vn", ["x", "y"])
    store.mark_published("https://a.example.vn", ["y", "z"])
    store.mark_published("https://b.example.vn", [])
    assert store.published("https://a.example.vn") == {"x", "y", "z"}
    assert store.published("https://b.example.vn") == set()


def test_the_newest_trust_root_is_the_one_in_use_and_each_version_is_kept_once(store: Store) -> None:
    assert store.trust_root() is None
    generation = store.setting("trust_generation")
    store.add_trust_root(2, "two")
    store.add_trust_root(1, "one")
    assert store.trust_root() == "two" and store.setting("trust_generation") != generation
    with pytest.raises(StoreError):
        store.add_trust_root(2, "another two")
    assert store.trust_root() == "two"


def test_the_newest_bundle_of_a_scope_is_served_and_older_ones_dropped(store: Store) -> None:
    store.add_bundle("", "2026-12-01T08:00:00Z", "first")
    store.add_bundle("Điện Biên", "2026-12-01T09:00:00Z", "province")
    store.add_bundle("", "2026-12-02T08:00:00Z", "second")
    assert (store.bundle(""), store.bundle("Điện Biên"), store.bundle("Quảng Ninh")) == ("second", "province", None)
    assert store.table_count("bundles") == 2


def test_statements_are_added_by_one_transaction_at_a_time(store: Store, store_location: Location) -> None:
    """A transaction that serialised statements keeps another connection's add_statements waiting until it ends."""
    done = threading.Event()

    def add_from_another_connection() -> None:
        other = open_store(store_location)
        try:
            other.add_statements([statement("5" * 64, "recall")])
        finally:
            other.close()
        done.set()

    writer = threading.Thread(target=add_from_another_connection)
    with store.transaction():
        store.serialize_statements()
        writer.start()
        assert not done.wait(0.5)  # waiting for this transaction
        store.add_statements([statement("4" * 64, "recall")])
    writer.join(30)
    assert done.is_set() and [item.hash[0] for item in store.statements()] == ["4", "5"]
