"""Write docs/vectors/trust-vectors.json: golden test vectors for the trust chain (docs/trust-format.md).

Run when the format changes on purpose (``python docs/vectors/generate_trust.py``) and commit the result.
Deterministic: keys from fixed seeds, fixed times, Ed25519's deterministic signatures. tests/test_trust_vectors.py
checks the code against every case and that the committed file is exactly what this script writes. The expected
outcome of every case is written here by hand, never computed by the code under test.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner
from tuf.api.dsse import SimpleEnvelope

from keys.keyfile import key_id, public_key_bytes
from stamps.canonical import canonical_json
from stamps.trust.envelope import MAX_STATEMENT_BYTES, PAYLOAD_TYPES, Statement, sign, ssl_key
from stamps.trust.root import Office, TrustRoot, make_root, sign_root
from stamps.trust.statements import EndorsedKey, EndorsedProduct, Endorsement, Enrolment, ProducerIdentity, Recall, Revocation

OUTPUT = Path(__file__).with_name("trust-vectors.json")
STAMP_VECTORS = Path(__file__).with_name("stamp-vectors.json")
KEY_NAMES = ("national", "national-2", "dien-bien", "trung-uong", "producer", "stranger")
EXPIRES = dt.datetime(2031, 12, 1, tzinfo=dt.timezone.utc)
OFFICE_WINDOW = (dt.date(2026, 1, 1), dt.date(2030, 12, 31))
KEY_WINDOW = (dt.date(2026, 10, 1), dt.date(2028, 12, 31))
DAY = "2026-11-23"
ISSUED_AT = "2026-09-30T09:00:00Z"
PRODUCT = {"name": "Trà San tuyết PH.14 hữu cơ", "certificate_no": "DB-2024-0114", "stars": 4, "level": "province",
           "decision_no": "QĐ 1234/QĐ-UBND", "decision_date": "2024-06-01", "valid_until": "2027-06-01"}


def seed(name: str) -> bytes:
    """The producer and the stranger are the keys of stamp-vectors.json; the others are the trust chain's own."""
    label = "test vector key" if name in ("producer", "stranger") else "trust vector key"
    return hashlib.sha256(f"ocop-stamps {label}: {name}".encode()).digest()


KEYS = {name: Ed25519PrivateKey.from_private_bytes(seed(name)) for name in KEY_NAMES}


def kid(name: str) -> str:
    return key_id(KEYS[name].public_key())


def batch_record() -> dict[str, Any]:
    """The signed batch record of stamp-vectors.json: the chain cases check its producer and product."""
    return json.loads(STAMP_VECTORS.read_text(encoding="utf-8"))["batch_record"]


def record_parts(change: dict[str, Any] | None = None, product: dict[str, Any] | None = None) -> dict[str, Any]:
    record = batch_record()["record"]
    return {"producer": {**record["producer"], **(change or {})}, "product": product or record["product"]}


def identity(**change: str) -> ProducerIdentity:
    return ProducerIdentity.of({**batch_record()["record"]["producer"], **change})


# -- statements ------------------------------------------------------------------------------------------------------

def endorsement_body(*, office: str = "dien-bien", version: int = 1, products: list[dict[str, Any]] | None = None,
                     producer: ProducerIdentity | None = None, key_until: dt.date = KEY_WINDOW[1]) -> dict[str, Any]:
    key = EndorsedKey(KEYS["producer"].public_key(), KEY_WINDOW[0], key_until)
    body = Endorsement(office, "DB-XL-0007", version, ISSUED_AT, producer or identity(), (key,), ()).body()
    return {**body, "products": [PRODUCT] if products is None else products}


def raw_statement(payload_type: str, payload: bytes, signer: str) -> dict[str, Any]:
    """An envelope signed over any payload bytes (for the cases the library would never write)."""
    envelope = Envelope(payload, payload_type, {})
    envelope.sign(CryptoSigner(KEYS[signer], ssl_key(KEYS[signer].public_key())))
    return envelope.to_dict()


