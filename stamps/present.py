"""Verification results for people: titles, field labels and values, in Vietnamese or English.

The CLI prints both languages (``text_report``); the web verifier shows one
(``record_facts`` with ``lang``). Labels are the ones Vietnamese shoppers know
from packaging: Tên sản phẩm, Chủ thể, Mã số vùng trồng, NSX, HSD, ...
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterator, Literal

from keys.keyring import TrustedKey
from stamps.scans import UnitScans
from stamps.trust.chain import SELF_DECLARED, Attestation
from stamps.verify import Reason, Result, Verification

Lang = Literal["vi", "en"]
LANGUAGES: tuple[Lang, ...] = ("vi", "en")
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")  # times are shown as Vietnamese readers live them

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
# A warning that changes what a genuine stamp's headline says (a likely copy must not read "Tem chính hãng").
WARNING_TITLES: dict[str, tuple[str, str]] = {
    "possible_copy": ("Cảnh báo: có thể là tem sao chép", "Warning: possibly a copied stamp"),
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
    "expiry_date": ("Hạn sử dụng (HSD)", "Expiry date"),
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
OCOP_ATTESTED = ("{stars} sao OCOP ({level}) — {office}, QĐ số {decision} ngày {decided}, GCN số {certificate}, hiệu lực đến {until}",
                 "{stars}-star OCOP ({level}) — {office}, decision {decision} of {decided}, certificate {certificate}, valid until {until}")
OCOP_DECLARED = ("{stars} sao ({level}), GCN số {certificate}, hiệu lực đến {until}",
                 "{stars} stars ({level}), certificate {certificate}, valid until {until}")
NOT_ATTESTED = ("chủ thể tự khai, chưa được cơ quan OCOP xác nhận", "declared by the producer, not attested by an OCOP office")
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


def headline_reason(verification: Verification) -> str | None:
    """The warning that names the verdict (see WARNING_TITLES), if any."""
    return next((reason.code for reason in verification.reasons if reason.code in WARNING_TITLES), None)


def verdict_title(verification: Verification) -> tuple[str, str]:
    """The verdict's headline in both languages."""
    reason = headline_reason(verification)
    return WARNING_TITLES[reason] if reason else TITLES[verification.result]


def title(verification: Verification) -> str:
    vietnamese, english = verdict_title(verification)
    return f"{vietnamese} ({english})"


def text_report(verification: Verification) -> str:
    """The CLI's plain-text report: the verdict, its reasons, then the proven fields, labels in both languages."""
    lines = [f"{verification.result.outcome.upper()}: {title(verification)}"]
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
        yield from record_facts(verification.batch.record, lang, verification.ocop)
        yield fact("batch_digest", lang, verification.batch.digest)
        if verification.batch.recall:
            yield fact("recall", lang, recall_text(verification.batch.recall, lang))


def key_fact(key: TrustedKey, lang: Lang) -> Fact:
    return fact("signing_key", lang, f"{key.key_id} ({key.label}, {pick(KEY_STATUSES[key.status], lang)})")


def record_facts(record: dict[str, Any], lang: Lang, ocop: Attestation | None) -> Iterator[Fact]:
    """The signed batch record as labelled lines, in the order a shopper reads a label; the OCOP line as *ocop* says."""
    product, producer, batch = record["product"], record["producer"], record["batch"]
    yield fact("product", lang, product["name"])
    if ocop is not None:
        yield fact("ocop", lang, ocop_text(product, ocop, lang))
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
        yield fact("step", lang, step_text(step, lang))
    if product.get("standards"):
        yield fact("standards", lang, "; ".join(product["standards"]))


