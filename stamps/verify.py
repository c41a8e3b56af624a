"""Verification: one stamp code in, exactly one result of the design brief out.

Only public keys are needed. The code alone proves "signed by key K for batch
B, unit S"; with the batch record (local store or an imported export) it
proves the full origin. Record fields are reachable only after the stamp's
signature, the key's status and the record's own signature have been checked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from typing import Any, Callable, NamedTuple

from nacl.bindings import crypto_sign_PUBLICKEYBYTES, crypto_sign_open
from nacl.exceptions import BadSignatureError

from keys.keyfile import public_key_bytes
from keys.keyring import Keyring, TrustedKey
from stamps.batch_record import RecordSignatureError
from stamps.code import UnverifiedStamp, decode_token
from stamps.errors import CodeFormatError
from stamps.batch_record import StoredBatch
from stamps.trust.chain import SELF_DECLARED, Attestation, Standing, TrustChain
from stamps.url import extract_token

VERIFICATION_FORMAT = "ocop-verification/1"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Result(str, enum.Enum):
    """The results of the design brief; the verifier shows exactly one."""

    GENUINE = "genuine"
    GENUINE_WARNING = "genuine_warning"
    RECALLED = "recalled"
    REVOKED_KEY = "revoked_key"
    UNKNOWN_ISSUER = "unknown_issuer"
    FORGED = "forged"
    NOT_A_STAMP = "not_a_stamp"
    UNKNOWN_BATCH = "unknown_batch"

    @property
    def outcome(self) -> str:
        """The class of the result: genuine, warning or invalid."""
        if self is Result.GENUINE:
            return "genuine"
        if self in (Result.GENUINE_WARNING, Result.UNKNOWN_BATCH):
            return "warning"
        return "invalid"


REASONS: dict[str, tuple[str, str]] = {
    "bad_base32": ("The code holds characters a stamp never has.", "Mã chứa ký tự không có trong tem."),
    "wrong_length": ("The code has the wrong length.", "Mã có độ dài không đúng."),
    "unknown_version": ("The code uses a stamp format this verifier does not know.", "Mã dùng định dạng tem không được hỗ trợ."),
    "bad_serial": ("The code names serial 0, which is never issued.", "Mã có số sê-ri 0, không bao giờ được phát hành."),
    "wrong_prefix": ("This is not a stamp address (http:// or https:// expected).", "Đây không phải địa chỉ tem truy xuất."),
    "wrong_path": ("This address is not a stamp code (/V/ path expected).", "Địa chỉ này không phải mã tem truy xuất."),
    "key_unknown": ("The code is signed by a key this verifier does not trust.", "Mã được ký bằng khóa không có trong danh sách tin cậy."),
    "signature_mismatch": ("The signature does not match the code: it was altered or made up.", "Chữ ký không khớp: mã đã bị sửa hoặc làm giả."),
    "key_revoked": ("The producer's signing key was revoked.", "Khóa ký của chủ thể đã bị thu hồi."),
    "batch_unknown": ("Signed by a trusted key, but the batch record is not known here.", "Chữ ký hợp lệ nhưng chưa có hồ sơ lô hàng này."),
    "record_mismatch": ("The batch record found is not the one this stamp names.", "Hồ sơ lô hàng không phải hồ sơ mà tem này ghi."),
    "key_mismatch": ("The batch was signed by another key than this stamp.", "Lô hàng được ký bằng khóa khác với tem."),
    "record_signature_mismatch": ("The stored batch record does not match its signature.", "Hồ sơ lô hàng không khớp chữ ký."),
    "serial_out_of_range": ("The serial is beyond the batch quantity.", "Số sê-ri vượt quá số lượng của lô."),
    "batch_recalled": ("The batch was recalled.", "Lô hàng đã bị thu hồi."),
    "product_expired": ("The product is past its expiry date.", "Sản phẩm đã quá hạn sử dụng."),
    "ocop_expired": ("The OCOP certificate has expired.", "Giấy chứng nhận OCOP đã hết hạn."),
    "possible_copy": ("This stamp was scanned many times before: it may be a copy.", "Tem đã được quét nhiều lần: có thể là tem sao chép."),
    "key_not_endorsed": ("No OCOP office vouches for the key that signed this code.", "Khóa ký mã này không được cơ quan OCOP nào xác nhận."),
    "endorsement_expired": ("The OCOP office's endorsement of this producer's key is not valid today.", "Xác nhận của cơ quan OCOP cho khóa của chủ thể này không còn hiệu lực."),
    "endorsement_revoked": ("The OCOP office withdrew its endorsement of this producer.", "Cơ quan OCOP đã rút lại xác nhận cho chủ thể này."),
    "trust_root_expired": ("This verifier's list of OCOP offices (its trust root) has expired: it vouches for no producer until it is renewed.", "Danh sách cơ quan OCOP (gốc tin cậy) của hệ thống này đã hết hạn: chưa thể xác nhận chủ thể nào cho đến khi được gia hạn."),
    "producer_mismatch": ("The batch record names another producer than the one the OCOP office endorsed for this key.", "Hồ sơ lô hàng ghi chủ thể khác với chủ thể được cơ quan OCOP xác nhận cho khóa này."),
}
# Why a product's OCOP stars are not shown as attested (the "ocop" part of a result; it does not change the verdict).
OCOP_REASONS: dict[str, tuple[str, str]] = {
    "ocop_not_endorsed": ("No OCOP office attests this product's stars: they are not shown.", "Chưa có cơ quan OCOP nào xác nhận số sao của sản phẩm này: không hiển thị số sao."),
    "ocop_endorsement_expired": ("The OCOP office's attestation of this product has expired: the stars are not shown.", "Xác nhận OCOP của sản phẩm đã hết hiệu lực: không hiển thị số sao."),
    "ocop_self_declared": ("Stars as declared by the producer; no OCOP office attests them on this verifier.", "Số sao do chủ thể tự khai; chưa được cơ quan OCOP xác nhận trên hệ thống này."),
}


# The verdict when the chain does not endorse a key on the scan day (Standing.reason -> Result).
STANDING_RESULTS = {"key_not_endorsed": Result.UNKNOWN_ISSUER, "endorsement_expired": Result.UNKNOWN_ISSUER,
                    "trust_root_expired": Result.UNKNOWN_ISSUER,
                    "endorsement_revoked": Result.REVOKED_KEY, "key_revoked": Result.REVOKED_KEY}


class Reason(NamedTuple):
    """Why a result is what it is (a tuple: several are made per scan)."""

    code: str

    @property
    def message(self) -> str:
        return _messages(self.code)[0]

    @property
    def message_vi(self) -> str:
        return _messages(self.code)[1]

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_vi": self.message_vi}


def _messages(code: str) -> tuple[str, str]:
    return REASONS.get(code) or OCOP_REASONS[code]


@dataclasses.dataclass(frozen=True)
class Verification:
    """The outcome of checking one code; ``batch`` is set only when everything it shows was proven."""

    result: Result
    checked_on: dt.date
    reasons: tuple[Reason, ...] = ()
    stamp: UnverifiedStamp | None = None
    signature_verified: bool = False
    key: TrustedKey | None = None
    batch: StoredBatch | None = None
    ocop: Attestation | None = None  # set with ``batch`` when its product claims OCOP stars

    def with_warning(self, code: str) -> "Verification":
        """A genuine result turned amber by a warning found outside this module (e.g. a scan count)."""
        if self.result not in (Result.GENUINE, Result.GENUINE_WARNING):
            return self
        return dataclasses.replace(self, result=Result.GENUINE_WARNING, reasons=self.reasons + (Reason(code),))

    def to_json(self) -> dict[str, Any]:
        """The stable machine shape (documented in docs/stamp-format.md)."""
        return {
            "format": VERIFICATION_FORMAT,
            "result": self.result.value,
            "class": self.result.outcome,
            "reasons": [reason.to_json() for reason in self.reasons],
            "checked_on": self.checked_on.isoformat(),
            "stamp": self._stamp_json(),
            "key": {"key_id": self.key.key_id, "label": self.key.label, "status": self.key.status} if self.key else None,
            "batch": {"digest": self.batch.digest, "record": self.batch.record} if self.batch else None,
            "recall": self.batch.recall if self.batch else None,
            "ocop": _ocop_json(self.ocop),
        }

    def _stamp_json(self) -> dict[str, Any] | None:
        if self.stamp is None:
            return None
        return {"format_version": self.stamp.version, "key_hint": self.stamp.key_hint.hex(),
                "batch_digest_prefix": self.stamp.digest_prefix.hex(), "serial": self.stamp.serial,
                "signature_verified": self.signature_verified}


def _ocop_json(attestation: Attestation | None) -> dict[str, Any] | None:
    """The product's OCOP rating as attested (with who attested it), or why no stars are shown as attested."""
    if attestation is None:
        return None
    if not attestation.attested:
        return {"attested": False, "reason": Reason(str(attestation.reason)).to_json()}
    product, office = attestation.product, attestation.office
    assert product is not None and office is not None
    return {"attested": True, **product.to_dict(), "office": {"id": office.id, "name": office.name}}


