"""Canonical JSON (docs/stamp-format.md section 2): the rules one by one, and the same bytes as JavaScript's JCS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stamps.canonical import canonical_json

SAFE_INTEGER = 2**53 - 1


def test_keys_sort_by_utf16_code_units_as_rfc_8785_does() -> None:
    """U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF61 (code point order would put it after)."""
    assert canonical_json({"\uff61": 1, "\U0001f600": 2, "z": 3, "é": 4}) == '{"z":3,"é":4,"\U0001f600":2,"\uff61":1}'.encode()


def test_nested_objects_are_sorted_and_arrays_keep_their_order() -> None:
    assert canonical_json({"b": [{"y": 1, "x": True}, 2], "a": {"d": False, "c": []}}) == b'{"a":{"c":[],"d":false},"b":[{"x":true,"y":1},2]}'


@pytest.mark.parametrize("text, written", [
    ('"', '\\"'), ("\\", "\\\\"), ("\b", "\\b"), ("\f", "\\f"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
    ("\x00", "\\u0000"), ("\x1f", "\\u001f"), ("\x0b", "\\u000b"), ("\x7f", "\x7f"), ("\x85", "\x85"), ("\u2028", "\u2028"),
    ("\u2029", "\u2029"), ("/", "/"), ("é", "é"), ("\U0001f600", "\U0001f600"),
])
def test_strings_escape_exactly_the_documented_set(text: str, written: str) -> None:
    assert canonical_json([text]) == f'["{written}"]'.encode("utf-8")


@pytest.mark.parametrize("value, written", [
    (0, b"0"), (-1, b"-1"), (SAFE_INTEGER, b"9007199254740991"), (-SAFE_INTEGER, b"-9007199254740991"),
    (True, b"true"), (False, b"false"),
])
def test_integers_and_booleans(value: Any, written: bytes) -> None:
    assert canonical_json([value]) == b"[" + written + b"]"


@pytest.mark.parametrize("value, rule", [
    ({"a": None}, "null"), ({"a": 1.5}, "float"), ({"a": 1.0}, "float"), ({"a": SAFE_INTEGER + 1}, "safe range"),
    ({"a": -SAFE_INTEGER - 1}, "safe range"), ({"a": "e\u0301"}, "NFC"), ({"e\u0301": 1}, "NFC"),
    ({"a": "\ud800"}, "surrogate"), ({"\udfff": 1}, "surrogate"), ({"a": "\ud83d\ude00"}, "surrogate"), ({1: 2}, "keys"),
    ({"a": (1, 2)}, "tuple"),
])
def test_values_the_rules_forbid_are_refused(value: Any, rule: str) -> None:
    with pytest.raises(TypeError, match=rule):
        canonical_json(value)


# The same bytes as an independent implementation in JavaScript: JCS (RFC 8785) as its section 3.2 describes it,
# JSON.stringify for strings and numbers, keys sorted by UTF-16 code units.
JCS_IN_JAVASCRIPT = r"""
const jcs = (v) => Array.isArray(v) ? "[" + v.map(jcs).join(",") + "]"
  : (v !== null && typeof v === "object") ? "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + jcs(v[k])).join(",") + "}"
  : JSON.stringify(v);
process.stdout.write(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8")).map(jcs)));
"""

scalar_text = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from("\uff61\U0001f600\ue000\u2028\x7f\"\\\x00\x1f"),
                      max_size=8).filter(lambda text: canonical_or_none(text) is not None)
keys = st.text(st.sampled_from("a\uff61\U0001f600\ue000é"), max_size=2) | scalar_text  # keys whose orders differ
json_values = st.recursive(
    st.booleans() | st.integers(min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER) | scalar_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=12,
)


def canonical_or_none(value: Any) -> bytes | None:
    try:
        return canonical_json(value)
    except TypeError:
        return None


def node() -> str | None:
    found = shutil.which("node")
    if found is None and os.environ.get("OCOP_REQUIRE_TOOLS") == "1":
        pytest.fail("node is required (OCOP_REQUIRE_TOOLS=1) for the JavaScript JCS comparison")
    return found


@settings(max_examples=4, deadline=None)
@given(st.lists(json_values, min_size=60, max_size=60))
def test_same_bytes_as_jcs_in_javascript(values: list[Any]) -> None:
    runner = node()
    if runner is None:
        pytest.skip("node is not installed: cannot compare with JavaScript's JSON.stringify")
    done = subprocess.run([runner, "-e", JCS_IN_JAVASCRIPT], input=json.dumps(values), capture_output=True, text=True,
                          check=True, timeout=30)
    assert [canonical_json(value).decode("utf-8") for value in values] == json.loads(done.stdout)
