"""Write docs/vectors/stamp-vectors.json: golden test vectors for the stamp format.

Run once when the format changes on purpose (``python docs/vectors/generate.py``)
and commit the result; tests/test_vectors.py checks the implementation against
the committed file, never against a fresh run of this script.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_hint, key_id, public_key_bytes
from stamps.batch_record import RECORD_TAG, SignedBatchRecord, build_record
from stamps.canonical import canonical_json
from stamps.code import BASE32_ALPHABET, STAMP_TAG, encode_base32, header_bytes
from stamps.demo import demo_data
from stamps.records import Batch, FarmArea, Producer, Product
from stamps.url import code_url

OUTPUT = Path(__file__).with_name("stamp-vectors.json")
BASE_URL = "https://truyxuat.example.vn"
SIGNED_AT = "2026-11-01T08:00:00Z"
PRODUCER_SEED = hashlib.sha256(b"ocop-stamps test vector key: producer").digest()
STRANGER_SEED = hashlib.sha256(b"ocop-stamps test vector key: stranger").digest()
LAN_BASE_URL = "http://192.168.1.20:8000/ocop"
ALTERED_QUANTITY = 5000
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


def case(title: str, description: str, text: str, clock: str, trust: list[dict[str, str]], store: dict[str, str] | None,
         expected: str, reasons: list[str], recall: dict[str, str] | None = None, stamp: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"title": title, "description": description, "input": text, "clock": clock, "trust_store": trust,
            "verifier_has_record": store is not None, "verifier_store": store, "recall": recall, "stamp": stamp,
            "expected": {"result": expected, "reasons": reasons}}


def store_entry(signed: SignedBatchRecord, state: str, found_for: bytes | None = None) -> dict[str, str]:
    """What the verifier's store holds and for which digest prefix its look-up returns it (docs/stamp-format.md section 6)."""
    return {"record": signed.canonical.decode("utf-8"), "signature": signed.signature.hex(), "digest": signed.digest.hex(),
            "found_for_prefix": (found_for or signed.digest_prefix).hex(), "state": state}


def altered_record(signed: SignedBatchRecord) -> SignedBatchRecord:
    """The record with its quantity raised behind the producer's back, the producer's signature kept."""
    record = copy.deepcopy(signed.record)
    record["batch"]["quantity"] = ALTERED_QUANTITY
    return SignedBatchRecord(canonical_json(record), signed.signature)


def stamp_fields(key: Ed25519PrivateKey, header: bytes) -> dict[str, Any]:
    signature, token_bytes = raw_token(key, header)
    token = encode_base32(token_bytes)
    return {"signing_bytes": (STAMP_TAG + header).hex(), "signature": signature.hex(), "token_bytes": token_bytes.hex(),
            "token": token, "url": code_url(BASE_URL, token)}


class Setting(NamedTuple):
    """What the cases share: the keys, the signed record and the stamp of unit 7."""

    producer: Ed25519PrivateKey
    stranger: Ed25519PrivateKey
    signed: SignedBatchRecord
    good: dict[str, Any]

    @property
    def hint(self) -> bytes:
        return key_hint(self.producer.public_key())

    def stamp(self, header: bytes) -> dict[str, Any]:
        return stamp_fields(self.producer, header)

    def trust(self, status: str = "active") -> list[dict[str, str]]:
        return [key_entry(self.producer, status)]

    def store(self) -> dict[str, str]:
        return store_entry(self.signed, "signed")