def statements() -> dict[str, tuple[Statement, str]]:
    """The genuine statements of the chain, each with the name of its signing key."""
    endorsement = sign("endorsement", endorsement_body(), KEYS["dien-bien"])
    revoke = lambda target, subject, reason: Revocation(target, subject, reason, "2026-12-05T10:00:00Z").body()  # noqa: E731
    five_stars = {**PRODUCT, "name": "Trà Shan tuyết cổ thụ", "certificate_no": "TW-2025-0031", "stars": 5, "level": "national",
                  "decision_no": "QĐ 88/QĐ-BNN", "decision_date": "2025-08-01", "valid_until": "2028-07-31"}
    digest = batch_record()["digest"]
    return {
        "enrolment": (Enrolment(identity(), KEYS["producer"].public_key(), "2026-09-28T08:00:00Z").sign(KEYS["producer"]), "producer"),
        "endorsement": (endorsement, "dien-bien"),
        "endorsement-v2": (sign("endorsement", endorsement_body(version=2, key_until=dt.date(2026, 12, 10)), KEYS["dien-bien"]), "dien-bien"),
        "endorsement-central": (sign("endorsement", endorsement_body(office="trung-uong", products=[five_stars]), KEYS["trung-uong"]),
                                "trung-uong"),
        "revocation-of-endorsement": (sign("revocation", revoke("endorsement", endorsement.hash, "Cơ sở ngừng sản xuất"),
                                           KEYS["dien-bien"]), "dien-bien"),
        "revocation-of-key": (sign("revocation", revoke("key", kid("producer"), "Khóa bị lộ"), KEYS["dien-bien"]), "dien-bien"),
        "revocation-by-the-key": (sign("revocation", revoke("key", kid("producer"), "Mất máy tính"), KEYS["producer"]), "producer"),
        "revocation-by-a-stranger": (sign("revocation", revoke("key", kid("producer"), "Không rõ"), KEYS["stranger"]), "stranger"),
        "recall": (sign("recall", Recall(digest, "Bao bì bị lỗi", False, dt.date(2026, 11, 20), "2026-11-20T07:00:00Z").body(),
                        KEYS["producer"]), "producer"),
        "recall-mandatory": (sign("recall", Recall(digest, "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng", True, dt.date(2026, 11, 21),
                                                   "2026-11-21T07:00:00Z").body(), KEYS["dien-bien"]), "dien-bien"),
    }


def statement_entry(statement: Statement, signer: str) -> dict[str, Any]:
    """A statement with every intermediate: payload, PAE (the signed bytes), signature, envelope, hash."""
    pae = Envelope(statement.payload, PAYLOAD_TYPES[statement.kind], {}).pae()
    return {"kind": statement.kind, "payload_type": PAYLOAD_TYPES[statement.kind], "signed_by": signer, "key_id": statement.signer,
            "body": statement.body, "payload": statement.payload.decode("utf-8"),
            "payload_base64": base64.b64encode(statement.payload).decode(), "pae_hex": pae.hex(),
            "signature": statement.signature.hex(), "signature_base64": base64.b64encode(statement.signature).decode(),
            "envelope": statement.canonical.decode("utf-8"), "hash": statement.hash}


# -- trust roots -----------------------------------------------------------------------------------------------------

def offices() -> list[tuple[Office, list[Any]]]:
    return [(Office("dien-bien", "Văn phòng Điều phối NTM tỉnh Điện Biên", "province", "Điện Biên", (kid("dien-bien"),), *OFFICE_WINDOW),
             [KEYS["dien-bien"].public_key()]),
            (Office("trung-uong", "Văn phòng Điều phối NTM Trung ương", "central", None, (kid("trung-uong"),), *OFFICE_WINDOW),
             [KEYS["trung-uong"].public_key()])]


def root(version: int, national: str, signers: list[str], expires: dt.datetime = EXPIRES) -> TrustRoot:
    metadata = make_root(national=[KEYS[national].public_key()], offices=offices(), version=version, expires=expires)
    return sign_root(metadata, [KEYS[name] for name in signers])