BatchLookup = Callable[[bytes], StoredBatch | None]
CHECKED_RECORDS_KEPT = 1024


class _CheckedRecord(NamedTuple):
    """A batch record checked against a key on one day: what every unit of the batch shares."""

    problem: str | None
    quantity: int
    warnings: tuple[Reason, ...]
    ocop: Attestation | None


class Verifier:
    """Checks codes against a keyring and a batch look-up; caches record-signature checks.

    A stamp's own signature is checked with libsodium (PyNaCl): the verifier
    checks one per scan, and libsodium's Ed25519 verification takes half the
    time of OpenSSL's here (45 against 93 µs). Keys and batch records stay with
    the cryptography package.
    """

    def __init__(self, keyring: Keyring, find_batch: BatchLookup, chain: TrustChain | None = None) -> None:
        """With a *chain* (a hub, an inspector's bundle) its endorsed keys are the keyring and its rules apply;
        without, the instance's own trust store decides and stars are shown as self-declared."""
        self._keyring = chain.keyring() if chain else keyring
        self._chain = chain
        self._find_batch = find_batch
        self._checked_records: dict[tuple[bytes, str, dt.date], _CheckedRecord] = {}
        self._raw_public_keys: dict[str, bytes] = {}

    def keys(self) -> list[TrustedKey]:
        """The keys this verifier accepts signatures from (with their status): the trust store's, or the chain's."""
        return list(self._keyring)

    def verify(self, text: str, *, today: dt.date | None = None) -> Verification:
        """Exactly one result for *text* (a stamp URL in any letter case, or a bare token)."""
        today = today or dt.date.today()
        try:
            stamp = decode_token(extract_token(text))
        except CodeFormatError as error:
            return Verification(Result.NOT_A_STAMP, today, (Reason(error.kind),))
        candidates = self._keyring.candidates(stamp.key_hint)
        if not candidates:
            return Verification(Result.UNKNOWN_ISSUER, today, (Reason("key_unknown"),), stamp)
        key = self._signing_key(candidates, stamp)
        if key is None:
            return Verification(Result.FORGED, today, (Reason("signature_mismatch"),), stamp)
        if key.status == "revoked":
            return Verification(Result.REVOKED_KEY, today, (Reason("key_revoked"),), stamp, True, key)
        standing = self._chain.standing(key.key_id, today) if self._chain else None
        if standing and standing.reason:
            return Verification(STANDING_RESULTS[standing.reason], today, (Reason(standing.reason),), stamp, True, key)
        return self._check_batch(stamp, key, today, standing)

    def _check_batch(self, stamp: UnverifiedStamp, key: TrustedKey, today: dt.date, standing: Standing | None) -> Verification:
        """The result of a stamp whose signature holds, by what its batch record says."""
        batch = self._find_batch(stamp.digest_prefix)
        if batch is None:
            return Verification(Result.UNKNOWN_BATCH, today, (Reason("batch_unknown"),), stamp, True, key)
        if batch.signed.digest_prefix != stamp.digest_prefix:
            return Verification(Result.FORGED, today, (Reason("record_mismatch"),), stamp, True, key)
        checked = self._checked_record(batch, key, today, standing)
        problem = checked.problem or ("serial_out_of_range" if stamp.serial > checked.quantity else None)
        if problem:
            return Verification(Result.FORGED, today, (Reason(problem),), stamp, True, key)
        if batch.recall:
            return Verification(Result.RECALLED, today, (Reason("batch_recalled"),), stamp, True, key, batch)
        warnings = checked.warnings
        return Verification(Result.GENUINE_WARNING if warnings else Result.GENUINE, today, warnings, stamp, True, key, batch,
                            checked.ocop)

    def _checked_record(self, batch: StoredBatch, key: TrustedKey, today: dt.date, standing: Standing | None) -> _CheckedRecord:
        """What the record says for every unit on *today* (kept: each scan of a batch would work it out again).

        Its fields are read only once its signature has held: a tampered store gives "forged", not an error.
        """
        memo_key = (batch.signed.digest, key.key_id, today)
        found = self._checked_records.get(memo_key)
        if found is None:
            if len(self._checked_records) >= CHECKED_RECORDS_KEPT:
                self._checked_records.clear()
            problem = self._record_problem(batch, key)
            if not problem and standing:
                problem = TrustChain.producer_problem(standing, batch.record)
            if problem:
                found = _CheckedRecord(problem, 0, (), None)
            else:
                warnings = tuple(Reason(code) for code in _date_warnings(batch.record, today, attested=standing is not None))
                found = _CheckedRecord(None, _quantity(batch.record), warnings, _attestation(batch.record, standing, today))
            self._checked_records[memo_key] = found
        return found

    @staticmethod
    def _record_problem(batch: StoredBatch, key: TrustedKey) -> str | None:
        if _member(_held_record(batch), "key_id") != key.key_id:
            return "key_mismatch"
        try:
            batch.signed.verify(key.public_key)
        except RecordSignatureError:
            return "record_signature_mismatch"
        return None

    def _signing_key(self, candidates: list[TrustedKey], stamp: UnverifiedStamp) -> TrustedKey | None:
        """The trusted key, among those sharing the hint, whose signature this is."""
        signed = stamp.signature + stamp.signing_bytes()  # libsodium's signed-message form: signature, then message
        for key in candidates:
            try:
                crypto_sign_open(signed, self._raw_public_key(key))
                return key
            except BadSignatureError:
                continue
        return None

    def _raw_public_key(self, key: TrustedKey) -> bytes:
        found = self._raw_public_keys.get(key.key_id)
        if found is None:
            found = public_key_bytes(key.public_key)
            if len(found) != crypto_sign_PUBLICKEYBYTES:  # libsodium's crypto_sign_open does not check it
                raise ValueError(f"key {key.key_id} is not a raw Ed25519 public key")
            self._raw_public_keys[key.key_id] = found
        return found


