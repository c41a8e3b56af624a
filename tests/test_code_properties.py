"""Property tests for the stamp codec and for tamper evidence: every single change is rejected."""

from __future__ import annotations

import base64
import binascii

import datetime as dt
import hashlib
import json
import string

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.keyfile import key_hint, key_id
from keys.keyring import Keyring, TrustedKey
from stamps.code import BASE32_ALPHABET, FORMAT_VERSION, MAX_SERIAL, TOKEN_BYTES, TOKEN_CHARS, UnverifiedStamp, decode_base32, decode_token, encode_base32
from stamps.batch_record import SignedBatchRecord
from stamps.errors import CodeFormatError, InstanceError
from stamps.issuance import StampSigner
from stamps.batch_record import StoredBatch
from stamps.url import code_url, extract_token, normalize_base_url
from stamps.verify import Result, Verifier

KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"property test key").digest())
TRUSTED = Keyring([TrustedKey(key_id(KEY.public_key()), KEY.public_key(), "test", "active")])
DIGEST_PREFIX = bytes(range(10))
TODAY = dt.date(2026, 11, 23)
NON_ASCII_LOOK_ALIKES = "ıſﬀＡ\u212a\u0131"  # dotless i, long s, ligature, full-width A, Kelvin sign: upper() maps some to ASCII
ACCEPTED = {Result.GENUINE, Result.GENUINE_WARNING, Result.UNKNOWN_BATCH}

stamps_strategy = st.builds(
    UnverifiedStamp,
    key_hint=st.binary(min_size=3, max_size=3),
    digest_prefix=st.binary(min_size=10, max_size=10),
    serial=st.integers(min_value=1, max_value=MAX_SERIAL),
    signature=st.binary(min_size=64, max_size=64),
    version=st.just(FORMAT_VERSION),
)


def signed_token(serial: int) -> str:
    header = UnverifiedStamp(key_hint(KEY.public_key()), DIGEST_PREFIX, serial, bytes(64)).header()
    return encode_base32(header + KEY.sign(b"OCOP-STAMP\x00" + header))


def verifier() -> Verifier:
    """Trusts KEY; knows no batch, so a good signature gives 'unknown batch' (accepted, amber)."""
    return Verifier(TRUSTED, lambda prefix: None)


@given(stamps_strategy)
def test_decode_inverts_encode(stamp: UnverifiedStamp) -> None:
    assert len(stamp.token) == TOKEN_CHARS and len(stamp.to_bytes()) == TOKEN_BYTES
    assert decode_token(stamp.token) == stamp
    assert decode_token(stamp.token.lower()) == stamp


@given(st.binary(min_size=1, max_size=120))
def test_base32_round_trip(data: bytes) -> None:
    assert decode_base32(encode_base32(data)) == data


@given(st.text(alphabet=BASE32_ALPHABET, min_size=1, max_size=140))
def test_base32_decoder_accepts_only_canonical_text(text: str) -> None:
    try:
        data = decode_base32(text)
    except CodeFormatError:
        return
    assert encode_base32(data) == text


@given(st.text(alphabet=BASE32_ALPHABET + "abcxyz0189=_ -+", min_size=1, max_size=140))
def test_base32_decoder_agrees_with_the_standard_library(text: str) -> None:
    """Exactly the canonical texts base64.b32decode reads are accepted, to the same bytes (ours is a faster path)."""
    try:
        expected: bytes | None = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        expected = None
    if expected is not None and encode_base32(expected) != text.upper():
        expected = None  # not canonical: unused bits set, or padding in the text
    try:
        found: bytes | None = decode_base32(text)
    except CodeFormatError:
        found = None
    assert found == expected


def test_the_unchanged_code_is_accepted() -> None:
    assert verifier().verify(signed_token(42), today=TODAY).result is Result.UNKNOWN_BATCH