def trust_roots() -> dict[str, tuple[TrustRoot, list[str]]]:
    return {
        "root-v1": (root(1, "national", ["national"]), ["national"]),
        "root-v2": (root(2, "national-2", ["national-2", "national"]), ["national-2", "national"]),
        "root-v2-not-signed-by-v1": (root(2, "national-2", ["national-2"]), ["national-2"]),
        "root-v1-other": (root(1, "national", ["national"], EXPIRES.replace(year=2032)), ["national"]),
    }


def root_entry(trust_root: TrustRoot, signers: list[str]) -> dict[str, Any]:
    envelope = trust_root.envelope
    return {"version": trust_root.version, "expires": trust_root.root.to_dict()["expires"], "signed_by": signers,
            "payload": envelope.payload.decode("utf-8"), "payload_base64": base64.b64encode(envelope.payload).decode(),
            "pae_hex": envelope.pae().hex(),
            "signatures": [{"keyid": keyid, "signature": signature.signature} for keyid, signature in envelope.signatures.items()],
            "envelope": trust_root.canonical.decode("utf-8"), "hash": trust_root.hash}


def signed_root_document(payload: bytes, signer: str) -> str:
    envelope = SimpleEnvelope(payload, SimpleEnvelope.DEFAULT_PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(KEYS[signer], ssl_key(KEYS[signer].public_key())))
    return text(envelope.to_dict())


def add_signature(document: str, payload: bytes, signer: str) -> str:
    """*document* with one more signature over *payload*."""
    envelope = SimpleEnvelope(payload, SimpleEnvelope.DEFAULT_PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(KEYS[signer], ssl_key(KEYS[signer].public_key())))
    parsed = json.loads(document)
    return text({**parsed, "signatures": parsed["signatures"] + envelope.to_dict()["signatures"]})


# -- documents the cases change ------------------------------------------------------------------------------------

def text(document: dict[str, Any]) -> str:
    return canonical_json(document).decode("utf-8")


def flip_signature(envelope_text: str) -> str:
    """The envelope with the first bit of its (first) signature flipped."""
    document = json.loads(envelope_text)
    signature = bytearray(base64.b64decode(document["signatures"][0]["sig"]))
    signature[0] ^= 1
    document["signatures"][0]["sig"] = base64.b64encode(bytes(signature)).decode()
    return text(document)


def signed(kind: str, body: dict[str, Any], signer: str) -> str:
    return sign(kind, body, KEYS[signer]).canonical.decode("utf-8")


def case(title: str, description: str, check: str, expected: dict[str, Any], **inputs: Any) -> dict[str, Any]:
    return {"title": title, "description": description, "check": check, **inputs, "expected": expected}


def refused(code: str) -> dict[str, str]:
    return {"code": code}


def root_cases(roots: dict[str, tuple[TrustRoot, list[str]]]) -> list[dict[str, Any]]:
    v1, v2 = roots["root-v1"][0], roots["root-v2"][0]
    doc = lambda name: roots[name][0].canonical.decode("utf-8")  # noqa: E731
    spaced = json.dumps(json.loads(v1.envelope.payload), ensure_ascii=False, indent=1).encode()
    return [
        case("root-genuine", "Trust root version 1, signed by the national key.", "trust_root", {"version": 1, "hash": v1.hash},
             document=doc("root-v1")),
        case("root-rotation-genuine", "Version 2 names a new national key; both the old and the new one signed it.", "trust_root",
             {"version": 2, "hash": v2.hash}, document=doc("root-v2")),
        case("root-bad-signature", "The first bit of the national key's signature flipped.", "trust_root", refused("bad_signature"),
             document=flip_signature(doc("root-v1"))),
        case("root-signed-by-another-key", "The payload of version 1 signed by a key that is not the one its root role names.",
             "trust_root", refused("bad_signature"), document=signed_root_document(v1.envelope.payload, "stranger")),
        case("root-payload-not-canonical", "Version 1's metadata written with white space (python-tuf would read it), signed by "
             "the national key.", "trust_root", refused("malformed"), document=signed_root_document(spaced, "national")),
        case("root-update-rotation", "An instance holding version 1 accepts version 2, signed by version 1's national key.",
             "trust_root_update", {"version": 2}, held="root-v1", document=doc("root-v2")),
        case("root-update-same", "The root already held, given again: nothing changes.", "trust_root_update", {"version": 1},
             held="root-v1", document=doc("root-v1")),
        case("root-update-same-content-more-signatures", "The root already held, with a second signature (by the new national "
             "key of version 2) added: the same signed metadata, so the same root; the held one is kept.", "trust_root_update",
             {"version": 1}, held="root-v1", document=add_signature(doc("root-v1"), v1.envelope.payload, "national-2")),
        case("root-update-rollback", "An instance holding version 2 is given version 1.", "trust_root_update", refused("rollback"),
             held="root-v2", document=doc("root-v1")),
        case("root-update-same-version-other-content", "Another version 1 (a later expiry), signed by the national key.",
             "trust_root_update", refused("rollback"), held="root-v1", document=doc("root-v1-other")),
        case("root-update-not-signed-by-held", "Version 2 signed only by its own new national key, not by version 1's.",
             "trust_root_update", refused("bad_signature"), held="root-v1", document=doc("root-v2-not-signed-by-v1")),
    ]


