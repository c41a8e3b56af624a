"""The trust root: which OCOP offices (and hubs) may vouch for what, signed by the national root key.

It is TUF root metadata (python-tuf's Metadata API) in a DSSE envelope:
``version``, ``expires``, ``keys`` and the ``root`` role (the national keys and
their threshold) are TUF's own fields, checked by TUF; the offices and hubs are
two extension fields, ``x-ocop-offices`` and ``x-ocop-hubs``, whose keys are in
``keys``. A newer root is accepted only if the current root's ``root`` role and
its own both sign it and its version is higher (TUF's root-rotation rule); an
older one is refused (rollback).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import Any, Iterable, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.signer import CryptoSigner
from tuf.api.dsse import SimpleEnvelope
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Key, Role, Root
from tuf.api.serialization import DeserializationError

from keys.keyfile import key_id, public_key_from_bytes
from stamps import validation as v
from stamps.canonical import canonical_json
from stamps.errors import KeyStoreError, TrustError, ValidationError
from stamps.trust.envelope import Statement, json_value, parse_envelope, ssl_key

SCOPES = ("province", "central")
OFFICES, HUBS = "x-ocop-offices", "x-ocop-hubs"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_SPEC_VERSION = re.compile(r"1\.[0-9]+(\.[0-9]+)?")
_HEX64 = re.compile(r"[0-9a-f]{64}")
Signer = TypeVar("Signer", "Office", "Hub")


@dataclasses.dataclass(frozen=True)
class Office:
    """An OCOP office: a province's (3 and 4 stars in its province) or the central one (5 stars, anywhere)."""

    id: str
    name: str
    scope: str
    province: str | None
    keyids: tuple[str, ...]
    valid_from: dt.date
    valid_until: dt.date

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until

    def may_endorse(self, stars: int, producer_province: str) -> bool:
        """Province offices rate 3 and 4 stars in their own province; the central office rates 5 stars."""
        if self.scope == "central":
            return stars == 5
        return stars in (3, 4) and producer_province == self.province

    def to_dict(self) -> dict[str, Any]:
        values = {"id": self.id, "name": self.name, "scope": self.scope, "keyids": list(self.keyids),
                  "valid_from": self.valid_from.isoformat(), "valid_until": self.valid_until.isoformat()}
        return values | ({"province": self.province} if self.province else {})

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> "Office":
        scope = v.choice(data.get("scope"), "scope", SCOPES)
        province = v.text(data.get("province"), "province", required=scope == "province", max_length=100)
        office_id = v.required_text(data.get("id"), "id", max_length=63)
        if not _ID.fullmatch(office_id):
            raise ValidationError("id", "must be lower-case letters, digits and dashes (e.g. dien-bien)")
        valid_from, valid_until = v.date(data.get("valid_from"), "valid_from"), v.date(data.get("valid_until"), "valid_until")
        assert valid_from is not None and valid_until is not None
        v.not_after(valid_from, valid_until, "valid_from", "valid_until")
        keyids = data.get("keyids")
        if not (isinstance(keyids, list) and keyids and all(isinstance(k, str) and re.fullmatch(r"[0-9a-f]{16}", k) for k in keyids)):
            raise ValidationError("keyids", "must list the office's key ids (16 hex digits each)")
        return cls(office_id, v.required_text(data.get("name"), "name"), scope, province if scope == "province" else None,
                   tuple(keyids), valid_from, valid_until)


@dataclasses.dataclass(frozen=True)
class Hub:
    """A public verifier whose key signs inspectors' bundles."""

    id: str
    name: str
    url: str
    keyids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url, "keyids": list(self.keyids)}


