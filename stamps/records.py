"""The cooperative's records: producer, farm area, product and batch.

Each record is a frozen dataclass built only through ``from_input``, which
validates every field, so an invalid record cannot exist. ``to_dict`` gives
the JSON form that is stored and that goes into a signed batch record. What a
stamp's label prints (the product name, the lot code) must be printable by the
label font, checked against ``stamps.charset`` (no font is loaded here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any, Callable, Mapping, NamedTuple

from stamps import validation as v
from stamps.canonical import without_empty
from stamps.errors import ValidationError

PRODUCER_KINDS = ("enterprise", "cooperative", "cooperative_group", "household")
FARM_AREA_KINDS = ("growing", "raising", "raw_material")
OCOP_LEVELS = ("province", "national")
OCOP_VALIDITY_MONTHS = 36
MAX_QUANTITY = 10_000_000
MAX_IMAGE_BYTES = 20 * 1024


class RecordTable(NamedTuple):
    """How people call a row of a record table, and the CLI group that lists and edits them."""

    label: str
    command: str


RECORD_TABLES = {"producers": RecordTable("producer", "producer"), "farm_areas": RecordTable("farm area", "farm"),
                 "products": RecordTable("product", "product")}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day *months* later (the last day of the month when it does not exist)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclasses.dataclass(frozen=True)
class Producer:
    """Chủ thể OCOP: the enterprise, cooperative, cooperative group or household."""

    name: str
    kind: str
    province: str
    commune: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    tax_code: str | None = None

    FIELDS = ("name", "kind", "province", "commune", "address", "phone", "email", "website", "tax_code")

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "Producer":
        v.reject_unknown(data, cls.FIELDS, "producer")
        email = v.text(data.get("email"), "email", required=False)
        if email and ("@" not in email or " " in email):
            raise ValidationError("email", "must look like name@example.vn")
        phone = v.text(data.get("phone"), "phone", required=False, max_length=20)
        if phone and not _is_phone(phone):
            raise ValidationError("phone", "must be 8 to 15 digits, optionally with +, spaces, dots or dashes")
        tax_code = v.text(data.get("tax_code"), "tax_code", required=False, max_length=14)
        if tax_code and not _is_tax_code(tax_code):
            raise ValidationError("tax_code", "must be 10 digits, or 10 digits, a dash and 3 digits")
        return cls(
            name=v.required_text(data.get("name"), "name"),
            kind=v.choice(data.get("kind"), "kind", PRODUCER_KINDS),
            province=v.required_text(data.get("province"), "province", max_length=100),
            commune=v.required_text(data.get("commune"), "commune", max_length=100),
            address=v.text(data.get("address"), "address", required=False),
            phone=phone,
            email=email,
            website=v.text(data.get("website"), "website", required=False),
            tax_code=tax_code,
        )

    def to_dict(self) -> dict[str, Any]:
        return without_empty({name: getattr(self, name) for name in self.FIELDS})


def _is_phone(phone: str) -> bool:
    digits = [char for char in phone if char.isdigit()]
    allowed = set("0123456789+ .-()")
    return set(phone) <= allowed and 8 <= len(digits) <= 15


def _is_tax_code(code: str) -> bool:
    return re.fullmatch(r"[0-9]{10}(-[0-9]{3})?", code) is not None


def _sha256_hex(value: Any) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value)):
        raise ValidationError("image_sha256", "must be 64 lower-case hex digits (it is set from the image file)")
    return value


@dataclasses.dataclass(frozen=True)
class FarmArea:
    """Vùng trồng / vùng nuôi / vùng nguyên liệu, with its growing-area code when it has one."""

    name: str
    kind: str
    province: str
    code: str | None = None
    commune: str | None = None
    location: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    area_ha: str | None = None
    certifications: tuple[str, ...] = ()

    FIELDS = ("name", "kind", "province", "code", "commune", "location", "latitude", "longitude", "area_ha", "certifications")

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "FarmArea":
        v.reject_unknown(data, cls.FIELDS, "farm_area")
        latitude, longitude = v.gps_point(data.get("latitude"), data.get("longitude"))
        return cls(
            name=v.required_text(data.get("name"), "name"),
            kind=v.choice(data.get("kind"), "kind", FARM_AREA_KINDS, default="growing"),
            province=v.required_text(data.get("province"), "province", max_length=100),
            code=growing_area_code(data.get("code")),
            commune=v.text(data.get("commune"), "commune", required=False, max_length=100),
            location=v.text(data.get("location"), "location", required=False),
            latitude=latitude,
            longitude=longitude,
            area_ha=v.decimal(data.get("area_ha"), "area_ha", minimum=Decimal("0.0001"), maximum=Decimal(1_000_000), places=4),
            certifications=v.text_list(data.get("certifications"), "certifications"),
        )

    def to_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        values["certifications"] = list(self.certifications) or None
        return without_empty(values)


def growing_area_code(value: Any) -> str | None:
    """Mã số vùng trồng as the producer has it: trimmed, upper case, ``VN-`` prefix."""
    code = v.text(value, "code", required=False, max_length=60)
    if code is None:
        return None
    code = code.upper()
    if not code.startswith("VN-") or not all(char.isascii() and (char.isalnum() or char in "-.") for char in code):
        raise ValidationError("code", "must start with VN- and hold only letters, digits, dots and dashes (e.g. VN-DB-MA-0001-24)")
    return code


@dataclasses.dataclass(frozen=True)
class Ocop:
    """An OCOP certificate: star rating, number, level and validity."""

    stars: int
    certificate_no: str
    level: str
    issued: dt.date
    expires: dt.date

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "Ocop":
        stars = v.integer(data.get("ocop_stars"), "ocop_stars", minimum=3, maximum=5)
        level = v.choice(data.get("ocop_level"), "ocop_level", OCOP_LEVELS, default=default_ocop_level(stars))
        if stars == 5 and level != "national":
            raise ValidationError("ocop_level", "must be national for a 5-star product (5 stars are rated by the national council)")
        issued = v.date(data.get("ocop_issued"), "ocop_issued")
        assert issued is not None
        longest = add_months(issued, OCOP_VALIDITY_MONTHS)
        expires = v.date(data.get("ocop_expires"), "ocop_expires", required=False) or longest
        if not issued < expires <= longest:
            raise ValidationError("ocop_expires", f"must be after ocop_issued and at most {OCOP_VALIDITY_MONTHS} months later ({longest.isoformat()})")
        return cls(stars, v.required_text(data.get("ocop_certificate_no"), "ocop_certificate_no", max_length=60), level, issued, expires)

    def to_dict(self) -> dict[str, Any]:
        return {"stars": self.stars, "certificate_no": self.certificate_no, "level": self.level,
                "issued": self.issued.isoformat(), "expires": self.expires.isoformat()}


def default_ocop_level(stars: int) -> str:
    """National for 5 stars (rated by the national council), else provincial."""
    return "national" if stars == 5 else "province"


def default_ocop_expires(issued: str) -> str:
    """The longest validity of a certificate issued on *issued* (ISO date)."""
    return add_months(dt.date.fromisoformat(issued), OCOP_VALIDITY_MONTHS).isoformat()


@dataclasses.dataclass(frozen=True)
class Product:
    """A product with its OCOP rating, GTIN, brand and the standards applied."""

    name: str
    category: str
    ocop: Ocop | None = None
    brand: str | None = None
    gtin: str | None = None
    standards: tuple[str, ...] = ()
    description: str | None = None
    image_sha256: str | None = None

    FIELDS = ("name", "category", "brand", "gtin", "standards", "description", "ocop_stars",
              "ocop_certificate_no", "ocop_level", "ocop_issued", "ocop_expires", "image_sha256")
    OCOP_FIELDS = ("ocop_stars", "ocop_certificate_no", "ocop_level", "ocop_issued", "ocop_expires")

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "Product":
        v.reject_unknown(data, cls.FIELDS, "product")
        has_ocop = any(data.get(name) not in (None, "") for name in cls.OCOP_FIELDS)
        return cls(
            name=v.label_text(data.get("name"), "name"),  # printed on every stamp of the product
            category=v.required_text(data.get("category"), "category", max_length=100),
            ocop=Ocop.from_input(data) if has_ocop else None,
            brand=v.text(data.get("brand"), "brand", required=False),
            gtin=v.gtin(data.get("gtin")),
            standards=v.text_list(data.get("standards"), "standards"),
            description=v.text(data.get("description"), "description", required=False, max_length=2000),
            image_sha256=_sha256_hex(data.get("image_sha256")),
        )

    def to_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": self.name, "category": self.category, "brand": self.brand, "gtin": self.gtin,
            "standards": list(self.standards) or None, "description": self.description,
            "image_sha256": self.image_sha256,
        }
        if self.ocop:
            values.update({f"ocop_{key}": value for key, value in self.ocop.to_dict().items()})
        return without_empty(values)


# (derived field, the field it is derived from, its default): a stored default follows its source when that is edited
_PRODUCT_DEFAULTS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("ocop_expires", "ocop_issued", default_ocop_expires),
    ("ocop_level", "ocop_stars", default_ocop_level),
)


def edited(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The input for a stored record with *changes* over it, for ``from_input`` to validate whole.

    A product's stored OCOP expiry or level that is only the default of its issue date
    or stars is worked out again when those change (a corrected issue date moves the
    expiry with it); one given explicitly stays.
    """
    merged = {**stored, **changes}
    for derived, source, default in _PRODUCT_DEFAULTS:
        was_default = derived in stored and stored[derived] == _default_of(default, stored.get(source))
        if source in changes and derived not in changes and was_default:
            del merged[derived]
    return merged


