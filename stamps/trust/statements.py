"""The statements of the trust chain as values, read from and written to their signed bodies (no storage).

enrolment    a producer's identity and public key, signed by that key (proof of possession)
endorsement  an OCOP office vouches for a producer: its identity, its keys with their validity, its OCOP products
revocation   an office withdraws an endorsement or a key; or a producer's key revokes itself
recall       a batch withdrawn from sale, signed by the batch's key or by an office (mandatory recall)

Every body is checked field by field when read; a body that breaks a rule is a
TrustError with code ``malformed``. docs/trust-format.md specifies each one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.keyfile import key_id, public_key_bytes, public_key_from_bytes
from stamps import validation as v
from stamps.errors import KeyStoreError, TrustError, ValidationError
from stamps.records import OCOP_VALIDITY_MONTHS, Producer, add_months
from stamps.trust.envelope import Statement, sign

IDENTITY_FIELDS = ("name", "kind", "tax_code", "province", "commune", "address")
PRODUCT_LEVELS = {"province": (3, 4), "national": (5,)}  # OCOP level -> the stars it may carry
_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def timestamp(moment: dt.datetime) -> str:
    """A statement's time: UTC, to the second, e.g. 2026-12-01T08:30:00Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass(frozen=True)
class ProducerIdentity:
    """Who a producer is, as an office endorses it: the producer record without its contact details."""

    fields: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, producer: Mapping[str, Any]) -> "ProducerIdentity":
        """The identity part of a producer record (a stored record or a batch record's ``producer``)."""
        return cls(tuple((name, producer[name]) for name in IDENTITY_FIELDS if producer.get(name) is not None))

    @classmethod
    def from_body(cls, data: Any) -> "ProducerIdentity":
        mapping = _mapping(data, "producer")
        unknown = set(mapping) - set(IDENTITY_FIELDS)
        if unknown:
            raise _malformed(f"producer: unknown field {sorted(unknown)[0]!r}")
        identity = cls.of(_checked(lambda: Producer.from_input(mapping).to_dict()))
        if identity.to_dict() != dict(mapping):
            raise _malformed("producer: fields must be as the records write them (trimmed, NFC)")
        return identity

    def to_dict(self) -> dict[str, str]:
        return dict(self.fields)

    @property
    def name(self) -> str:
        return self.to_dict()["name"]

    @property
    def province(self) -> str:
        return self.to_dict()["province"]

    def matches(self, producer: Any) -> bool:
        """Whether a batch record's producer is this one (same identity fields; contact details may differ)."""
        return isinstance(producer, dict) and ProducerIdentity.of(producer) == self


@dataclasses.dataclass(frozen=True)
class Enrolment:
    """A producer asks an office to endorse its key."""

    producer: ProducerIdentity
    public_key: Ed25519PublicKey
    requested_at: str

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, private_key: Ed25519PrivateKey) -> Statement:
        body = {"producer": self.producer.to_dict(), "key": _key_json(self.public_key), "requested_at": self.requested_at}
        return sign("enrolment", body, private_key)

    @classmethod
    def read(cls, statement: Statement) -> "Enrolment":
        """The request, once its signature shows the sender holds the key it names."""
        body = _body(statement, "enrolment", {"producer", "key", "requested_at"})
        key = _public_key(_exact(body["key"], "key", {"key_id", "public_key"}))
        enrolment = cls(ProducerIdentity.from_body(body["producer"]), key, _timestamp(body["requested_at"], "requested_at"))
        statement.verify_by(enrolment.public_key)
        return enrolment