class TrustRoot:
    """A verified trust root (its own root role has signed it); read with :meth:`load`."""

    def __init__(self, envelope: SimpleEnvelope[Root], root: Root) -> None:
        self.envelope = envelope
        self.root = root
        self.offices = tuple(_offices(root))
        self.hubs = tuple(_hubs(root))
        self._office_by_key = {keyid: office for office in self.offices for keyid in office.keyids}
        self._hub_by_key = {keyid: hub for hub in self.hubs for keyid in hub.keyids}

    @property
    def version(self) -> int:
        return self.root.version

    @property
    def expires(self) -> dt.datetime:
        return self.root.expires

    @property
    def canonical(self) -> bytes:
        """The envelope's canonical JSON: what is stored, sent and compared."""
        return canonical_json(self.envelope.to_dict())

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical).hexdigest()

    @property
    def national_keyids(self) -> tuple[str, ...]:
        return tuple(self.root.roles[Root.type].keyids)

    def is_expired(self, now: dt.datetime) -> bool:
        return self.root.is_expired(now)

    def office(self, office_id: str) -> Office | None:
        return next((office for office in self.offices if office.id == office_id), None)

    def office_of_key(self, keyid: str) -> Office | None:
        return self._office_by_key.get(keyid)

    def hub_of_key(self, keyid: str) -> Hub | None:
        return self._hub_by_key.get(keyid)

    def public_key(self, keyid: str) -> Ed25519PublicKey:
        key = self.root.keys[keyid]
        return public_key_from_bytes(bytes.fromhex(key.keyval["public"]))

    def signing_office(self, statement: Statement) -> Office:
        """The office whose key signed *statement*; TrustError unless it is one of this root's offices and the signature holds."""
        return self._signer(statement, self._office_by_key, "OCOP office", "unknown_office")

    def signing_hub(self, statement: Statement) -> Hub:
        """The hub whose key signed *statement* (a bundle); TrustError unless it is one of this root's hubs and the signature holds."""
        return self._signer(statement, self._hub_by_key, "hub", "unknown_hub")

    def _signer(self, statement: Statement, holders: dict[str, Signer], what: str, code: str) -> Signer:
        holder = holders.get(statement.signer)
        if holder is None:
            raise TrustError(f"The {statement.kind} is signed by key {statement.signer}, which is no {what}'s in the trust root.",
                             code=code)
        statement.verify_by(self.public_key(statement.signer))
        return holder

    def accept_update(self, newer: "TrustRoot") -> "TrustRoot":
        """*newer* if it may replace this root: a higher version signed by this root's root role (TUF's rotation rule)."""
        if newer.version < self.version:
            raise TrustError(f"This trust root is version {newer.version}, older than version {self.version} already in use.",
                             code="rollback")
        if newer.version == self.version:
            if newer.envelope.payload != self.envelope.payload:  # the same metadata with other signatures is the same root
                raise TrustError(f"Two different trust roots claim version {self.version}.", code="rollback")
            return self
        try:
            self.root.verify_delegate(Root.type, newer.envelope.pae(), newer.envelope.signatures)
        except UnsignedMetadataError:
            raise TrustError(f"Trust root version {newer.version} is not signed by the national key(s) of version {self.version}.",
                             code="bad_signature") from None
        return newer

    @classmethod
    def load(cls, data: bytes) -> "TrustRoot":
        """Read a trust root and check that its own root role signed it (TrustError otherwise)."""
        envelope, root = _read_root(data)
        try:
            root.verify_delegate(Root.type, envelope.pae(), envelope.signatures)
        except UnsignedMetadataError:
            raise TrustError("The trust root's signature does not match its content.", code="bad_signature") from None
        try:
            return cls(envelope, root)
        except (ValidationError, KeyError, TypeError, ValueError):
            raise TrustError("The trust root's list of offices or hubs is malformed.", code="malformed") from None