def ocop_text(product: dict[str, Any], ocop: Attestation, lang: Lang) -> str:
    """The OCOP line: stars with the office that attests them, stars the producer declared (so labelled), or why none."""
    if ocop.attested:
        endorsed, office = ocop.product, ocop.office
        assert endorsed is not None and office is not None
        return pick(OCOP_ATTESTED, lang).format(
            stars=endorsed.stars, level=pick(OCOP_LEVELS[endorsed.level], lang), office=office.name,
            decision=endorsed.decision_no, decided=endorsed.decision_date.strftime("%d/%m/%Y"),
            until=endorsed.valid_until.strftime("%d/%m/%Y"), certificate=endorsed.certificate_no)
    reason = Reason(str(ocop.reason))
    if ocop.reason == SELF_DECLARED.reason:
        declared = pick(OCOP_DECLARED, lang).format(
            stars=product["ocop_stars"], level=pick(OCOP_LEVELS[product["ocop_level"]], lang),
            certificate=product["ocop_certificate_no"], until=vn_date(product["ocop_expires"]))
        return f"{declared} ({pick(NOT_ATTESTED, lang)})"
    return pick((reason.message_vi, reason.message), lang)


def shown_stars(product: dict[str, Any], ocop: Attestation | None) -> int | None:
    """The stars a page draws: the attested ones, or the self-declared ones (labelled so); none otherwise."""
    if ocop is None:
        return None
    if ocop.attested:
        return int(ocop.product.stars)
    return int(product["ocop_stars"]) if ocop.reason == SELF_DECLARED.reason else None


def farm_area_text(area: dict[str, Any], lang: Lang) -> str:
    parts = [area["name"]]
    if "code" in area:
        parts.append(("mã số " if lang == "vi" else "code ") + area["code"])
    if "location" in area:
        parts.append(area["location"])
    if "area_ha" in area:
        parts.append(f"{decimal_text(area['area_ha'], lang)} ha")
    if "latitude" in area:
        parts.append(f"GPS {area['latitude']}, {area['longitude']}")
    if area.get("certifications"):
        parts.append(", ".join(area["certifications"]))
    return "; ".join(parts)


def step_text(step: dict[str, str], lang: Lang) -> str:
    """An origin step as a line: date, step, place and its location code when it has one."""
    line = f"{vn_date(step['date'])} {step['step']}: {step['place']}"
    if "location_code" in step:
        line += f" ({'mã địa điểm' if lang == 'vi' else 'location code'} {step['location_code']})"
    return line


def decimal_text(value: str, lang: Lang) -> str:
    """A decimal string (records keep decimals as text) as the reader writes it: 12,5 in Vietnamese, 12.5 in English."""
    return value.replace(".", ",") if lang == "vi" else value


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


SCAN_REPORT_COLUMNS = ("serial", "scans", "places", "first_scanned_at", "possible_copy")


def scan_report(units: list[UnitScans], issued: int, threshold: int) -> str:
    """A batch's scanned units as a table for a terminal, then a one-line summary."""
    lines = [f"{'serial':>8}  {'scans':>7}  {'places':>6}  {'first scan (Vietnam time)':<25}  flag"]
    for unit in units:
        flag = "POSSIBLE COPY" if unit.possible_copy else ""
        lines.append(f"{unit.serial:>8}  {unit.scans:>7,}  {unit.places:>6,}  {vn_time(unit.first_scanned_at):<25}  {flag}".rstrip())
    flagged = sum(unit.possible_copy for unit in units)
    lines.append(f"{len(units):,} of {issued:,} issued units scanned; {flagged:,} possible "
                 f"{'copy' if flagged == 1 else 'copies'} (scanned from more than {threshold} places).")
    return "\n".join(lines)


def scan_report_rows(units: list[UnitScans]) -> list[tuple[object, ...]]:
    """The same units as CSV rows (SCAN_REPORT_COLUMNS; times in UTC, ISO 8601)."""
    return [(unit.serial, unit.scans, unit.places, unit.first_scanned_at, "yes" if unit.possible_copy else "no")
            for unit in units]


def vn_time(iso_utc: str) -> str:
    """A UTC time of the scan log as a Vietnamese reader writes it: HH:MM dd/mm/yyyy, Vietnam time."""
    moment = dt.datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    return moment.astimezone(VIETNAM_TIME).strftime("%H:%M %d/%m/%Y")