def _held_record(batch: StoredBatch) -> Any:
    """The held record text as JSON, or None when it is not JSON (a row changed behind the verifier's back)."""
    try:
        return batch.record
    except ValueError:
        return None


def _member(value: Any, *path: str) -> Any:
    """``value[path[0]][path[1]]...``, or None where a step is not an object holding that member."""
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _quantity(record: dict[str, Any]) -> int:
    """The record's ``batch.quantity``; 0 when it is not a whole number, so every serial is out of range (fails closed)."""
    quantity = _member(record, "batch", "quantity")
    return quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else 0


def _date_warnings(record: dict[str, Any], today: dt.date, *, attested: bool) -> list[str]:
    """product_expired and ocop_expired, in that order, for the dates that are past *today* (a malformed one warns of nothing).

    Under a trust chain the record's own OCOP dates are not shown (the office's attestation is), so they warn of nothing.
    """
    dated = (("product_expired", ("batch", "expiry_date")),) + (() if attested else (("ocop_expired", ("product", "ocop_expires")),))
    return [code for code, path in dated if _past(_member(record, *path), today)]


def _attestation(record: dict[str, Any], standing: Standing | None, today: dt.date) -> Attestation | None:
    """The product's OCOP stars as the chain attests them; without a chain, self-declared (None: it claims none)."""
    if standing is not None:
        return TrustChain.attestation(standing, record, today)
    return SELF_DECLARED if _member(record, "product", "ocop_stars") is not None else None


def _past(iso_date: Any, today: dt.date) -> bool:
    if not (isinstance(iso_date, str) and _ISO_DATE.fullmatch(iso_date)):
        return False
    try:
        return dt.date.fromisoformat(iso_date) < today
    except ValueError:
        return False