def statement_cases(genuine: dict[str, tuple[Statement, str]]) -> list[dict[str, Any]]:
    doc = lambda name: genuine[name][0].canonical.decode("utf-8")  # noqa: E731
    endorsement = genuine["endorsement"][0]
    enrolment_body = genuine["enrolment"][0].body
    two_signatures = json.loads(doc("endorsement"))
    two_signatures["signatures"].append(json.loads(signed("endorsement", endorsement.body, "trung-uong"))["signatures"][0])
    url_safe = json.loads(doc("endorsement"))
    url_safe["signatures"][0]["sig"] = base64.urlsafe_b64encode(endorsement.signature).decode()
    assert url_safe != json.loads(doc("endorsement")), "the signature's base64 holds neither + nor /: pick another text"
    padded = doc("endorsement")[:-1] + " " * (MAX_STATEMENT_BYTES + 1 - len(doc("endorsement").encode())) + "}"
    other_province = identity(province="Lào Cai", commune="xã Bản Lầu")
    at_root = {"trust_root": "root-v1"}
    return [
        case("enrolment-genuine", "The producer's request, signed by the key it names (proof of possession).", "enrolment",
             {"key_id": kid("producer"), "hash": genuine["enrolment"][0].hash}, document=doc("enrolment")),
        case("enrolment-signed-by-another-key", "The producer's request naming its key, signed by another key.", "enrolment",
             refused("wrong_signer"), document=signed("enrolment", enrolment_body, "stranger")),
        case("enrolment-bad-signature", "The first bit of the signature flipped.", "enrolment", refused("bad_signature"),
             document=flip_signature(doc("enrolment"))),
        case("endorsement-genuine", "The Điện Biên office endorses the producer's key and its 4-star product.", "endorsement",
             {"office": "dien-bien", "subject": "dien-bien/DB-XL-0007", "version": 1, "hash": endorsement.hash}, document=doc("endorsement"),
             **at_root),
        case("endorsement-central-five-stars", "The central office endorses a 5-star product.", "endorsement",
             {"office": "trung-uong", "subject": "trung-uong/DB-XL-0007", "version": 1, "hash": genuine["endorsement-central"][0].hash},
             document=doc("endorsement-central"), **at_root),
        case("endorsement-bad-signature", "The first bit of the office's signature flipped.", "endorsement", refused("bad_signature"),
             document=flip_signature(doc("endorsement")), **at_root),
        case("endorsement-wrong-kind", "A recall (its own payload type) given where an endorsement is expected.", "endorsement",
             refused("wrong_kind"), document=doc("recall-mandatory"), **at_root),
        case("endorsement-unknown-payload-type", "The endorsement signed under payload type "
             "application/vnd.ocop.endorsement.v2+json, which no reader of version 1 knows.", "endorsement", refused("wrong_kind"),
             document=text(raw_statement("application/vnd.ocop.endorsement.v2+json", endorsement.payload, "dien-bien")), **at_root),
        case("endorsement-payload-not-canonical", "The endorsement's body written with white space and signed by the office.",
             "endorsement", refused("malformed"),
             document=text(raw_statement(PAYLOAD_TYPES["endorsement"], json.dumps(endorsement.body, ensure_ascii=False, indent=1).encode(),
                                         "dien-bien")), **at_root),
        case("endorsement-base64-url-safe", "The signature in the URL-safe base64 alphabet (DSSE allows it; one text per statement "
             "here).", "endorsement", refused("malformed"), document=text(url_safe), **at_root),
        case("endorsement-two-signatures", "The endorsement with a second signature (by the central office) added.", "endorsement",
             refused("malformed"), document=text(two_signatures), **at_root),
        case("endorsement-too-large", "The genuine endorsement padded with spaces to one byte over 64 KiB.", "endorsement",
             refused("too_large"), document=padded, **at_root),
        case("endorsement-province-five-stars", "The Điện Biên (province) office endorses a 5-star national product.", "endorsement",
             refused("out_of_scope"), document=signed("endorsement", endorsement_body(products=[
                 {**PRODUCT, "stars": 5, "level": "national"}]), "dien-bien"), **at_root),
        case("endorsement-other-province-producer", "The Điện Biên office endorses a 4-star product of a producer in Lào Cai.",
             "endorsement", refused("out_of_scope"), document=signed("endorsement", endorsement_body(producer=other_province), "dien-bien"),
             **at_root),
        case("endorsement-other-province-producer-key-only", "The Điện Biên office endorses the key of a producer in Lào Cai, with "
             "no product.", "endorsement", refused("out_of_scope"),
             document=signed("endorsement", endorsement_body(producer=other_province, products=[]), "dien-bien"), **at_root),
        case("endorsement-over-36-months", "The product's certificate valid until 2027-06-02: one day more than 36 months after "
             "its decision date 2024-06-01.", "endorsement", refused("malformed"),
             document=signed("endorsement", endorsement_body(products=[{**PRODUCT, "valid_until": "2027-06-02"}]), "dien-bien"), **at_root),
        case("endorsement-level-does-not-match-stars", "A 4-star product at national level.", "endorsement", refused("malformed"),
             document=signed("endorsement", endorsement_body(products=[{**PRODUCT, "level": "national"}]), "dien-bien"), **at_root),
        case("endorsement-names-another-office", "The body names the central office, the Điện Biên office's key signed it.",
             "endorsement", refused("wrong_signer"), document=signed("endorsement", endorsement_body(office="trung-uong", products=[]),
                                                                    "dien-bien"), **at_root),
        case("endorsement-by-no-office", "Signed by a key that is no office's in the trust root.", "endorsement",
             refused("unknown_office"), document=signed("endorsement", endorsement.body, "stranger"), **at_root),
        case("recall-genuine", "The producer recalls its batch, signed by the batch's key.", "recall",
             {"batch_digest": batch_record()["digest"], "mandatory": False, "hash": genuine["recall"][0].hash}, verify_with="producer",
             document=doc("recall")),
        case("recall-mandatory", "A mandatory recall signed by the Điện Biên office.", "recall",
             {"batch_digest": batch_record()["digest"], "mandatory": True, "hash": genuine["recall-mandatory"][0].hash},
             verify_with="dien-bien", document=doc("recall-mandatory")),
        case("recall-wrong-signer", "A recall of the producer's batch signed by another key.", "recall", refused("wrong_signer"),
             verify_with="producer", document=signed("recall", genuine["recall"][0].body, "stranger")),
        case("recall-bad-signature", "The first bit of the producer's signature flipped.", "recall", refused("bad_signature"),
             verify_with="producer", document=flip_signature(doc("recall"))),
    ]


