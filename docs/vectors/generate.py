"""Write docs/vectors/stamp-vectors.json: golden test vectors for the stamp format.

Run once when the format changes on purpose (``python docs/vectors/generate.py``)
and commit the result; tests/test_vectors.py checks the implementation against
the committed file, never against a fresh run of this script.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_hint, key_id, public_key_bytes
from stamps.batch_record import RECORD_TAG, SignedBatchRecord, build_record
from stamps.code import STAMP_TAG, encode_base32, header_bytes
from stamps.demo import demo_data
from stamps.records import Batch, FarmArea, Producer, Product
from stamps.url import code_url

OUTPUT = Path(__file__).with_name("stamp-vectors.json")
BASE_URL = "https://truyxuat.example.vn"
SIGNED_AT = "2026-11-01T08:00:00Z"
PRODUCER_SEED = hashlib.sha256(b"ocop-stamps test vector key: producer").digest()
STRANGER_SEED = hashlib.sha256(b"ocop-stamps test vector key: stranger").digest()
RECALL = {"kind": "mandatory", "reason": "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng (test vector)", "recalled_on": "2026-11-20"}


def vector_record(key: Ed25519PrivateKey) -> dict[str, Any]:
    """The demo's tea batch, signed at a fixed time."""
    data = demo_data(today=dt.date.fromisoformat(SIGNED_AT[:10]))  # the demo as written, not moved to today
    entry = data["producers"][0]
    strip = lambda item: {k: v for k, v in item.items() if k != "key"}  # noqa: E731
    return build_record(
        producer=Producer.from_input(entry["producer"]), product=Product.from_input(strip(entry["products"][0])),
        farm_areas=[FarmArea.from_input(strip(entry["farm_areas"][0]))], batch=Batch.from_input(data["batch"]["fields"]),
        key_id=key_id(key.public_key()), signed_at=SIGNED_AT,
    )


def raw_token(key: Ed25519PrivateKey, header: bytes) -> tuple[bytes, bytes]:
    signature = key.sign(STAMP_TAG + header)
    return signature, header + signature


def key_entry(key: Ed25519PrivateKey, status: str) -> dict[str, str]:
    return {"public_key": public_key_bytes(key.public_key()).hex(), "key_id": key_id(key.public_key()), "status": status}


def case(title: str, description: str, text: str, clock: str, trust: list[dict[str, str]], has_record: bool,
         expected: str, reasons: list[str], recall: dict[str, str] | None = None, stamp: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"title": title, "description": description, "input": text, "clock": clock, "trust_store": trust,
            "verifier_has_record": has_record, "recall": recall, "stamp": stamp,
            "expected": {"result": expected, "reasons": reasons}}


def stamp_fields(key: Ed25519PrivateKey, header: bytes) -> dict[str, Any]:
    signature, token_bytes = raw_token(key, header)
    token = encode_base32(token_bytes)
    return {"signing_bytes": (STAMP_TAG + header).hex(), "signature": signature.hex(), "token_bytes": token_bytes.hex(),
            "token": token, "url": code_url(BASE_URL, token)}


