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
from keys.keyring import Keyring, TrustedKey
from stamps.batch_record import RECORD_TAG, RecordSignatureError, SignedBatchRecord
from stamps.canonical import canonical_json
from stamps.code import STAMP_TAG, decode_token
from stamps.instance import Instance
from stamps.batch_record import StoredBatch
from stamps.url import code_url
from stamps.verify import Verifier

EXIT_CODES = {"genuine": 0, "genuine_warning": 3, "unknown_batch": 3}


def producer_key(vectors: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vectors["keys"]["producer"]["private_seed"]))


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


def stored_batch(case: dict[str, Any]) -> StoredBatch | None:
    """The batch record the case's verifier store holds, exactly as it holds it (possibly altered), or None."""
    store = case["verifier_store"]
    if store is None:
        return None
    return StoredBatch(SignedBatchRecord(store["record"].encode("utf-8"), bytes.fromhex(store["signature"])), "imported", 0, case["recall"])


def library_verifier(case: dict[str, Any]) -> Verifier:
    keys = [TrustedKey(entry["key_id"], public_key_from_bytes(bytes.fromhex(entry["public_key"])), "vector", entry["status"])
            for entry in case["trust_store"]]
    stored = stored_batch(case)
    known = {bytes.fromhex(case["verifier_store"]["found_for_prefix"]): stored} if stored else {}
    return Verifier(Keyring(keys), known.get)


def test_verifier_stores_are_described_truly(vector_case: dict[str, Any], vectors: dict[str, Any]) -> None:
    """The digest is the record's; "signed" records verify with the key their key_id names, "altered" ones do not."""
    store = vector_case["verifier_store"]
    assert vector_case["verifier_has_record"] == (store is not None)
    if store is None:
        return
    record = store["record"].encode("utf-8")
    assert canonical_json(json.loads(record)) == record
    assert hashlib.sha256(RECORD_TAG + record).hexdigest() == store["digest"]
    assert store["state"] in ("signed", "altered")
    signer = next(entry for entry in vectors["keys"].values() if entry["key_id"] == json.loads(record)["key_id"])
    signed = SignedBatchRecord(record, bytes.fromhex(store["signature"]))
    try:
        signed.verify(public_key_from_bytes(bytes.fromhex(signer["public_key"])))
        assert store["state"] == "signed"
    except RecordSignatureError:
        assert store["state"] == "altered"


def test_vector_through_library(vector_case: dict[str, Any], vectors: dict[str, Any]) -> None:
    outcome = library_verifier(vector_case).verify(vector_case["input"], today=dt.date.fromisoformat(vector_case["clock"]))
    assert outcome.result.value == vector_case["expected"]["result"]
    assert [reason.code for reason in outcome.reasons] == vector_case["expected"]["reasons"]
    assert (outcome.batch is not None) == (outcome.result.value in ("genuine", "genuine_warning", "recalled"))


def cli_instance(tmp_path: Path, case: dict[str, Any], base_url: str) -> list[str]:
    """An instance set up in the case's trust-store and store state; returns the --instance arguments."""
    base = ["--instance", str(tmp_path / "inst")]
    run(base + ["init", "--base-url", base_url])
    for entry in case["trust_store"]:
        pem = tmp_path / f"{entry['key_id']}.pem"
        pem.write_bytes(public_key_pem(public_key_from_bytes(bytes.fromhex(entry["public_key"]))))
        run(base + ["keys", "import", str(pem), "--label", "vector key"])
        if entry["status"] != "active":
            run(base + (["revoke"] if entry["status"] == "revoked" else ["keys", "retire"]) + [entry["key_id"]])
    store = case["verifier_store"]
    if store is not None and json.loads(store["record"])["key_id"] in {entry["key_id"] for entry in case["trust_store"]}:
        (write_altered_row if store["state"] == "altered" else import_record)(tmp_path, base, store)
        if case["recall"]:
            recall = case["recall"]
            run(base + ["recall", store["digest"], "--reason", recall["reason"], "--on", recall["recalled_on"]]
                + (["--mandatory"] if recall["kind"] == "mandatory" else []))
    return base


def import_record(tmp_path: Path, base: list[str], store: dict[str, str]) -> None:
    """A signed record goes in as an inspector's export would: ocop-stamps batch import."""
    export = tmp_path / "batch.json"
    document = {"format": "ocop-signed-batch/1", "digest": store["digest"], "record": store["record"], "signature": store["signature"]}
    export.write_text(json.dumps(document), encoding="utf-8")
    run(base + ["batch", "import", str(export)])