@dataclasses.dataclass(frozen=True)
class EndorsedKey:
    public_key: Ed25519PublicKey
    valid_from: dt.date
    valid_until: dt.date

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def to_dict(self) -> dict[str, Any]:
        return {**_key_json(self.public_key), "valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat()}

    @classmethod
    def from_body(cls, data: Any) -> "EndorsedKey":
        mapping = _exact(data, "keys[]", {"key_id", "public_key", "valid_from", "valid_until"})
        return cls(_public_key(mapping), *_window(mapping, "keys[]"))


@dataclasses.dataclass(frozen=True)
class EndorsedProduct:
    """An OCOP product as the office that rated it attests it."""

    name: str
    certificate_no: str
    stars: int
    level: str
    decision_no: str
    decision_date: dt.date
    valid_until: dt.date

    def valid_on(self, day: dt.date) -> bool:
        return self.decision_date <= day <= self.valid_until

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "certificate_no": self.certificate_no, "stars": self.stars, "level": self.level,
                "decision_no": self.decision_no, "decision_date": self.decision_date.isoformat(),
                "valid_until": self.valid_until.isoformat()}

    @classmethod
    def from_input(cls, data: Mapping[str, Any]) -> "EndorsedProduct":
        """From an office's input; each broken rule is a ValidationError naming the field."""
        stars = v.integer(data.get("stars"), "stars", minimum=3, maximum=5)
        level = v.choice(data.get("level"), "level", PRODUCT_LEVELS, default="national" if stars == 5 else "province")
        if stars not in PRODUCT_LEVELS[level]:
            raise ValidationError("level", "must be national for 5 stars and province for 3 or 4 stars")
        decision_date = v.date(data.get("decision_date"), "decision_date")
        valid_until = v.date(data.get("valid_until"), "valid_until", required=False)
        assert decision_date is not None
        longest = add_months(decision_date, OCOP_VALIDITY_MONTHS)
        valid_until = valid_until or longest
        if not decision_date < valid_until <= longest:
            raise ValidationError("valid_until", f"must be after decision_date and at most {OCOP_VALIDITY_MONTHS} months later ({longest.isoformat()})")
        return cls(v.required_text(data.get("name"), "name"), v.required_text(data.get("certificate_no"), "certificate_no", max_length=60),
                   stars, level, v.required_text(data.get("decision_no"), "decision_no", max_length=60), decision_date, valid_until)

    @classmethod
    def from_body(cls, data: Any) -> "EndorsedProduct":
        mapping = _exact(data, "products[]", {"name", "certificate_no", "stars", "level", "decision_no", "decision_date", "valid_until"})
        product = _checked(lambda: cls.from_input(mapping))
        if product.to_dict() != dict(mapping):
            raise _malformed("products[]: fields must be as an office writes them")
        return product


@dataclasses.dataclass(frozen=True)
class Endorsement:
    """An office's statement that a producer, its keys and its OCOP products are what they say."""

    office: str
    producer_ref: str
    version: int
    issued_at: str
    producer: ProducerIdentity
    keys: tuple[EndorsedKey, ...]
    products: tuple[EndorsedProduct, ...]

    FIELDS = {"office", "producer_ref", "version", "issued_at", "producer", "keys", "products"}

    def body(self) -> dict[str, Any]:
        return {"office": self.office, "producer_ref": self.producer_ref, "version": self.version, "issued_at": self.issued_at,
                "producer": self.producer.to_dict(), "keys": [key.to_dict() for key in self.keys],
                "products": [product.to_dict() for product in self.products]}

    @property
    def subject(self) -> str:
        """What a newer endorsement of the same producer by the same office replaces."""
        return f"{self.office}/{self.producer_ref}"

    def key(self, identifier: str) -> EndorsedKey | None:
        return next((key for key in self.keys if key.key_id == identifier), None)

    def product(self, certificate_no: Any) -> EndorsedProduct | None:
        return next((product for product in self.products if product.certificate_no == certificate_no), None)

    @classmethod
    def read(cls, statement: Statement) -> "Endorsement":
        """The body's values (the signer is checked against the trust root by the chain, not here)."""
        body = _body(statement, "endorsement", cls.FIELDS)
        keys = tuple(EndorsedKey.from_body(item) for item in _list(body["keys"], "keys", minimum=1))
        products = tuple(EndorsedProduct.from_body(item) for item in _list(body["products"], "products", minimum=0))
        if len({key.key_id for key in keys}) != len(keys) or len({p.certificate_no for p in products}) != len(products):
            raise _malformed("an endorsement names each key and each certificate once")
        return cls(_short_text(body["office"], "office"), _short_text(body["producer_ref"], "producer_ref"),
                   _version(body["version"]), _timestamp(body["issued_at"], "issued_at"),
                   ProducerIdentity.from_body(body["producer"]), keys, products)


@dataclasses.dataclass(frozen=True)
class Revocation:
    """An endorsement or a key withdrawn from a moment on."""

    target: str  # "endorsement" (by its statement hash) or "key" (by key id)
    subject: str
    reason: str
    revoked_at: str

    def body(self) -> dict[str, Any]:
        return {self._member: self.subject, "reason": self.reason, "revoked_at": self.revoked_at}

    @property
    def _member(self) -> str:
        return "endorsement" if self.target == "endorsement" else "key_id"

    @classmethod
    def read(cls, statement: Statement) -> "Revocation":
        body = statement.body
        target = "endorsement" if "endorsement" in body else "key"
        fields = {"endorsement" if target == "endorsement" else "key_id", "reason", "revoked_at"}
        _body(statement, "revocation", fields)
        subject = body["endorsement"] if target == "endorsement" else body["key_id"]
        pattern = _HEX64 if target == "endorsement" else _HEX16
        if not (isinstance(subject, str) and pattern.fullmatch(subject)):
            raise _malformed(f"revocation: {'endorsement must be a statement hash' if target == 'endorsement' else 'key_id must be 16 hex digits'}")
        return cls(target, subject, _short_text(body["reason"], "reason", 300), _timestamp(body["revoked_at"], "revoked_at"))


