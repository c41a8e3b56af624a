"""Signed statements as DSSE envelopes (securesystemslib): the payload type is the statement's domain tag.

    signed bytes = PAE(payloadType, payload)
                 = "DSSEv1 " len(type) " " type " " len(payload) " " payload
    payload      = canonical JSON (stamps.canonical) of the statement's body

A statement carries exactly one signature; its key id is ours (16 hex digits of
SHA-256 over the raw public key). Its identity is SHA-256 over the canonical JSON
of the envelope, which is also the form the hub keeps byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import json
from typing import Any, NamedTuple, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import FormatError, VerificationError
from securesystemslib.signer import CryptoSigner, Signature, SSlibKey

from keys.keyfile import key_id
from stamps.canonical import canonical_json
from stamps.errors import TrustError

# kind -> DSSE payloadType (the domain tag): a statement of one kind can never be read as another.
PAYLOAD_TYPES = {
    kind: f"application/vnd.ocop.{kind}.v1+json"
    for kind in ("enrolment", "endorsement", "revocation", "recall", "bundle")
}
KINDS = {payload_type: kind for kind, payload_type in PAYLOAD_TYPES.items()}
KIND_NAMES = {"enrolment": "an enrolment request", "endorsement": "an endorsement", "revocation": "a revocation",
              "recall": "a recall", "bundle": "an inspector's bundle"}  # for messages: what a file is
MAX_STATEMENT_BYTES = 64 * 1024
ENVELOPE_MEMBERS = {"payload", "payloadType", "signatures"}
SIGNATURE_MEMBERS = {"keyid", "sig"}
AnEnvelope = TypeVar("AnEnvelope", bound=Envelope)


@dataclasses.dataclass(frozen=True)
class Statement:
    """A signed statement as read from its envelope; its signature is checked by :meth:`verify_by`."""

    kind: str
    payload: bytes
    signer: str
    signature: bytes

    @functools.cached_property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.payload)
        return body

    def to_json(self) -> dict[str, Any]:
        """The DSSE envelope as JSON (standard base64, as the DSSE specification writes it)."""
        return _envelope(self).to_dict()

    @functools.cached_property
    def canonical(self) -> bytes:
        """The envelope's canonical JSON: what is stored, sent and hashed."""
        return canonical_json(self.to_json())

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical).hexdigest()

    def verify_by(self, public_key: Ed25519PublicKey) -> None:
        """Raise TrustError unless *public_key* made this statement's signature."""
        if self.signer != key_id(public_key):
            raise TrustError(f"The {self.kind} is signed by key {self.signer}, not by {key_id(public_key)}.", code="wrong_signer")
        try:
            _envelope(self).verify([ssl_key(public_key)], 1)
        except VerificationError:
            raise TrustError(f"The {self.kind}'s signature does not match its content.", code="bad_signature") from None


def ssl_key(public_key: Ed25519PublicKey) -> SSlibKey:
    """The securesystemslib view of one of our public keys, under our key id."""
    return SSlibKey.from_crypto(public_key, keyid=key_id(public_key))


def sign(kind: str, body: dict[str, Any], private_key: Ed25519PrivateKey) -> Statement:
    """Sign *body* as a statement of *kind* (its canonical JSON is the payload)."""
    envelope = Envelope(canonical_json(body), PAYLOAD_TYPES[kind], {})
    signature = envelope.sign(CryptoSigner(private_key, ssl_key(private_key.public_key())))
    return Statement(kind, envelope.payload, signature.keyid, bytes.fromhex(signature.signature))


def read(document: Any, *kinds: str, limit: int = MAX_STATEMENT_BYTES) -> Statement:
    """A statement of one of *kinds* from its envelope JSON (text, bytes or parsed); its signature is not yet checked.

    Text longer than *limit* is refused before it is parsed.
    """
    if isinstance(document, (bytes, str)):
        document = _parsed(document, limit)
    envelope = parse_envelope(document, Envelope)
    kind = KINDS.get(envelope.payload_type)
    if kind is None or (kinds and kind not in kinds):
        wanted = " or ".join(KIND_NAMES[name] for name in kinds) or "an OCOP statement"
        given = KIND_NAMES[kind] if kind else f"not an OCOP statement (payload type {str(envelope.payload_type)[:80]!r})"
        raise TrustError(f"This is {given}, where {wanted} is expected.", code="wrong_kind")
    if len(envelope.signatures) != 1:
        raise TrustError("A statement must carry exactly one signature.", code="malformed")
    (signature,) = envelope.signatures.values()
    statement = Statement(kind, envelope.payload, signature.keyid, _signature_bytes(signature.signature))
    _check_payload(statement)
    return statement


