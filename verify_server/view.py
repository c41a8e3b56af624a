"""The result page as data: what the template shows for one verification, in one language.

All text here is plain; the template escapes every value (producer-supplied
text included) through Jinja's autoescaping.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Hashable, Iterable, NamedTuple

from stamps.present import (LABELS, NOT_ATTESTED, RECALL_KINDS, VIETNAM_TIME, Fact, Lang, fact, headline_reason, key_fact, pick,
                            record_facts, shown_stars, verdict_title, vn_date)
from stamps.scans import ScanHistory
from stamps.trust.chain import Attestation
from stamps.verify import Reason, Result, Verification
from verify_server.i18n import LEADS, REPORT_ADVICE, WARNING_LEADS, text

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
POSSIBLE_COPY = Reason("possible_copy")
REPORT_RESULTS = (Result.RECALLED, Result.REVOKED_KEY, Result.FORGED, Result.UNKNOWN_ISSUER)
# The reason each result's headline already states: the page does not say it again underneath.
STATED_BY_HEADLINE: dict[Result, str] = {Result.RECALLED: "batch_recalled", Result.REVOKED_KEY: "key_revoked",
                                         Result.UNKNOWN_ISSUER: "key_unknown", Result.UNKNOWN_BATCH: "batch_unknown"}


@dataclasses.dataclass(frozen=True)
class FactGroup:
    """One label with its values (several origin steps share "Công đoạn")."""

    label: str
    values: tuple[Fact, ...]


@dataclasses.dataclass(frozen=True)
class RecordView:
    """The part of a page that depends only on the signed record and the language (so it can be cached)."""

    product: str
    stars: int | None
    image_url: str | None
    facts: tuple[FactGroup, ...]
    stars_note: str | None = None  # said beside stars no OCOP office attests


@dataclasses.dataclass(frozen=True)
class ResultPage:
    """The verdict part of a page: the same for every unit with this result, batch, key and day (hashable, so cached)."""

    result: str
    tone: str
    icon: str
    title: str
    lead: str
    reasons: tuple[str, ...]
    notices: tuple[str, ...]
    serial_label: str | None
    details: tuple[FactGroup, ...]
    advice: str | None


class UnitLines(NamedTuple):
    """The part of a page that belongs to one unit: its serial and its scan history (a tuple: one is made per scan)."""

    serial: str | None
    notices: tuple[str, ...]

    @property
    def shape(self) -> tuple[bool, int]:
        """What a page shell must leave room for."""
        return self.serial is not None, len(self.notices)

    @property
    def values(self) -> tuple[str, ...]:
        """The lines in page order (serial, if any, after the notices)."""
        return self.notices + (self.serial,) if self.serial is not None else self.notices

    def with_values(self, values: tuple[str, ...]) -> "UnitLines":
        """The same shape holding *values* (in the order of ``values``)."""
        count = len(self.notices)
        return UnitLines(values[count] if self.serial is not None else None, tuple(values[:count]))


NO_UNIT_LINES = UnitLines(None, ())


def page_key(verification: Verification, lang: Lang) -> Hashable:
    """Everything :func:`result_page` and the record part of a page read, as a value cheap to build and hash.

    Two verifications with equal keys get the same page but for their unit's
    lines, so the scan route keys its rendered pages by this (building the
    ResultPage itself on every scan cost more than the rest of the page).
    """
    key, batch = verification.key, verification.batch
    return (verification.result, verification.reasons, verification.checked_on, _unit_proven(verification), lang,
            (key.key_id, key.label, key.status, key.reason) if key else None,
            (batch.signed.digest, _recall_key(batch.recall)) if batch else None, verification.ocop)


def result_page(verification: Verification, lang: Lang) -> ResultPage:
    """Everything but the record and the unit's own lines for *verification* in the chosen language."""
    result = verification.result
    tone, icon = TONES[result]
    headline = headline_reason(verification)
    stated = {headline, STATED_BY_HEADLINE.get(result)}
    return ResultPage(
        result=result.value, tone=tone, icon=icon, title=pick(verdict_title(verification), lang),
        lead=pick(WARNING_LEADS[headline] if headline else LEADS[result], lang),
        reasons=tuple(pick((reason.message_vi, reason.message), lang) for reason in verification.reasons
                      if reason.code not in stated),
        notices=tuple(_notices(verification, lang)),
        serial_label=pick(LABELS["serial"], lang) if _unit_proven(verification) else None,
        details=_grouped(_details(verification, lang)),
        advice=pick(REPORT_ADVICE, lang) if result in REPORT_RESULTS else None,
    )


def unit_lines(verification: Verification, history: ScanHistory, lang: Lang) -> UnitLines:
    """The serial and scan-history lines, shown only when the stamp's signature proved them."""
    if verification.stamp is None or not _unit_proven(verification):
        return NO_UNIT_LINES
    return UnitLines(str(verification.stamp.serial), _scan_notices(verification, history, lang))


def record_view(record: dict[str, Any], lang: Lang, image_url: str | None, ocop: Attestation | None) -> RecordView:
    """The signed record as the page shows it: product heading, stars (attested, or self-declared and so labelled),
    then labelled facts."""
    product = record["product"]
    facts = [line for line in record_facts(record, lang, ocop) if line.key != "product"]  # the heading names it
    stars = shown_stars(product, ocop)
    attested = bool(ocop and ocop.attested)
    return RecordView(product["name"], stars, image_url, _grouped(facts), None if attested or stars is None else pick(NOT_ATTESTED, lang))


def _recall_key(recall: dict[str, str] | None) -> tuple[tuple[str, str], ...] | None:
    return None if recall is None else tuple(sorted(recall.items()))


def _unit_proven(verification: Verification) -> bool:
    return verification.stamp is not None and verification.signature_verified


def _details(verification: Verification, lang: Lang) -> Iterable[Fact]:
    if verification.key:
        yield key_fact(verification.key, lang)
    if verification.batch:
        yield fact("batch_digest", lang, verification.batch.digest)
    yield Fact("checked_on", text("checked_on", lang), verification.checked_on.strftime("%d/%m/%Y"))


def _notices(verification: Verification, lang: Lang) -> Iterable[str]:
    batch, key = verification.batch, verification.key
    if batch and batch.recall:
        recall = batch.recall
        yield text("recalled_on", lang, date=vn_date(recall["recalled_on"]), kind=pick(RECALL_KINDS[recall["kind"]], lang),
                   reason=recall["reason"])
    if verification.result is Result.REVOKED_KEY and key and key.reason:
        yield text("revoked_reason", lang, reason=key.reason)
    if verification.result is Result.UNKNOWN_BATCH and key:
        yield text("signed_by", lang, label=key.label)


def _scan_notices(verification: Verification, history: ScanHistory, lang: Lang) -> tuple[str, ...]:
    """Facts a shopper can judge: how many other places scanned the stamp, since when; advice for a likely copy.

    The same for every request from one place on one day (a reload, a language switch), since neither adds a place.
    """
    first = history.first_scanned()
    if history.other_places == 0 or first is None:
        return (text("no_other_place", lang),)
    when = first.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y")
    key = "one_other_place" if history.other_places == 1 else "other_places"
    seen = text(key, lang, first=when, count=history.other_places)
    return (seen, text("copy_advice", lang)) if POSSIBLE_COPY in verification.reasons else (seen,)


def _grouped(facts: Iterable[Fact]) -> tuple[FactGroup, ...]:
    return tuple(FactGroup(label, tuple(values)) for label, values in itertools.groupby(facts, key=lambda fact: fact.label))
