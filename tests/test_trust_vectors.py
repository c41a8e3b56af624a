"""The trust chain's golden vectors (docs/vectors/trust-vectors.json, docs/trust-format.md section 10) through the library.

Every intermediate is checked by the rules of the document, written out here (PAE, key ids, the envelope's canonical
JSON, statement hashes), and every case through the library; and the committed file must be exactly what
docs/vectors/generate_trust.py writes, so the vectors cannot drift from their generator.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stamps.canonical import canonical_json
from stamps.errors import TrustError
from stamps.roles.inspector import STATE_ENV, open_bundle, state_path
from stamps.store import open_store
from stamps.trust.chain import TrustChain, admit_endorsement, admit_recall, endorsed_key, revocation_signer_allowed
from stamps.trust.envelope import PAYLOAD_TYPES, StoredStatement, read
from stamps.trust.root import TrustRoot
from stamps.trust.statements import Enrolment, Recall, Revocation
from stamps.trustroot import install_root

VECTORS_DIR = Path(__file__).resolve().parent.parent / "docs" / "vectors"
TRUST_VECTORS = VECTORS_DIR / "trust-vectors.json"


def load() -> dict[str, Any]:
    return json.loads(TRUST_VECTORS.read_text(encoding="utf-8"))


VECTORS = load()


def public_key(name: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(VECTORS["keys"][name]["public_key"]))


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding, as docs/trust-format.md section 2.3 writes it."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 " + str(len(kind)).encode() + b" " + kind + b" " + str(len(payload)).encode() + b" " + payload


def test_the_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("generate_trust", VECTORS_DIR / "generate_trust.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert TRUST_VECTORS.read_text(encoding="utf-8") == json.dumps(generator.build(), ensure_ascii=False, indent=2) + "\n"


def test_keys_and_payload_types() -> None:
    for entry in VECTORS["keys"].values():
        public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["private_seed"])).public_key().public_bytes_raw()
        assert entry["public_key"] == public.hex() and entry["key_id"] == hashlib.sha256(public).hexdigest()[:16]
    assert VECTORS["payload_types"] == {**{kind: f"application/vnd.ocop.{kind}.v1+json" for kind in
                                           ("enrolment", "endorsement", "revocation", "recall", "bundle")},
                                        "trust-root": "application/vnd.tuf+json"}
    assert all(PAYLOAD_TYPES[kind] == value for kind, value in VECTORS["payload_types"].items() if kind != "trust-root")


def check_signed(payload: bytes, payload_type: str, entry: dict[str, Any], signatures: list[tuple[str, str, str]]) -> None:
    """Payload, PAE, signatures (keyid, base64, signer), envelope text and hash, each from the one before."""
    assert base64.b64encode(payload).decode() == entry["payload_base64"]
    assert pae(payload_type, payload).hex() == entry["pae_hex"]
    for keyid, signature, signer in signatures:
        assert keyid == VECTORS["keys"][signer]["key_id"]
        public_key(signer).verify(base64.b64decode(signature), pae(payload_type, payload))
    envelope = {"payload": entry["payload_base64"], "payloadType": payload_type,
                "signatures": [{"keyid": keyid, "sig": signature} for keyid, signature, _ in signatures]}
    assert canonical_json(envelope).decode("utf-8") == entry["envelope"]
    assert hashlib.sha256(entry["envelope"].encode("utf-8")).hexdigest() == entry["hash"]


SIGNED = {**VECTORS["statements"], **VECTORS["bundles"]}


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_statement_intermediates(name: str) -> None:
    """Each statement and bundle: body -> canonical payload -> PAE -> signature -> envelope -> hash."""
    entry = SIGNED[name]
    payload = canonical_json(entry["body"])
    assert payload.decode("utf-8") == entry["payload"] and entry["payload_type"] == VECTORS["payload_types"][entry["kind"]]
    signature = bytes.fromhex(entry["signature"])
    assert base64.b64encode(signature).decode() == entry["signature_base64"]
    check_signed(payload, entry["payload_type"], entry, [(entry["key_id"], entry["signature_base64"], entry["signed_by"])])
    statement = read(entry["envelope"], entry["kind"], limit=len(entry["envelope"].encode()))
    assert (statement.payload, statement.signer, statement.signature, statement.hash) == (payload, entry["key_id"], signature, entry["hash"])


@pytest.mark.parametrize("name", sorted(VECTORS["trust_roots"]))
def test_trust_root_intermediates(name: str) -> None:
    entry = VECTORS["trust_roots"][name]
    payload = entry["payload"].encode("utf-8")
    metadata = json.loads(payload)
    assert canonical_json(metadata) == payload and metadata["_type"] == "root"
    assert (metadata["version"], metadata["expires"]) == (entry["version"], entry["expires"])
    signatures = [(item["keyid"], base64.b64encode(bytes.fromhex(item["signature"])).decode(), signer)
                  for item, signer in zip(entry["signatures"], entry["signed_by"], strict=True)]
    check_signed(payload, "application/vnd.tuf+json", entry, signatures)
    assert TrustRoot.load(entry["envelope"].encode()).hash == entry["hash"]


def root_named(name: str) -> TrustRoot:
    return TrustRoot.load(VECTORS["trust_roots"][name]["envelope"].encode("utf-8"))


def statement_named(name: str) -> Any:
    return read(VECTORS["statements"][name]["envelope"])


def check_trust_root(case: dict[str, Any]) -> dict[str, Any]:
    root = TrustRoot.load(case["document"].encode("utf-8"))
    return {"version": root.version, "hash": root.hash}


def check_trust_root_update(case: dict[str, Any]) -> dict[str, Any]:
    return {"version": root_named(case["held"]).accept_update(TrustRoot.load(case["document"].encode("utf-8"))).version}


def moment(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def check_trust_root_install(case: dict[str, Any]) -> dict[str, Any]:
    """Through an instance's store (install_root): the held root first, then the document, at *now*."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "store.db", create=True, durable=False)
        try:
            if case["held"]:
                install_root(store, root_named(case["held"]), now=moment(case["now"]))
            return {"version": install_root(store, TrustRoot.load(case["document"].encode("utf-8")), now=moment(case["now"])).version}
        finally:
            store.close()