def write_altered_row(tmp_path: Path, base: list[str], store: dict[str, str]) -> None:
    """An altered record cannot be imported: it is written into the store's batches table behind the CLI's back."""
    record = json.loads(store["record"])
    digest = store["digest"] if store["digest"].startswith(store["found_for_prefix"]) else store["found_for_prefix"].ljust(64, "0")
    row = {"digest": digest, "digest_prefix": store["found_for_prefix"], "lot_code": record["batch"]["lot_code"],
           "product_name": record["product"]["name"], "key_id": record["key_id"], "quantity": record["batch"]["quantity"],
           "record": store["record"], "signature": store["signature"], "origin": "imported",
           "created_at": "2026-11-01T08:00:00Z"}
    instance = Instance.open(tmp_path / "inst")
    try:
        instance.store.load_rows("batches", list(row), [tuple(row.values())])
    finally:
        instance.close()


def run(args: list[str], expected_exit: int = 0) -> Any:
    result = CliRunner().invoke(cli.cli, args, catch_exceptions=False)
    assert result.exit_code == expected_exit, result.output
    return result


def test_vector_through_cli(vector_case: dict[str, Any], vectors: dict[str, Any], tmp_path: Path) -> None:
    base = cli_instance(tmp_path, vector_case, vectors["base_url"])
    expected = vector_case["expected"]["result"]
    result = run(base + ["verify", vector_case["input"], "--json", "--today", vector_case["clock"]], EXIT_CODES.get(expected, 4))
    shape = json.loads(result.output)
    assert shape["result"] == expected
    assert [reason["code"] for reason in shape["reasons"]] == vector_case["expected"]["reasons"]
    if expected == "recalled":
        assert shape["recall"] == vector_case["recall"]


def canonical_cases() -> list[dict[str, Any]]:
    return load_vectors()["canonical_json"]["cases"]


def refused_texts() -> list[dict[str, Any]]:
    return load_vectors()["canonical_json"]["refused"]


@pytest.mark.parametrize("example", canonical_cases(), ids=lambda example: example["title"])
def test_canonical_json_bytes_and_hash(example: dict[str, Any]) -> None:
    """The value and the non-canonical text of it both give exactly the documented bytes."""
    canonical = bytes.fromhex(example["canonical_hex"])
    assert canonical.decode("utf-8") == example["canonical"]
    assert canonical_json(example["value"]) == canonical == canonical_json(json.loads(example["input"]))
    assert hashlib.sha256(canonical).hexdigest() == example["sha256"]
    assert json.loads(canonical) == example["value"] and example["input"].encode("utf-8") != canonical


@pytest.mark.parametrize("refused", refused_texts(), ids=lambda refused: refused["title"])
def test_canonical_json_refuses(refused: dict[str, Any]) -> None:
    """A "value" case breaks a rule whatever the parser; a "text" case at least never canonicalizes to its own bytes."""
    text = refused["text"].encode("utf-8", "surrogatepass")
    try:
        again: bytes | None = canonical_json(json.loads(refused["text"]))
    except TypeError:
        again = None
    assert again != text
    if refused["refused_as"] == "value" or refused["rule"] == "float":  # Python's parser reads 1.0 and 1e2 as floats
        assert again is None


@pytest.mark.parametrize("refused", refused_texts(), ids=lambda refused: refused["title"])
def test_cli_refuses_to_import_a_record_that_is_not_canonical(refused: dict[str, Any], vectors: dict[str, Any], tmp_path: Path) -> None:
    """An export whose record is one of the refused texts (with its true digest) is refused in one line, exit 1."""
    base = ["--instance", str(tmp_path / "inst")]
    run(base + ["init", "--base-url", vectors["base_url"]])
    text = refused["text"]
    digest = hashlib.sha256(RECORD_TAG + text.encode("utf-8", "surrogatepass")).hexdigest()
    export = tmp_path / "batch.json"
    export.write_text(json.dumps({"format": "ocop-signed-batch/1", "digest": digest, "record": text, "signature": "00" * 64}))
    result = run(base + ["batch", "import", str(export)], expected_exit=1)
    assert "not canonical" in result.output or "damaged" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
