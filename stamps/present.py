"""Verification results for people: titles, field labels and values, in Vietnamese or English.

The CLI prints both languages (``text_report``); the web verifier shows one
(``record_facts`` with ``lang``). Labels are the ones Vietnamese shoppers know
from packaging: Tên sản phẩm, Chủ thể, Mã số vùng trồng, NSX, HSD, ...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterator, Literal

from keys.truststore import TrustedKey
from stamps.verify import Result, Verification

Lang = Literal["vi", "en"]
LANGUAGES: tuple[Lang, ...] = ("vi", "en")

TITLES: dict[Result, tuple[str, str]] = {
    Result.GENUINE: ("Tem chính hãng", "Genuine"),
    Result.GENUINE_WARNING: ("Tem chính hãng, có cảnh báo", "Genuine, with a warning"),
    Result.RECALLED: ("Lô hàng đã bị thu hồi", "Batch recalled"),
    Result.REVOKED_KEY: ("Khóa ký đã bị thu hồi", "Signing key revoked"),
    Result.UNKNOWN_ISSUER: ("Không rõ đơn vị phát hành", "Unknown issuer"),
    Result.FORGED: ("Tem giả", "Forged"),
    Result.NOT_A_STAMP: ("Không phải tem truy xuất", "Not a stamp"),
    Result.UNKNOWN_BATCH: ("Chưa có thông tin lô hàng", "Unknown batch"),
}

LABELS: dict[str, tuple[str, str]] = {
    "serial": ("Số sê-ri", "Serial"),
    "signing_key": ("Khóa ký", "Signing key"),
    "product": ("Tên sản phẩm", "Product"),
    "ocop": ("Sản phẩm OCOP", "OCOP product"),
    "brand": ("Nhãn hiệu", "Brand"),
    "category": ("Loại sản phẩm", "Category"),
    "gtin": ("Mã GTIN", "GTIN"),
    "producer": ("Chủ thể", "Producer"),
    "address": ("Địa chỉ", "Address"),
    "growing": ("Vùng trồng", "Farm area"),
    "raising": ("Vùng nuôi", "Raising area"),
    "raw_material": ("Vùng nguyên liệu", "Raw-material area"),
    "lot": ("Mã lô", "Lot"),
    "harvest_date": ("Ngày thu hoạch", "Harvested"),
    "production_date": ("Ngày sản xuất (NSX)", "Produced"),
    "expiry_date": ("Hạn sử dụng (HSD)", "Best before"),
    "packing_facility": ("Cơ sở đóng gói", "Packed at"),
    "step": ("Công đoạn", "Step"),
    "standards": ("Tiêu chuẩn áp dụng", "Standards"),
    "batch_digest": ("Mã lô hàng (digest)", "Batch digest"),
    "recall": ("Thu hồi", "Recall"),
}

PRODUCER_KINDS: dict[str, tuple[str, str]] = {
    "enterprise": ("Doanh nghiệp", "Enterprise"), "cooperative": ("Hợp tác xã", "Cooperative"),
    "cooperative_group": ("Tổ hợp tác", "Cooperative group"), "household": ("Hộ sản xuất", "Household producer")}
OCOP_LEVELS: dict[str, tuple[str, str]] = {"province": ("cấp tỉnh", "province level"),
                                           "national": ("cấp quốc gia", "national level")}
KEY_STATUSES: dict[str, tuple[str, str]] = {"active": ("đang dùng", "active"), "retired": ("đã ngừng dùng", "retired"),
                                            "revoked": ("đã bị thu hồi", "revoked")}
RECALL_KINDS: dict[str, tuple[str, str]] = {"voluntary": ("tự nguyện", "voluntary"), "mandatory": ("bắt buộc", "mandatory")}


@dataclasses.dataclass(frozen=True)
class Fact:
    """One labelled line of a result; ``link`` is set for a GPS point (a map to open)."""

    key: str
    label: str
    value: str
    link: str | None = None


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[LANGUAGES.index(lang)]


def vn_date(iso: str) -> str:
    """A date as Vietnamese readers write it: day/month/year."""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def title(result: Result) -> str:
    vietnamese, english = TITLES[result]
    return f"{vietnamese} ({english})"


def text_report(verification: Verification) -> str:
    """The CLI's plain-text report: the verdict, its reasons, then the proven fields, labels in both languages."""
    lines = [f"{verification.result.outcome.upper()}: {title(verification.result)}"]
    lines += [f"  - {reason.message_vi} / {reason.message}" for reason in verification.reasons]
    lines += [f"{' / '.join(LABELS[fact.key])}: {fact.value}" for fact in verification_facts(verification, "vi")]
    return "\n".join(lines)