def _default_of(default: Callable[[Any], str], source: Any) -> str | None:
    try:
        return default(source)
    except (TypeError, ValueError):
        return None


def image_kind(image: bytes) -> str:
    """The MIME type of a small product thumbnail (PNG, JPEG or WebP) or a ValidationError."""
    if len(image) > MAX_IMAGE_BYTES:
        raise ValidationError("image", f"must be at most {MAX_IMAGE_BYTES // 1024} KB (it is {len(image) // 1024} KB)",
                              hint="Save a smaller thumbnail, e.g. 300 x 300 px JPEG.")
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    raise ValidationError("image", "must be a PNG, JPEG or WebP file")


@dataclasses.dataclass(frozen=True)
class OriginStep:
    """One stage of the batch's origin (harvested, processed, packed, ...) with date and place."""

    step: str
    date: dt.date
    place: str
    location_code: str | None = None

    FIELDS = ("step", "date", "place", "location_code")

    @classmethod
    def from_input(cls, data: Any, index: int) -> "OriginStep":
        where = f"origin_steps[{index}]"
        data = v.mapping(data, where)
        v.reject_unknown(data, cls.FIELDS, where)
        day = v.date(data.get("date"), f"{where}.date")
        assert day is not None
        return cls(
            step=v.required_text(data.get("step"), f"{where}.step", max_length=60),
            date=day,
            place=v.required_text(data.get("place"), f"{where}.place"),
            location_code=v.text(data.get("location_code"), f"{where}.location_code", required=False, max_length=60),
        )

    def to_dict(self) -> dict[str, Any]:
        return without_empty({"step": self.step, "date": self.date.isoformat(), "place": self.place,
                              "location_code": self.location_code})