def result_cases(s: Setting) -> list[dict[str, Any]]:
    """One case per result and per 'not a stamp' kind (the cases of the first version of this file)."""
    prefix, url, good, active, store = s.signed.digest_prefix, s.good["url"], s.good, s.trust(), s.store()
    beyond = s.stamp(header_bytes(s.hint, prefix, 501))
    version2 = s.stamp(bytes([2]) + s.hint + prefix + (7).to_bytes(3, "big"))
    serial0 = s.stamp(bytes([1]) + s.hint + prefix + bytes(3))
    flipped = url[:-20] + ("A" if url[-20] != "A" else "B") + url[-19:]
    return [
        case("genuine", "Unit 7 of the batch, everything in order.", url, "2026-11-23", active, store, "genuine", [], stamp=good),
        case("genuine-lower-case", "The same URL as a scanner that lower-cases everything returns it.", url.lower(),
             "2026-11-23", active, store, "genuine", [], stamp=good),
        case("genuine-bare-token", "The token alone, typed in by hand.", good["token"], "2026-11-23", active, store, "genuine", [], stamp=good),
        case("warning-product-expired", "Checked after the batch's expiry date (HSD 2028-10-27).", url, "2028-11-01",
             active, store, "genuine_warning", ["product_expired", "ocop_expired"], stamp=good),
        case("warning-ocop-expired", "Checked after the OCOP certificate expired (2027-06-01), before the product expires.",
             url, "2027-07-01", active, store, "genuine_warning", ["ocop_expired"], stamp=good),
        case("recalled", "The producer recalled the batch.", url, "2026-11-23", active, store, "recalled", ["batch_recalled"],
             recall=RECALL, stamp=good),
        case("revoked-key", "The producer's key was revoked.", url, "2026-11-23", s.trust("revoked"), store, "revoked_key",
             ["key_revoked"], stamp=good),
        case("unknown-issuer", "The verifier trusts only another key.", url, "2026-11-23", [key_entry(s.stranger, "active")], store,
             "unknown_issuer", ["key_unknown"], stamp=good),
        case("forged-signature", "One base32 character of the signature changed.", flipped, "2026-11-23", active, store,
             "forged", ["signature_mismatch"]),
        case("forged-serial-beyond-quantity", "Signed by the producer's key for serial 501 of a 500-unit batch.",
             beyond["url"], "2026-11-23", active, store, "forged", ["serial_out_of_range"], stamp=beyond),
        case("unknown-batch", "Genuine signature, but the verifier has no record of the batch (offline case).",
             url, "2026-11-23", active, None, "unknown_batch", ["batch_unknown"], stamp=good),
        case("not-a-stamp-wrong-prefix", "Another scheme.", "ftp://" + url.split("://", 1)[1], "2026-11-23", active, store,
             "not_a_stamp", ["wrong_prefix"]),
        case("not-a-stamp-wrong-path", "Another path than /V/.", url.replace("/V/", "/X/"), "2026-11-23", active, store,
             "not_a_stamp", ["wrong_path"]),
        case("not-a-stamp-bad-base32", "Digits 0, 1, 8 and 9 never appear in base32.", url[:-4] + "0189", "2026-11-23",
             active, store, "not_a_stamp", ["bad_base32"]),
        case("not-a-stamp-wrong-length", "The token cut short by 8 characters.", url[:-8], "2026-11-23", active, store,
             "not_a_stamp", ["wrong_length"]),
        case("not-a-stamp-unknown-version", "Format version 2, correctly signed, is not known to a version 1 verifier.",
             version2["url"], "2026-11-23", active, store, "not_a_stamp", ["unknown_version"], stamp=version2),
        case("not-a-stamp-serial-zero", "Serial 0, correctly signed, is never issued.", serial0["url"], "2026-11-23",
             active, store, "not_a_stamp", ["bad_serial"], stamp=serial0),
    ]


def record_cases(s: Setting) -> list[dict[str, Any]]:
    """A retired key, and each record check of docs/stamp-format.md section 5, step 6."""
    altered = altered_record(s.signed)
    altered_stamp = s.stamp(header_bytes(s.hint, altered.digest_prefix, 7))
    by_stranger = SignedBatchRecord.sign(vector_record(s.stranger), s.stranger)
    stranger_stamp = s.stamp(header_bytes(s.hint, by_stranger.digest_prefix, 7))
    both_trusted = s.trust() + [key_entry(s.stranger, "active")]
    return [
        case("genuine-retired-key", "The producer's key is retired (no new batches), not revoked: what it signed stays genuine.",
             s.good["url"], "2026-11-23", s.trust("retired"), s.store(), "genuine", [], stamp=s.good),
        case("forged-record-mismatch",
             f"The store's look-up returns, for the stamp's digest prefix, the batch record with its quantity changed to "
             f"{ALTERED_QUANTITY} (the signature kept): the digest computed from that text does not start with the prefix.",
             s.good["url"], "2026-11-23", s.trust(), store_entry(altered, "altered", s.signed.digest_prefix), "forged",
             ["record_mismatch"], stamp=s.good),
        case("forged-key-mismatch",
             "The record the stamp names was signed by the other trusted key (its key_id is the stranger's), while the stamp "
             "was signed by the producer's key.",
             stranger_stamp["url"], "2026-11-23", both_trusted, store_entry(by_stranger, "signed"), "forged", ["key_mismatch"],
             stamp=stranger_stamp),
        case("forged-record-signature-mismatch",
             f"The store holds the record with its quantity changed to {ALTERED_QUANTITY} and the producer's signature of "
             "the original; the stamp names the changed record's digest (only the producer's key could sign such a stamp: "
             "this case isolates the record-signature check).",
             altered_stamp["url"], "2026-11-23", s.trust(), store_entry(altered, "altered"), "forged",
             ["record_signature_mismatch"], stamp=altered_stamp),
    ]


