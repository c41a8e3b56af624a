"""Property tests for the trust chain's statements (docs/trust-format.md): tamper evidence, round trips, bad input.

Harmless changes: a statement is read from its envelope's JSON *value*, and its identity is SHA-256 over the
canonical JSON of the decoded parts (docs/trust-format.md section 5). So a change of the envelope's JSON spelling
that leaves every decoded value as it was (white space, member order, escapes such as ``\\u0041`` or ``\\/``) gives
the same statement, the same hash and the same verified values; nothing signed changes. Every base64 text has exactly
one accepted form (standard alphabet, padding, unused bits zero), so no change of a base64 character is harmless,
and no single-bit change of a statement's canonical bytes is: each one is rejected with a TrustError.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from securesystemslib.signer import CryptoSigner
from tuf.api.dsse import SimpleEnvelope

from stamps.canonical import canonical_json
from stamps.errors import TrustError
from stamps.trust.envelope import MAX_STATEMENT_BYTES, read, sign, ssl_key
from stamps.trust.chain import admit_endorsement
from stamps.trust.root import TrustRoot
from stamps.trust.statements import Endorsement
from trust_fixtures import PRODUCER, Chain, seed_key

CHAIN = Chain()
RECALL = sign("recall", {"batch_digest": "ab" * 32, "issued_at": "2026-12-01T08:00:00Z", "mandatory": False,
                         "reason": "Bao bì lỗi", "recalled_on": "2026-12-01"}, seed_key(4))
ENVELOPE = json.loads(RECALL.canonical)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=12)


def with_member(member: str, value: object) -> dict:
    return {**ENVELOPE, member: value}


def with_signature(value: object) -> dict:
    return {**ENVELOPE, "signatures": [value]}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def trust_error_or_same(document: object) -> None:
    """Reading *document* raises TrustError, or gives back the genuine recall exactly."""
    try:
        statement = read(document)
    except TrustError:
        return
    assert statement == RECALL


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, st.builds(with_member, st.sampled_from(sorted(ENVELOPE)), json_values),
                 st.builds(with_signature, json_values | st.fixed_dictionaries({"keyid": json_values, "sig": json_values}))))
@example(with_member("payload", 5))
@example(with_signature({"keyid": RECALL.signer, "sig": 5}))
@example(with_signature({"keyid": 5, "sig": ENVELOPE["signatures"][0]["sig"]}))
@example(with_member("payload", base64.b64encode(deep(5000).encode()).decode()))
def test_a_malformed_envelope_value_is_a_trust_error(document: object) -> None:
    trust_error_or_same(document)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
@example(deep(30000))
@example('{"payload":' + deep(30000))
def test_any_text_is_a_statement_or_a_trust_error(text: bytes | str) -> None:
    trust_error_or_same(text)
    with pytest.raises(TrustError):
        TrustRoot.load(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)


def envelope_with_sig(sig: str) -> dict:
    return with_signature({"keyid": RECALL.signer, "sig": sig})


@pytest.mark.parametrize("document", [
    envelope_with_sig(ENVELOPE["signatures"][0]["sig"].replace("=", "")),
    envelope_with_sig(ENVELOPE["signatures"][0]["sig"].translate(str.maketrans("+/", "-_"))),
    envelope_with_sig(ENVELOPE["signatures"][0]["sig"][:-3] + chr(ord(ENVELOPE["signatures"][0]["sig"][-3]) + 1) + "=="),
    with_member("payload", ENVELOPE["payload"] + "\n"),
    with_signature({"keyid": RECALL.signer, "sig": ENVELOPE["signatures"][0]["sig"], "note": "not signed"}),
], ids=["no-padding", "url-safe-alphabet", "unused-bits-set", "new-line", "extra-signature-member"])
def test_base64_and_signatures_have_one_form(document: dict) -> None:
    """Other spellings of the same bytes (which the DSSE library would read) are refused: one statement, one text."""
    with pytest.raises(TrustError) as refused:
        read(document)
    assert refused.value.code == "malformed"


def test_the_size_limit_counts_utf8_bytes() -> None:
    text = RECALL.canonical.decode()
    padded = text[:-1] + " " * (MAX_STATEMENT_BYTES - len(text)) + "}"
    assert read(padded) == RECALL
    with pytest.raises(TrustError) as refused:
        read(text[:-1] + "\u00a0" * ((MAX_STATEMENT_BYTES - len(text)) // 2 + 1) + "}")
    assert refused.value.code == "too_large"


ROOT = json.loads(CHAIN.root().envelope.payload)


def signed_root(payload: bytes) -> bytes:
    """*payload* as a trust root envelope, signed by the national key (whatever it holds)."""
    envelope: SimpleEnvelope = SimpleEnvelope(payload, SimpleEnvelope.DEFAULT_PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(CHAIN.national, ssl_key(CHAIN.national.public_key())))
    return canonical_json(envelope.to_dict())


def root_with(change: Callable[[dict], None]) -> bytes:
    payload = copy.deepcopy(ROOT)
    change(payload)
    return signed_root(canonical_json(payload))


def office_key(root: dict) -> dict:
    return root["keys"][root["x-ocop-offices"][0]["keyids"][0]]


@pytest.mark.parametrize("data", [
    root_with(lambda root: root.update(version=True)),
    root_with(lambda root: root["roles"]["root"].update(threshold=True)),
    root_with(lambda root: root.update(spec_version="1.0.\u0663")),
    root_with(lambda root: office_key(root)["keyval"].update(public="-----BEGIN PUBLIC KEY-----")),
    root_with(lambda root: office_key(root).update(keytype="rsa", scheme="rsassa-pss-sha256")),
    root_with(lambda root: (root["keys"].update({"0" * 16: root["keys"].pop(root["x-ocop-offices"][0]["keyids"][0])}),
                            root["x-ocop-offices"][0].update(keyids=["0" * 16]))),
    root_with(lambda root: root["roles"]["root"]["keyids"].append("0" * 16)),
    root_with(lambda root: root["x-ocop-offices"].append(5)),
    root_with(lambda root: root.update({"x-ocop-offices": {"dien-bien": {}}})),
    root_with(lambda root: root["x-ocop-offices"][1].update(keyids=root["x-ocop-offices"][0]["keyids"])),
    root_with(lambda root: root["x-ocop-offices"].append(root["x-ocop-offices"][0])),
    root_with(lambda root: root["x-ocop-hubs"].append({"id": "hub", "name": 5, "url": "https://hub.example.vn",
                                                       "keyids": root["roles"]["root"]["keyids"]})),
    signed_root(json.dumps(ROOT).encode()),
    signed_root(canonical_json(ROOT).replace(b'"2027-12-01T00:00:00Z"', b'"2027-12-1T0:0:0Z"')),
], ids=["version-true", "threshold-true", "spec-version-arabic-digit", "key-not-hex", "key-not-ed25519", "key-under-another-id",
        "root-role-key-missing", "office-not-an-object", "offices-not-a-list", "key-of-two-offices", "office-twice",
        "hub-name-not-text", "payload-not-canonical", "expires-not-zero-padded"])
def test_a_signed_but_malformed_trust_root_is_refused(data: bytes) -> None:
    """What the national key signed must still be a trust root in its one written form (python-tuf reads all of these)."""
    with pytest.raises(TrustError) as refused:
        TrustRoot.load(data)
    assert refused.value.code == "malformed"


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["version", "expires", "keys", "roles", "x-ocop-offices", "x-ocop-hubs", "spec_version"]), json_values)
def test_a_signed_trust_root_with_any_member_changed_loads_or_is_a_trust_error(member: str, value: object) -> None:
    try:
        data = root_with(lambda root: root.update({member: value}))
    except TypeError:  # a value canonical JSON refuses: sign its plain JSON
        data = signed_root(json.dumps({**ROOT, member: value}).encode())
    try:
        TrustRoot.load(data)
    except TrustError:
        pass


def test_a_province_office_may_not_endorse_a_producer_of_another_province_even_without_products() -> None:
    """Scope is about the producer too: a key-only endorsement outside the office's province is refused."""
    elsewhere = Endorsement.read(CHAIN.endorsement(producer={**PRODUCER, "province": "Lào Cai"}))
    key_only = sign("endorsement", {**elsewhere.body(), "products": []}, CHAIN.province)
    with pytest.raises(TrustError) as refused:
        admit_endorsement(CHAIN.root(), key_only)
    assert refused.value.code == "out_of_scope"
    assert admit_endorsement(CHAIN.root(), sign("endorsement", {**elsewhere.body(), "products": [], "office": "trung-uong"},
                                                CHAIN.central)).office.scope == "central"


@pytest.mark.parametrize("encode", [lambda text: text.encode("utf-16"), lambda text: text.encode("utf-32-le"),
                                    lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), lambda text: "\ufeff" + text],
                         ids=["utf-16", "utf-32", "utf-8-with-bom-bytes", "bom-text"])
def test_envelopes_are_utf8_text_without_a_byte_order_mark(encode: Callable[[str], bytes | str]) -> None:
    """JSON given as bytes is UTF-8 only (Python's json.loads would also guess UTF-16 and UTF-32 and skip a BOM)."""
    for text, load in ((RECALL.canonical.decode(), read), (CHAIN.root().canonical.decode(), TrustRoot.load)):
        document = encode(text)
        if load is TrustRoot.load and isinstance(document, str):
            document = document.encode("utf-8")
        with pytest.raises(TrustError) as refused:
            load(document)  # type: ignore[operator]
        assert refused.value.code == "malformed"
