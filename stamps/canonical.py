"""Canonical JSON: the exact bytes a batch record is hashed and signed as.

The rules are in docs/stamp-format.md, section 2: RFC 8785 (JCS) over a
restricted set of values. UTF-8; members of every object sorted by their keys'
UTF-16 code units; no white space; strings escaped exactly as JSON.stringify
and Python's ``json.dumps(ensure_ascii=False)`` do (both agree); text in
Unicode NFC without lone surrogates; integers within ±(2^53−1); no
floating-point numbers and no ``null``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

SAFE_INTEGER = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def canonical_json(value: Any) -> bytes:
    """Encode *value* as canonical JSON bytes; raise ``TypeError`` on a value the rules forbid."""
    return json.dumps(_checked(value, "$"), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _utf16_order(key: str) -> bytes:
    """Sort key of RFC 8785 section 3.2.3: the key's UTF-16 code units (big-endian bytes compare the same)."""
    return key.encode("utf-16-be")


def _checked(value: Any, path: str) -> Any:
    """*value* if the rules allow it, with every object's members in canonical order; TypeError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > SAFE_INTEGER:
            raise TypeError(f"{path}: integer outside the safe range ±(2^53−1) of JSON numbers")
        return value
    if isinstance(value, str):
        _check_text(value, path)
        return value
    if isinstance(value, list):
        return [_checked(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return _checked_object(value, path)
    if value is None:
        raise TypeError(f"{path}: null is not allowed in canonical JSON (leave the field out)")
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed in canonical JSON (use a decimal string)")
    raise TypeError(f"{path}: {type(value).__name__} is not a JSON value")


def _checked_object(value: dict[Any, Any], path: str) -> dict[str, Any]:
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{path}: object keys must be text")
        _check_text(key, f"{path}.{key!r}")
    return {key: _checked(value[key], f"{path}.{key}") for key in sorted(value, key=_utf16_order)}


def _check_text(text: str, path: str) -> None:
    if _SURROGATE.search(text):
        raise TypeError(f"{path}: text holds a surrogate code point (U+D800..U+DFFF), which UTF-8 cannot carry")
    if not unicodedata.is_normalized("NFC", text):
        raise TypeError(f"{path}: text is not in Unicode NFC")


def without_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop fields whose value is ``None``, so optional fields are simply absent."""
    return {key: value for key, value in mapping.items() if value is not None}