def build() -> dict[str, Any]:
    producer = Ed25519PrivateKey.from_private_bytes(PRODUCER_SEED)
    stranger = Ed25519PrivateKey.from_private_bytes(STRANGER_SEED)
    signed = SignedBatchRecord.sign(vector_record(producer), producer)
    hint, prefix = key_hint(producer.public_key()), signed.digest_prefix
    good = stamp_fields(producer, header_bytes(hint, prefix, 7))
    url = good["url"]
    active, revoked = [key_entry(producer, "active")], [key_entry(producer, "revoked")]
    beyond = stamp_fields(producer, header_bytes(hint, prefix, 501))
    version2 = stamp_fields(producer, bytes([2]) + hint + prefix + (7).to_bytes(3, "big"))
    serial0 = stamp_fields(producer, bytes([1]) + hint + prefix + bytes(3))
    flipped = url[:-20] + ("A" if url[-20] != "A" else "B") + url[-19:]
    cases = [
        case("genuine", "Unit 7 of the batch, everything in order.", url, "2026-11-23", active, True, "genuine", [], stamp=good),
        case("genuine-lower-case", "The same URL as a scanner that lower-cases everything returns it.", url.lower(),
             "2026-11-23", active, True, "genuine", [], stamp=good),
        case("genuine-bare-token", "The token alone, typed in by hand.", good["token"], "2026-11-23", active, True, "genuine", [], stamp=good),
        case("warning-product-expired", "Checked after the batch's expiry date (HSD 2028-10-27).", url, "2028-11-01",
             active, True, "genuine_warning", ["product_expired", "ocop_expired"], stamp=good),
        case("warning-ocop-expired", "Checked after the OCOP certificate expired (2027-06-01), before the product expires.",
             url, "2027-07-01", active, True, "genuine_warning", ["ocop_expired"], stamp=good),
        case("recalled", "The producer recalled the batch.", url, "2026-11-23", active, True, "recalled", ["batch_recalled"],
             recall=RECALL, stamp=good),
        case("revoked-key", "The producer's key was revoked.", url, "2026-11-23", revoked, True, "revoked_key", ["key_revoked"], stamp=good),
        case("unknown-issuer", "The verifier trusts only another key.", url, "2026-11-23", [key_entry(stranger, "active")], True,
             "unknown_issuer", ["key_unknown"], stamp=good),
        case("forged-signature", "One base32 character of the signature changed.", flipped, "2026-11-23", active, True,
             "forged", ["signature_mismatch"]),
        case("forged-serial-beyond-quantity", "Signed by the producer's key for serial 501 of a 500-unit batch.",
             beyond["url"], "2026-11-23", active, True, "forged", ["serial_out_of_range"], stamp=beyond),
        case("unknown-batch", "Genuine signature, but the verifier has no record of the batch (offline case).",
             url, "2026-11-23", active, False, "unknown_batch", ["batch_unknown"], stamp=good),
        case("not-a-stamp-wrong-prefix", "Another scheme.", "ftp://" + url.split("://", 1)[1], "2026-11-23", active, True,
             "not_a_stamp", ["wrong_prefix"]),
        case("not-a-stamp-wrong-path", "Another path than /V/.", url.replace("/V/", "/X/"), "2026-11-23", active, True,
             "not_a_stamp", ["wrong_path"]),
        case("not-a-stamp-bad-base32", "Digits 0, 1, 8 and 9 never appear in base32.", url[:-4] + "0189", "2026-11-23",
             active, True, "not_a_stamp", ["bad_base32"]),
        case("not-a-stamp-wrong-length", "The token cut short by 8 characters.", url[:-8], "2026-11-23", active, True,
             "not_a_stamp", ["wrong_length"]),
        case("not-a-stamp-unknown-version", "Format version 2, correctly signed, is not known to a version 1 verifier.",
             version2["url"], "2026-11-23", active, True, "not_a_stamp", ["unknown_version"], stamp=version2),
        case("not-a-stamp-serial-zero", "Serial 0, correctly signed, is never issued.", serial0["url"], "2026-11-23",
             active, True, "not_a_stamp", ["bad_serial"], stamp=serial0),
    ]
    return {
        "format": "ocop-stamp-vectors/1",
        "note": "Keys are derived from fixed seeds and are public: never trust them outside tests. Record data is the demo's invented data.",
        "base_url": BASE_URL,
        "keys": {
            "producer": {"private_seed": PRODUCER_SEED.hex(), **key_entry(producer, "active"), "key_hint": hint.hex()},
            "stranger": {"private_seed": STRANGER_SEED.hex(), **key_entry(stranger, "active"),
                         "key_hint": key_hint(stranger.public_key()).hex()},
        },
        "batch_record": {
            "record": signed.record, "canonical": signed.canonical.decode("utf-8"),
            "record_tag": RECORD_TAG.hex(), "digest": signed.digest.hex(), "digest_prefix": prefix.hex(),
            "signature": signed.signature.hex(), "export": signed.export(),
        },
        "cases": cases,
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
