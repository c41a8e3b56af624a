"""Canonical JSON: the exact bytes a batch record is hashed and signed as.

Rules (also in docs/stamp-format.md): UTF-8, keys sorted by code point, no
insignificant white space, non-ASCII characters written as themselves, text in
Unicode NFC, no floating-point numbers (decimals are strings), no nulls
(absent fields are left out).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Encode *value* as canonical JSON bytes; raise ``TypeError`` on a value the rules forbid."""
    _check(value, "$")
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _check(value: Any, path: str) -> None:
    if value is None:
        raise TypeError(f"{path}: null is not allowed in canonical JSON (leave the field out)")
    if isinstance(value, bool):
        return
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed in canonical JSON (use a decimal string)")
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise TypeError(f"{path}: integer outside the safe range of JSON numbers")
        return
    if isinstance(value, str):
        if unicodedata.normalize("NFC", value) != value:
            raise TypeError(f"{path}: text is not in Unicode NFC")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be text")
            _check(key, f"{path}.{key}")
            _check(item, f"{path}.{key}")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not a JSON value")


def without_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop fields whose value is ``None``, so optional fields are simply absent."""
    return {key: value for key, value in mapping.items() if value is not None}