def revocation_cases(genuine: dict[str, tuple[Statement, str]]) -> list[dict[str, Any]]:
    doc = lambda name: genuine[name][0].canonical.decode("utf-8")  # noqa: E731
    setting = {"trust_root": "root-v1", "endorsements": ["endorsement"]}
    own = Revocation("key", kid("stranger"), "Mất máy tính", "2026-12-05T10:00:00Z").body()
    return [
        case("revocation-of-endorsement-by-office", "The Điện Biên office revokes its endorsement (by its hash).", "revocation",
             {"target": "endorsement", "subject": genuine["endorsement"][0].hash}, document=doc("revocation-of-endorsement"), **setting),
        case("revocation-of-key-by-office", "The Điện Biên office revokes the producer's key.", "revocation",
             {"target": "key", "subject": kid("producer")}, document=doc("revocation-of-key"), **setting),
        case("revocation-by-the-key-itself", "The producer's key revokes itself.", "revocation",
             {"target": "key", "subject": kid("producer")}, document=doc("revocation-by-the-key"), **setting),
        case("revocation-by-a-stranger", "Another key revokes the producer's key.", "revocation", refused("unknown_office"),
             document=doc("revocation-by-a-stranger"), **setting),
        case("revocation-of-an-unendorsed-key-by-itself", "A key no endorsement names revokes itself.", "revocation",
             refused("unknown_key"), document=signed("revocation", own, "stranger"), **setting),
        case("revocation-bad-signature", "The office's revocation of the key with the first bit of its signature flipped.",
             "revocation", refused("bad_signature"), document=flip_signature(doc("revocation-of-key")), **setting),
    ]