def verification_facts(verification: Verification, lang: Lang) -> Iterator[Fact]:
    """Everything proven about the code: serial and key, then the signed record, then the recall."""
    stamp, key = verification.stamp, verification.key
    if stamp and verification.signature_verified:
        yield fact("serial", lang, str(stamp.serial))
    if key:
        yield key_fact(key, lang)
    if verification.batch:
        yield from record_facts(verification.batch.record, lang)
        yield fact("batch_digest", lang, verification.batch.digest)
        if verification.batch.recall:
            yield fact("recall", lang, recall_text(verification.batch.recall, lang))


def key_fact(key: TrustedKey, lang: Lang) -> Fact:
    return fact("signing_key", lang, f"{key.key_id} ({key.label}, {pick(KEY_STATUSES[key.status], lang)})")


def record_facts(record: dict[str, Any], lang: Lang) -> Iterator[Fact]:
    """The signed batch record as labelled lines, in the order a shopper reads a label."""
    product, producer, batch = record["product"], record["producer"], record["batch"]
    yield fact("product", lang, product["name"])
    if "ocop_stars" in product:
        yield fact("ocop", lang, ocop_text(product, lang))
    for name in ("brand", "category", "gtin"):
        if name in product:
            yield fact(name, lang, product[name])
    yield fact("producer", lang, f"{producer['name']} ({pick(PRODUCER_KINDS[producer['kind']], lang)})")
    yield fact("address", lang, ", ".join(part for part in (producer.get("address"), producer["commune"], producer["province"]) if part))
    for area in record["farm_areas"]:
        yield fact(area["kind"], lang, farm_area_text(area, lang), map_link(area))
    yield fact("lot", lang, batch["lot_code"])
    for name in ("harvest_date", "production_date", "expiry_date"):
        if name in batch:
            yield fact(name, lang, vn_date(batch[name]))
    if "packing_facility" in batch:
        yield fact("packing_facility", lang, ", ".join(filter(None, (batch["packing_facility"], batch.get("packing_address")))))
    for step in batch.get("origin_steps", []):
        yield fact("step", lang, f"{vn_date(step['date'])} {step['step']}: {step['place']}")
    if product.get("standards"):
        yield fact("standards", lang, "; ".join(product["standards"]))


def ocop_text(product: dict[str, Any], lang: Lang) -> str:
    stars, level = product["ocop_stars"], pick(OCOP_LEVELS[product["ocop_level"]], lang)
    valid_until = vn_date(product["ocop_expires"])
    if lang == "vi":
        return f"{stars} sao ({level}), GCN số {product['ocop_certificate_no']}, hiệu lực đến {valid_until}"
    return f"{stars} stars ({level}), certificate {product['ocop_certificate_no']}, valid until {valid_until}"


def farm_area_text(area: dict[str, Any], lang: Lang) -> str:
    parts = [area["name"]]
    if "code" in area:
        parts.append(("mã số " if lang == "vi" else "code ") + area["code"])
    if "location" in area:
        parts.append(area["location"])
    if "area_ha" in area:
        parts.append(f"{area['area_ha']} ha")
    if "latitude" in area:
        parts.append(f"GPS {area['latitude']}, {area['longitude']}")
    if area.get("certifications"):
        parts.append(", ".join(area["certifications"]))
    return "; ".join(parts)


def map_link(area: dict[str, Any]) -> str | None:
    """A map of the farm area's GPS point, opened by the phone's map app (no map is embedded in the page)."""
    if "latitude" not in area:
        return None
    return f"https://www.google.com/maps/search/?api=1&query={area['latitude']},{area['longitude']}"


def recall_text(recall: dict[str, str], lang: Lang) -> str:
    return f"{vn_date(recall['recalled_on'])} ({pick(RECALL_KINDS[recall['kind']], lang)}): {recall['reason']}"


def fact(key: str, lang: Lang, value: str, link: str | None = None) -> Fact:
    """A labelled line, the label from LABELS in *lang*."""
    return Fact(key, pick(LABELS[key], lang), value, link)
