"""The result page as data: what the template shows for one verification, in one language.

All text here is plain; the template escapes every value (producer-supplied
text included) through Jinja's autoescaping.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Iterable

from stamps.present import RECALL_KINDS, TITLES, Fact, Lang, fact, key_fact, pick, record_facts, vn_date
from stamps.scanlog import ScanHistory
from stamps.verify import Result, Verification
from verify_server.i18n import LEADS, REPORT_ADVICE, text
from verify_server.runtime import VIETNAM_TIME

TONES: dict[Result, tuple[str, str]] = {
    Result.GENUINE: ("genuine", "✓"),
    Result.GENUINE_WARNING: ("warning", "!"),
    Result.UNKNOWN_BATCH: ("warning", "!"),
    Result.RECALLED: ("danger", "✕"),
    Result.REVOKED_KEY: ("danger", "✕"),
    Result.FORGED: ("danger", "✕"),
    Result.UNKNOWN_ISSUER: ("unknown", "?"),
    Result.NOT_A_STAMP: ("neutral", "?"),
}
REPORT_RESULTS = (Result.RECALLED, Result.REVOKED_KEY, Result.FORGED, Result.UNKNOWN_ISSUER)


@dataclasses.dataclass(frozen=True)
class FactGroup:
    """One label with its values (several origin steps share "Công đoạn")."""

    label: str
    values: list[Fact]


@dataclasses.dataclass(frozen=True)
class RecordView:
    """The part of a page that depends only on the signed record and the language (so it can be cached)."""

    product: str
    stars: int | None
    image_url: str | None
    facts: list[FactGroup]


@dataclasses.dataclass(frozen=True)
class ResultPage:
    """The part of a page that changes with every scan: verdict, reasons, notices, serial, details."""

    result: str
    tone: str
    icon: str
    title: str
    lead: str
    reasons: list[str]
    notices: list[str]
    serial: list[FactGroup]
    details: list[FactGroup]
    advice: str | None


def result_page(verification: Verification, history: ScanHistory, lang: Lang) -> ResultPage:
    """Everything but the record for *verification*, the unit's scan history and the chosen language."""
    result = verification.result
    tone, icon = TONES[result]
    serial = _serial_fact(verification, lang)
    return ResultPage(
        result=result.value, tone=tone, icon=icon, title=pick(TITLES[result], lang), lead=pick(LEADS[result], lang),
        reasons=[pick((reason.message_vi, reason.message), lang) for reason in verification.reasons],
        notices=list(_notices(verification, history, lang)),
        serial=_grouped([serial] if serial else []),
        details=_grouped(_details(verification, lang)),
        advice=pick(REPORT_ADVICE, lang) if result in REPORT_RESULTS else None,
    )


def record_view(record: dict[str, Any], lang: Lang, image_url: str | None) -> RecordView:
    """The signed record as the page shows it: product heading, stars, then labelled facts."""
    product = record["product"]
    facts = [line for line in record_facts(record, lang) if line.key != "product"]  # the heading names it
    return RecordView(product["name"], product.get("ocop_stars"), image_url, _grouped(facts))


def _serial_fact(verification: Verification, lang: Lang) -> Fact | None:
    if verification.stamp is None or not verification.signature_verified:
        return None
    return fact("serial", lang, str(verification.stamp.serial))


def _details(verification: Verification, lang: Lang) -> Iterable[Fact]:
    if verification.key:
        yield key_fact(verification.key, lang)
    if verification.batch:
        yield fact("batch_digest", lang, verification.batch.digest)
    yield Fact("checked_on", text("checked_on", lang), verification.checked_on.strftime("%d/%m/%Y"))


def _notices(verification: Verification, history: ScanHistory, lang: Lang) -> Iterable[str]:
    batch, key = verification.batch, verification.key
    if batch and batch.recall:
        recall = batch.recall
        yield text("recalled_on", lang, date=vn_date(recall["recalled_on"]), kind=pick(RECALL_KINDS[recall["kind"]], lang),
                   reason=recall["reason"])
    if verification.result is Result.REVOKED_KEY and key:
        yield text("revoked", lang, key_id=key.key_id, label=key.label)
        if key.reason:
            yield text("revoked_reason", lang, reason=key.reason)
    if verification.result is Result.UNKNOWN_BATCH and key:
        yield text("signed_by", lang, label=key.label)
    if verification.signature_verified:
        yield from _scan_notices(verification, history, lang)


def _scan_notices(verification: Verification, history: ScanHistory, lang: Lang) -> Iterable[str]:
    first = history.first_scanned()
    if history.previous == 0 or first is None:
        yield text("first_scan", lang)
        return
    yield text("scanned_before", lang, count=history.previous, first=first.astimezone(VIETNAM_TIME).strftime("%H:%M %d/%m/%Y"))
    if any(reason.code == "possible_copy" for reason in verification.reasons):
        yield text("copy_advice", lang)


def _grouped(facts: Iterable[Fact]) -> list[FactGroup]:
    return [FactGroup(label, list(values)) for label, values in itertools.groupby(facts, key=lambda fact: fact.label)]
