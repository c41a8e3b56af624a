"""An OCOP office's desk: its key and settings, the endorsements it gives producers and the revocations it signs.

``authority init`` makes the office's instance with its encrypted key and writes the *office card* (id, name, scope,
province, public key) the national root operator lists in the trust root. ``authority endorse`` turns a producer's
enrolment request into an endorsement: the producer's identity, its key with a validity window and its OCOP
products. The office keeps every statement it signs in its store (``add_statements``); a later endorsement of the
same producer (same office and ``producer_ref``) has the next version and replaces the earlier one, keeping the
earlier one's keys and products unless they are given again, withdrawn or revoked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.keyfile import key_id, public_key_bytes, public_key_from_bytes
from stamps import validation as v
from stamps.errors import InstanceError, KeyStoreError, NotFoundError, StampError, TrustError, ValidationError
from stamps.roles.desk import Desk, write_document, written_with
from stamps.trust.envelope import Statement, StoredStatement, read, sign
from stamps.trust.root import Office
from stamps.trust.statements import (EndorsedKey, EndorsedProduct, Endorsement, Enrolment, ProducerIdentity,
                                     Revocation, timestamp)

ROLE = "office"
PROFILE_SETTING = "office"
CENTRAL_OFFICE_ID = "trung-uong"
PRODUCT_FIELDS = ("name", "certificate_no", "stars", "level", "decision_no", "decision_date", "valid_until")
NEW_REQUEST = "Ask the producer for a new request ('ocop-stamps enrol --out request.json')."


@dataclasses.dataclass(frozen=True)
class OfficeProfile:
    """Who the office is and which key it signs with (the office's settings)."""

    id: str
    name: str
    scope: str
    province: str | None
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def card(self) -> dict[str, Any]:
        """The office card the national root operator adds to the trust root."""
        return {"id": self.id, "name": self.name, "scope": self.scope, "province": self.province,
                "key_id": self.key_id, "public_key": public_key_bytes(self.public_key).hex()}

    def as_office(self, day: dt.date) -> Office:
        """The office as a trust root lists it (its scope rules; validity: *day*)."""
        return Office(self.id, self.name, self.scope, self.province, (self.key_id,), day, day)

    @classmethod
    def from_card(cls, card: Any) -> "OfficeProfile":
        """An office card (or the office's settings, which are its card), checked field by field."""
        data = v.mapping(card, "office card")
        v.reject_unknown(data, ("id", "name", "scope", "province", "key_id", "public_key"), "office card")
        raw = data.get("public_key")
        if not (isinstance(raw, str) and len(raw) == 64 and all(char in "0123456789abcdef" for char in raw)):
            raise ValidationError("public_key", "must be 64 hex digits (an Ed25519 public key)")
        public_key = public_key_from_bytes(bytes.fromhex(raw))
        if data.get("key_id") != key_id(public_key):
            raise ValidationError("key_id", "does not belong to public_key (the card was altered)")
        office = _checked_office({**data, "keyids": [key_id(public_key)]})
        return cls(office.id, office.name, office.scope, office.province, public_key)


def _checked_office(data: Mapping[str, Any]) -> Office:
    """The office fields checked as the trust root checks them (its validity is the root operator's, so any)."""
    today = dt.date.today().isoformat()
    return Office.from_input({**data, "valid_from": today, "valid_until": today})


def office_id_for(scope: str, province: str | None) -> str:
    """The default office id: the province's name in ASCII (``dien-bien``), or ``trung-uong`` for the central office."""
    if scope != "province" or not province:
        return CENTRAL_OFFICE_ID
    letters = unicodedata.normalize("NFD", province.replace("Đ", "D").replace("đ", "d"))
    ascii_text = "".join(char for char in letters if not unicodedata.combining(char)).lower()
    words = "".join(char if char.isascii() and char.isalnum() else " " for char in ascii_text).split()
    return "-".join(words)[:63].strip("-") or "office"


def init_office(root: Path, data: Mapping[str, Any], passphrase: bytes, card: Path, *,
                database: str | None = None) -> OfficeProfile:
    """Make an office's instance in *root* (its encrypted key and its settings) and write its office card to *card*."""
    scope = v.choice(data.get("scope"), "--scope", ("province", "central"))
    province = v.text(data.get("province"), "--province", required=scope == "province", max_length=100)
    fields = {"id": data.get("id") or office_id_for(scope, province), "name": data.get("name"), "scope": scope,
              "province": province if scope == "province" else None}
    office = _checked_office({**fields, "keyids": ["0" * 16]})  # every rule before anything is written
    if not passphrase:
        raise KeyStoreError("An empty passphrase would leave the office's key unprotected.", hint="Choose a passphrase.")
    if not card.parent.is_dir():
        raise InstanceError(f"Cannot write the office card to {card}: the folder {card.parent} does not exist.")
    desk = Desk.create(root, ROLE, database=database)
    try:
        profile = OfficeProfile(office.id, office.name, office.scope, office.province, desk.new_key(passphrase).public_key())
        with written_with(desk.store, card):
            desk.set_settings(PROFILE_SETTING, profile.card())
            desk.claim()
            write_document(card, card_json(profile))
        return profile
    finally:
        desk.close()


def card_json(profile: OfficeProfile) -> bytes:
    """The office card as the file the root operator gets."""
    return (json.dumps(profile.card(), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def office_profile(desk: Desk) -> OfficeProfile:
    """The office this desk is."""
    return OfficeProfile.from_card(desk.settings(PROFILE_SETTING))


def office_key(desk: Desk, passphrase: bytes | None) -> Ed25519PrivateKey:
    """The office's private key."""
    return desk.private_key(office_profile(desk).key_id, passphrase)


# what the office has signed ------------------------------------------------------------------------------------
class Issued(NamedTuple):
    """An endorsement the office signed, as its store keeps it."""

    endorsement: Endorsement
    statement: Statement
    stored: StoredStatement


class Revoked(NamedTuple):
    """What the office has revoked: key ids and endorsement hashes, each with the revocation's hash."""

    keys: dict[str, str]
    endorsements: dict[str, str]


def issued_endorsements(desk: Desk) -> list[Issued]:
    """Every endorsement the office signed, oldest first."""
    found = []
    for stored in desk.store.statements(["endorsement"]):
        statement = read(stored.body, "endorsement")
        found.append(Issued(Endorsement.read(statement), statement, stored))
    return found


def revoked(desk: Desk) -> Revoked:
    """The office's revocations."""
    result = Revoked({}, {})
    for stored in desk.store.statements(["revocation"]):
        revocation = Revocation.read(read(stored.body, "revocation"))
        (result.keys if revocation.target == "key" else result.endorsements)[revocation.subject] = stored.hash
    return result


def current_endorsements(desk: Desk) -> dict[str, Issued]:
    """Each producer's newest endorsement by this office (revoked ones included), by subject."""
    newest: dict[str, Issued] = {}
    for item in issued_endorsements(desk):
        held = newest.get(item.endorsement.subject)
        if held is None or held.endorsement.version < item.endorsement.version:
            newest[item.endorsement.subject] = item
    return newest


def records_basis(desk: Desk) -> int:
    """The office's records as a draft is made from them: the sequence number of its newest statement."""
    kept = desk.store.statements()
    return kept[-1].seq if kept else 0


def check_records_unchanged(desk: Desk, basis: int) -> None:
    """Refuse to sign a draft when another command signed something since it was made (its checks may not hold)."""
    if records_basis(desk) != basis:
        raise StampError("The office's records changed while this was being prepared (another endorse or revoke ran).",
                         hint="Run the command again.")


# endorse -------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EndorsementDraft:
    """An endorsement checked and ready to sign, with the earlier one it replaces (if any)."""

    endorsement: Endorsement
    replaces: Issued | None
    basis: int


def read_enrolment(document: Any) -> Enrolment:
    """A producer's request, once its signature shows the sender holds the key it names."""
    try:
        return Enrolment.read(read(document, "enrolment"))
    except TrustError as error:
        if error.code == "wrong_kind":  # the request may be fine: this is another file
            raise TrustError(f"{error.message} Give the producer's request file (from 'ocop-stamps enrol').",
                             code=error.code) from None
        raise TrustError(f"The enrolment request does not hold: {error.message}", code=error.code, hint=NEW_REQUEST) from None


REQUIRED_COLUMNS = ("name", "certificate_no", "stars", "decision_no", "decision_date")
OPTION_NAMES = {"name": "--product"}


def products_from_columns(columns: Mapping[str, Sequence[str]], listed: Any = ()) -> list[dict[str, Any]]:
    """The products of a JSON list (*listed*) and of repeatable options, one value of each option per product."""
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise ValidationError("--products-file", "must hold a JSON list of product objects")
    count = len(columns.get("name") or ())
    for field in PRODUCT_FIELDS:
        given = len(columns.get(field) or ())
        if given != count and (given or field in REQUIRED_COLUMNS):
            option = OPTION_NAMES.get(field, "--" + field.replace("_", "-"))
            raise ValidationError(option, f"given {given} times for {count} products (--product): give each product "
                                          "option once per product, in the same order")
    rows = [{field: values[index] for field, values in columns.items() if values} for index in range(count)]
    return [*listed, *rows]


def endorsed_products(items: Sequence[Mapping[str, Any]], today: dt.date) -> list[EndorsedProduct]:
    """The products as the office typed them, each checked (its number in the message when there are several)."""
    products = []
    for number, item in enumerate(items, 1):
        where = f"product {number} " if len(items) > 1 else ""
        try:
            v.reject_unknown(item, PRODUCT_FIELDS, f"{where}product")
            product = EndorsedProduct.from_input(item)
        except ValidationError as error:
            raise ValidationError(where + error.field, error.rule, hint=error.hint) from None
        if product.valid_until < today:
            raise ValidationError(where + "valid_until", f"{product.valid_until.isoformat()} is already past")
        if product.decision_date > today:
            raise ValidationError(where + "decision_date", f"{product.decision_date.isoformat()} is after today: an office "
                                  "endorses a rating it has already decided")
        products.append(product)
    if len({product.certificate_no for product in products}) != len(products):
        raise ValidationError("certificate_no", "each product's certificate number may be given once")
    return products


def draft_endorsement(desk: Desk, enrolment: Enrolment, producer_ref: str, products: Sequence[Mapping[str, Any]], *,
                      key_valid_until: dt.date | None = None, withdraw: Sequence[str] = (),
                      today: dt.date | None = None, now: dt.datetime | None = None) -> EndorsementDraft:
    """The endorsement this office may sign for *enrolment*; a StampError for anything it may not endorse."""
    today = today or dt.date.today()
    profile = office_profile(desk)
    reference = v.required_text(producer_ref, "--producer-ref", max_length=100)
    given = endorsed_products(products, today)
    _check_scope(profile, enrolment.producer, given, today)
    basis, newest, withdrawn = records_basis(desk), current_endorsements(desk), revoked(desk)
    _check_key(enrolment.key_id, reference, profile.id, newest, withdrawn)
    replaces = newest.get(f"{profile.id}/{reference}")
    kept = _kept(replaces, enrolment, withdrawn)
    all_products = _merged_products(kept.endorsement.products if kept else (), given, withdraw)
    keys = _merged_keys(kept.endorsement.keys if kept else (), enrolment, all_products, key_valid_until, today, withdrawn)
    version = replaces.endorsement.version + 1 if replaces else 1
    endorsement = Endorsement(profile.id, reference, version, timestamp(now or dt.datetime.now(dt.timezone.utc)),
                              enrolment.producer, keys, tuple(all_products))
    return EndorsementDraft(endorsement, replaces, basis)


def _check_scope(profile: OfficeProfile, producer: ProducerIdentity, products: Sequence[EndorsedProduct],
                 today: dt.date) -> None:
    office = profile.as_office(today)
    if office.scope == "province" and producer.province != office.province:
        raise TrustError(f"{office.name} endorses producers in {office.province}; this producer is in {producer.province}.",
                         code="out_of_scope", hint="The producer's own province office endorses it.")
    for product in products:
        if not office.may_endorse(product.stars, producer.province):
            rule = "5 stars are the central office's" if office.scope == "province" else "the central office endorses 5 stars only"
            raise TrustError(f"{office.name} may not endorse {product.stars} stars ({product.name}): {rule}.",
                             code="out_of_scope")


def _check_key(enrolled: str, reference: str, office_id: str, newest: Mapping[str, Issued], withdrawn: Revoked) -> None:
    if enrolled in withdrawn.keys:
        raise TrustError(f"Key {enrolled} was revoked by this office and cannot be endorsed again.", code="key_revoked",
                         hint="The producer makes a new key ('ocop-stamps keys generate') and a new request.")
    for subject, item in newest.items():
        if item.endorsement.key(enrolled) and subject != f"{office_id}/{reference}" and item.stored.hash not in withdrawn.endorsements:
            raise StampError(f"Key {enrolled} is already endorsed as producer {item.endorsement.producer_ref!r} "
                             f"({item.endorsement.producer.name}).", hint=f"Use --producer-ref {item.endorsement.producer_ref!r}.")


def _kept(replaces: Issued | None, enrolment: Enrolment, withdrawn: Revoked) -> Issued | None:
    """The endorsement whose keys and products carry over: the one replaced, unless it was revoked.

    A producer reference already endorsed for another producer (another identity and another key) is refused: the
    reference was mistyped, and carrying that producer's keys and products over would give them to this one.
    """
    if replaces is None or replaces.stored.hash in withdrawn.endorsements:
        return None
    earlier = replaces.endorsement
    if earlier.producer != enrolment.producer and earlier.key(enrolment.key_id) is None:
        raise StampError(f"Producer reference {earlier.producer_ref!r} is endorsed for {earlier.producer.name} "
                         f"(another identity and another key), not for {enrolment.producer.name}.",
                         hint="Check --producer-ref: each producer has its own.")
    return replaces


def _merged_products(earlier: Iterable[EndorsedProduct], given: Sequence[EndorsedProduct],
                     withdraw: Sequence[str]) -> list[EndorsedProduct]:
    replaced = {product.certificate_no for product in given}
    unknown = set(withdraw) - {product.certificate_no for product in earlier}
    if unknown:
        raise NotFoundError(f"--withdraw {sorted(unknown)[0]!r}: the earlier endorsement lists no such certificate.")
    kept = [product for product in earlier if product.certificate_no not in replaced | set(withdraw)]
    products = kept + list(given)
    if not products:
        raise ValidationError("--product", "an endorsement lists at least one OCOP product")
    return products


def _merged_keys(earlier: Iterable[EndorsedKey], enrolment: Enrolment, products: Sequence[EndorsedProduct],
                 key_valid_until: dt.date | None, today: dt.date, withdrawn: Revoked) -> tuple[EndorsedKey, ...]:
    """The earlier keys (not revoked) and the enrolled one: from today (or its earlier start) to the earliest of
    *key_valid_until* and the longest product validity."""
    longest = max(product.valid_until for product in products)
    until = min(key_valid_until, longest) if key_valid_until else longest
    if until < today:
        raise ValidationError("--key-valid-until", f"{until.isoformat()} is already past")
    same = [key for key in earlier if key.key_id == enrolment.key_id]
    start = min([today, *(key.valid_from for key in same)])
    others = [key for key in earlier if key.key_id != enrolment.key_id and key.key_id not in withdrawn.keys]
    return (*others, EndorsedKey(enrolment.public_key, start, until))


def issue_endorsement(desk: Desk, draft: EndorsementDraft, private_key: Ed25519PrivateKey, out: Path) -> Statement:
    """Sign *draft* with the office's key, keep it in the office's store and write its envelope to *out*."""
    statement = sign("endorsement", draft.endorsement.body(), office_signer(desk, private_key))
    with written_with(desk.store, out):
        check_records_unchanged(desk, draft.basis)
        desk.store.add_statements([stored_statement(statement, draft.endorsement.subject, draft.endorsement.version)])
        write_document(out, statement.canonical + b"\n")
    return statement


def describe_endorsement(draft: EndorsementDraft) -> str:
    """One line on what an endorsement says, for the clerk who signs it."""
    endorsement = draft.endorsement
    keys = "; ".join(f"key {key.key_id} valid {key.valid_from} to {key.valid_until}" for key in endorsement.keys)
    products = "; ".join(f"{product.name} {product.stars}★ ({product.certificate_no}) until {product.valid_until}"
                         for product in endorsement.products)
    replaces = f", replacing version {draft.replaces.endorsement.version}" if draft.replaces else ""
    return (f"Endorsement version {endorsement.version} of {endorsement.producer.name} ({endorsement.producer_ref}"
            f"{replaces}): {keys}; {products}.")


def stored_statement(statement: Statement, subject: str, version: int = 1) -> StoredStatement:
    """A statement as a store keeps it."""
    return StoredStatement(statement.hash, statement.kind, statement.signer, subject, version, statement.canonical.decode("utf-8"))


def office_signer(desk: Desk, private_key: Ed25519PrivateKey) -> Ed25519PrivateKey:
    """*private_key*, once it is shown to be the office's own."""
    if key_id(private_key.public_key()) != office_profile(desk).key_id:
        raise KeyStoreError("That private key is not this office's key.")
    return private_key


def export_statement(desk: Desk, reference: str) -> Statement:
    """One statement the office signed, by hash or hash prefix (8+ hex digits)."""
    prefix = reference.strip().lower()
    found = [stored for stored in desk.store.statements() if len(prefix) >= 8 and stored.hash.startswith(prefix)]
    if len(found) != 1:
        raise NotFoundError(f"{reference!r} names no single statement of this office.",
                            hint="'ocop-stamps authority list' shows them.")
    return read(found[0].body)


def listing(desk: Desk) -> list[str]:
    """What the office has signed, one line each: endorsements (newest of each producer marked) and revocations."""
    profile, newest, withdrawn = office_profile(desk), current_endorsements(desk), revoked(desk)
    lines = [f"Office {profile.id} ({profile.name}, {profile.scope}), key {profile.key_id}"]
    for item in issued_endorsements(desk):
        endorsement, digest = item.endorsement, item.stored.hash
        state = ("revoked" if digest in withdrawn.endorsements
                 else "current" if newest[endorsement.subject].stored.hash == digest else "replaced")
        keys = ", ".join(key.key_id + (" (revoked)" if key.key_id in withdrawn.keys else "") for key in endorsement.keys)
        lines.append(f"{digest[:16]}  endorsement {endorsement.producer_ref} v{endorsement.version} {state}  "
                     f"{endorsement.producer.name}  keys {keys}  {len(endorsement.products)} products")
    for stored in desk.store.statements(["revocation"]):
        revocation = Revocation.read(read(stored.body, "revocation"))
        lines.append(f"{stored.hash[:16]}  revocation of {revocation.target} {revocation.subject[:16]}  {revocation.reason}")
    return lines
