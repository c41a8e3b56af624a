"""Record validation: every rejection names the field and the rule it breaks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps import registry
from stamps import validation as v
from stamps.errors import NotFoundError, ValidationError
from stamps.instance import Instance
from stamps.records import (
    MAX_IMAGE_BYTES,
    Batch,
    FarmArea,
    Ocop,
    Producer,
    Product,
    add_months,
    growing_area_code,
    image_kind,
)

PASSPHRASE = b"pass"
HONEY_NFC = unicodedata.normalize("NFC", "Mật ong rừng Bình Liêu")
HONEY_NFD = unicodedata.normalize("NFD", HONEY_NFC)

PNG_HEAD = b"\x89PNG\r\n\x1a\n"
JPEG_HEAD = b"\xff\xd8\xff\xe0"
WEBP_HEAD = b"RIFF\x00\x00\x00\x00WEBPVP8 "


# --------------------------------------------------------------------------- helpers

def producer_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "HTX Nông nghiệp Bình Liêu", "kind": "cooperative",
                            "province": "Quảng Ninh", "commune": "Đồng Văn"}
    data.update(changes)
    return data


def farm_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Rừng ong Đồng Văn", "kind": "raising", "province": "Quảng Ninh"}
    data.update(changes)
    return data


def product_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Mật ong rừng", "category": "Thực phẩm"}
    data.update(changes)
    return data


def ocop_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"ocop_stars": 4, "ocop_certificate_no": "123/QĐ-UBND", "ocop_issued": "2025-03-10"}
    data.update(changes)
    return data


def batch_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"lot_code": "BL-2026-001", "quantity": 5000, "harvest_date": "2026-01-10",
                            "production_date": "2026-01-15", "expiry_date": "2027-01-15"}
    data.update(changes)
    return data


def without(data: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != name}


def rejected(build: Callable[[dict[str, Any]], Any], data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        build(data)
    return caught.value


def assert_rejects(build: Callable[[dict[str, Any]], Any], data: dict[str, Any], field: str, rule: str) -> ValidationError:
    error = rejected(build, data)
    assert error.field == field, error
    assert rule in error.rule, error
    # the message shown to a person names both
    assert field in str(error) and rule in str(error)
    return error


@pytest.fixture
def signing_key(instance: Instance) -> Ed25519PrivateKey:
    instance.generate_key(PASSPHRASE, "label")
    return instance.signing_key(PASSPHRASE)


# --------------------------------------------------------------------------- OCOP

@pytest.mark.parametrize("stars", [3, 4, 5, "4", " 3 "])
def test_ocop_stars_three_to_five_accepted(stars: Any) -> None:
    product = Product.from_input(product_input(**ocop_input(ocop_stars=stars, ocop_level="national")))
    assert product.ocop is not None
    assert product.ocop.stars == int(str(stars).strip())


@pytest.mark.parametrize("stars", [2, 6, 0, -3])
def test_ocop_stars_outside_three_to_five_rejected(stars: int) -> None:
    assert_rejects(Product.from_input, product_input(**ocop_input(ocop_stars=stars)), "ocop_stars", "between 3 and 5")


@pytest.mark.parametrize("stars", ["bốn", "4.5", 4.5, True])
def test_ocop_stars_not_a_whole_number_rejected(stars: Any) -> None:
    assert_rejects(Product.from_input, product_input(**ocop_input(ocop_stars=stars)), "ocop_stars", "whole number")


def test_ocop_fields_without_stars_rejected() -> None:
    data = product_input(**without(ocop_input(), "ocop_stars"))
    assert_rejects(Product.from_input, data, "ocop_stars", "is required")


def test_product_without_ocop_fields_has_no_ocop() -> None:
    assert Product.from_input(product_input()).ocop is None


def test_five_stars_requires_national_level() -> None:
    data = product_input(**ocop_input(ocop_stars=5, ocop_level="province"))
    assert_rejects(Product.from_input, data, "ocop_level", "must be national")


def test_five_stars_defaults_to_national_level() -> None:
    ocop = Ocop.from_input(ocop_input(ocop_stars=5))
    assert ocop.level == "national"


@pytest.mark.parametrize("stars", [3, 4])
def test_three_and_four_stars_default_to_province_and_may_be_national(stars: int) -> None:
    assert Ocop.from_input(ocop_input(ocop_stars=stars)).level == "province"
    assert Ocop.from_input(ocop_input(ocop_stars=stars, ocop_level="National")).level == "national"


def test_ocop_level_must_be_known() -> None:
    assert_rejects(Ocop.from_input, ocop_input(ocop_level="district"), "ocop_level", "must be one of")


def test_ocop_expiry_defaults_to_issue_plus_36_months() -> None:
    ocop = Ocop.from_input(ocop_input(ocop_issued="2025-03-10"))
    assert ocop.issued == dt.date(2025, 3, 10)
    assert ocop.expires == dt.date(2028, 3, 10)


def test_ocop_default_expiry_from_leap_day_is_end_of_february() -> None:
    ocop = Ocop.from_input(ocop_input(ocop_issued="29/02/2024"))
    assert ocop.expires == dt.date(2027, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


@pytest.mark.parametrize("expires", ["2028-03-10", "2026-01-01", "2025-03-11", "10/03/2028"])
def test_ocop_expiry_within_36_months_accepted(expires: str) -> None:
    assert Ocop.from_input(ocop_input(ocop_expires=expires)).expires == v.date(expires, "x")


@pytest.mark.parametrize("expires", ["2028-03-11", "2030-01-01"])
def test_ocop_expiry_beyond_36_months_rejected(expires: str) -> None:
    error = assert_rejects(Ocop.from_input, ocop_input(ocop_expires=expires), "ocop_expires", "at most 36 months")
    assert "2028-03-10" in error.rule


@pytest.mark.parametrize("expires", ["2025-03-09", "2025-03-10", "2020-01-01"])
def test_ocop_expiry_on_or_before_issue_rejected(expires: str) -> None:
    assert_rejects(Ocop.from_input, ocop_input(ocop_expires=expires), "ocop_expires", "must be after ocop_issued")


def test_ocop_issue_date_required() -> None:
    assert_rejects(Ocop.from_input, without(ocop_input(), "ocop_issued"), "ocop_issued", "is required")


def test_ocop_certificate_number_required() -> None:
    assert_rejects(Ocop.from_input, without(ocop_input(), "ocop_certificate_no"), "ocop_certificate_no", "is required")


def test_ocop_round_trips_through_product_dict() -> None:
    product = Product.from_input(product_input(**ocop_input(ocop_stars=5)))
    data = product.to_dict()
    assert data["ocop_stars"] == 5 and data["ocop_level"] == "national" and data["ocop_expires"] == "2028-03-10"
    assert Product.from_input(data) == product


# --------------------------------------------------------------------------- batch dates

def test_batch_dates_in_order_accepted() -> None:
    batch = Batch.from_input(batch_input())
    assert (batch.harvest_date, batch.production_date, batch.expiry_date) == (
        dt.date(2026, 1, 10), dt.date(2026, 1, 15), dt.date(2027, 1, 15))


def test_batch_dates_may_be_equal() -> None:
    batch = Batch.from_input(batch_input(harvest_date="2026-01-15", production_date="2026-01-15", expiry_date="2026-01-15"))
    assert batch.harvest_date == batch.production_date == batch.expiry_date


def test_harvest_after_production_rejected() -> None:
    data = batch_input(harvest_date="2026-01-16", production_date="2026-01-15")
    assert_rejects(Batch.from_input, data, "harvest_date", "on or before production_date")


def test_production_after_expiry_rejected() -> None:
    data = batch_input(production_date="2027-01-16", expiry_date="2027-01-15", harvest_date="2026-01-10")
    assert_rejects(Batch.from_input, data, "production_date", "on or before expiry_date")


def test_harvest_date_is_optional() -> None:
    assert Batch.from_input(without(batch_input(), "harvest_date")).harvest_date is None


# --------------------------------------------------------------------------- quantity

@pytest.mark.parametrize("quantity", [1, 10_000_000, "1", "10000000", " 250 "])
def test_quantity_bounds_accepted(quantity: Any) -> None:
    assert Batch.from_input(batch_input(quantity=quantity)).quantity == int(str(quantity).strip())


@pytest.mark.parametrize("quantity", [0, 10_000_001, -1, "0", "10000001"])
def test_quantity_out_of_range_rejected(quantity: Any) -> None:
    assert_rejects(Batch.from_input, batch_input(quantity=quantity), "quantity", "between 1 and 10,000,000")


@pytest.mark.parametrize("quantity", ["abc", "12a", "12.5", 12.5, 100.0, "1e3", True, [5], {"n": 5}])
def test_quantity_not_a_whole_number_rejected(quantity: Any) -> None:
    assert_rejects(Batch.from_input, batch_input(quantity=quantity), "quantity", "whole number")


# --------------------------------------------------------------------------- GPS

@pytest.mark.parametrize(("lat", "lon", "expected"), [
    ("21.0285", "105.8542", ("21.0285", "105.8542")),
    (21.5, 107.25, ("21.5", "107.25")),
    ("-90", "-180", ("-90", "-180")),
    ("90", "180", ("90", "180")),
    ("0", "0", ("0", "0")),
    ("21.123456789", "105.1", ("21.1234568", "105.1")),
])
def test_gps_in_range_accepted(lat: Any, lon: Any, expected: tuple[str, str]) -> None:
    area = FarmArea.from_input(farm_input(latitude=lat, longitude=lon))
    assert (area.latitude, area.longitude) == expected


@pytest.mark.parametrize(("lat", "lon", "field"), [
    ("90.0000001", "105", "latitude"),
    ("-90.5", "105", "latitude"),
    ("120", "105", "latitude"),
    ("21", "180.01", "longitude"),
    ("21", "-181", "longitude"),
    ("21", "360", "longitude"),
    ("NaN", "105", "latitude"),
    ("21", "Infinity", "longitude"),
])
def test_gps_out_of_range_rejected(lat: str, lon: str, field: str) -> None:
    assert_rejects(FarmArea.from_input, farm_input(latitude=lat, longitude=lon), field, "must be between")


@pytest.mark.parametrize(("lat", "lon", "field"), [("bắc", "105", "latitude"), ("21", "105°E", "longitude")])
def test_gps_not_a_number_rejected(lat: str, lon: str, field: str) -> None:
    assert_rejects(FarmArea.from_input, farm_input(latitude=lat, longitude=lon), field, "decimal number")


def test_gps_latitude_without_longitude_rejected() -> None:
    assert_rejects(FarmArea.from_input, farm_input(latitude="21.0"), "longitude", "is required when the other")


def test_gps_longitude_without_latitude_rejected() -> None:
    assert_rejects(FarmArea.from_input, farm_input(longitude="105.0"), "latitude", "is required when the other")


def test_gps_neither_accepted() -> None:
    area = FarmArea.from_input(farm_input())
    assert area.latitude is None and area.longitude is None
    assert "latitude" not in area.to_dict()


# --------------------------------------------------------------------------- GTIN

@pytest.mark.parametrize("gtin", ["8930000000019", "96385074", "036000291452", "10614141000415", " 8930000000019 "])
def test_valid_gtin_accepted(gtin: str) -> None:
    assert Product.from_input(product_input(gtin=gtin)).gtin == gtin.strip()


def test_gtin_wrong_check_digit_rejected_with_hint() -> None:
    error = assert_rejects(Product.from_input, product_input(gtin="8930000000010"), "gtin", "wrong check digit")
    assert "9" in error.hint and "should be 9" in error.hint
    assert "should be 9" in error.diagnostics()


@pytest.mark.parametrize(("gtin", "right"), [("96385071", "4"), ("036000291455", "2")])
def test_gtin_hint_names_the_right_digit(gtin: str, right: str) -> None:
    error = assert_rejects(Product.from_input, product_input(gtin=gtin), "gtin", "wrong check digit")
    assert f"should be {right}" in error.hint


@pytest.mark.parametrize("gtin", ["8930000", "893000000", "8930000000", "89300000000", "893000000001900",
                                  "89300000000A9", "893-000-000-0019"])
def test_gtin_wrong_length_or_not_digits_rejected(gtin: str) -> None:
    assert_rejects(Product.from_input, product_input(gtin=gtin), "gtin", "8, 12, 13 or 14 digits")


def test_gtin_is_optional() -> None:
    assert Product.from_input(product_input(gtin="")).gtin is None


# --------------------------------------------------------------------------- required / unknown / enums

@pytest.mark.parametrize("field", ["name", "kind", "province", "commune"])
@pytest.mark.parametrize("missing", ["absent", "", None])
def test_producer_required_fields(field: str, missing: Any) -> None:
    data = without(producer_input(), field) if missing == "absent" else producer_input(**{field: missing})
    assert_rejects(Producer.from_input, data, field, "is required")


@pytest.mark.parametrize("field", ["name", "province", "commune"])
def test_producer_blank_text_is_missing(field: str) -> None:
    assert_rejects(Producer.from_input, producer_input(**{field: "   "}), field, "is required")


@pytest.mark.parametrize("field", ["lot_code", "production_date", "expiry_date", "quantity"])
@pytest.mark.parametrize("missing", ["absent", "", None])
def test_batch_required_fields(field: str, missing: Any) -> None:
    data = without(batch_input(), field) if missing == "absent" else batch_input(**{field: missing})
    assert_rejects(Batch.from_input, data, field, "is required")


@pytest.mark.parametrize(("build", "data", "field"), [
    (Producer.from_input, producer_input(nmae="x"), "producer.nmae"),
    (FarmArea.from_input, farm_input(gps="21,105"), "farm_area.gps"),
    (Product.from_input, product_input(ocop_star=4), "product.ocop_star"),
    (Batch.from_input, batch_input(expiry="2027-01-01"), "batch.expiry"),
    (Batch.from_input, batch_input(origin_steps=[{"step": "thu hoạch", "date": "2026-01-10", "place": "Đồng Văn",
                                                  "where": "x"}]), "origin_steps[0].where"),
])
def test_unknown_fields_rejected(build: Callable[[dict[str, Any]], Any], data: dict[str, Any], field: str) -> None:
    error = assert_rejects(build, data, field, "is not a known field")
    assert "Known fields:" in error.hint


def test_unknown_field_hint_lists_the_known_ones() -> None:
    error = rejected(Producer.from_input, producer_input(nmae="x"))
    assert "name" in error.hint and "commune" in error.hint


@pytest.mark.parametrize(("kind", "expected"), [
    ("enterprise", "enterprise"), ("cooperative", "cooperative"), ("Cooperative Group", "cooperative_group"),
    ("cooperative-group", "cooperative_group"), ("HOUSEHOLD", "household"),
])
def test_producer_kind_accepted(kind: str, expected: str) -> None:
    assert Producer.from_input(producer_input(kind=kind)).kind == expected


@pytest.mark.parametrize("kind", ["hợp tác xã", "company", "co-op", "farm", 3])
def test_producer_kind_outside_enum_rejected(kind: Any) -> None:
    error = assert_rejects(Producer.from_input, producer_input(kind=kind), "kind", "must be one of")
    assert "cooperative_group" in error.rule


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("email", "htx at example.vn", "name@example.vn"),
    ("phone", "0203-abc", "8 to 15 digits"),
    ("tax_code", "57001234", "10 digits"),
])
def test_producer_contact_fields_checked(field: str, value: str, rule: str) -> None:
    assert_rejects(Producer.from_input, producer_input(**{field: value}), field, rule)


# --------------------------------------------------------------------------- growing-area code

@pytest.mark.parametrize(("raw", "expected"), [
    ("  vn-db-ma-0001-24  ", "VN-DB-MA-0001-24"),
    ("VN-QN-BL-0007", "VN-QN-BL-0007"),
    ("vn-hg.01", "VN-HG.01"),
])
def test_growing_area_code_normalised(raw: str, expected: str) -> None:
    assert growing_area_code(raw) == expected
    assert FarmArea.from_input(farm_input(code=raw)).code == expected


@pytest.mark.parametrize("raw", ["DB-MA-0001-24", "VNDB-0001", "V N-DB", "VN-DB MA-01", "VN_DB_01", "xx-VN-01"])
def test_growing_area_code_invalid_rejected(raw: str) -> None:
    assert_rejects(FarmArea.from_input, farm_input(code=raw), "code", "must start with VN-")


def test_growing_area_code_optional() -> None:
    assert FarmArea.from_input(farm_input(code="  ")).code is None


# --------------------------------------------------------------------------- origin steps

def _steps(*days: str) -> list[dict[str, str]]:
    names = ["thu hoạch", "sơ chế", "đóng gói", "vận chuyển"]
    return [{"step": names[index], "date": day, "place": "Bình Liêu"} for index, day in enumerate(days)]


def test_origin_steps_in_order_accepted() -> None:
    batch = Batch.from_input(batch_input(origin_steps=_steps("2026-01-10", "2026-01-10", "15/01/2026")))
    assert [step.date for step in batch.origin_steps] == [dt.date(2026, 1, 10), dt.date(2026, 1, 10), dt.date(2026, 1, 15)]
    assert batch.to_dict()["origin_steps"][2] == {"step": "đóng gói", "date": "2026-01-15", "place": "Bình Liêu"}


def test_origin_steps_out_of_order_rejected() -> None:
    data = batch_input(origin_steps=_steps("2026-01-10", "2026-01-14", "2026-01-12"))
    assert_rejects(Batch.from_input, data, "origin_steps[2].date", "must not be before the previous step")


def test_origin_step_after_expiry_rejected() -> None:
    data = batch_input(origin_steps=_steps("2026-01-10", "2027-02-01"))
    assert_rejects(Batch.from_input, data, "origin_steps[1].date", "on or before expiry_date")


@pytest.mark.parametrize(("step", "field", "rule"), [
    ({"date": "2026-01-10", "place": "Bình Liêu"}, "origin_steps[0].step", "is required"),
    ({"step": "thu hoạch", "place": "Bình Liêu"}, "origin_steps[0].date", "is required"),
    ({"step": "thu hoạch", "date": "2026-01-10"}, "origin_steps[0].place", "is required"),
])
def test_origin_step_required_fields(step: dict[str, str], field: str, rule: str) -> None:
    assert_rejects(Batch.from_input, batch_input(origin_steps=[step]), field, rule)


def test_origin_step_must_be_an_object() -> None:
    assert_rejects(Batch.from_input, batch_input(origin_steps=["thu hoạch"]), "origin_steps[0]", "must be an object")


# --------------------------------------------------------------------------- dates

@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-01-15", dt.date(2026, 1, 15)),
    ("15/01/2026", dt.date(2026, 1, 15)),
    ("5/1/2026", dt.date(2026, 1, 5)),
    ("29/02/2028", dt.date(2028, 2, 29)),
    (" 2026-01-15 ", dt.date(2026, 1, 15)),
])
def test_dates_accepted_in_both_formats(raw: str, expected: dt.date) -> None:
    batch = Batch.from_input(batch_input(harvest_date=None, production_date=raw, expiry_date="2029-01-01"))
    assert batch.production_date == expected
    assert batch.to_dict()["production_date"] == expected.isoformat()


@pytest.mark.parametrize("raw", ["31/02/2026", "2026-02-30", "29/02/2025", "2026-13-01", "00/01/2026", "32/01/2026",
                                 "01/15/2026", "15.01.2026", "15-01-2026", "hôm nay", "2026/01/15"])
def test_impossible_or_malformed_dates_rejected(raw: str) -> None:
    assert_rejects(Batch.from_input, batch_input(production_date=raw), "production_date", "must be a real date")


@pytest.mark.parametrize("raw", ["20260115", "2026-W03-1", "2026W031", "2026-015"])
def test_other_iso_8601_forms_rejected(raw: str) -> None:
    # The rule (and its message) promise YYYY-MM-DD or DD/MM/YYYY only. A compact or week
    # date such as 2026-W03-1 (= 12 January) must not be silently read as some other day.
    assert_rejects(Batch.from_input, batch_input(production_date=raw), "production_date", "YYYY-MM-DD or DD/MM/YYYY")


# --------------------------------------------------------------------------- Vietnamese text

def test_text_is_trimmed_and_stored_as_nfc() -> None:
    assert HONEY_NFD != HONEY_NFC  # the test input really is decomposed
    producer = Producer.from_input(producer_input(name=f"  {HONEY_NFD}\t"))
    assert producer.name == HONEY_NFC
    assert producer.name.encode("utf-8") == HONEY_NFC.encode("utf-8")


def test_control_characters_rejected() -> None:
    assert_rejects(Producer.from_input, producer_input(name="HTX\x00Bình Liêu"), "name", "control characters")


def test_nfd_input_survives_store_round_trip_as_nfc(instance: Instance) -> None:
    province_nfd = unicodedata.normalize("NFD", "Quảng Ninh")
    producer_id = registry.add_producer(instance.store, producer_input(name=HONEY_NFD, province=province_nfd))
    row = instance.store.record_row("producers", producer_id)
    assert row["data"]["name"].encode("utf-8") == HONEY_NFC.encode("utf-8")
    assert row["data"]["province"] == unicodedata.normalize("NFC", "Quảng Ninh")
    assert row["name"].encode("utf-8") == HONEY_NFC.encode("utf-8")
    raw = next(data for chunk in instance.store.read_table("producers", ["id", "data"]) for id_, data in chunk
               if id_ == producer_id)
    assert HONEY_NFC in raw and HONEY_NFD not in raw
    assert registry.producer(instance.store, producer_id).name == HONEY_NFC


def test_nfd_input_survives_signed_batch_record_as_nfc(instance: Instance, signing_key: Ed25519PrivateKey) -> None:
    store = instance.store
    producer_id = registry.add_producer(store, producer_input(name=HONEY_NFD))
    area_id = registry.add_farm_area(store, producer_id, farm_input(name=HONEY_NFD))
    product_id = registry.add_product(store, producer_id, product_input(name=HONEY_NFD))
    place_nfd = unicodedata.normalize("NFD", "Bình Liêu")
    created = registry.create_batch(store, signing_key, product_id, [area_id], batch_input(
        packing_facility=HONEY_NFD, origin_steps=[{"step": "thu hoạch", "date": "2026-01-10", "place": place_nfd}]))

    record = registry.find_batch(store, created.digest).record
    for text in (record["producer"]["name"], record["product"]["name"], record["farm_areas"][0]["name"],
                 record["batch"]["packing_facility"]):
        assert text.encode("utf-8") == HONEY_NFC.encode("utf-8")
    assert record["batch"]["origin_steps"][0]["place"] == unicodedata.normalize("NFC", "Bình Liêu")
    canonical = registry.find_batch(store, "BL-2026-001").signed.canonical
    assert HONEY_NFC.encode("utf-8") in canonical and HONEY_NFD.encode("utf-8") not in canonical
    assert json.loads(canonical) == record


# --------------------------------------------------------------------------- images

@pytest.mark.parametrize(("image", "mime"), [
    (PNG_HEAD + b"\x00" * 100, "image/png"),
    (JPEG_HEAD + b"\x00" * 100, "image/jpeg"),
    (WEBP_HEAD + b"\x00" * 100, "image/webp"),
    (PNG_HEAD + b"\x00" * (MAX_IMAGE_BYTES - len(PNG_HEAD)), "image/png"),
])
def test_small_thumbnails_accepted(image: bytes, mime: str) -> None:
    assert MAX_IMAGE_BYTES == 20 * 1024
    assert image_kind(image) == mime


@pytest.mark.parametrize("size", [MAX_IMAGE_BYTES + 1, 100 * 1024])
def test_thumbnail_over_20_kb_rejected(size: int) -> None:
    image = PNG_HEAD + b"\x00" * (size - len(PNG_HEAD))
    with pytest.raises(ValidationError) as caught:
        image_kind(image)
    assert caught.value.field == "image"
    assert "at most 20 KB" in caught.value.rule


@pytest.mark.parametrize("image", [b"GIF89a" + b"\x00" * 100, b"%PDF-1.7\n", b"", b"RIFF\x00\x00\x00\x00WAVE",
                                   b"<svg xmlns='http://www.w3.org/2000/svg'/>"])
def test_thumbnail_of_other_type_rejected(image: bytes) -> None:
    with pytest.raises(ValidationError) as caught:
        image_kind(image)
    assert caught.value.field == "image"
    assert "PNG, JPEG or WebP" in caught.value.rule


def test_add_product_with_bad_image_stores_nothing(instance: Instance) -> None:
    producer_id = registry.add_producer(instance.store, producer_input())
    with pytest.raises(ValidationError) as caught:
        registry.add_product(instance.store, producer_id, product_input(), image=b"GIF89a" + b"\x00" * 10)
    assert caught.value.field == "image"
    assert instance.store.record_rows("products") == []


def test_add_product_with_image_records_its_hash(instance: Instance) -> None:
    image = JPEG_HEAD + b"\x01" * 500
    producer_id = registry.add_producer(instance.store, producer_input())
    product_id = registry.add_product(instance.store, producer_id, product_input(), image=image)
    row = instance.store.record_row("products", product_id)
    assert row["image_type"] == "image/jpeg" and row["image"] == image
    assert row["data"]["image_sha256"] == hashlib.sha256(image).hexdigest()


# --------------------------------------------------------------------------- ownership

def test_farm_area_of_another_producer_rejected(instance: Instance, signing_key: Ed25519PrivateKey) -> None:
    store = instance.store
    ours = registry.add_producer(store, producer_input())
    theirs = registry.add_producer(store, producer_input(name="HTX Chè Hà Giang", province="Hà Giang"))
    our_area = registry.add_farm_area(store, ours, farm_input())
    their_area = registry.add_farm_area(store, theirs, farm_input(name="Đồi chè Shan tuyết"))
    product_id = registry.add_product(store, ours, product_input())

    with pytest.raises(ValidationError) as caught:
        registry.create_batch(store, signing_key, product_id, [our_area, their_area], batch_input())
    assert caught.value.field == "farm_area_ids"
    assert f"farm area {their_area} belongs to another producer" in caught.value.rule
    assert registry.list_batches(store) == []

    created = registry.create_batch(store, signing_key, product_id, [our_area], batch_input())
    assert [area["name"] for area in created.record["farm_areas"]] == ["Rừng ong Đồng Văn"]


# --------------------------------------------------------------------------- what a label can print

UNPRINTABLE_NAMES = {
    "emoji": ("Mật ong 🐝 rừng", "🐝"),
    "Chinese": ("Mật ong 蜂蜜", "蜂"),
    "Cyrillic": ("Мёд", "М"),
    "arrow": ("Trà → xanh", "→"),
    "noncharacter": ("Trà\uffff", "\uffff"),
}


@pytest.mark.parametrize("name", UNPRINTABLE_NAMES)
def test_a_product_name_the_label_cannot_print_is_refused(name: str) -> None:
    text, char = UNPRINTABLE_NAMES[name]
    error = assert_rejects(Product.from_input, product_input(name=text), "name", "which the stamp label cannot print")
    assert f"U+{ord(char):04X}" in error.rule and "emoji" in error.hint


def test_a_lot_code_is_checked_as_printed_too() -> None:
    assert_rejects(Batch.from_input, batch_input(lot_code="LÔ-1"), "lot_code", "must hold only letters")
    assert_rejects(Batch.from_input, batch_input(lot_code="L\u202e1"), "lot_code", "direction mark")


def test_every_vietnamese_letter_and_the_label_symbols_are_printable() -> None:
    letters = "".join(chr(code) for code in range(0x1EA0, 0x1EFA)) + "ĂăÂâĐđÊêÔôƠơƯư"
    name = f"{letters} ★☆ ₫ € ™ – “Shan tuyết” ‘x’ • … №"
    assert Product.from_input(product_input(name=name)).name == name


def test_records_and_labels_share_one_charset_which_is_exactly_the_fonts() -> None:
    from stamps.charset import LABEL_CHARACTERS
    from stamps.printing.fonts import BOLD, REGULAR, mapped_characters, printable
    from stamps.printing.layout import LayoutError

    assert mapped_characters(REGULAR) == LABEL_CHARACTERS == mapped_characters(BOLD)
    every = "".join(sorted(LABEL_CHARACTERS))
    assert printable(every, "all") == unicodedata.normalize("NFC", every)
    with pytest.raises(LayoutError, match="U\\+1F41D"):
        printable("Mật ong 🐝")


def test_checking_a_record_loads_no_font() -> None:
    """Records are checked without reportlab (the record layer stays light; the CLI's record commands start fast)."""
    import subprocess
    import sys

    probe = ("import sys\nfrom stamps.records import Product\nfrom stamps import registry\n"
             "try:\n    Product.from_input({'name': 'Mật ong 🐝', 'category': 'x'})\nexcept Exception as error:\n"
             "    assert 'cannot print' in str(error)\nelse:\n    raise SystemExit('accepted')\n"
             "assert not [name for name in sys.modules if name.startswith(('reportlab', 'PIL', 'zxingcpp'))]")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


BIDI = sorted(v.BIDI_CONTROLS)


@pytest.mark.parametrize("char", BIDI, ids=lambda char: f"U+{ord(char):04X}")
def test_direction_marks_are_refused_in_text(char: str) -> None:
    with pytest.raises(ValidationError) as caught:
        v.text(f"HTX {char}EGAKCAP", "address")
    assert caught.value.field == "address" and f"U+{ord(char):04X}" in caught.value.rule
    assert "false order" in caught.value.rule and caught.value.hint


@pytest.mark.parametrize(("build", "data", "field"), [
    (Producer.from_input, producer_input(name="HTX \u202eEGAKCAP"), "name"),
    (Producer.from_input, producer_input(address="thôn \u2067A\u2069"), "address"),
    (FarmArea.from_input, farm_input(location="\u200fĐồi chè"), "location"),
    (FarmArea.from_input, farm_input(certifications=["VietGAP", "Hữu cơ\u061c"]), "certifications[1]"),
    (Product.from_input, product_input(description="Mật ong \u202bthật\u202c"), "description"),
    (Product.from_input, product_input(**ocop_input(ocop_certificate_no="QN-\u200e2025")), "ocop_certificate_no"),
    (Batch.from_input, batch_input(packing_facility="Xưởng \u202dA\u202c"), "packing_facility"),
    (Batch.from_input, batch_input(origin_steps=[{"step": "thu hoạch", "date": "2026-01-10", "place": "\u2066Bản A"}]),
     "origin_steps[0].place"),
], ids=["producer name", "address", "farm location", "certification", "description", "certificate no", "packing facility",
        "origin step"])
def test_every_record_text_field_refuses_direction_marks(build: Callable[[dict[str, Any]], Any], data: dict[str, Any],
                                                         field: str) -> None:
    assert_rejects(build, data, field, "direction mark")


# --------------------------------------------------------------------------- correcting records

def test_an_edit_changes_the_fields_given_and_checks_the_whole_record(instance: Instance) -> None:
    store = instance.store
    producer_id = registry.add_producer(store, producer_input(phone="0203 3878 000", email="htx@example.vn"))
    registry.edit_producer(store, producer_id, {"name": "HTX Hợp Tiến", "phone": ""})
    row = store.record_row("producers", producer_id)
    assert row["name"] == "HTX Hợp Tiến"
    assert row["data"] == {**without(without(producer_input(), "name"), "phone"), "name": "HTX Hợp Tiến",
                           "email": "htx@example.vn"}
    with pytest.raises(ValidationError, match="kind: must be one of"):
        registry.edit_producer(store, producer_id, {"name": "Tên mới", "kind": "company"})
    assert store.record_row("producers", producer_id) == row  # nothing half-written


def test_an_edit_of_an_unknown_record_or_to_an_unknown_producer_changes_nothing(instance: Instance) -> None:
    store = instance.store
    producer_id = registry.add_producer(store, producer_input())
    area_id = registry.add_farm_area(store, producer_id, farm_input())
    before = store.record_row("farm_areas", area_id)
    with pytest.raises(NotFoundError, match="no farm area with id 9"):
        registry.edit_farm_area(store, 9, {"name": "x"})
    with pytest.raises(NotFoundError, match="no producer with id 42"):
        registry.edit_farm_area(store, area_id, {"name": "Vùng mới"}, producer_id=42)
    assert store.record_row("farm_areas", area_id) == before
    other = registry.add_producer(store, producer_input(name="HTX Khác"))
    registry.edit_farm_area(store, area_id, {}, producer_id=other)
    assert store.record_row("farm_areas", area_id)["producer_id"] == other


@pytest.mark.parametrize(("stored", "changes", "expected"), [
    ({}, {"ocop_issued": "2025-06-01"}, {"ocop_expires": "2028-06-01", "ocop_level": "province"}),
    ({"ocop_expires": "2027-01-01"}, {"ocop_issued": "2025-06-01"}, {"ocop_expires": "2027-01-01"}),
    ({}, {"ocop_stars": 5}, {"ocop_level": "national", "ocop_expires": "2028-03-10"}),
    ({"ocop_level": "national"}, {"ocop_stars": 5}, {"ocop_level": "national"}),
    ({}, {"ocop_stars": 5, "ocop_level": "province"}, None),
], ids=["issue date moves the default expiry", "an explicit expiry stays", "5 stars: default level becomes national",
        "explicit level stays", "explicit change still checked"])
def test_a_default_follows_the_field_it_comes_from(instance: Instance, stored: dict[str, Any], changes: dict[str, Any],
                                                   expected: dict[str, str] | None) -> None:
    producer_id = registry.add_producer(instance.store, producer_input())
    product_id = registry.add_product(instance.store, producer_id, product_input(**ocop_input(**stored)))
    if expected is None:
        with pytest.raises(ValidationError, match="ocop_level: must be national"):
            registry.edit_product(instance.store, product_id, changes)
        return
    registry.edit_product(instance.store, product_id, changes)
    data = instance.store.record_row("products", product_id)["data"]
    assert {name: data[name] for name in expected} == expected


def test_an_edit_replaces_the_thumbnail_and_its_hash(instance: Instance) -> None:
    producer_id = registry.add_producer(instance.store, producer_input())
    product_id = registry.add_product(instance.store, producer_id, product_input(), image=PNG_HEAD + b"\x00" * 50)
    registry.edit_product(instance.store, product_id, {}, image=JPEG_HEAD + b"\x02" * 50)
    row = instance.store.record_row("products", product_id)
    assert row["image_type"] == "image/jpeg" and row["data"]["image_sha256"] == hashlib.sha256(row["image"]).hexdigest()
    with pytest.raises(ValidationError, match="image_sha256"):
        registry.edit_product(instance.store, product_id, {"image_sha256": "0" * 64})


def test_a_signed_batch_keeps_its_records_as_they_were_when_signed(instance: Instance, signing_key: Ed25519PrivateKey) -> None:
    store = instance.store
    producer_id = registry.add_producer(store, producer_input())
    area_id = registry.add_farm_area(store, producer_id, farm_input())
    product_id = registry.add_product(store, producer_id, product_input(**ocop_input()))
    signed = registry.create_batch(store, signing_key, product_id, [area_id], batch_input())
    canonical = signed.signed.canonical

    registry.edit_producer(store, producer_id, {"name": "HTX Hợp Tiến"})
    registry.edit_farm_area(store, area_id, {"name": "Rừng ong Bình Liêu"})
    registry.edit_product(store, product_id, {"name": "Mật ong rừng Bình Liêu", "ocop_issued": "2025-06-01"})

    again = registry.find_batch(store, signed.digest)
    assert again.signed.canonical == canonical and again.digest == signed.digest
    again.signed.verify(signing_key.public_key())
    assert again.record["product"]["name"] == "Mật ong rừng" and again.record["producer"]["name"] == producer_input()["name"]
    later = registry.create_batch(store, signing_key, product_id, [area_id], batch_input(lot_code="BL-2026-002"))
    assert (later.record["product"]["name"], later.record["producer"]["name"]) == ("Mật ong rừng Bình Liêu", "HTX Hợp Tiến")
    assert later.record["farm_areas"][0]["name"] == "Rừng ong Bình Liêu"
    assert later.record["product"]["ocop_expires"] == "2028-06-01"


@pytest.mark.parametrize(("table", "data", "command"), [
    ("products", {"name": "Mật ong 🐝 rừng", "category": "Mật ong"}, "ocop-stamps product edit 1 --name ..."),
    ("producers", {**producer_input(), "name": "HTX \u202eEGAKCAP"}, "ocop-stamps producer edit 1 --name ..."),
], ids=["unprintable product name", "direction mark in a producer"])
def test_a_record_stored_before_a_rule_is_refused_at_batch_time_with_the_edit_that_fixes_it(
        instance: Instance, signing_key: Ed25519PrivateKey, table: str, data: dict[str, Any], command: str) -> None:
    store = instance.store
    if table == "producers":
        store.add_record("producers", {"name": data["name"]}, data)  # as an earlier version stored it, unchecked
        product_id = store.add_record("products", {"producer_id": 1, "name": "Mật ong"}, product_input())
    else:
        registry.add_producer(store, producer_input())
        product_id = store.add_record("products", {"producer_id": 1, "name": data["name"]}, data)
    with pytest.raises(ValidationError) as caught:
        registry.create_batch(store, signing_key, product_id, [], batch_input())
    assert caught.value.field == f"{table[:-1]} 1 name" and command in caught.value.hint
    assert registry.list_batches(store) == []
    edit = registry.edit_producer if table == "producers" else registry.edit_product
    edit(store, 1, {"name": "Đã sửa"})
    assert registry.create_batch(store, signing_key, product_id, [], batch_input()).record[table[:-1]]["name"] == "Đã sửa"


# --------------------------------------------------------------------------- warnings at batch creation

WARNING_DAY = dt.date(2026, 6, 1)
WARNING_CASES = {  # batch fields, product OCOP fields, what the warnings say (none: an empty list)
    "all in order": ({}, {}, []),
    "OCOP expires within the shelf life": ({"expiry_date": "2028-06-01"}, {},
                                           ["OCOP certificate 123/QĐ-UBND expires on 2028-03-10, before the batch does "
                                            "(2028-06-01)"]),
    "OCOP expires on the batch's expiry day": ({"expiry_date": "2028-03-10"}, {}, []),
    "OCOP already expired": ({}, {"ocop_issued": "2022-01-01"}, ["OCOP certificate 123/QĐ-UBND expired on 2025-01-01"]),
    "batch already expired": ({"harvest_date": "2025-01-01", "production_date": "2025-01-02", "expiry_date": "2026-05-31"},
                              {}, ["expiry date 2026-05-31 is already past"]),
    "both expired": ({"harvest_date": "2021-12-01", "production_date": "2021-12-02", "expiry_date": "2024-01-01"},
                     {"ocop_issued": "2022-01-01"}, ["expiry date 2024-01-01 is already past", "expired on 2025-01-01"]),
}


@pytest.mark.parametrize("case", WARNING_CASES)
def test_batch_warnings_about_dates(instance: Instance, signing_key: Ed25519PrivateKey, case: str) -> None:
    batch_fields, ocop_fields, expected = WARNING_CASES[case]
    producer_id = registry.add_producer(instance.store, producer_input())
    product_id = registry.add_product(instance.store, producer_id, product_input(**ocop_input(**ocop_fields)))
    created = registry.create_batch(instance.store, signing_key, product_id, [], batch_input(**batch_fields))
    warnings = registry.batch_warnings(instance.store, created, today=WARNING_DAY)
    assert len(warnings) == len(expected) and all(text in warning for text, warning in zip(expected, warnings)), warnings


def test_batch_warnings_about_a_reused_lot_code(instance: Instance, signing_key: Ed25519PrivateKey) -> None:
    store = instance.store
    ours = registry.add_producer(store, producer_input())
    theirs = registry.add_producer(store, producer_input(name="HTX Chè Hà Giang"))
    honey = registry.add_product(store, ours, product_input())
    tea = registry.add_product(store, theirs, product_input(name="Trà Shan tuyết"))
    first = registry.create_batch(store, signing_key, honey, [], batch_input(lot_code="L-7"))
    assert registry.batch_warnings(store, first, today=WARNING_DAY) == []
    other = registry.create_batch(store, signing_key, tea, [], batch_input(lot_code="L-7"))  # another producer's lot
    [warning] = registry.batch_warnings(store, other, today=WARNING_DAY)  # 'issue L-7' names both all the same
    assert f"Lot code L-7 is also used by batch {first.digest[:16]} in this instance" in warning
    again = registry.create_batch(store, signing_key, honey, [], batch_input(lot_code="L-7", quantity=10))
    [warning] = registry.batch_warnings(store, again, today=WARNING_DAY)
    assert f"also used by batch {first.digest[:16]}, {other.digest[:16]} " in warning and again.digest[:16] in warning
