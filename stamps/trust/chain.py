"""The chain of trust as one value: a trust root, the endorsements its offices signed, and what was revoked.

A producer key is *endorsed* on a day when a current (newest version, not
revoked) endorsement by an office of the trust root, valid that day, lists the
key with a window holding the day, the key was not revoked (by itself or the
central office) and the endorsing office did not withdraw it (a province
office's key revocation counts for its own endorsements only). A batch record's OCOP stars are *attested* when such an endorsement
lists its product's certificate number, valid that day. The hub, the verifier
and an inspector's bundle all read the chain the same way: through this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterable, NamedTuple

from keys.keyring import Keyring, TrustedKey
from stamps.errors import TrustError
from stamps.trust.envelope import Statement, StoredStatement, read
from stamps.trust.root import Office, TrustRoot
from stamps.trust.statements import EndorsedKey, Endorsement, Recall, Revocation

CHAIN_KINDS = ("endorsement", "revocation")


class Endorsed(NamedTuple):
    """An endorsement with the statement it came in and the office that signed it."""

    endorsement: Endorsement
    office: Office
    hash: str


@dataclasses.dataclass(frozen=True)
class Standing:
    """What the chain says of one producer key on one day: endorsed (``reason`` None), or why not."""

    reason: str | None
    endorsements: tuple[Endorsed, ...] = ()

    @property
    def endorsed(self) -> bool:
        return self.reason is None


@dataclasses.dataclass(frozen=True)
class Attestation:
    """A product's OCOP rating as its office attests it (``reason`` None), or why no stars are shown as attested."""

    reason: str | None
    product: Any = None  # EndorsedProduct
    office: Office | None = None

    @property
    def attested(self) -> bool:
        return self.reason is None


def admit_endorsement(root: TrustRoot, statement: Statement) -> Endorsed:
    """An endorsement that one of the root's offices signed and was allowed to sign; TrustError otherwise."""
    office = root.signing_office(statement)
    endorsement = Endorsement.read(statement)
    if endorsement.office != office.id:
        raise TrustError(f"The endorsement names office {endorsement.office!r} but is signed by {office.id!r}.", code="wrong_signer")
    if office.scope == "province" and endorsement.producer.province != office.province:
        raise TrustError(f"{office.name} may not endorse a producer in {endorsement.producer.province} (a province office "
                         f"endorses producers in {office.province} only).", code="out_of_scope")
    for product in endorsement.products:
        if not office.may_endorse(product.stars, endorsement.producer.province):
            where = "" if office.scope == "central" else f" in {office.province}"
            raise TrustError(f"{office.name} may not endorse {product.stars} stars for a producer in {endorsement.producer.province} "
                             f"(a province office endorses 3 or 4 stars{where}; 5 stars are the central office's).", code="out_of_scope")
    return Endorsed(endorsement, office, statement.hash)


def revocation_signer_allowed(root: TrustRoot, statement: Statement, revocation: Revocation,
                              endorsed: dict[str, Endorsed]) -> Office | None:
    """Who may revoke what: a producer key only itself; an office what it endorsed (an endorsement it signed, a key one
    of its endorsements lists); the central office anything. The signing office (None for a key revoking itself);
    TrustError otherwise (the signature is checked too)."""
    if revocation.target == "key" and revocation.subject == statement.signer and root.office_of_key(statement.signer) is None:
        key = endorsed_key(endorsed.values(), statement.signer)
        if key is None:
            raise TrustError(f"Key {statement.signer} is not endorsed here, so its revocation cannot be checked.", code="unknown_key")
        statement.verify_by(key.public_key)
        return None
    office = root.signing_office(statement)
    if office.scope != "central" and office.id not in _endorsing_offices(revocation, endorsed):
        raise TrustError(f"{office.name} may revoke only what it endorsed.", code="out_of_scope")
    return office


