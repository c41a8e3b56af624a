"""Every golden vector, through the library and through the CLI."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import load_vectors
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import cli
from keys.keyfile import key_hint, key_id, public_key_from_bytes, public_key_pem
from keys.truststore import Keyring, TrustedKey
from stamps.batch_record import RECORD_TAG, SignedBatchRecord
from stamps.canonical import canonical_json
from stamps.code import STAMP_TAG, decode_token
from stamps.registry import StoredBatch
from stamps.url import code_url
from stamps.verify import Verifier

EXIT_CODES = {"genuine": 0, "genuine_warning": 3, "unknown_batch": 3}


def producer_key(vectors: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vectors["keys"]["producer"]["private_seed"]))


def signed_record(vectors: dict[str, Any]) -> SignedBatchRecord:
    batch = vectors["batch_record"]
    return SignedBatchRecord(batch["canonical"].encode("utf-8"), bytes.fromhex(batch["signature"]))


def test_key_ids(vectors: dict[str, Any]) -> None:
    for entry in vectors["keys"].values():
        public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(entry["private_seed"])).public_key()
        assert entry["public_key"] == public.public_bytes_raw().hex()
        assert key_id(public) == entry["key_id"] == hashlib.sha256(public.public_bytes_raw()).hexdigest()[:16]
        assert key_hint(public).hex() == entry["key_hint"] == entry["key_id"][:6]


def test_batch_record_bytes_digest_and_signature(vectors: dict[str, Any]) -> None:
    batch = vectors["batch_record"]
    canonical = canonical_json(batch["record"])
    assert canonical.decode("utf-8") == batch["canonical"]
    assert RECORD_TAG.hex() == batch["record_tag"] == b"OCOP-BATCH-RECORD\x00".hex()
    assert hashlib.sha256(RECORD_TAG + canonical).hexdigest() == batch["digest"]
    assert batch["digest"][:20] == batch["digest_prefix"]
    assert SignedBatchRecord.sign(batch["record"], producer_key(vectors)).signature.hex() == batch["signature"]
    producer_key(vectors).public_key().verify(bytes.fromhex(batch["signature"]), RECORD_TAG + canonical)


def stamped_cases() -> list[dict[str, Any]]:
    return [case for case in load_vectors()["cases"] if case["stamp"] is not None]


@pytest.mark.parametrize("case", stamped_cases(), ids=lambda case: case["title"])
def test_stamp_layout(case: dict[str, Any], vectors: dict[str, Any]) -> None:
    """Signing bytes, signature, token and URL, checked byte by byte without the codec where possible."""
    stamp = case["stamp"]
    signing = bytes.fromhex(stamp["signing_bytes"])
    token_bytes = bytes.fromhex(stamp["token_bytes"])
    assert signing == STAMP_TAG + token_bytes[:17] and STAMP_TAG == b"OCOP-STAMP\x00"
    assert len(token_bytes) == 81 and token_bytes[17:].hex() == stamp["signature"]
    assert producer_key(vectors).sign(signing).hex() == stamp["signature"]
    assert base64.b32encode(token_bytes).decode().rstrip("=") == stamp["token"]
    assert code_url(vectors["base_url"], stamp["token"]) == stamp["url"]
    assert stamp["url"] == "https://TRUYXUAT.EXAMPLE.VN/V/" + stamp["token"]
    if token_bytes[0] == 1 and token_bytes[14:17] != bytes(3):
        decoded = decode_token(stamp["token"])
        assert (decoded.key_hint.hex(), decoded.digest_prefix.hex()) == (token_bytes[1:4].hex(), token_bytes[4:14].hex())
        assert decoded.serial == int.from_bytes(token_bytes[14:17], "big")


def library_verifier(case: dict[str, Any], vectors: dict[str, Any]) -> Verifier:
    keys = [TrustedKey(entry["key_id"], public_key_from_bytes(bytes.fromhex(entry["public_key"])), "vector", entry["status"])
            for entry in case["trust_store"]]
    stored = StoredBatch(signed_record(vectors), "imported", 0, case["recall"])
    known = {stored.signed.digest_prefix: stored} if case["verifier_has_record"] else {}
    return Verifier(Keyring(keys), known.get)


def test_vector_through_library(vector_case: dict[str, Any], vectors: dict[str, Any]) -> None:
    outcome = library_verifier(vector_case, vectors).verify(vector_case["input"], today=dt.date.fromisoformat(vector_case["clock"]))
    assert outcome.result.value == vector_case["expected"]["result"]
    assert [reason.code for reason in outcome.reasons] == vector_case["expected"]["reasons"]
    assert (outcome.batch is not None) == (outcome.result.value in ("genuine", "genuine_warning", "recalled"))


def cli_instance(tmp_path: Path, case: dict[str, Any], vectors: dict[str, Any]) -> list[str]:
    """An instance set up in the case's trust-store state; returns the --instance arguments."""
    base = ["--instance", str(tmp_path / "inst")]
    run(base + ["init", "--base-url", vectors["base_url"]])
    for entry in case["trust_store"]:
        pem = tmp_path / f"{entry['key_id']}.pem"
        pem.write_bytes(public_key_pem(public_key_from_bytes(bytes.fromhex(entry["public_key"]))))
        run(base + ["keys", "import", str(pem), "--label", "vector key"])
        if entry["status"] != "active":
            run(base + ["revoke" if entry["status"] == "revoked" else "keys retire", entry["key_id"]])
    if case["verifier_has_record"] and case["trust_store"][0]["key_id"] == vectors["keys"]["producer"]["key_id"]:
        export = tmp_path / "batch.json"
        export.write_text(json.dumps(vectors["batch_record"]["export"]), encoding="utf-8")
        run(base + ["batch", "import", str(export)])
        if case["recall"]:
            recall = case["recall"]
            run(base + ["recall", vectors["batch_record"]["digest"], "--reason", recall["reason"], "--on", recall["recalled_on"]]
                + (["--mandatory"] if recall["kind"] == "mandatory" else []))
    return base


def run(args: list[str], expected_exit: int = 0) -> Any:
    result = CliRunner().invoke(cli.cli, args, catch_exceptions=False)
    assert result.exit_code == expected_exit, result.output
    return result


def test_vector_through_cli(vector_case: dict[str, Any], vectors: dict[str, Any], tmp_path: Path) -> None:
    base = cli_instance(tmp_path, vector_case, vectors)
    expected = vector_case["expected"]["result"]
    result = run(base + ["verify", vector_case["input"], "--json", "--today", vector_case["clock"]], EXIT_CODES.get(expected, 4))
    shape = json.loads(result.output)
    assert shape["result"] == expected
    assert [reason["code"] for reason in shape["reasons"]] == vector_case["expected"]["reasons"]
    if expected == "recalled":
        assert shape["recall"] == vector_case["recall"]