def url_form_cases(s: Setting) -> list[dict[str, Any]]:
    """The parsing steps of docs/stamp-format.md sections 3 and 4, one case per rule that an implementation could miss."""
    token, url, rest = s.good["token"], s.good["url"], s.good["url"].split("://", 1)[1]
    other = encode_base32(bytes.fromhex(s.good["token_bytes"])[:-1] + b"\x00")  # a well-formed token with another signature
    look_alike_at = token.index("S")
    last = BASE32_ALPHABET.index(token[-1])

    def form(title: str, description: str, text: str, expected: str, reasons: list[str]) -> dict[str, Any]:
        stamp = s.good if expected == "genuine" else None
        return case(title, description, text, "2026-11-23", s.trust(), s.store(), expected, reasons, stamp=stamp)

    return [
        form("genuine-ascii-white-space-around", "TAB, LF, FF, CR and SPACE around the code are trimmed (a scanner's Enter, a paste).",
             " \t" + url + "\r\n\f", "genuine", []),
        form("genuine-upper-case-scheme", "The scheme in upper case (a verifier accepts any ASCII letter case).",
             "HTTPS://" + rest, "genuine", []),
        form("genuine-other-host-port-path-http", "Another host, a port, a path before /V/ and http: the host is not signed.",
             code_url(LAN_BASE_URL, token), "genuine", []),
        form("not-a-stamp-scheme-without-slashes", "https: without // (a browser would repair it; a verifier does not).",
             "https:" + rest, "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-backslashes", "https:\\\\ instead of https:// (a browser reads \\ as /; a verifier does not).",
             "https:\\\\" + rest, "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-no-scheme", "Host, path and token without a scheme.", rest, "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-mailto", "A mailto: link holding the token.", "mailto:" + token, "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-javascript", "A javascript: link.", "javascript:alert(1)", "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-byte-order-mark", "U+FEFF before the URL is not trimmed.", "\ufeff" + url, "not_a_stamp", ["wrong_prefix"]),
        form("not-a-stamp-no-break-space", "U+00A0 after the URL is not trimmed, so the token has 131 characters.",
             url + "\u00a0", "not_a_stamp", ["wrong_length"]),
        form("not-a-stamp-ideographic-space", "U+3000 before the bare token is not trimmed.", "\u3000" + token, "not_a_stamp",
             ["wrong_length"]),
        form("not-a-stamp-vertical-tab", "U+000B (VT) is not ASCII white space in the WHATWG sense: not trimmed.",
             token + "\u000b", "not_a_stamp", ["wrong_length"]),
        form("not-a-stamp-empty-path-part", "An empty part (//) before /V/.", url.replace("/V/", "//V/"), "not_a_stamp", ["wrong_path"]),
        form("not-a-stamp-percent-encoded-path", "%56 is not V: nothing is percent-decoded.", url.replace("/V/", "/%56/"),
             "not_a_stamp", ["wrong_path"]),
        form("not-a-stamp-trailing-slash", "A / after the token.", url + "/", "not_a_stamp", ["wrong_path"]),
        form("not-a-stamp-second-code-in-query",
             "A browser opens the first code (the rest is its query); a verifier must not read the genuine second one.",
             code_url(BASE_URL, other) + "?/V/" + token, "not_a_stamp", ["wrong_path"]),
        form("not-a-stamp-query-after-token", "A query after the token is part of the token.", url + "?lang=en", "not_a_stamp",
             ["wrong_length"]),
        form("not-a-stamp-look-alike", "An S of the token replaced by U+017F (long s, upper case S): 130 code points.",
             token[:look_alike_at] + "\u017f" + token[look_alike_at + 1:], "not_a_stamp", ["bad_base32"]),
        form("not-a-stamp-astral-character", "129 code points (130 UTF-16 code units, 132 UTF-8 bytes): the length counts code points.",
             token[:-2] + "\U0001d400", "not_a_stamp", ["wrong_length"]),
        form("not-a-stamp-two-byte-character", "129 code points (130 UTF-8 bytes): the length counts code points.",
             token[:-2] + "\u00e9", "not_a_stamp", ["wrong_length"]),
        form("not-a-stamp-non-canonical-base32", "The last character with one of its two unused low bits set: same bytes, "
             "but not the canonical text.", token[:-1] + BASE32_ALPHABET[last + 1], "not_a_stamp", ["bad_base32"]),
    ]