@dataclasses.dataclass(frozen=True)
class Recall:
    """A batch withdrawn from sale."""

    batch_digest: str
    reason: str
    mandatory: bool
    recalled_on: dt.date
    issued_at: str

    def body(self) -> dict[str, Any]:
        return {"batch_digest": self.batch_digest, "reason": self.reason, "mandatory": self.mandatory,
                "recalled_on": self.recalled_on.isoformat(), "issued_at": self.issued_at}

    @classmethod
    def read(cls, statement: Statement) -> "Recall":
        body = _body(statement, "recall", {"batch_digest", "reason", "mandatory", "recalled_on", "issued_at"})
        if not (isinstance(body["batch_digest"], str) and _HEX64.fullmatch(body["batch_digest"])):
            raise _malformed("recall: batch_digest must be 64 hex digits")
        if not isinstance(body["mandatory"], bool):
            raise _malformed("recall: mandatory must be true or false")
        return cls(body["batch_digest"], _short_text(body["reason"], "reason", 300), body["mandatory"],
                   _date(body["recalled_on"], "recalled_on"), _timestamp(body["issued_at"], "issued_at"))


def _malformed(what: str) -> TrustError:
    return TrustError(f"The statement is malformed: {what}.", code="malformed")


def _checked(make: Any) -> Any:
    try:
        return make()
    except ValidationError as error:
        raise _malformed(error.diagnostics().rstrip(".")) from None


def _body(statement: Statement, kind: str, fields: set[str]) -> Mapping[str, Any]:
    if statement.kind != kind:
        raise TrustError(f"Expected an {kind}, got a {statement.kind}.", code="wrong_kind")
    return _exact(statement.body, kind, fields)


def _mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise _malformed(f"{where} must be an object")
    return data


def _exact(data: Any, where: str, fields: set[str]) -> Mapping[str, Any]:
    mapping = _mapping(data, where)
    if set(mapping) != fields:
        missing, extra = sorted(fields - set(mapping)), sorted(set(mapping) - fields)
        raise _malformed(f"{where}: " + (f"missing {missing[0]!r}" if missing else f"unknown field {extra[0]!r}"))
    return mapping


def _list(data: Any, where: str, *, minimum: int) -> list[Any]:
    if not isinstance(data, list) or len(data) < minimum or len(data) > 100:
        raise _malformed(f"{where} must be a list of {minimum} to 100 items")
    return data


def _short_text(value: Any, field: str, max_length: int = 100) -> str:
    text = _checked(lambda: v.required_text(value, field, max_length=max_length))
    if text != value:
        raise _malformed(f"{field} must be trimmed text in NFC")
    return str(text)


def _version(value: Any) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31):
        raise _malformed("version must be a whole number from 1")
    return value


def _timestamp(value: Any, field: str) -> str:
    if not (isinstance(value, str) and _TIMESTAMP.fullmatch(value)):
        raise _malformed(f"{field} must be a UTC time like 2026-12-01T08:30:00Z")
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _malformed(f"{field} is not a real time") from None
    return value


def _date(value: Any, field: str) -> dt.date:
    if not (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        raise _malformed(f"{field} must be a date like 2026-12-01")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _malformed(f"{field} is not a real date") from None


def _window(mapping: Mapping[str, Any], where: str) -> tuple[dt.date, dt.date]:
    start, end = _date(mapping["valid_from"], "valid_from"), _date(mapping["valid_until"], "valid_until")
    if end < start:
        raise _malformed(f"{where}: valid_until is before valid_from")
    return start, end


def _key_json(public_key: Ed25519PublicKey) -> dict[str, str]:
    return {"key_id": key_id(public_key), "public_key": public_key_bytes(public_key).hex()}


def _public_key(mapping: Any) -> Ed25519PublicKey:
    mapping = _mapping(mapping, "key")
    raw, identifier = mapping.get("public_key"), mapping.get("key_id")
    if not (isinstance(raw, str) and re.fullmatch(r"[0-9a-f]{64}", raw)):
        raise _malformed("public_key must be 64 hex digits (32 bytes of Ed25519)")
    try:
        public_key = public_key_from_bytes(bytes.fromhex(raw))
    except KeyStoreError:
        raise _malformed("public_key is not an Ed25519 key") from None
    if identifier != key_id(public_key):
        raise _malformed("key_id does not belong to public_key")
    return public_key


def time_field(value: Any, field: str) -> str:
    """*value* as a statement's time (YYYY-MM-DDTHH:MM:SSZ, a real UTC time); TrustError ``malformed`` otherwise."""
    return _timestamp(value, field)


def text_field(value: Any, field: str, max_length: int) -> str:
    """*value* as trimmed NFC text of at most *max_length* characters; TrustError ``malformed`` otherwise."""
    return _short_text(value, field, max_length)