def test_every_single_bit_change_is_rejected() -> None:
    """All 648 bits of one code, exhaustively."""
    original = decode_base32(signed_token(42))
    check = verifier()
    for bit in range(len(original) * 8):
        changed = bytearray(original)
        changed[bit // 8] ^= 1 << (bit % 8)
        outcome = check.verify(encode_base32(bytes(changed)), today=TODAY)
        assert outcome.result not in ACCEPTED, f"bit {bit} flipped was accepted as {outcome.result}"


def test_every_single_character_change_is_rejected() -> None:
    """Every position, every other character (letter case aside: codes are case-insensitive)."""
    token = signed_token(4242)
    check = verifier()
    replacements = set(BASE32_ALPHABET + string.digits + string.punctuation + " " + NON_ASCII_LOOK_ALIKES)
    for position, original in enumerate(token):
        for char in replacements - {original, original.lower()}:
            changed = token[:position] + char + token[position + 1:]
            outcome = check.verify(changed, today=TODAY)
            assert outcome.result not in ACCEPTED, f"{original!r}->{char!r} at {position} accepted"


@settings(max_examples=200)
@given(serial=st.integers(min_value=1, max_value=MAX_SERIAL), bit=st.integers(min_value=0, max_value=TOKEN_BYTES * 8 - 1))
def test_single_bit_change_of_any_code_is_rejected(serial: int, bit: int) -> None:
    data = bytearray(decode_base32(signed_token(serial)))
    data[bit // 8] ^= 1 << (bit % 8)
    assert verifier().verify(encode_base32(bytes(data)), today=TODAY).result not in ACCEPTED


@given(st.text(max_size=300))
def test_random_text_is_not_a_stamp(text: str) -> None:
    outcome = verifier().verify(text, today=TODAY)
    assert outcome.result is Result.NOT_A_STAMP and outcome.batch is None and len(outcome.reasons) == 1


@given(st.text(alphabet=BASE32_ALPHABET, min_size=TOKEN_CHARS, max_size=TOKEN_CHARS))
def test_random_tokens_never_verify(token: str) -> None:
    assert verifier().verify(token, today=TODAY).result not in ACCEPTED


@given(st.sampled_from(["https://truyxuat.example.vn", "http://192.168.1.20:8000", "https://a.vn/ocop"]),
       st.integers(min_value=1, max_value=MAX_SERIAL))
def test_url_round_trip_in_any_letter_case(base_url: str, serial: int) -> None:
    token = signed_token(serial)
    url = code_url(base_url, token)
    assert url.startswith(base_url.split("://")[0] + "://") and url.split("://")[1].isupper()
    for variant in (url, url.lower(), url.upper(), url.swapcase()):
        assert extract_token(variant).upper() == token
        assert verifier().verify(variant, today=TODAY).result is Result.UNKNOWN_BATCH


@pytest.mark.parametrize("bad, kind", [
    ("", "wrong_length"), ("1" * TOKEN_CHARS, "bad_base32"), ("A" * TOKEN_CHARS, "unknown_version"), ("A" * (TOKEN_CHARS - 1), "wrong_length"),
    ("mailto://x/V/" + "A" * TOKEN_CHARS, "wrong_prefix"), ("https://host/" + "A" * TOKEN_CHARS, "wrong_path"),
    ("mailto:" + "A" * TOKEN_CHARS, "wrong_prefix"), ("javascript:alert(1)", "wrong_prefix"), ("urn:" + "A" * TOKEN_CHARS, "wrong_prefix"),
    ("https:host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"), ("https:/host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"),
    ("https:\\\\host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"), ("host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"),
    ("\ufeffhttps://host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"), ("httpſ://host/V/" + "A" * TOKEN_CHARS, "wrong_prefix"),
    ("https://host//V/" + "A" * TOKEN_CHARS, "wrong_path"), ("https:///V/" + "A" * TOKEN_CHARS, "wrong_path"),
    ("https://host/%56/" + "A" * TOKEN_CHARS, "wrong_path"), ("https://host?/V/" + "A" * TOKEN_CHARS, "wrong_path"),
    ("https://host/V/" + "A" * TOKEN_CHARS + "/", "wrong_path"), ("https://us@host/V/" + "A" * TOKEN_CHARS, "wrong_path"),
    ("https://host/V/" + "A" * TOKEN_CHARS + "?lang=en", "wrong_length"),
])
def test_malformed_codes_name_their_kind(bad: str, kind: str) -> None:
    with pytest.raises(CodeFormatError) as caught:
        decode_token(extract_token(bad))
    assert caught.value.kind == kind


# The stamp-URL rules of docs/stamp-format.md, section 4 ------------------------------------------------------------

ASCII_WHITESPACE = "\t\n\f\r "
OTHER_WHITESPACE = [char for char in map(chr, range(0x3001)) if char.isspace() and char not in ASCII_WHITESPACE] + ["\ufeff", "\u200b"]
URL_CHARS = string.ascii_letters + string.digits + "$%*+-.:"
segments = st.text(alphabet=URL_CHARS, min_size=1, max_size=12)


def is_http_url(text: str) -> bool:
    """What the document calls a stamp URL's start: http:// or https://, ASCII letters in any case."""
    head = text.strip(ASCII_WHITESPACE)[:8]
    return head.isascii() and (head.lower().startswith("http://") or head.lower().startswith("https://"))


@given(st.text(max_size=40), st.sampled_from(":/"), st.text(max_size=40))
def test_text_with_a_colon_or_slash_that_is_no_http_url_is_wrong_prefix(before: str, separator: str, after: str) -> None:
    text = before + separator + after
    if not is_http_url(text):
        with pytest.raises(CodeFormatError) as caught:
            extract_token(text)
        assert caught.value.kind == "wrong_prefix"


@given(st.text(alphabet=st.characters(blacklist_characters=":/"), max_size=200),
       st.text(alphabet=ASCII_WHITESPACE, max_size=3), st.text(alphabet=ASCII_WHITESPACE, max_size=3))
def test_text_without_colon_or_slash_is_a_bare_token_trimmed_of_ascii_white_space(text: str, lead: str, trail: str) -> None:
    assert extract_token(lead + text + trail) == text.strip(ASCII_WHITESPACE)


@given(st.sampled_from(["http", "https", "HTTPS", "Http"]), st.lists(segments, min_size=1, max_size=4), st.sampled_from("Vv"),
       st.text(alphabet=st.characters(blacklist_characters="/"), max_size=140))
def test_a_url_of_url_characters_gives_everything_after_the_last_slash(scheme: str, parts: list[str], v: str, token: str) -> None:
    text = f"{scheme}://{'/'.join(parts)}/{v}/{token}"
    assert extract_token(text) == token.rstrip(ASCII_WHITESPACE)


@given(st.lists(segments, min_size=1, max_size=4), st.integers(min_value=0, max_value=3),
       st.characters(blacklist_characters=URL_CHARS + "/"))
def test_any_other_character_before_the_token_is_wrong_path(parts: list[str], where: int, bad: str) -> None:
    where %= len(parts)
    parts[where] = parts[where] + bad
    text = f"https://{'/'.join(parts)}/V/{'A' * TOKEN_CHARS}"
    if text.strip(ASCII_WHITESPACE) == text:  # a white space character at the very end would be trimmed
        with pytest.raises(CodeFormatError) as caught:
            extract_token(text)
        assert caught.value.kind == "wrong_path"


@settings(max_examples=50)
@given(st.integers(min_value=1, max_value=MAX_SERIAL), st.text(alphabet=ASCII_WHITESPACE, max_size=4),
       st.text(alphabet=ASCII_WHITESPACE, max_size=4), st.booleans())
def test_ascii_white_space_around_a_code_is_trimmed(serial: int, lead: str, trail: str, as_url: bool) -> None:
    token = signed_token(serial)
    text = code_url("https://truyxuat.example.vn", token) if as_url else token
    assert verifier().verify(lead + text + trail, today=TODAY).result is Result.UNKNOWN_BATCH


@pytest.mark.parametrize("space", OTHER_WHITESPACE, ids=lambda char: f"U+{ord(char):04X}")
def test_other_white_space_around_a_code_is_not_trimmed(space: str) -> None:
    """Unicode spaces (U+00A0, U+3000, ...), VT and the C0 separators str.strip() knows are part of the text."""
    token = signed_token(42)
    url = code_url("https://truyxuat.example.vn", token)
    for text in (space + token, token + space, space + url, url + space):
        outcome = verifier().verify(text, today=TODAY)
        assert outcome.result is Result.NOT_A_STAMP, f"{text!r} was accepted"


def test_the_token_length_counts_code_points() -> None:
    """129 code points are the wrong length even when they are 130 UTF-16 units or 130 UTF-8 bytes."""
    token = signed_token(42)
    for short in (token[:-2] + "\U0001d400", token[:-2] + "é"):
        with pytest.raises(CodeFormatError) as caught:
            decode_token(short)
        assert caught.value.kind == "wrong_length"


@settings(max_examples=300)
@given(st.sampled_from(["https://", "http://", "HTTPS://"]),
       st.text(alphabet=string.ascii_letters + string.digits + "$%*+-.:/@?# _~é", min_size=1, max_size=30))
def test_every_base_url_init_accepts_gives_stamp_urls_the_verifier_reads(scheme: str, rest: str) -> None:
    try:
        base_url = normalize_base_url(scheme + rest)
    except InstanceError:
        return
    token = signed_token(7)
    assert extract_token(code_url(base_url, token)) == token


@settings(max_examples=50)
@given(seed=st.binary(min_size=32, max_size=32), serial=st.integers(min_value=1, max_value=MAX_SERIAL))
def test_stamps_signed_with_libsodium_are_the_bytes_openssl_signs(seed: bytes, serial: int) -> None:
    """The issuer signs with libsodium for speed; Ed25519 is deterministic, so OpenSSL (cryptography) signs the same."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    record = {"key_id": key_id(key.public_key())}
    batch = StoredBatch(SignedBatchRecord(json.dumps(record).encode(), bytes(64)), "local", 0, None)
    stamp = decode_token(StampSigner(key, batch, "https://truyxuat.example.vn").code(serial).token)
    assert stamp.signature == key.sign(stamp.signing_bytes())