def _read_root(data: bytes) -> tuple[SimpleEnvelope[Root], Root]:
    """The envelope and its TUF root metadata, each in its one written form; TrustError ``malformed`` otherwise."""
    not_a_root = TrustError("This is not a trust root (TUF root metadata in a DSSE envelope).", code="malformed")
    try:
        envelope: SimpleEnvelope[Root] = parse_envelope(json_value(data, not_a_root), SimpleEnvelope)
        root = envelope.get_signed()  # python-tuf's from_dict raises KeyError and AttributeError too on malformed input
    except (TrustError, DeserializationError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise not_a_root from None
    if not isinstance(root, Root) or envelope.payload_type != SimpleEnvelope.DEFAULT_PAYLOAD_TYPE:
        raise not_a_root
    problem = _root_problem(root, envelope.payload)
    if problem:
        raise TrustError(f"The trust root is malformed: {problem}.", code="malformed")
    return envelope, root


def _root_problem(root: Root, payload: bytes) -> str | None:
    """What breaks our rules for TUF root metadata (one written form, Ed25519 keys under our key ids), or None."""
    expires = root.expires  # written here: strftime does not pad a year before 1000 to four digits on every platform
    written = root.to_dict() | {"expires": f"{expires.year:04d}-{expires:%m-%dT%H:%M:%S}Z"}
    try:
        if canonical_json(written) != payload:
            return "its payload is not the canonical JSON of TUF root metadata"
    except TypeError:
        return "its payload holds a value canonical JSON refuses"
    if not _SPEC_VERSION.fullmatch(root.spec_version):
        return "spec_version must be 1.x or 1.x.y"
    if not all(type(number) is int for number in [root.version, *(role.threshold for role in root.roles.values())]):
        return "version and thresholds must be whole numbers"
    if not (root.consistent_snapshot is None or isinstance(root.consistent_snapshot, bool)):
        return "consistent_snapshot must be true or false"
    if not all(isinstance(role.keyids, list) and all(isinstance(keyid, str) for keyid in role.keyids) for role in root.roles.values()):
        return "each role's keyids must be a list of key ids"
    if not set(root.roles[Root.type].keyids) <= set(root.keys):
        return "a key of the root role is not in keys"
    bad = next((keyid for keyid, key in root.keys.items() if not _is_our_ed25519_key(keyid, key)), None)
    return f"key {bad[:20]!r} is not an Ed25519 key under its key id" if bad is not None else None


def _is_our_ed25519_key(keyid: str, key: Key) -> bool:
    public = key.keyval.get("public")
    if ((key.keytype, key.scheme) != ("ed25519", "ed25519") or set(key.keyval) != {"public"} or key.unrecognized_fields
            or not (isinstance(public, str) and _HEX64.fullmatch(public))):
        return False
    try:
        return key_id(public_key_from_bytes(bytes.fromhex(public))) == keyid
    except KeyStoreError:
        return False


def make_root(*, national: Iterable[Ed25519PublicKey], offices: Iterable[tuple[Office, Iterable[Ed25519PublicKey]]],
              hubs: Iterable[tuple[Hub, Iterable[Ed25519PublicKey]]] = (), version: int, expires: dt.datetime) -> Root:
    """The unsigned TUF root metadata listing *offices* and *hubs* with their keys."""
    keys: dict[str, Key] = {}
    national_ids = [_add_key(keys, key) for key in national]
    for _, office_keys in offices:
        [_add_key(keys, key) for key in office_keys]
    for _, hub_keys in hubs:
        [_add_key(keys, key) for key in hub_keys]
    roles = {name: Role(national_ids if name == Root.type else [], 1) for name in ("root", "targets", "snapshot", "timestamp")}
    extra = {OFFICES: [office.to_dict() for office, _ in offices], HUBS: [hub.to_dict() for hub, _ in hubs]}
    return Root(version=version, expires=expires.replace(microsecond=0), keys=keys, roles=roles, consistent_snapshot=False,
                unrecognized_fields=extra)


def sign_root(root: Root, signers: Iterable[Ed25519PrivateKey]) -> TrustRoot:
    """Sign *root* with the national key(s) (and, on a rotation, the previous ones)."""
    envelope: SimpleEnvelope[Root] = SimpleEnvelope(canonical_json(root.to_dict()), SimpleEnvelope.DEFAULT_PAYLOAD_TYPE, {})
    for private_key in signers:
        envelope.sign(CryptoSigner(private_key, ssl_key(private_key.public_key())))
    return TrustRoot.load(envelope.to_bytes())


def _add_key(keys: dict[str, Key], public_key: Ed25519PublicKey) -> str:
    identifier = key_id(public_key)
    keys[identifier] = ssl_key(public_key)
    return identifier


def _offices(root: Root) -> Iterable[Office]:
    seen: set[str] = set()
    for item in _entries(root, OFFICES):
        office = Office.from_input(item)
        if office.to_dict() != item or not all(keyid in root.keys for keyid in office.keyids):
            raise ValueError("office entry not in its written form, or a key missing")
        _claim(seen, "office:" + office.id, *office.keyids)
        yield office


def _hubs(root: Root) -> Iterable[Hub]:
    seen: set[str] = set(keyid for office in _offices(root) for keyid in office.keyids)
    for item in _entries(root, HUBS):
        hub = Hub(item["id"], item["name"], item["url"], tuple(item["keyids"]))
        if (hub.to_dict() != item or not all(isinstance(text, str) for text in (hub.id, hub.name, hub.url, *hub.keyids))
                or not all(keyid in root.keys for keyid in hub.keyids)):
            raise ValueError("hub entry not in its written form, or a key missing")
        _claim(seen, "hub:" + hub.id, *hub.keyids)
        yield hub


def _entries(root: Root, field: str) -> list[dict[str, Any]]:
    """The objects of one extension field (absent: none)."""
    items = root.unrecognized_fields.get(field, [])
    if not (isinstance(items, list) and all(isinstance(item, dict) for item in items)):
        raise ValueError(f"{field} must be a list of objects")
    return items


def _claim(seen: set[str], *names: str) -> None:
    """Each office or hub id, and each key id, belongs to one office or hub only."""
    if seen & set(names) or len(set(names)) != len(names):
        raise ValueError("an id or a key id is listed twice")
    seen.update(names)
