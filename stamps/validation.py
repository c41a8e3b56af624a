"""Field rules, checked like a careful clerk: each failure names the field and the rule."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from stamps.charset import describe, first_unprintable
from stamps.errors import ValidationError

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$", re.ASCII)
# Invisible marks that change the order text is shown in (embeddings, overrides, isolates, directional marks):
# 'HTX \u202eEGAKCAP' reads differently on a page than what was typed, so no record field may hold them.
BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)))
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
# Unicode's control (Cc: U+0000-U+001F, U+007F-U+009F) and surrogate (Cs: U+D800-U+DFFF) characters, as one class.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text(value: Any, field: str, *, required: bool = True, max_length: int = 300) -> str | None:
    """Trimmed text in Unicode NFC; ``None`` for an absent optional field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    cleaned = unicodedata.normalize("NFC", value.strip())
    if len(cleaned) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters")
    if _CONTROL_OR_SURROGATE.search(cleaned):
        raise ValidationError(field, "must not contain control characters or broken (non-Unicode) text")
    bidi = _BIDI.search(cleaned)
    if bidi is not None:
        raise ValidationError(field, f"holds the invisible direction mark {describe(bidi.group())}, which can show text in a false order.",
                              hint="Type the text again without it (it comes with text copied from some web pages and chat apps).")
    return cleaned


def required_text(value: Any, field: str, *, max_length: int = 300) -> str:
    """Like :func:`text`, for a field that must be present."""
    cleaned = text(value, field, required=True, max_length=max_length)
    assert cleaned is not None
    return cleaned


def label_text(value: Any, field: str, *, max_length: int = 300) -> str:
    """Like :func:`required_text`, for text printed on every stamp's label: the label font must have each character."""
    cleaned = required_text(value, field, max_length=max_length)
    missing = first_unprintable(cleaned)
    if missing is not None:
        raise ValidationError(field, f"holds {describe(missing)}, which the stamp label cannot print.",
                              hint="Write it without that character: labels print Vietnamese and Latin letters, digits, "
                                   "punctuation and ★ ☆ ₫ € ™, not emoji or other symbols.")
    return cleaned


def text_list(values: Any, field: str, *, max_items: int = 20) -> tuple[str, ...]:
    """A list of non-empty texts, duplicates removed, order kept."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [part for part in values.split(";")]
    if not isinstance(values, (list, tuple)):
        raise ValidationError(field, "must be a list of texts")
    cleaned: list[str] = []
    for index, item in enumerate(values):
        entry = text(item, f"{field}[{index}]", required=False)
        if entry is not None and entry not in cleaned:
            cleaned.append(entry)
    if len(cleaned) > max_items:
        raise ValidationError(field, f"must have at most {max_items} entries")
    return tuple(cleaned)


def choice(value: Any, field: str, choices: Iterable[str], *, default: str | None = None) -> str:
    """One of *choices* (case-insensitive, ``-`` and ``_`` alike)."""
    allowed = list(choices)
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise ValidationError(field, f"is required (one of: {', '.join(allowed)})")
    normalized = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if normalized not in allowed:
        raise ValidationError(field, f"must be one of: {', '.join(allowed)}")
    return normalized


def integer(value: Any, field: str, *, minimum: int, maximum: int) -> int:
    """A whole number within [minimum, maximum]."""
    if value is None or value == "":
        raise ValidationError(field, "is required")
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        number = int(value.strip())
    else:
        raise ValidationError(field, "must be a whole number")
    if not minimum <= number <= maximum:
        raise ValidationError(field, f"must be between {minimum:,} and {maximum:,}")
    return number


def date(value: Any, field: str, *, required: bool = True) -> dt.date | None:
    """A calendar date, given as YYYY-MM-DD or DD/MM/YYYY."""
    if value is None or value == "":
        if required:
            raise ValidationError(field, "is required (YYYY-MM-DD or DD/MM/YYYY)")
        return None
    if isinstance(value, dt.date):
        return value
    raw = str(value).strip()
    iso, dmy = _ISO_DATE.match(raw), _DMY.match(raw)
    try:
        if iso:
            return dt.date.fromisoformat(raw)  # exactly YYYY-MM-DD here (matched above)
        if dmy:
            day, month, year = (int(part) for part in dmy.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise ValidationError(field, "must be a real date as YYYY-MM-DD or DD/MM/YYYY")


def not_after(earlier: dt.date | None, later: dt.date | None, earlier_field: str, later_field: str) -> None:
    """Reject *earlier* when it falls after *later* (either may be absent)."""
    if earlier and later and earlier > later:
        raise ValidationError(earlier_field, f"must be on or before {later_field}")


def decimal(value: Any, field: str, *, minimum: Decimal, maximum: Decimal, places: int) -> str | None:
    """A decimal number in range, returned as a plain decimal string (records hold no floats)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(field, "must be a decimal number") from None
    if not number.is_finite() or not minimum <= number <= maximum:
        raise ValidationError(field, f"must be between {minimum} and {maximum}")
    quantized = round(number, places).normalize()
    return format(quantized, "f")


def gps_point(latitude: Any, longitude: Any) -> tuple[str | None, str | None]:
    """Latitude and longitude in range, both or neither."""
    lat = decimal(latitude, "latitude", minimum=Decimal(-90), maximum=Decimal(90), places=7)
    lon = decimal(longitude, "longitude", minimum=Decimal(-180), maximum=Decimal(180), places=7)
    if (lat is None) != (lon is None):
        raise ValidationError("latitude" if lat is None else "longitude", "is required when the other GPS coordinate is given")
    return lat, lon


def gtin(value: Any, field: str = "gtin") -> str | None:
    """A GTIN-8/12/13/14 with a correct GS1 check digit."""
    if value is None or str(value).strip() == "":
        return None
    digits = str(value).strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]+", digits) or len(digits) not in (8, 12, 13, 14):
        raise ValidationError(field, "must be 8, 12, 13 or 14 digits")
    if gs1_check_digit(digits[:-1]) != int(digits[-1]):
        raise ValidationError(field, "has a wrong check digit", hint=f"The last digit should be {gs1_check_digit(digits[:-1])}.")
    return digits


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def mapping(value: Any, field: str) -> Mapping[str, Any]:
    """A JSON object (dict)."""
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be an object")
    return value


def reject_unknown(data: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    """Refuse fields we do not know, so a typo is not silently dropped."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", "is not a known field", hint=f"Known fields: {', '.join(sorted(known))}.")
