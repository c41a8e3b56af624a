"""The trust vectors pass an independent verifier written in JavaScript from docs/trust-format.md alone.

tests/independent/trust.mjs follows the document's steps; run-trust-vectors.mjs reproduces every intermediate of
docs/vectors/trust-vectors.json (keys, payloads, PAE, signatures, envelopes, hashes) and runs every case. A second,
larger run gives it documents the vectors do not hold -- single-bit changes of genuine statements and trust roots, and
bodies with members changed, signed by the right key -- with this library's outcome as the expectation.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps.errors import TrustError
from stamps.trust.envelope import sign
from test_independent_verifier import node
from test_trust_vectors import CHECKS, TRUST_VECTORS, load

DRIVER = Path(__file__).resolve().parent / "independent" / "run-trust-vectors.mjs"


def run_driver(vectors_path: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([node(), str(DRIVER), str(vectors_path)], capture_output=True, text=True, timeout=120)
    assert done.stdout, f"the driver printed no report (exit {done.returncode}): {done.stderr}"
    return done.returncode, json.loads(done.stdout)


def test_every_trust_vector_matches_the_independent_verifier() -> None:
    returncode, report = run_driver(TRUST_VECTORS)
    assert report["mismatches"] == []
    assert returncode == 0
    assert report["cases_checked"] == report["cases_total"] == len(load()["cases"])
    assert report["intermediates_checked"] >= 100


def write_copy(tmp_path: Path, vectors: dict[str, Any]) -> Path:
    copy_path = tmp_path / "trust-vectors.json"
    copy_path.write_text(json.dumps(vectors, ensure_ascii=False), encoding="utf-8")
    return copy_path


def case_named(vectors: dict[str, Any], title: str) -> dict[str, Any]:
    return next(case for case in vectors["cases"] if case["title"] == title)


def expect(title: str, expected: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda vectors: case_named(vectors, title).update(expected=expected)


def set_statement_hash(vectors: dict[str, Any]) -> None:
    vectors["statements"]["recall"]["hash"] = "00" * 32


def set_pae(vectors: dict[str, Any]) -> None:
    vectors["trust_roots"]["root-v1"]["pae_hex"] = vectors["trust_roots"]["root-v1"]["pae_hex"][:-2] + "00"


def set_bundle_hash(vectors: dict[str, Any]) -> None:
    vectors["bundles"]["bundle"]["hash"] = "00" * 32


def voluntary_recall(vectors: dict[str, Any]) -> None:
    """The genuine bundle's batch said to keep the producer's later voluntary recall (the rule keeps the office's)."""
    expected = copy.deepcopy(case_named(vectors, "bundle-genuine")["expected"])
    expected["batch_records"][0]["recall"]["kind"] = "voluntary"
    case_named(vectors, "bundle-genuine").update(expected=expected)


@pytest.mark.parametrize("alter, section, title", [
    (expect("endorsement-province-five-stars", {"code": "malformed"}), "cases", "endorsement-province-five-stars"),
    (expect("chain-producer-mismatch", {"standing": "endorsed", "producer": "ok", "attestation": None}), "cases",
     "chain-producer-mismatch"),
    (expect("root-update-rollback", {"version": 2}), "cases", "root-update-rollback"),
    (set_statement_hash, "statements", "recall"),
    (set_pae, "trust_roots", "root-v1"),
    (expect("chain-trust-root-expired", {"standing": "key_not_endorsed", "producer": None, "attestation": None}), "cases",
     "chain-trust-root-expired"),
    (expect("recall-mandatory-by-the-batch-key", {"code": "wrong_signer"}), "cases", "recall-mandatory-by-the-batch-key"),
    (expect("bundle-earlier-than-seen", {"code": "bad_signature"}), "cases", "bundle-earlier-than-seen"),
    (voluntary_recall, "cases", "bundle-genuine"),
    (set_bundle_hash, "bundles", "bundle"),
], ids=["rejection-code", "chain-answer", "rollback-accepted", "statement-hash", "root-pae", "standing-order", "recall-signer",
        "bundle-freshness", "bundle-recall-kind", "bundle-hash"])
def test_the_trust_driver_fails_on_an_altered_expectation(tmp_path: Path, alter: Callable[[dict[str, Any]], None], section: str,
                                                          title: str) -> None:
    vectors = load()
    alter(vectors)
    returncode, report = run_driver(write_copy(tmp_path, vectors))
    assert returncode == 1
    assert {(mismatch["section"], mismatch["title"]) for mismatch in report["mismatches"]} == {(section, title)}


def test_the_trust_driver_refuses_an_unreadable_vectors_file(tmp_path: Path) -> None:
    done = subprocess.run([node(), str(DRIVER), str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot read the vectors file" in done.stderr


# -- beyond the vectors: the library's own outcome on documents nobody wrote by hand -----------------------------

GENUINE_CASES = ("root-genuine", "enrolment-genuine", "endorsement-genuine", "recall-genuine", "revocation-by-the-key-itself",
                 "revocation-of-key-by-office", "recall-admitted-by-the-batch-key", "bundle-genuine")
SIGNED_BODIES = {"endorsement": ("statements", "endorsement", "dien-bien", "endorsement-genuine"),
                 "enrolment": ("statements", "enrolment", "producer", "enrolment-genuine"),
                 "recall": ("statements", "recall", "producer", "recall-admitted-by-the-batch-key"),
                 "revocation": ("statements", "revocation-of-key", "dien-bien", "revocation-of-key-by-office"),
                 "bundle": ("bundles", "bundle", "hub-dien-bien", "bundle-genuine")}
ODD_VALUES = [0, 1, 3, 5, 6, 2**31, 2**31 + 1, True, False, "", " a", "a ", "a\u00a0", "\u200ea", "x" * 61, "x" * 101, "x" * 301,
              "2026-02-29", "2024-02-29", "0000-01-01", "2026-13-01", "2026-11-23T24:00:00Z", "2026-11-23T23:59:59Z", "province",
              "national", "central", "Cooperative", "5600123456-001", "560012345", [], {}, "Lào Cai", "trung-uong", "f" * 64,
              "F" * 64, "7138acb0a79fb9c9", "2027-06-02", "2024-06-02", "a\u2028", "\u0085x"]


def outcome(case: dict[str, Any]) -> dict[str, Any]:
    try:
        return CHECKS[case["check"]](case)
    except TrustError as error:
        return {"code": error.code}


def flipped_documents(vectors: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    cases = []
    for title in GENUINE_CASES:
        base = case_named(vectors, title)
        data = (base["document"] if "document" in base else vectors["bundles"][base["bundle"]]["envelope"]).encode("utf-8")
        for bit in rng.sample(range(len(data) * 8), 100):
            changed = bytearray(data)
            changed[bit // 8] ^= 1 << (bit % 8)
            try:
                cases.append({**base, "title": f"{title}-bit-{bit}", "document": changed.decode("utf-8")})
            except UnicodeDecodeError:
                continue
    return cases


def mutated(body: Any, rng: random.Random) -> Any:
    """*body* with one to three members, at any depth, removed, added or given an odd value."""
    body = copy.deepcopy(body)
    for _ in range(rng.randint(1, 3)):
        target = body
        while isinstance(target, dict) and target and rng.random() < 0.6:
            inner = target[rng.choice(sorted(target))]
            target = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(target, dict):
            member = rng.choice(sorted(target) + ["extra"])
            if member in target and rng.random() < 0.2:
                del target[member]
            else:
                target[member] = copy.deepcopy(rng.choice(ODD_VALUES))  # the list and object there are shared
    return body


def signed_documents(vectors: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    keys = {name: Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["private_seed"])) for name, entry in vectors["keys"].items()}
    cases = []
    for kind, (section, statement, signer, title) in SIGNED_BODIES.items():
        for number in range(100):
            document = sign(kind, mutated(vectors[section][statement]["body"], rng), keys[signer]).canonical.decode("utf-8")
            cases.append({**case_named(vectors, title), "title": f"{kind}-changed-{number}", "document": document})
    return cases


def test_the_independent_verifier_agrees_beyond_the_vectors(tmp_path: Path) -> None:
    vectors = load()
    rng = random.Random(14)
    cases = [{**case, "expected": outcome(case)} for case in flipped_documents(vectors, rng) + signed_documents(vectors, rng)]
    assert len({json.dumps(case["expected"], sort_keys=True)[:30] for case in cases}) >= 8  # many outcomes, not one
    returncode, report = run_driver(write_copy(tmp_path, {**vectors, "cases": cases}))
    assert report["mismatches"] == [] and returncode == 0
    assert report["cases_checked"] == len(cases) > 900
