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
from stamps.trust.root import Hub, Office, TrustRoot, make_root, sign_root
from stamps.trust.statements import EndorsedKey, EndorsedProduct, Endorsement, Enrolment, ProducerIdentity, Recall, Revocation

OUTPUT = Path(__file__).with_name("trust-vectors.json")
STAMP_VECTORS = Path(__file__).with_name("stamp-vectors.json")
KEY_NAMES = ("national", "national-2", "dien-bien", "trung-uong", "lao-cai", "hub-dien-bien", "hub-ha-noi", "producer",
             "stranger")
EXPIRES = dt.datetime(2031, 12, 1, tzinfo=dt.timezone.utc)
SHORT_EXPIRES = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)  # root-v1-short: the chain's days run past it
OFFICE_WINDOW = (dt.date(2026, 1, 1), dt.date(2030, 12, 31))
KEY_WINDOW = (dt.date(2026, 10, 1), dt.date(2028, 12, 31))
DAY = "2026-11-23"
ISSUED_AT = "2026-09-30T09:00:00Z"
PRODUCT = {"name": "Trà San tuyết PH.14 hữu cơ", "certificate_no": "DB-2024-0114", "stars": 4, "level": "province",
           "decision_no": "QĐ 1234/QĐ-UBND", "decision_date": "2024-06-01", "valid_until": "2027-06-01"}
RENEWED = {**PRODUCT, "decision_no": "QĐ 2345/QĐ-UBND", "decision_date": "2027-05-20", "valid_until": "2030-05-19"}
BUNDLE_AS_OF, BUNDLE_EXPIRES = "2026-11-25T02:00:00Z", "2026-12-02T02:00:00Z"
BUNDLE_VERSION = 7


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
                     producer: ProducerIdentity | None = None, key_until: dt.date = KEY_WINDOW[1],
                     producer_ref: str = "DB-XL-0007") -> dict[str, Any]:
    key = EndorsedKey(KEYS["producer"].public_key(), KEY_WINDOW[0], key_until)
    body = Endorsement(office, producer_ref, version, ISSUED_AT, producer or identity(), (key,), ()).body()
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
    recall = lambda reason, mandatory, day: Recall(digest, reason, mandatory, dt.date(2026, 11, day),  # noqa: E731
                                                   f"2026-11-{day}T07:00:00Z").body()
    central = sign("endorsement", endorsement_body(office="trung-uong", products=[five_stars]), KEYS["trung-uong"])
    return {
        "enrolment": (Enrolment(identity(), KEYS["producer"].public_key(), "2026-09-28T08:00:00Z").sign(KEYS["producer"]), "producer"),
        "endorsement": (endorsement, "dien-bien"),
        "endorsement-v2": (sign("endorsement", endorsement_body(version=2, key_until=dt.date(2026, 12, 10)), KEYS["dien-bien"]), "dien-bien"),
        "endorsement-central": (central, "trung-uong"),
        "endorsement-renewal": (sign("endorsement", endorsement_body(producer_ref="DB-XL-0007-2027", products=[RENEWED]),
                                     KEYS["dien-bien"]), "dien-bien"),
        "endorsement-invented-by-another-province": (sign("endorsement", endorsement_body(
            office="lao-cai", producer_ref="LC-BIA-0001", products=[],
            producer=identity(name="HTX Bịa", province="Lào Cai", commune="xã Bản Lầu")), KEYS["lao-cai"]), "lao-cai"),
        "revocation-of-endorsement": (sign("revocation", revoke("endorsement", endorsement.hash, "Cơ sở ngừng sản xuất"),
                                           KEYS["dien-bien"]), "dien-bien"),
        "revocation-of-key": (sign("revocation", revoke("key", kid("producer"), "Khóa bị lộ"), KEYS["dien-bien"]), "dien-bien"),
        "revocation-by-the-key": (sign("revocation", revoke("key", kid("producer"), "Mất máy tính"), KEYS["producer"]), "producer"),
        "revocation-by-a-stranger": (sign("revocation", revoke("key", kid("producer"), "Không rõ"), KEYS["stranger"]), "stranger"),
        "revocation-of-endorsement-by-another-province": (sign("revocation", revoke("endorsement", endorsement.hash, "Nhầm tỉnh"),
                                                               KEYS["lao-cai"]), "lao-cai"),
        "revocation-of-key-by-another-province": (sign("revocation", revoke("key", kid("producer"), "Nhầm tỉnh"), KEYS["lao-cai"]),
                                                  "lao-cai"),
        "revocation-of-endorsement-by-central": (sign("revocation", revoke("endorsement", endorsement.hash, "Thu hồi theo thanh tra"),
                                                      KEYS["trung-uong"]), "trung-uong"),
        "revocation-of-key-by-central": (sign("revocation", revoke("key", kid("producer"), "Khóa bị lộ"), KEYS["trung-uong"]),
                                         "trung-uong"),
        "revocation-of-central-endorsement-by-province": (sign("revocation", revoke("endorsement", central.hash, "Không rõ"),
                                                               KEYS["dien-bien"]), "dien-bien"),
        "recall": (sign("recall", recall("Bao bì bị lỗi", False, 20), KEYS["producer"]), "producer"),
        "recall-mandatory": (sign("recall", recall("Dư lượng thuốc bảo vệ thực vật vượt ngưỡng", True, 21), KEYS["dien-bien"]),
                             "dien-bien"),
        "recall-mandatory-by-another-province": (sign("recall", recall("Theo yêu cầu của cơ quan chức năng", True, 22),
                                                      KEYS["lao-cai"]), "lao-cai"),
        "recall-mandatory-by-the-key": (sign("recall", recall("Tự thu hồi", True, 22), KEYS["producer"]), "producer"),
        "recall-by-a-stranger": (sign("recall", recall("Không rõ", False, 22), KEYS["stranger"]), "stranger"),
        "recall-by-a-hub": (sign("recall", recall("Không rõ", False, 22), KEYS["hub-dien-bien"]), "hub-dien-bien"),
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
             [KEYS["trung-uong"].public_key()]),
            (Office("lao-cai", "Văn phòng Điều phối NTM tỉnh Lào Cai", "province", "Lào Cai", (kid("lao-cai"),), *OFFICE_WINDOW),
             [KEYS["lao-cai"].public_key()])]