def attested(product: dict[str, Any], office: str) -> dict[str, Any]:
    return {"result": "attested", "office": office, "product": product}


def chain_case(title: str, description: str, statement_names: list[str], expected: dict[str, Any], *, day: str = DAY,
               key: str = "producer", record: dict[str, Any] | None = None) -> dict[str, Any]:
    return case(title, description, "chain", expected, trust_root="root-v1", statements=statement_names, key_id=kid(key), day=day,
                record=record or record_parts())


def chain_cases() -> list[dict[str, Any]]:
    good = attested(PRODUCT, "dien-bien")
    endorsed = {"standing": "endorsed", "producer": "ok", "attestation": good}
    lapsed = lambda reason: {"standing": reason, "producer": None, "attestation": None}  # noqa: E731
    no_ocop = {key: value for key, value in batch_record()["record"]["product"].items() if not key.startswith("ocop_")}
    other_certificate = {**batch_record()["record"]["product"], "ocop_certificate_no": "DB-2024-9999"}
    return [
        chain_case("chain-genuine", "The batch record's key is endorsed on the scan day and its 4 stars attested.",
                   ["endorsement"], endorsed),
        chain_case("chain-genuine-with-recall-and-enrolment", "Recalls and enrolments are no part of the chain: the same answer.",
                   ["enrolment", "endorsement", "recall"], endorsed),
        chain_case("chain-key-revoked-by-office", "The office revoked the key (revoked_at 2026-12-05, after the scan day: a "
                   "revocation holds for every day).", ["endorsement", "revocation-of-key"],
                   lapsed("key_revoked")),
        chain_case("chain-key-revoked-by-itself", "The key revoked itself.", ["endorsement", "revocation-by-the-key"],
                   lapsed("key_revoked")),
        chain_case("chain-revocation-before-endorsement", "The key's own revocation kept before the endorsement that names it "
                   "(order does not matter).", ["revocation-by-the-key", "endorsement"], lapsed("key_revoked")),
        chain_case("chain-revocation-by-a-stranger-ignored", "A revocation that its signer may not make is left out.",
                   ["endorsement", "revocation-by-a-stranger"], endorsed),
        chain_case("chain-endorsement-revoked", "The office revoked the endorsement.", ["endorsement", "revocation-of-endorsement"],
                   lapsed("endorsement_revoked")),
        chain_case("chain-endorsement-expired", "Scanned on 2029-01-01, after the key's window (to 2028-12-31).", ["endorsement"],
                   lapsed("endorsement_expired"), day="2029-01-01"),
        chain_case("chain-key-window-last-day", "Scanned on 2028-12-31, the key window's last day; the product's certificate "
                   "expired on 2027-06-01.", ["endorsement"],
                   {"standing": "endorsed", "producer": "ok", "attestation": {"result": "ocop_endorsement_expired", "office": "dien-bien",
                                                                              "product": PRODUCT}}, day="2028-12-31"),
        chain_case("chain-newer-version-replaces", "Version 2 of the endorsement (key window to 2026-12-10) replaces version 1, "
                   "kept after it; scanned on 2026-12-11.", ["endorsement", "endorsement-v2"], lapsed("endorsement_expired"),
                   day="2026-12-11"),
        chain_case("chain-newer-version-replaces-whatever-the-order", "The same, version 2 kept first.",
                   ["endorsement-v2", "endorsement"], lapsed("endorsement_expired"), day="2026-12-11"),
        chain_case("chain-key-not-endorsed", "The stranger's key: no endorsement names it.", ["endorsement"],
                   lapsed("key_not_endorsed"), key="stranger"),
        chain_case("chain-endorsement-out-of-scope-left-out", "An endorsement its office may not make is left out of the chain.",
                   ["endorsement-central-by-province"], lapsed("key_not_endorsed")),
        chain_case("chain-producer-mismatch", "The record names another producer than the endorsed one.", ["endorsement"],
                   {"standing": "endorsed", "producer": "producer_mismatch", "attestation": good},
                   record=record_parts({"name": "Công ty TNHH trà Khác"})),
        chain_case("chain-contact-details-may-differ", "The record's producer has another phone number and an email: not identity "
                   "fields.", ["endorsement"], endorsed, record=record_parts({"phone": "0912 345 678", "email": "tra@example.vn"})),
        chain_case("chain-ocop-certificate-not-endorsed", "The record claims a certificate the endorsement does not list.",
                   ["endorsement"], {"standing": "endorsed", "producer": "ok", "attestation": {"result": "ocop_not_endorsed"}},
                   record=record_parts(product=other_certificate)),
        chain_case("chain-ocop-endorsement-expired", "Scanned on 2027-06-02, the day after the certificate's validity ended.",
                   ["endorsement"], {"standing": "endorsed", "producer": "ok",
                                     "attestation": {"result": "ocop_endorsement_expired", "office": "dien-bien", "product": PRODUCT}},
                   day="2027-06-02"),
        chain_case("chain-no-ocop-claim", "The record's product claims no OCOP rating: nothing to attest.", ["endorsement"],
                   {"standing": "endorsed", "producer": "ok", "attestation": None}, record=record_parts(product=no_ocop)),
    ]