class Revoked(NamedTuple):
    """What one admitted revocation withdraws: an endorsement, a key everywhere (``office`` None), or a key from the
    endorsements of one province office (``office`` its id)."""

    target: str  # "endorsement" or "key"
    subject: str
    office: str | None = None


def admit_revocation(root: TrustRoot, statement: Statement, revocation: Revocation, endorsed: dict[str, Endorsed]) -> Revoked:
    """What *revocation* withdraws, once its signer may make it: a key revocation is global when the key itself or the
    central office signed it; a province office's withdraws the key from its own endorsements only."""
    office = revocation_signer_allowed(root, statement, revocation, endorsed)
    scoped = revocation.target == "key" and office is not None and office.scope != "central"
    return Revoked(revocation.target, revocation.subject, office.id if scoped and office else None)


def endorsed_key(endorsed: Iterable[Endorsed], identifier: str) -> EndorsedKey | None:
    """The key *identifier* as an endorsement lists it, if one does."""
    return next((key for item in endorsed if (key := item.endorsement.key(identifier)) is not None), None)


def _endorsing_offices(revocation: Revocation, endorsed: dict[str, Endorsed]) -> set[str]:
    """The offices whose endorsements the revocation concerns."""
    if revocation.target == "endorsement":
        found = endorsed.get(revocation.subject)
        return {found.office.id} if found else set()
    return {item.office.id for item in endorsed.values() if item.endorsement.key(revocation.subject)}


def admit_recall(root: TrustRoot, statement: Statement, record_key: Any) -> Recall:
    """A recall of a batch whose record names *record_key* (an endorsed key, or None when unknown): signed by that key
    or by an office of the root. TrustError otherwise.

    Either may say the recall is mandatory (ordered by the authorities): the producer carries out such an order,
    and the office signs one itself when the producer does not. Claiming "mandatory" only withdraws a product more
    firmly, so nobody gains by claiming it falsely, and it is not tied to the signer."""
    recall = Recall.read(statement)
    if root.office_of_key(statement.signer) is not None:
        root.signing_office(statement)
        return recall
    if record_key is None or statement.signer != record_key.key_id:
        raise TrustError(f"The recall of batch {recall.batch_digest[:16]} is signed by key {statement.signer}, neither the "
                         "batch's key nor an OCOP office's.", code="wrong_signer")
    statement.verify_by(record_key.public_key)
    return recall