def hubs() -> list[tuple[Hub, list[Any]]]:
    return [(Hub("hub-dien-bien", "Cổng truy xuất nguồn gốc tỉnh Điện Biên", "https://truyxuat.dienbien.example.vn",
                 (kid("hub-dien-bien"),)), [KEYS["hub-dien-bien"].public_key()]),
            (Hub("hub-ha-noi", "Cổng truy xuất OCOP quốc gia", "https://truyxuat.ocop.example.vn", (kid("hub-ha-noi"),)),
             [KEYS["hub-ha-noi"].public_key()])]


def root(version: int, national: str, signers: list[str], expires: dt.datetime = EXPIRES) -> TrustRoot:
    metadata = make_root(national=[KEYS[national].public_key()], offices=offices(), hubs=hubs(), version=version, expires=expires)
    return sign_root(metadata, [KEYS[name] for name in signers])


def trust_roots() -> dict[str, tuple[TrustRoot, list[str]]]:
    return {
        "root-v1": (root(1, "national", ["national"]), ["national"]),
        "root-v2": (root(2, "national-2", ["national-2", "national"]), ["national-2", "national"]),
        "root-v2-not-signed-by-v1": (root(2, "national-2", ["national-2"]), ["national-2"]),
        "root-v1-other": (root(1, "national", ["national"], EXPIRES.replace(year=2032)), ["national"]),
        "root-v3": (root(3, "national", ["national"]), ["national"]),
        "root-v1-short": (root(1, "national", ["national"], SHORT_EXPIRES), ["national"]),
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
        case("root-update-skips-a-version", "An instance holding version 1 is given version 3, signed by the same national key: "
             "taken, though it never saw version 2.", "trust_root_update", {"version": 3}, held="root-v1", document=doc("root-v3")),
        case("root-update-skip-after-rotation", "An instance holding version 1 is given version 3, signed by version 1's national "
             "key, after an instance holding version 2 (national key national-2) was: version 3 is not signed by national-2.",
             "trust_root_update", refused("bad_signature"), held="root-v2", document=doc("root-v3")),
        case("root-install-expired", "Installing a root that expires at 2027-01-01T00:00:00Z, at that very second.",
             "trust_root_install", refused("expired"), held=None, document=doc("root-v1-short"), now="2027-01-01T00:00:00Z"),
        case("root-install-last-second", "Installing the same root one second before it expires.", "trust_root_install",
             {"version": 1}, held=None, document=doc("root-v1-short"), now="2026-12-31T23:59:59Z"),
        case("root-install-expired-before-rollback", "An instance holding version 2 is given an expired version 1: expired comes "
             "before the update rule.", "trust_root_install", refused("expired"), held="root-v2", document=doc("root-v1-short"),
             now="2027-01-02T00:00:00Z"),
        case("root-install-update", "An instance holding version 1 installs version 2 (the rotation), not expired.",
             "trust_root_install", {"version": 2}, held="root-v1", document=doc("root-v2"), now="2026-11-23T00:00:00Z"),
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
        case("revocation-of-endorsement-by-another-province", "The Lào Cai office revokes the Điện Biên office's endorsement.",
             "revocation", refused("out_of_scope"), document=doc("revocation-of-endorsement-by-another-province"), **setting),
        case("revocation-of-key-by-another-province", "The Lào Cai office revokes the producer's key, which only the Điện Biên "
             "office endorsed.", "revocation", refused("out_of_scope"), document=doc("revocation-of-key-by-another-province"),
             **setting),
        case("revocation-of-key-by-another-province-that-lists-it", "The Lào Cai office revokes the producer's key, which its "
             "own endorsement (of another producer) lists too: allowed (it counts for the Lào Cai office's endorsements only, "
             "§9.3).", "revocation", {"target": "key", "subject": kid("producer")},
             document=doc("revocation-of-key-by-another-province"), trust_root="root-v1",
             endorsements=["endorsement", "endorsement-invented-by-another-province"]),
        case("revocation-of-endorsement-by-central", "The central office revokes the Điện Biên office's endorsement.", "revocation",
             {"target": "endorsement", "subject": genuine["endorsement"][0].hash},
             document=doc("revocation-of-endorsement-by-central"), **setting),
        case("revocation-of-key-by-central", "The central office revokes the producer's key, which only the Điện Biên office "
             "endorsed.", "revocation", {"target": "key", "subject": kid("producer")}, document=doc("revocation-of-key-by-central"),
             **setting),
        case("revocation-by-central-of-an-unknown-endorsement", "The central office revokes an endorsement that is not kept here.",
             "revocation", {"target": "endorsement", "subject": genuine["endorsement"][0].hash},
             document=doc("revocation-of-endorsement-by-central"), trust_root="root-v1", endorsements=[]),
        case("revocation-by-province-of-central-endorsement", "The Điện Biên office revokes the central office's endorsement of a "
             "producer of its own province.", "revocation", refused("out_of_scope"),
             document=doc("revocation-of-central-endorsement-by-province"), trust_root="root-v1",
             endorsements=["endorsement", "endorsement-central"]),
        case("revocation-by-province-of-a-key-only-central-endorsed", "The Điện Biên office revokes the producer's key, which "
             "only the central office's endorsement lists here.", "revocation", refused("out_of_scope"),
             document=doc("revocation-of-key"), trust_root="root-v1", endorsements=["endorsement-central"]),
    ]


