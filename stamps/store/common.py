"""What both engines share: how a row is made from a value and back, and the clock the rows are stamped with.

No SQL here: each engine writes its own.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from keys.keyfile import public_key_bytes, public_key_from_bytes
from keys.keyring import TrustedKey
from stamps.batch_record import SignedBatchRecord
from stamps.errors import NotFoundError, StampError
from stamps.records import RECORD_TABLES
from stamps.store.interface import BatchState

MAX_RECORD_ID = 2**63 - 1
TRUSTED_KEY_COLUMNS = ("key_id", "public_key", "label", "status", "reason")


def utc_now() -> str:
    """The current UTC time, to the second, as ISO 8601 with a Z (formatted once a second: a verifier asks per scan)."""
    global _last_utc_now
    second = int(time.time())
    last = _last_utc_now  # one tuple, swapped whole: threads never see a second with another second's text
    if last[0] != second:
        last = _last_utc_now = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return last[1]


_last_utc_now: tuple[int, str] = (-1, "")


def utc_now_precise() -> str:
    """The current UTC time to the microsecond: batches are listed in the order they were stored, even several a second."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_json(data: dict[str, Any]) -> str:
    """A record's data as the ``data`` column keeps it."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A record row with its ``data`` column read back."""
    return {**row, "data": json.loads(row["data"])}


def missing_record(table: str, record_id: int) -> NotFoundError:
    label, command = RECORD_TABLES[table]
    return NotFoundError(f"There is no {label} with id {record_id}.", hint=f"List them with 'ocop-stamps {command} list'.")


def batch_row(signed: SignedBatchRecord, origin: str) -> dict[str, Any]:
    """The ``batches`` row of a signed record."""
    record = signed.record
    return {"digest": signed.digest.hex(), "digest_prefix": signed.digest_prefix.hex(),
            "lot_code": record["batch"]["lot_code"], "product_name": record["product"]["name"],
            "key_id": record["key_id"], "quantity": record["batch"]["quantity"],
            "record": signed.canonical.decode("utf-8"), "signature": signed.signature.hex(),
            "origin": origin, "created_at": utc_now_precise()}


def batch_state(digest: str | None, signature: str = "", origin: str = "", issued: int = 0, kind: str | None = None,
                reason: str = "", recalled_on: str = "") -> BatchState | None:
    """A batch's state from the columns of the engines' batch-state query (digest None: no such batch)."""
    if digest is None:
        return None
    recall = {"kind": kind, "reason": reason, "recalled_on": recalled_on} if kind else None
    return BatchState(digest, signature, origin, int(issued), recall)


def trusted_key_values(key: TrustedKey) -> tuple[str, str, str, str, str | None]:
    """A key's ``trusted_keys`` columns, in the order of :data:`TRUSTED_KEY_COLUMNS`."""
    return key.key_id, public_key_bytes(key.public_key).hex(), key.label, key.status, key.reason


def trusted_key(row: tuple[Any, ...]) -> TrustedKey:
    """A key from its columns, in the order of :data:`TRUSTED_KEY_COLUMNS`."""
    identifier, public_hex, label, status, reason = row
    return TrustedKey(key_id=str(identifier), public_key=public_key_from_bytes(bytes.fromhex(str(public_hex))),
                      label=str(label), status=str(status), reason=None if reason is None else str(reason))


def already_stored(signed: SignedBatchRecord, clash: str) -> StampError:
    """The error for a batch whose digest prefix is taken (by itself, or by another batch: *clash* is its digest)."""
    if clash == signed.digest.hex():
        return StampError(f"Batch {signed.digest.hex()[:12]} is already in the store.")
    return StampError("Another batch shares this batch's 80-bit digest prefix; change any field and sign again.")


STATEMENT_COLUMNS = "hash, kind, signer, subject, version, body, seq, accepted_at"  # StoredStatement's fields, in order