def check_enrolment(case: dict[str, Any]) -> dict[str, Any]:
    statement = read(case["document"], "enrolment")
    return {"key_id": Enrolment.read(statement).key_id, "hash": statement.hash}


def check_endorsement(case: dict[str, Any]) -> dict[str, Any]:
    endorsed = admit_endorsement(root_named(case["trust_root"]), read(case["document"], "endorsement"))
    return {"office": endorsed.office.id, "subject": endorsed.endorsement.subject, "version": endorsed.endorsement.version,
            "hash": endorsed.hash}


def check_revocation(case: dict[str, Any]) -> dict[str, Any]:
    root = root_named(case["trust_root"])
    endorsed = {item.hash: item for item in (admit_endorsement(root, statement_named(name)) for name in case["endorsements"])}
    statement = read(case["document"], "revocation")
    revocation = Revocation.read(statement)
    revocation_signer_allowed(root, statement, revocation, endorsed)
    return {"target": revocation.target, "subject": revocation.subject}


def check_recall(case: dict[str, Any]) -> dict[str, Any]:
    statement = read(case["document"], "recall")
    statement.verify_by(public_key(case["verify_with"]))
    recall = Recall.read(statement)
    return {"batch_digest": recall.batch_digest, "mandatory": recall.mandatory, "hash": statement.hash}


def chain_of(case: dict[str, Any]) -> TrustChain:
    statements = [statement_named(name) for name in case["statements"]]
    stored = [StoredStatement(s.hash, s.kind, s.signer, "", 0, s.canonical.decode(), seq) for seq, s in enumerate(statements, 1)]
    return TrustChain.from_statements(root_named(case["trust_root"]), stored)


def check_recall_admission(case: dict[str, Any]) -> dict[str, Any]:
    """The record's key as the chain's kept endorsements list it (or none), then admit_recall."""
    chain = chain_of(case)
    statement = read(case["document"], "recall")
    recall = admit_recall(chain.root, statement, endorsed_key(chain.endorsed, case["record_key_id"]))
    return {"batch_digest": recall.batch_digest, "mandatory": recall.mandatory, "hash": statement.hash}