def attested(product: dict[str, Any], office: str) -> dict[str, Any]:
    return {"result": "attested", "office": office, "product": product}


def chain_case(title: str, description: str, statement_names: list[str], expected: dict[str, Any], *, day: str = DAY,
               key: str = "producer", record: dict[str, Any] | None = None, trust_root: str = "root-v1") -> dict[str, Any]:
    return case(title, description, "chain", expected, trust_root=trust_root, statements=statement_names, key_id=kid(key), day=day,
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
        chain_case("chain-key-revoked-by-office", "The Điện Biên office revoked the key its only endorsement lists (revoked_at "
                   "2026-12-05, after the scan day: a revocation holds for every day): the key is withdrawn from that "
                   "office's endorsements, and no other lists it.", ["endorsement", "revocation-of-key"],
                   lapsed("endorsement_revoked")),
        chain_case("chain-key-withdrawn-by-a-province-office-central-still-endorses", "The Điện Biên office revoked the key; "
                   "the central office's endorsement of it still holds (its 5-star product is not the record's: not attested).",
                   ["endorsement", "endorsement-central", "revocation-of-key"],
                   {"standing": "endorsed", "producer": "ok", "attestation": {"result": "ocop_not_endorsed"}}),
        chain_case("chain-key-revocation-by-another-province-scoped", "The Lào Cai office lists the producer's key in an "
                   "endorsement of an invented producer of its own province, then revokes the key: that withdraws it from the "
                   "Lào Cai office's endorsements only; the Điện Biên office's endorsement still holds.",
                   ["endorsement", "endorsement-invented-by-another-province", "revocation-of-key-by-another-province"], endorsed),
        chain_case("chain-key-revocation-by-another-province-its-only-endorsement", "The same without the Điện Biên office's "
                   "endorsement: the key's only endorsement is withdrawn.",
                   ["endorsement-invented-by-another-province", "revocation-of-key-by-another-province"],
                   lapsed("endorsement_revoked")),
        chain_case("chain-key-revoked-by-central-everywhere", "The central office revokes the key that two province offices' "
                   "endorsements list: revoked everywhere.",
                   ["endorsement", "endorsement-invented-by-another-province", "revocation-of-key-by-central"],
                   lapsed("key_revoked")),
        chain_case("chain-key-revoked-by-itself-everywhere", "The key revokes itself; the Điện Biên and the central offices "
                   "both endorse it: revoked everywhere.", ["endorsement", "endorsement-central", "revocation-by-the-key"],
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
        chain_case("chain-revocations-by-another-province-ignored", "The Lào Cai office revokes the Điện Biên office's endorsement "
                   "and the producer's key: neither is its own, both are left out.",
                   ["endorsement", "revocation-of-endorsement-by-another-province", "revocation-of-key-by-another-province"], endorsed),
        chain_case("chain-key-revoked-by-central", "The central office revokes the producer's key.",
                   ["endorsement", "revocation-of-key-by-central"], lapsed("key_revoked")),
        chain_case("chain-endorsement-revoked-by-central", "The central office revokes the Điện Biên office's endorsement.",
                   ["endorsement", "revocation-of-endorsement-by-central"], lapsed("endorsement_revoked")),
        chain_case("chain-trust-root-expiry-day", "The trust root expires at 2027-01-01T00:00:00Z; scanned on 2027-01-01: the "
                   "chain works in days, the key is still endorsed.", ["endorsement"], endorsed, day="2027-01-01",
                   trust_root="root-v1-short"),
        chain_case("chain-trust-root-expired", "The same, scanned on 2027-01-02.", ["endorsement"], lapsed("trust_root_expired"),
                   day="2027-01-02", trust_root="root-v1-short"),
        chain_case("chain-trust-root-expired-unknown-key", "Past the root's expiry, a key no endorsement names is trust_root_expired "
                   "too (it comes before key_not_endorsed).", ["endorsement"], lapsed("trust_root_expired"), day="2027-01-02",
                   key="stranger", trust_root="root-v1-short"),
        chain_case("chain-trust-root-expired-key-revoked", "Past the root's expiry, a revoked key is key_revoked (first).",
                   ["endorsement", "revocation-by-the-key"], lapsed("key_revoked"), day="2027-01-02", trust_root="root-v1-short"),
        chain_case("chain-stars-attested-by-a-renewal", "Scanned on 2027-06-02: the first endorsement lists the certificate "
                   "lapsed on 2027-06-01, a later one (another subject) lists it renewed: attested by the later one.",
                   ["endorsement", "endorsement-renewal"], {**endorsed, "attestation": attested(RENEWED, "dien-bien")},
                   day="2027-06-02"),
        chain_case("chain-stars-attested-by-a-renewal-whatever-the-order", "The same, the renewal kept first.",
                   ["endorsement-renewal", "endorsement"], {**endorsed, "attestation": attested(RENEWED, "dien-bien")},
                   day="2027-06-02"),
        chain_case("chain-stars-both-valid-first-decides", "Scanned on 2027-05-25, both certificates valid: the first listing "
                   "endorsement (in the order subjects were first kept) attests.", ["endorsement", "endorsement-renewal"],
                   endorsed, day="2027-05-25"),
        chain_case("chain-stars-both-valid-renewal-first", "The same, the renewal kept first: it attests.",
                   ["endorsement-renewal", "endorsement"], {**endorsed, "attestation": attested(RENEWED, "dien-bien")},
                   day="2027-05-25"),
    ]


def recall_cases(genuine: dict[str, tuple[Statement, str]]) -> list[dict[str, Any]]:
    doc = lambda name: genuine[name][0].canonical.decode("utf-8")  # noqa: E731
    setting = {"trust_root": "root-v1", "statements": ["endorsement"], "record_key_id": kid("producer")}
    admitted = lambda name: {"batch_digest": batch_record()["digest"], "mandatory": genuine[name][0].body["mandatory"],  # noqa: E731
                             "hash": genuine[name][0].hash}
    malformed_body = {**genuine["recall"][0].body, "recalled_on": "2026-02-30"}
    return [
        case("recall-admitted-by-the-batch-key", "The producer's voluntary recall of its batch (the record names its key).",
             "recall_admission", admitted("recall"), document=doc("recall"), **setting),
        case("recall-admitted-mandatory-by-office", "The Điện Biên office's mandatory recall.", "recall_admission",
             admitted("recall-mandatory"), document=doc("recall-mandatory"), **setting),
        case("recall-admitted-mandatory-by-any-office", "The Lào Cai office's mandatory recall of a Điện Biên producer's batch: "
             "any office of the trust root may recall.", "recall_admission", admitted("recall-mandatory-by-another-province"),
             document=doc("recall-mandatory-by-another-province"), **setting),
        case("recall-mandatory-by-the-batch-key", "The producer's own recall marked mandatory (it carries out an "
             "authority's order): admitted.", "recall_admission", admitted("recall-mandatory-by-the-key"),
             document=doc("recall-mandatory-by-the-key"), **setting),
        case("recall-by-a-stranger", "A recall of the producer's batch signed by another key (neither the batch's nor an "
             "office's).", "recall_admission", refused("wrong_signer"), document=doc("recall-by-a-stranger"), **setting),
        case("recall-by-a-hub", "A recall signed by a hub's key: a hub signs bundles, not recalls.", "recall_admission",
             refused("wrong_signer"), document=doc("recall-by-a-hub"), **setting),
        case("recall-of-a-batch-whose-key-is-not-endorsed", "The producer's recall where no kept endorsement lists the record's "
             "key.", "recall_admission", refused("wrong_signer"), document=doc("recall"),
             **{**setting, "statements": []}),
        case("recall-admission-bad-signature", "The producer's recall with the first bit of its signature flipped.",
             "recall_admission", refused("bad_signature"), document=flip_signature(doc("recall")), **setting),
        case("recall-admission-malformed-body", "A recall signed by the batch's key whose recalled_on is 2026-02-30.",
             "recall_admission", refused("malformed"), document=signed("recall", malformed_body, "producer"), **setting),
    ]


# -- inspectors' bundles ------------------------------------------------------------------------------------------------

def bundle_body(genuine: dict[str, tuple[Statement, str]], roots: dict[str, tuple[TrustRoot, list[str]]], names: list[str], *,
                trust_root: str = "root-v1", records: bool = True, **change: Any) -> dict[str, Any]:
    """A bundle's body as a hub writes it: the trust root, the named statements in that order, the batch record."""
    body = {"hub": "hub-dien-bien", "version": BUNDLE_VERSION, "as_of": BUNDLE_AS_OF, "expires": BUNDLE_EXPIRES,
            "trust_root": json.loads(roots[trust_root][0].canonical),
            "statements": [json.loads(genuine[name][0].canonical) for name in names],
            "batch_records": [batch_record()["export"]] if records else []}
    return {**body, **change}


def bundles(genuine: dict[str, tuple[Statement, str]], roots: dict[str, tuple[TrustRoot, list[str]]]) -> dict[str, tuple[Statement, str]]:
    """The genuine bundles, each with the name of its signing key."""
    body = lambda *names, **change: bundle_body(genuine, roots, list(names), **change)  # noqa: E731
    main = ("endorsement", "endorsement-central", "revocation-by-a-stranger", "recall-mandatory", "recall")
    left_out = ("endorsement", "recall-by-a-stranger", "recall-by-a-hub", "recall-malformed", "recall-of-another-batch")
    return {
        "bundle": (sign("bundle", body(*main), KEYS["hub-dien-bien"]), "hub-dien-bien"),
        "bundle-recalls-left-out": (sign("bundle", body(*left_out), KEYS["hub-dien-bien"]), "hub-dien-bien"),
        "bundle-voluntary-then-mandatory": (sign("bundle", body("endorsement", "recall", "recall-mandatory"), KEYS["hub-dien-bien"]),
                                            "hub-dien-bien"),
        "bundle-with-root-v2": (sign("bundle", body(*main, trust_root="root-v2"), KEYS["hub-dien-bien"]), "hub-dien-bien"),
        "bundle-province": (sign("bundle", body("endorsement", "endorsement-central", "revocation-of-key-by-another-province",
                                                province="Điện Biên", records=False), KEYS["hub-dien-bien"]), "hub-dien-bien"),
        "bundle-from-the-other-hub": (sign("bundle", body(*main, hub="hub-ha-noi"), KEYS["hub-ha-noi"]), "hub-ha-noi"),
    }


def flip_payload_bit(envelope_text: str, old: str, new: str) -> str:
    """The envelope with the first *old* in its payload changed to *new* (one bit apart), the signature kept."""
    assert sum(bin(a ^ b).count("1") for a, b in zip(old.encode(), new.encode(), strict=True)) == 1
    document = json.loads(envelope_text)
    payload = base64.b64decode(document["payload"])
    assert payload.count(old.encode()) >= 1
    document["payload"] = base64.b64encode(payload.replace(old.encode(), new.encode(), 1)).decode()
    return text(document)


def bundle_summary(genuine: dict[str, tuple[Statement, str]], names: list[str], recall: dict[str, str] | None, *,
                   trust_root_version: int = 1, stale: bool = False, **change: Any) -> dict[str, Any]:
    """What reading a bundle gives (docs/trust-format.md section 13.3), written out by hand."""
    return {"hub": "hub-dien-bien", "version": BUNDLE_VERSION, "as_of": BUNDLE_AS_OF, "expires": BUNDLE_EXPIRES, "province": None,
            "trust_root_version": trust_root_version, "stale": stale,
            "endorsements": [genuine[name][0].hash for name in names], "revoked_keys": [], "revoked_endorsements": [],
            "withdrawn_keys": [],
            "batch_records": [{"digest": batch_record()["digest"], "recall": recall}], **change}


def bundle_cases(genuine: dict[str, tuple[Statement, str]], roots: dict[str, tuple[TrustRoot, list[str]]],
                 made: dict[str, tuple[Statement, str]]) -> list[dict[str, Any]]:
    doc = lambda name: made[name][0].canonical.decode("utf-8")  # noqa: E731
    body = lambda *names, **change: bundle_body(genuine, roots, list(names), **change)  # noqa: E731
    mandatory = {"kind": "mandatory", "reason": "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng", "recalled_on": "2026-11-21"}
    both = ["endorsement", "endorsement-central"]
    genuine_summary = bundle_summary(genuine, both, mandatory)
    at = {"pinned": "root-v1", "now": "2026-11-26T08:00:00Z", "last_seen": None}
    seen = lambda version, as_of, hub="hub-dien-bien": {**at, "last_seen": {"hub": hub, "version": version, "as_of": as_of}}  # noqa: E731
    bad_record = {**batch_record()["export"], "digest": "00" * 32}
    return [
        case("bundle-genuine", "The Điện Biên hub's bundle: the endorsements, a stranger's revocation (left out), the office's "
             "mandatory recall and then the producer's voluntary one (the mandatory one stays), the batch record.", "bundle",
             genuine_summary, bundle="bundle", **at),
        case("bundle-recalls-left-out", "Recalls of the batch that do not count: a stranger's, a hub's, one whose body is malformed, and the producer's recall of another batch whose digest shares "
             "the first 10 bytes of this one's.",
             "bundle", bundle_summary(genuine, ["endorsement"], None), document=doc("bundle-recalls-left-out"), **at),
        case("bundle-mandatory-replaces-voluntary", "The producer's voluntary recall, then the office's mandatory one: the "
             "mandatory one replaces it.", "bundle", bundle_summary(genuine, ["endorsement"], mandatory),
             document=doc("bundle-voluntary-then-mandatory"), **at),
        case("bundle-carries-a-newer-root", "The bundle carries version 2 (the rotation); the inspector pinned version 1: "
             "taken, and version 2 is pinned from now on.", "bundle", {**genuine_summary, "trust_root_version": 2},
             document=doc("bundle-with-root-v2"), **at),
        case("bundle-province", "A bundle of the producers of Điện Biên, without batch records; the Lào Cai office's revocation "
             "of the key is in it and left out.", "bundle", {**bundle_summary(genuine, both, None), "province": "Điện Biên",
                                                             "batch_records": []}, document=doc("bundle-province"), **at),
        case("bundle-from-another-hub", "The same contents signed by the other hub of the trust root, naming itself.", "bundle",
             {**genuine_summary, "hub": "hub-ha-noi"}, document=doc("bundle-from-the-other-hub"), **at),
        case("bundle-stale", "Read one second after it expires: used, and flagged stale.", "bundle",
             {**genuine_summary, "stale": True}, bundle="bundle", **{**at, "now": "2026-12-02T02:00:01Z"}),
        case("bundle-at-its-expiry", "Read at its expiry time exactly: not yet stale.", "bundle", genuine_summary,
             bundle="bundle", **{**at, "now": BUNDLE_EXPIRES}),
        case("bundle-seen-again", "The inspector already saw this very bundle (same version and as_of): taken again.", "bundle",
             genuine_summary, bundle="bundle", **seen(BUNDLE_VERSION, BUNDLE_AS_OF)),
        case("bundle-newer-than-seen", "The inspector saw version 6 of the day before: this one is newer.", "bundle",
             genuine_summary, bundle="bundle", **seen(6, "2026-11-24T02:00:00Z")),
        case("bundle-lower-version-than-seen", "The inspector saw version 8 (as of an earlier time): this one is older.",
             "bundle", refused("rollback"), bundle="bundle", **seen(8, "2026-11-24T02:00:00Z")),
        case("bundle-earlier-than-seen", "The inspector saw version 7 as of a later time: this one is older.", "bundle",
             refused("rollback"), bundle="bundle", **seen(7, "2026-11-25T02:00:01Z")),
        case("bundle-seen-from-another-hub-only", "The inspector saw a newer bundle of the other hub: hubs are counted apart.",
             "bundle", genuine_summary, bundle="bundle", **seen(99, "2026-12-25T00:00:00Z", "hub-ha-noi")),
        case("bundle-bad-signature", "The first bit of the hub's signature flipped.", "bundle", refused("bad_signature"),
             document=flip_signature(doc("bundle")), **at),
        case("bundle-payload-bit-flipped", "One bit of the payload flipped (as_of 2026-11-25 becomes 2026-11-24), the hub's "
             "signature kept.", "bundle", refused("bad_signature"),
             document=flip_payload_bit(doc("bundle"), '"as_of":"2026-11-25', '"as_of":"2026-11-24'), **at),
        case("bundle-signed-by-an-office", "The bundle's body signed by the Điện Biên office's key, which is no hub's.", "bundle",
             refused("unknown_hub"), document=signed("bundle", body(*both, records=False), "dien-bien"), **at),
        case("bundle-signed-by-a-stranger", "The bundle's body signed by a key the trust root does not list.", "bundle",
             refused("unknown_hub"), document=signed("bundle", body(*both, records=False), "stranger"), **at),
        case("bundle-names-another-hub", "The body names hub-ha-noi; the key of hub-dien-bien signed it.", "bundle",
             refused("wrong_signer"), document=signed("bundle", body(*both, hub="hub-ha-noi", records=False), "hub-dien-bien"), **at),
        case("bundle-root-older-than-pinned", "The inspector pinned version 2; the bundle carries version 1.", "bundle",
             refused("rollback"), bundle="bundle", **{**at, "pinned": "root-v2"}),
        case("bundle-root-another-version-1", "The bundle carries another version 1 than the one pinned.", "bundle",
             refused("rollback"), document=signed("bundle", body(*both, trust_root="root-v1-other", records=False), "hub-dien-bien"), **at),
        case("bundle-root-not-signed-by-pinned", "The bundle carries a version 2 that version 1's national key did not sign.",
             "bundle", refused("bad_signature"),
             document=signed("bundle", body(*both, trust_root="root-v2-not-signed-by-v1", records=False), "hub-dien-bien"), **at),
        case("bundle-as-of-not-a-time", "as_of written 2026-11-25 02:00:00 (a space, no Z), signed by the hub.", "bundle",
             refused("malformed"), document=signed("bundle", body(*both, as_of="2026-11-25 02:00:00", records=False), "hub-dien-bien"), **at),
        case("bundle-extra-member", "The body with a member no version 1 reader knows, signed by the hub.", "bundle",
             refused("malformed"), document=signed("bundle", body(*both, note="thêm", records=False), "hub-dien-bien"), **at),
        case("bundle-holds-an-enrolment", "An enrolment among the statements: not a kind a bundle holds.", "bundle",
             refused("wrong_kind"), document=signed("bundle", body("endorsement", "enrolment", records=False), "hub-dien-bien"), **at),
        case("bundle-statement-as-text", "A statement given as its envelope's text (a string) instead of the envelope object.",
             "bundle", refused("malformed"), document=signed("bundle", {**body(records=False), "statements": [doc_text(genuine, "endorsement")]},
                                                             "hub-dien-bien"), **at),
        case("bundle-damaged-record", "A batch record whose digest is not the SHA-256 of its tagged record.", "bundle",
             refused("malformed"), document=signed("bundle", body("endorsement", batch_records=[bad_record]), "hub-dien-bien"), **at),
        case("bundle-wrong-kind", "A recall given where a bundle is expected.", "bundle", refused("wrong_kind"),
             document=doc_text(genuine, "recall"), **at),
    ]


def doc_text(genuine: dict[str, tuple[Statement, str]], name: str) -> str:
    return genuine[name][0].canonical.decode("utf-8")


def build() -> dict[str, Any]:
    genuine = statements()
    # An endorsement the trust root's rules refuse, kept to show that the chain leaves it out.
    genuine["endorsement-central-by-province"] = (sign("endorsement", endorsement_body(products=[
        {**PRODUCT, "stars": 5, "level": "national"}]), KEYS["dien-bien"]), "dien-bien")
    digest = batch_record()["digest"]
    genuine["recall-malformed"] = (sign("recall", {**genuine["recall"][0].body, "recalled_on": "2026-02-30"}, KEYS["producer"]),
                                   "producer")
    genuine["recall-of-another-batch"] = (sign("recall", {**genuine["recall"][0].body, "batch_digest": digest[:-1] + "0"},
                                               KEYS["producer"]), "producer")
    roots = trust_roots()
    made = bundles(genuine, roots)
    return {
        "format": "ocop-trust-vectors/1",
        "note": "Keys are derived from fixed seeds and are public: never trust them outside tests. The producer and stranger "
                "keys, the batch digest and the record's producer and product are those of stamp-vectors.json.",
        "keys": {name: {"private_seed": seed(name).hex(), "public_key": public_key_bytes(KEYS[name].public_key()).hex(),
                        "key_id": kid(name)} for name in KEY_NAMES},
        "payload_types": {**{kind: PAYLOAD_TYPES[kind] for kind in ("enrolment", "endorsement", "revocation", "recall", "bundle")},
                          "trust-root": SimpleEnvelope.DEFAULT_PAYLOAD_TYPE},
        "trust_roots": {name: root_entry(trust_root, signers) for name, (trust_root, signers) in roots.items()},
        "statements": {name: statement_entry(statement, signer) for name, (statement, signer) in genuine.items()},
        "bundles": {"bundle": statement_entry(*made["bundle"])},
        "cases": (root_cases(roots) + statement_cases(genuine) + revocation_cases(genuine) + recall_cases(genuine) + chain_cases()
                  + bundle_cases(genuine, roots, made)),
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