@dataclasses.dataclass(frozen=True)
class Batch:
    """Lô sản xuất: what is signed about one production lot."""

    lot_code: str
    quantity: int
    production_date: dt.date
    expiry_date: dt.date
    harvest_date: dt.date | None = None
    packing_facility: str | None = None
    packing_address: str | None = None
    origin_steps: tuple[OriginStep, ...] = ()

    FIELDS = ("lot_code", "quantity", "production_date", "expiry_date", "harvest_date",
              "packing_facility", "packing_address", "origin_steps")

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "Batch":
        v.reject_unknown(data, cls.FIELDS, "batch")
        harvest = v.date(data.get("harvest_date"), "harvest_date", required=False)
        production = v.date(data.get("production_date"), "production_date")
        expiry = v.date(data.get("expiry_date"), "expiry_date")
        assert production is not None and expiry is not None
        v.not_after(harvest, production, "harvest_date", "production_date (packing)")
        v.not_after(production, expiry, "production_date", "expiry_date")
        raw_steps = data.get("origin_steps") or ()
        if not isinstance(raw_steps, (list, tuple)):
            raise ValidationError("origin_steps", "must be a list of steps (each with step, date and place)")
        steps = tuple(OriginStep.from_input(item, index) for index, item in enumerate(raw_steps))
        _check_step_order(steps, expiry)
        return cls(
            lot_code=lot_code(data.get("lot_code")),
            quantity=v.integer(data.get("quantity"), "quantity", minimum=1, maximum=MAX_QUANTITY),
            production_date=production,
            expiry_date=expiry,
            harvest_date=harvest,
            packing_facility=v.text(data.get("packing_facility"), "packing_facility", required=False),
            packing_address=v.text(data.get("packing_address"), "packing_address", required=False),
            origin_steps=steps,
        )

    def to_dict(self) -> dict[str, Any]:
        return without_empty({
            "lot_code": self.lot_code, "quantity": self.quantity,
            "production_date": self.production_date.isoformat(), "expiry_date": self.expiry_date.isoformat(),
            "harvest_date": _iso(self.harvest_date), "packing_facility": self.packing_facility,
            "packing_address": self.packing_address,
            "origin_steps": [step.to_dict() for step in self.origin_steps] or None,
        })


_LOT_CODE = re.compile(r"[A-Za-z0-9._/-]+")  # the same rule as a class: ASCII letters and digits, . _ / -


def lot_code(value: Any) -> str:
    """Mã lô: 1 to 40 letters, digits, dots, dashes, slashes or underscores."""
    code = v.label_text(value, "lot_code", max_length=40)  # printed on every stamp of the batch
    if not _LOT_CODE.fullmatch(code):
        raise ValidationError("lot_code", "must hold only letters A-Z, digits, dots, dashes, slashes or underscores")
    return code


def _check_step_order(steps: tuple[OriginStep, ...], expiry: dt.date) -> None:
    for index, (before, after) in enumerate(zip(steps, steps[1:]), start=1):
        if after.date < before.date:
            raise ValidationError(f"origin_steps[{index}].date", "must not be before the previous step's date")
    for index, step in enumerate(steps):
        if step.date > expiry:
            raise ValidationError(f"origin_steps[{index}].date", "must be on or before expiry_date")
