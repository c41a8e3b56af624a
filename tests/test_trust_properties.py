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
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stamps.errors import TrustError
from stamps.trust.envelope import MAX_STATEMENT_BYTES, read, sign
from stamps.trust.root import TrustRoot
from trust_fixtures import Chain, seed_key

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