def check_bundle(case: dict[str, Any]) -> dict[str, Any]:
    """Through the inspector (open_bundle), in a state folder of its own holding the case's last seen bundle, if any."""
    document = case["document"] if "document" in case else VECTORS["bundles"][case["bundle"]]["envelope"]
    with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, {STATE_ENV: folder}):
        if case["last_seen"]:
            seen = case["last_seen"]
            state_path().write_text(json.dumps({"bundles": {seen["hub"]: {"version": seen["version"], "as_of": seen["as_of"]}}}))
        opened = open_bundle(document.encode("utf-8"), trust_root=root_named(case["pinned"]).canonical, now=moment(case["now"]))
    bundle = opened.bundle
    return {**{name: value for name, value in bundle.info().items() if name != "batch_records"}, "stale": opened.stale,
            "endorsements": [item.hash for item in bundle.chain.endorsed], "revoked_keys": sorted(bundle.chain.revoked_keys),
            "revoked_endorsements": sorted(bundle.chain.revoked_endorsements),
            "withdrawn_keys": [list(pair) for pair in sorted(bundle.chain.withdrawn_keys)],
            "batch_records": [{"digest": batch.digest, "recall": batch.recall} for batch in sorted(bundle.batches.values(),
                                                                                                  key=lambda batch: batch.digest)]}


def check_chain(case: dict[str, Any]) -> dict[str, Any]:
    chain = chain_of(case)
    day = dt.date.fromisoformat(case["day"])
    standing = chain.standing(case["key_id"], day)
    if not standing.endorsed:
        return {"standing": standing.reason, "producer": None, "attestation": None}
    attestation = chain.attestation(standing, case["record"], day)
    shown = None if attestation is None else {"result": attestation.reason or "attested"}
    if attestation is not None and attestation.product is not None:
        shown = {**(shown or {}), "office": attestation.office.id, "product": attestation.product.to_dict()}  # type: ignore[union-attr]
    return {"standing": "endorsed", "producer": chain.producer_problem(standing, case["record"]) or "ok", "attestation": shown}


CHECKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "trust_root": check_trust_root, "trust_root_update": check_trust_root_update, "enrolment": check_enrolment,
    "endorsement": check_endorsement, "revocation": check_revocation, "recall": check_recall, "chain": check_chain,
    "trust_root_install": check_trust_root_install, "recall_admission": check_recall_admission, "bundle": check_bundle,
}


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["title"] for case in VECTORS["cases"]])
def test_trust_vector(case: dict[str, Any]) -> None:
    try:
        outcome = CHECKS[case["check"]](case)
    except TrustError as error:
        outcome = {"code": error.code}
    assert outcome == case["expected"]


def test_every_rejection_code_has_a_case() -> None:
    """Each code the library raises or answers (docs/trust-format.md section 12) is some case's expected outcome."""
    codes = {case["expected"].get("code") for case in VECTORS["cases"]}
    codes |= {case["expected"].get("standing") for case in VECTORS["cases"]} | {case["expected"].get("producer") for case in VECTORS["cases"]}
    codes |= {(case["expected"].get("attestation") or {}).get("result") for case in VECTORS["cases"]}
    assert {"bad_signature", "wrong_kind", "malformed", "too_large", "wrong_signer", "unknown_office", "unknown_key", "out_of_scope",
            "rollback", "expired", "unknown_hub", "key_revoked", "trust_root_expired", "key_not_endorsed", "endorsement_revoked",
            "endorsement_expired", "producer_mismatch", "ocop_not_endorsed", "ocop_endorsement_expired", "attested", "endorsed"} <= codes


def test_the_documents_rejection_table_is_the_hubs() -> None:
    """docs/trust-format.md §12 lists every code the hub answers, with its status and message, and no other."""
    from stamps.trust.publication import REJECTIONS
    text = (Path(__file__).resolve().parents[1] / "docs" / "trust-format.md").read_text(encoding="utf-8")
    section = text.split("## 12. Rejection codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$", section, flags=re.M)
    assert rows == [(code, str(rejection.status), rejection.message) for code, rejection in REJECTIONS.items()]