def _parsed(document: bytes | str, limit: int) -> Any:
    """The JSON value of an envelope's text, at most *limit* bytes of UTF-8."""
    if len(document) > limit or (isinstance(document, str) and len(document.encode("utf-8", "surrogatepass")) > limit):
        raise TrustError(f"A statement may be at most {limit:,} bytes.", code="too_large")
    return json_value(document, TrustError("The statement is not JSON in UTF-8.", code="malformed"))


def json_value(document: bytes | str, error: TrustError) -> Any:
    """The JSON value of a UTF-8 text (bytes in another encoding, or with a byte-order mark, are not: *error*)."""
    try:
        return json.loads(document.decode("utf-8") if isinstance(document, bytes) else document)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise error from None


def parse_envelope(document: Any, envelope_type: type[AnEnvelope]) -> AnEnvelope:
    """A DSSE envelope from its JSON value: exactly its three members, base64 in its one standard form (TrustError)."""
    if not (isinstance(document, dict) and set(document) == ENVELOPE_MEMBERS and isinstance(document["payloadType"], str)
            and _is_base64(document["payload"]) and isinstance(document["signatures"], list)
            and all(_is_signature(item) for item in document["signatures"])):
        raise TrustError("The statement is not a DSSE envelope (payload, payloadType and signatures, each signature a keyid "
                         "and a sig, in standard base64).", code="malformed")
    copied = {**document, "signatures": [dict(item) for item in document["signatures"]]}  # from_dict rewrites them
    try:
        return envelope_type.from_dict(copied)  # type: ignore[return-value]
    except (KeyError, ValueError, TypeError, FormatError, binascii.Error):
        raise TrustError("The statement's envelope is damaged (payload or signature unreadable).", code="malformed") from None


def _is_signature(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == SIGNATURE_MEMBERS and isinstance(item["keyid"], str) and _is_base64(item["sig"])


def _is_base64(text: Any) -> bool:
    """Standard base64 (RFC 4648 section 4) with its padding and unused bits zero: the one text of its bytes."""
    if not isinstance(text, str):
        return False
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode("ascii") == text
    except (ValueError, binascii.Error):
        return False


def _signature_bytes(hex_text: str) -> bytes:
    signature = bytes.fromhex(hex_text)
    if len(signature) != 64:
        raise TrustError("An Ed25519 signature is 64 bytes.", code="malformed")
    return signature


def _check_payload(statement: Statement) -> None:
    """The payload must be a JSON object in canonical form (one statement, one byte string)."""
    try:
        body = statement.body
        canonical = canonical_json(body)
    except (ValueError, TypeError, RecursionError):
        raise TrustError(f"The {statement.kind}'s payload is not canonical JSON.", code="malformed") from None
    if not isinstance(body, dict) or canonical != statement.payload:
        raise TrustError(f"The {statement.kind}'s payload is not a JSON object in canonical form.", code="malformed")
    if not (len(statement.signer) == 16 and all(char in "0123456789abcdef" for char in statement.signer)):
        raise TrustError("A statement's key id must be 16 lower-case hex digits.", code="malformed")


def _envelope(statement: Statement) -> Envelope:
    signature = Signature(statement.signer, statement.signature.hex())
    return Envelope(statement.payload, PAYLOAD_TYPES[statement.kind], {statement.signer: signature})


class StoredStatement(NamedTuple):
    """A statement as a store keeps it: its exact bytes (``body``), with what it is about for look-ups.

    ``subject`` and ``version`` say what a later statement supersedes (an endorsement of one producer by one office);
    ``seq`` is the order the store accepted it in (0 before it is stored).
    """

    hash: str
    kind: str
    signer: str
    subject: str
    version: int
    body: str
    seq: int = 0
    accepted_at: str = ""
