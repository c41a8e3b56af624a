"""Verification results for people: titles and field labels (Vietnamese first, English after)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from stamps.verify import Result, Verification

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

PRODUCER_KINDS_VI = {"enterprise": "Doanh nghiệp", "cooperative": "Hợp tác xã", "cooperative_group": "Tổ hợp tác",
                     "household": "Hộ sản xuất"}
OCOP_LEVELS_VI = {"province": "cấp tỉnh", "national": "cấp quốc gia"}


def vn_date(iso: str) -> str:
    """A date as Vietnamese readers write it: day/month/year."""
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def title(result: Result) -> str:
    vietnamese, english = TITLES[result]
    return f"{vietnamese} ({english})"


def text_report(verification: Verification) -> str:
    """The CLI's plain-text report: the verdict, its reasons, then the proven fields."""
    lines = [f"{verification.result.outcome.upper()}: {title(verification.result)}"]
    lines += [f"  - {reason.message_vi} / {reason.message}" for reason in verification.reasons]
    lines += [f"{label}: {value}" for label, value in _fields(verification)]
    return "\n".join(lines)


def _fields(verification: Verification) -> Iterator[tuple[str, str]]:
    stamp, key = verification.stamp, verification.key
    if stamp and verification.signature_verified:
        yield "Số sê-ri / Serial", str(stamp.serial)
    if key:
        yield "Khóa ký / Signing key", f"{key.key_id} ({key.label}, {key.status})"
    if verification.batch:
        yield from _record_fields(verification.batch.record)
        yield "Mã lô hàng (digest) / Batch digest", verification.batch.digest
        if verification.batch.recall:
            recall = verification.batch.recall
            yield "Thu hồi / Recall", f"{vn_date(recall['recalled_on'])} ({recall['kind']}): {recall['reason']}"


def _record_fields(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    product, producer, batch = record["product"], record["producer"], record["batch"]
    yield "Tên sản phẩm / Product", product["name"]
    if "ocop_stars" in product:
        level = OCOP_LEVELS_VI[product["ocop_level"]]
        yield "Sản phẩm OCOP", (f"{'★' * product['ocop_stars']} ({product['ocop_stars']} sao, {level}), "
                                f"GCN số {product['ocop_certificate_no']}, hiệu lực đến {vn_date(product['ocop_expires'])}")
    if "brand" in product:
        yield "Nhãn hiệu / Brand", product["brand"]
    yield "Chủ thể / Producer", f"{producer['name']} ({PRODUCER_KINDS_VI[producer['kind']]})"
    yield "Địa chỉ / Address", ", ".join(part for part in (producer.get("address"), producer["commune"], producer["province"]) if part)
    for area in record["farm_areas"]:
        yield "Vùng trồng / Farm area", _farm_area_line(area)
    yield "Mã lô / Lot", batch["lot_code"]
    if "harvest_date" in batch:
        yield "Ngày thu hoạch / Harvested", vn_date(batch["harvest_date"])
    yield "Ngày sản xuất (NSX) / Produced", vn_date(batch["production_date"])
    yield "Hạn sử dụng (HSD) / Expiry", vn_date(batch["expiry_date"])
    for step in batch.get("origin_steps", []):
        yield "Công đoạn / Step", f"{vn_date(step['date'])} {step['step']}: {step['place']}"
    if product.get("standards"):
        yield "Tiêu chuẩn áp dụng / Standards", "; ".join(product["standards"])


def _farm_area_line(area: dict[str, Any]) -> str:
    parts = [area["name"]]
    if "code" in area:
        parts.append(f"mã số {area['code']}")
    if "latitude" in area:
        parts.append(f"GPS {area['latitude']}, {area['longitude']}")
    if area.get("certifications"):
        parts.append(", ".join(area["certifications"]))
    return "; ".join(parts)
