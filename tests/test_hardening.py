"""Regressions from review: each test names the failure it guards against."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cli
from stamps import registry, validation
from keys.keyfile import key_hint
from stamps.batch_record import RECORD_TAG, SignedBatchRecord
from stamps.code import STAMP_TAG, UnverifiedStamp, header_bytes
from stamps.demo import DEMO_PASSPHRASE, run_demo
from stamps.errors import InstanceError, StampError, ValidationError
from stamps.instance import Instance
from stamps.issuance import StampSigner
from stamps.verify import Result, Verifier

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 23)


@pytest.fixture()
def demo(tmp_path: Path) -> Any:
    return run_demo(tmp_path / "inst", "https://truyxuat.example.vn")


def test_a_look_up_returning_another_record_is_forged_not_genuine(demo: Any) -> None:
    """A stamp commits to one record: a store or bundle that hands back another batch must not pass."""
    instance = Instance.open(demo.instance_root)
    try:
        other = registry.create_batch(instance.store, instance.signing_key(DEMO_PASSPHRASE), 1, [1],
                                      {**demo.batch.record["batch"], "lot_code": "OTHER-LOT"})
        verifier = Verifier(instance.trust.keyring(), lambda prefix: other)
        outcome = verifier.verify(demo.genuine_url, today=TODAY)
    finally:
        instance.close()
    assert outcome.result is Result.FORGED and [r.code for r in outcome.reasons] == ["record_mismatch"]
    assert outcome.batch is None


@pytest.mark.parametrize("change", ["drop_quantity", "bad_expiry"])
def test_a_stored_record_that_fails_its_signature_is_forged_before_its_fields_are_read(demo: Any, change: str) -> None:
    """Fields of a record are read only once its signature holds: a tampered store gives "forged", not an error."""
    record = json.loads(demo.batch.signed.canonical)
    if change == "drop_quantity":
        del record["batch"]["quantity"]
    else:
        record["batch"]["expiry_date"] = "31/12/2027"
    tampered = SignedBatchRecord(json.dumps(record, sort_keys=True).encode(), demo.batch.signed.signature)
    stored = dataclasses.replace(demo.batch, signed=tampered)
    instance = Instance.open(demo.instance_root)
    try:
        key = instance.signing_key(DEMO_PASSPHRASE)
        code = StampSigner(key, stored, "https://truyxuat.example.vn").code(1).url  # a stamp naming the tampered record
        outcome = Verifier(instance.trust.keyring(), lambda prefix: stored).verify(code, today=TODAY)
    finally:
        instance.close()
    assert outcome.result is Result.FORGED and [r.code for r in outcome.reasons] == ["record_signature_mismatch"]


@pytest.mark.parametrize("text, result, reasons", [
    (b"not json", Result.FORGED, ["key_mismatch"]),
    (b"[1,2]", Result.FORGED, ["key_mismatch"]),
    (b'{"key_id":"KEY"}', Result.FORGED, ["serial_out_of_range"]),
    (b'{"batch":{"quantity":true},"key_id":"KEY"}', Result.FORGED, ["serial_out_of_range"]),
    (b'{"batch":{"expiry_date":"20200101","quantity":5},"key_id":"KEY","product":{"ocop_expires":7}}', Result.GENUINE, []),
])
def test_a_signed_record_of_a_shape_no_importer_accepts_is_judged_by_the_spec_not_an_error(
        demo: Any, text: bytes, result: Result, reasons: list[str]) -> None:
    """docs/stamp-format.md section 5: key_id read from the held text as JSON, a quantity that is not a whole number
    fails closed, a malformed date warns of nothing (a row written behind the importer's back, signed by the key)."""
    instance = Instance.open(demo.instance_root)
    try:
        key = instance.signing_key(DEMO_PASSPHRASE)
        canonical = text.replace(b"KEY", demo.batch.record["key_id"].encode())
        stored = dataclasses.replace(demo.batch, signed=SignedBatchRecord(canonical, key.sign(RECORD_TAG + canonical)))
        header = header_bytes(key_hint(key.public_key()), stored.signed.digest_prefix, 1)  # a stamp naming this record
        token = UnverifiedStamp(header[1:4], header[4:14], 1, key.sign(STAMP_TAG + header)).token
        outcome = Verifier(instance.trust.keyring(), lambda prefix: stored).verify(token, today=TODAY)
    finally:
        instance.close()
    assert outcome.result is result and [r.code for r in outcome.reasons] == reasons


def export_of(canonical: bytes, signature: bytes = bytes(64)) -> dict[str, str]:
    digest = hashlib.sha256(RECORD_TAG + canonical).hexdigest()
    return {"format": "ocop-signed-batch/1", "digest": digest, "record": canonical.decode(), "signature": signature.hex()}


@pytest.mark.parametrize("canonical", [b"[]", b'{"format":"ocop-batch-record/1"}', b'"text"'])
def test_import_of_a_record_of_the_wrong_shape_is_a_clear_error(demo: Any, canonical: bytes) -> None:
    instance = Instance.open(demo.instance_root)
    try:
        with pytest.raises(StampError):
            registry.import_batch(instance.store, export_of(canonical))
    finally:
        instance.close()


def test_import_refuses_a_signed_record_with_fields_we_never_produce(demo: Any, tmp_path: Path) -> None:
    """Signed by a trusted key, but holding a field our records cannot: refused before it is stored."""
    record = {**demo.batch.record, "batch": {**demo.batch.record["batch"], "colour": "đỏ"}}
    other = Instance.create(tmp_path / "other", "https://truyxuat.example.vn")
    try:
        key = Instance.open(demo.instance_root)
        signed = SignedBatchRecord.sign(record, key.signing_key(DEMO_PASSPHRASE))
        other.trust.add(key.trust.get(record["key_id"]).public_key, "producer")
        key.close()
        with pytest.raises(StampError, match="not valid"):
            registry.import_batch(other.store, signed.export())
        assert registry.list_batches(other.store) == []
    finally:
        other.close()


def invoke(instance: Path, *args: str) -> Any:
    return CliRunner().invoke(cli.cli, ["--instance", str(instance), *args],
                              env={"OCOP_STAMPS_PASSPHRASE": DEMO_PASSPHRASE.decode()})


def test_failed_writing_after_allocation_says_how_to_reprint(demo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("stamps.printing.jobs.write_stamps", disk_full)  # what issue_stamps writes with
    result = invoke(demo.instance_root, "issue", "PH14-2611-01", "--count", "3")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--reprint 21-23" in result.stderr and "No space left on device" in result.stderr
    assert not [p for p in (demo.instance_root / "output").iterdir() if p.name.startswith(".issue-")]
    monkeypatch.undo()
    assert invoke(demo.instance_root, "issue", "PH14-2611-01", "--reprint", "21-23").exit_code == 0


def test_an_unwritable_output_place_fails_before_any_serial_is_issued(demo: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke(demo.instance_root, "issue", "PH14-2611-01", "--count", "3", "--out", str(blocker / "codes"))
    assert result.exit_code == 1 and result.stderr.startswith("Error:")
    instance = Instance.open(demo.instance_root)
    try:
        assert registry.find_batch(instance.store, "PH14-2611-01").issued == 20
    finally:
        instance.close()


def test_a_base_url_too_long_for_version_7_is_refused_unless_allowed(tmp_path: Path) -> None:
    long_url = "https://" + "a" * 28 + ".vn/truyxuat"
    with pytest.raises(InstanceError, match="QR version 8"):
        Instance.create(tmp_path / "a", long_url)
    assert not (tmp_path / "a").exists()
    Instance.create(tmp_path / "b", long_url, allow_large_qr=True).close()


@pytest.mark.parametrize("text", ["\ud800", "Mật ong\udcff"])
def test_broken_unicode_text_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        validation.text(text, "name")


@pytest.mark.parametrize("gtin", ["８９３００００００００１９", "²²²²²²²²"])
def test_non_ascii_digits_are_not_a_gtin(gtin: str) -> None:
    with pytest.raises(ValidationError, match="digits"):
        validation.gtin(gtin)


def test_image_hash_cannot_be_given_by_hand(demo: Any) -> None:
    instance = Instance.open(demo.instance_root)
    try:
        with pytest.raises(ValidationError, match="image_sha256"):
            registry.add_product(instance.store, 1, {"name": "X", "category": "Y", "image_sha256": "0" * 64})
    finally:
        instance.close()


@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, "1" * 5000])
def test_json_a_parser_cannot_hold_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(StampError):
        registry.load_json_file(path)


def test_redirected_output_on_a_non_utf8_console_is_utf8(demo: Any) -> None:
    """Windows sends redirected output through its ANSI code page; Vietnamese must not crash it."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--instance", str(demo.instance_root), "verify", demo.genuine_url, "--today", "2026-11-23"],
                          capture_output=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Tem chính hãng" in done.stdout.decode("utf-8")