# A JSON text, deliberately not canonical (white space, key order, escapes, -0), of an object whose canonical form needs
# every escape rule and the UTF-16 key order: docs/stamp-format.md section 2.
CANONICAL_INPUT = r"""{
  "text": "quote \" backslash \\ slash \/ backspace \b form feed \f newline \n carriage return \r tab \t",
  "controls": "NUL \u0000 SOH \u0001 VT \u000B US \u001F",
  "not escaped": "DEL \u007f NEL \u0085 LINE SEPARATOR \u2028 PARAGRAPH SEPARATOR \u2029 BOM \ufeff bee \ud83d\udc1d",
  "t\u00ean": "M\u1eadt ong r\u1eebng B\u00ecnh Li\u00eau",
  "\u00e9": "key U+00E9",
  "\uff61": "key U+FF61",
  "\ue000": "key U+E000 (private use)",
  "\ud83d\ude00": "key U+1F600, UTF-16 D83D DE00: sorts before U+E000 and U+FF61",
  "integers": [0, -0, 1, -1, 9007199254740991, -9007199254740991],
  "booleans": [true, false],
  "nested": {"b": [], "a": {}},
  "": "the empty key sorts first"
}"""

# JSON texts that are never a canonical record. "value": the value they parse to breaks a rule in any JSON parser;
# "text": a parser may read a value that canonicalizes (1.0 as 1, -0 as 0), but never to these bytes.
CANONICAL_REFUSED = [
    ("null", '{"a":null}', "null", "value"),
    ("float", '{"a":1.5}', "float", "value"),
    ("integer-above-range", '{"a":9007199254740992}', "integer_range", "value"),
    ("integer-below-range", '{"a":-9007199254740992}', "integer_range", "value"),
    ("text-not-nfc", r'{"a":"Me\u0323\u0302t"}', "not_nfc", "value"),
    ("key-not-nfc", r'{"e\u0301":1}', "not_nfc", "value"),
    ("lone-surrogate", r'{"a":"\ud800"}', "lone_surrogate", "value"),
    ("whole-number-with-fraction", '{"a":1.0}', "float", "text"),
    ("exponent", '{"a":1e2}', "float", "text"),
    ("negative-zero", '{"a":-0}', "not_canonical", "text"),
    ("white-space", '{"a": 1}', "not_canonical", "text"),
    ("keys-unsorted", '{"b":1,"a":2}', "not_canonical", "text"),
    ("keys-in-code-point-order", '{"\uff61":1,"\U0001f600":2}', "not_canonical", "text"),
    ("duplicate-key", '{"a":1,"a":1}', "not_canonical", "text"),
    ("escaped-non-ascii", r'{"a":"\u00e9"}', "not_canonical", "text"),
    ("escaped-slash", r'{"a":"\/"}', "not_canonical", "text"),
    ("upper-case-hex-escape", r'{"a":"\u001F"}', "not_canonical", "text"),
    ("escaped-delete", r'{"a":"\u007f"}', "not_canonical", "text"),
    ("escaped-line-separator", r'{"a":"\u2028"}', "not_canonical", "text"),
]


def canonical_vectors() -> dict[str, Any]:
    """The canonical JSON example (value, a non-canonical text of it, exact bytes, SHA-256) and the refused texts."""
    value = json.loads(CANONICAL_INPUT)
    canonical = canonical_json(value)
    refused = []
    for title, text, rule, refused_as in CANONICAL_REFUSED:
        try:
            assert canonical_json(json.loads(text)) != text.encode("utf-8") and refused_as == "text", title
        except TypeError:
            pass
        refused.append({"title": title, "text": text, "rule": rule, "refused_as": refused_as})
    example = {"title": "escapes-and-key-order", "input": CANONICAL_INPUT, "value": value, "canonical": canonical.decode("utf-8"),
               "canonical_hex": canonical.hex(), "sha256": hashlib.sha256(canonical).hexdigest()}
    return {"cases": [example], "refused": refused}


def build() -> dict[str, Any]:
    producer = Ed25519PrivateKey.from_private_bytes(PRODUCER_SEED)
    stranger = Ed25519PrivateKey.from_private_bytes(STRANGER_SEED)
    signed = SignedBatchRecord.sign(vector_record(producer), producer)
    hint, prefix = key_hint(producer.public_key()), signed.digest_prefix
    setting = Setting(producer, stranger, signed, stamp_fields(producer, header_bytes(hint, prefix, 7)))
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
        "cases": result_cases(setting) + record_cases(setting) + url_form_cases(setting),
        "canonical_json": canonical_vectors(),
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