class TrustChain:
    """Endorsements and revocations over one trust root, answering for keys and batch records."""

    def __init__(self, root: TrustRoot, endorsed: Iterable[Endorsed], revoked_keys: Iterable[str] = (),
                 revoked_endorsements: Iterable[str] = (), withdrawn_keys: Iterable[tuple[str, str]] = ()) -> None:
        self.root = root
        newest: dict[str, Endorsed] = {}
        for item in endorsed:
            subject = item.endorsement.subject
            if subject not in newest or newest[subject].endorsement.version < item.endorsement.version:
                newest[subject] = item
        self.endorsed = tuple(newest.values())
        self.revoked_keys = frozenset(revoked_keys)  # revoked everywhere: by the key itself or the central office
        self.revoked_endorsements = frozenset(revoked_endorsements)
        self.withdrawn_keys = frozenset(withdrawn_keys)  # (office id, key id): withdrawn from that office's endorsements
        self._by_key: dict[str, list[Endorsed]] = {}
        for item in self.endorsed:
            for key in item.endorsement.keys:
                self._by_key.setdefault(key.key_id, []).append(item)

    def with_endorsement(self, endorsed: Endorsed) -> "TrustChain":
        """This chain with one more admitted endorsement (the newest version of a subject wins)."""
        return TrustChain(self.root, [*self.endorsed, endorsed], self.revoked_keys, self.revoked_endorsements,
                          self.withdrawn_keys)

    def with_revocations(self, revoked: Iterable[Revoked]) -> "TrustChain":
        """This chain with admitted revocations added (``admit_revocation`` says what each withdraws)."""
        keys, endorsements, withdrawn = set(self.revoked_keys), set(self.revoked_endorsements), set(self.withdrawn_keys)
        for item in revoked:
            if item.target == "endorsement":
                endorsements.add(item.subject)
            elif item.office is None:
                keys.add(item.subject)
            else:
                withdrawn.add((item.office, item.subject))
        return TrustChain(self.root, self.endorsed, keys, endorsements, withdrawn)

    @classmethod
    def from_statements(cls, root: TrustRoot, stored: Iterable[StoredStatement]) -> "TrustChain":
        """The chain of the kept endorsements and revocations (in acceptance order), each checked again against *root*.

        One that no longer holds (its office left the root) is left out, not an error: the chain shows what holds now.
        """
        endorsed: dict[str, Endorsed] = {}
        revocations: list[tuple[Statement, Revocation]] = []
        for item in stored:
            try:
                statement = read(item.body, *CHAIN_KINDS)
                if statement.kind == "endorsement":
                    endorsed[statement.hash] = admit_endorsement(root, statement)
                else:
                    revocations.append((statement, Revocation.read(statement)))
            except TrustError:
                continue
        admitted: list[Revoked] = []
        for statement, revocation in revocations:
            try:
                admitted.append(admit_revocation(root, statement, revocation, endorsed))
            except TrustError:
                continue
        return cls(root, endorsed.values()).with_revocations(admitted)

    def keyring(self) -> Keyring:
        """Every key an endorsement names (a key whose endorsement lapsed is still found, to say so)."""
        keys = {}
        for item in self.endorsed:
            for key in item.endorsement.keys:
                status = "revoked" if key.key_id in self.revoked_keys else "active"
                keys[key.key_id] = TrustedKey(key.key_id, key.public_key, item.endorsement.producer.name, status)
        return Keyring(list(keys.values()))

    def standing(self, key_id: str, day: dt.date) -> Standing:
        """Whether *key_id* is endorsed on *day*, with the endorsements that say so."""
        if key_id in self.revoked_keys:
            return Standing("key_revoked")
        if self.root.expires.date() < day:
            return Standing("trust_root_expired")
        naming = self._by_key.get(key_id, [])
        if not naming:
            return Standing("key_not_endorsed")
        live = [item for item in naming if item.hash not in self.revoked_endorsements
                and (item.office.id, key_id) not in self.withdrawn_keys]
        if not live:
            return Standing("endorsement_revoked")
        current = tuple(item for item in live if item.office.valid_on(day) and self.root.office(item.office.id) is not None
                        and (key := item.endorsement.key(key_id)) is not None and key.valid_on(day))
        return Standing(None, current) if current else Standing("endorsement_expired")

    @staticmethod
    def producer_problem(standing: Standing, record: Any) -> str | None:
        """``producer_mismatch`` unless the record's producer is the one an endorsement of its key names."""
        producer = record.get("producer") if isinstance(record, dict) else None
        if any(item.endorsement.producer.matches(producer) for item in standing.endorsements):
            return None
        return "producer_mismatch"

    @staticmethod
    def attestation(standing: Standing, record: Any, day: dt.date) -> Attestation | None:
        """The product's attested OCOP rating; None for a product that claims no OCOP rating."""
        product = record.get("product") if isinstance(record, dict) else None
        certificate = product.get("ocop_certificate_no") if isinstance(product, dict) else None
        if certificate is None:
            return None
        listed = [(endorsed, item.office) for item in standing.endorsements
                  if (endorsed := item.endorsement.product(certificate)) is not None
                  and endorsed.name == product.get("name")]  # type: ignore[union-attr]
        valid = [(endorsed, office) for endorsed, office in listed if endorsed.valid_on(day)]
        if valid:
            return Attestation(None, *valid[0])
        return Attestation("ocop_endorsement_expired", *listed[0]) if listed else Attestation("ocop_not_endorsed")


SELF_DECLARED = Attestation("ocop_self_declared")