def build() -> dict[str, Any]:
    genuine = statements()
    # An endorsement the trust root's rules refuse, kept to show that the chain leaves it out.
    genuine["endorsement-central-by-province"] = (sign("endorsement", endorsement_body(products=[
        {**PRODUCT, "stars": 5, "level": "national"}]), KEYS["dien-bien"]), "dien-bien")
    roots = trust_roots()
    return {
        "format": "ocop-trust-vectors/1",
        "note": "Keys are derived from fixed seeds and are public: never trust them outside tests. The producer and stranger "
                "keys, the batch digest and the record's producer and product are those of stamp-vectors.json.",
        "keys": {name: {"private_seed": seed(name).hex(), "public_key": public_key_bytes(KEYS[name].public_key()).hex(),
                        "key_id": kid(name)} for name in KEY_NAMES},
        "payload_types": {**{kind: PAYLOAD_TYPES[kind] for kind in ("enrolment", "endorsement", "revocation", "recall")},
                          "trust-root": SimpleEnvelope.DEFAULT_PAYLOAD_TYPE},
        "trust_roots": {name: root_entry(trust_root, signers) for name, (trust_root, signers) in roots.items()},
        "statements": {name: statement_entry(statement, signer) for name, (statement, signer) in genuine.items()},
        "cases": root_cases(roots) + statement_cases(genuine) + revocation_cases(genuine) + chain_cases(),
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
