"""The inspector's bundle: what an inspector needs to verify codes with no network, signed by a hub of the trust root.

This module is the format (docs/trust-format.md): building one from what a hub holds is
:mod:`stamps.roles.hub`'s, using one is :mod:`stamps.roles.inspector`'s.

A bundle is a DSSE statement of kind ``bundle`` whose body holds the trust
root, the endorsements, revocations and recalls the hub holds (optionally for
one province), optionally the signed batch records, an ``as_of`` time, an
``expires`` time and a ``version`` (the hub's acceptance number of the newest
statement in it). The hub operator signs it with a key the trust root lists
under ``x-ocop-hubs`` (``ocop-stamps bundle sign``, on the operator's machine:
the verifier holds no private key and only serves the newest one).

Every item inside keeps its own signature and is checked again on reading:
the hub's signature adds the time, the version and completeness, not trust in
the items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_id
from stamps.batch_record import RecordSignatureError, SignedBatchRecord, StoredBatch
from stamps.canonical import canonical_json
from stamps.code import DIGEST_PREFIX_BYTES
from stamps.errors import TrustError
from stamps.trust.chain import CHAIN_KINDS, TrustChain, admit_recall, endorsed_key
from stamps.trust.envelope import Statement, StoredStatement, read, sign
from stamps.trust.root import TrustRoot
from stamps.trust.statements import Endorsement, Recall, text_field, time_field, timestamp

BUNDLE_KINDS = (*CHAIN_KINDS, "recall")
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
DEFAULT_VALID_DAYS = 7
_FIELDS = {"hub", "version", "as_of", "expires", "trust_root", "statements", "batch_records"}


@dataclasses.dataclass(frozen=True)
class Bundle:
    """A read bundle: its hub's signature, its chain and every item checked."""

    hub: str
    version: int
    as_of: str
    expires: str
    province: str | None
    root: TrustRoot
    chain: TrustChain
    batches: dict[bytes, StoredBatch]

    def is_stale(self, now: dt.datetime) -> bool:
        return timestamp(now) > self.expires

    def info(self) -> dict[str, Any]:
        return {"hub": self.hub, "version": self.version, "as_of": self.as_of, "expires": self.expires,
                "province": self.province, "trust_root_version": self.root.version, "batch_records": len(self.batches)}


def make_bundle(root: TrustRoot, hub_key: Ed25519PrivateKey, statements: list[StoredStatement],
                records: list[SignedBatchRecord], *, now: dt.datetime, province: str | None = None,
                valid_days: int = DEFAULT_VALID_DAYS) -> Statement:
    """Sign a bundle of *statements* (a hub's endorsements, revocations and recalls, in acceptance order) and
    *records*, for one *province* (or all), as the hub whose key *hub_key* is."""
    hub = root.hub_of_key(key_id(hub_key.public_key()))
    if hub is None:
        raise TrustError(f"Key {key_id(hub_key.public_key())} is not a hub key of trust root version {root.version}.",
                         code="unknown_hub", hint="Ask the national root operator to list it under the hub, then install that root.")
    chosen, keys = _in_province(statements, province)
    chosen_records = [signed for signed in records if keys is None or signed.record.get("key_id") in keys]
    body: dict[str, Any] = {
        "hub": hub.id, "version": max((item.seq for item in statements), default=0), "as_of": timestamp(now),
        "expires": timestamp(now + dt.timedelta(days=valid_days)), "trust_root": root.envelope.to_dict(),
        "statements": [json.loads(item.body) for item in chosen], "batch_records": [signed.export() for signed in chosen_records]}
    if province:
        body["province"] = province
    return sign("bundle", body, hub_key)


def read_bundle(data: bytes, pinned: TrustRoot) -> tuple[Bundle, TrustRoot]:
    """The bundle in *data*, checked against the trust root the reader already trusts (*pinned*), and the trust root
    to trust from now on (the bundle's, when it is a valid update of *pinned*). TrustError when anything fails."""
    statement = read(data, "bundle", limit=MAX_BUNDLE_BYTES)
    body = statement.body
    header = _header(body)
    root = pinned.accept_update(TrustRoot.load(canonical_json(body["trust_root"])))
    hub = root.signing_hub(statement)
    if header["hub"] != hub.id:
        raise TrustError(f"The bundle names hub {str(header['hub'])[:80]!r} but is signed by {hub.id!r}.", code="wrong_signer")
    stored = [_stored(item) for item in _list(body["statements"])]
    chain = TrustChain.from_statements(root, [item for item in stored if item.kind in CHAIN_KINDS])
    batches = _batches(_list(body["batch_records"]))
    _apply_recalls(batches, [item for item in stored if item.kind == "recall"], root, chain)
    return Bundle(**header, root=root, chain=chain, batches=batches), root


def _header(body: dict[str, Any]) -> dict[str, Any]:
    """The bundle's own members (hub, version, as_of, expires, province), each in its form; TrustError otherwise."""
    if not _FIELDS <= set(body) <= _FIELDS | {"province"}:
        raise TrustError("The bundle's body lacks required parts or holds unknown ones.", code="malformed")
    return {"hub": body["hub"], "version": _whole(body["version"]), "as_of": time_field(body["as_of"], "as_of"),
            "expires": time_field(body["expires"], "expires"),
            "province": text_field(body["province"], "province", 100) if "province" in body else None}


def _in_province(statements: list[StoredStatement], province: str | None) -> tuple[list[StoredStatement], set[str] | None]:
    """The statements of a *province*'s bundle, and the producer keys endorsed there (None: every province, all of them).

    Endorsements that list a key of the province's producers; every revocation and every recall (few, and any may
    concern them). Each endorsement is read once.
    """
    if province is None:
        return statements, None
    listed = {item.hash: Endorsement.read(read(item.body, "endorsement")) for item in statements if item.kind == "endorsement"}
    keys = {key.key_id for endorsement in listed.values() if endorsement.producer.province == province
            for key in endorsement.keys}
    chosen = [item for item in statements
              if item.kind != "endorsement" or {key.key_id for key in listed[item.hash].keys} & keys]
    return chosen, keys


def _stored(document: Any) -> StoredStatement:
    """An item of the bundle's statements: an envelope object (not its text) of one of the bundle's kinds."""
    if not isinstance(document, dict):
        raise TrustError("Each of the bundle's statements must be an envelope object.", code="malformed")
    statement = read(document, *BUNDLE_KINDS)
    return StoredStatement(statement.hash, statement.kind, statement.signer, "", 0, statement.canonical.decode("utf-8"))


def _batches(documents: list[Any]) -> dict[bytes, StoredBatch]:
    batches = {}
    for document in documents:
        try:
            signed = SignedBatchRecord.from_export(document)
        except RecordSignatureError as error:
            raise TrustError(f"A batch record in the bundle is damaged: {error.message}", code="malformed") from None
        if not isinstance(signed.record, dict):
            raise TrustError("A batch record in the bundle is not a JSON object.", code="malformed")
        batches[signed.digest_prefix] = StoredBatch(signed, "bundle", 0, None)
    return batches


def _apply_recalls(batches: dict[bytes, StoredBatch], recalls: list[StoredStatement], root: TrustRoot, chain: TrustChain) -> None:
    """Mark each recalled batch with its first recall that holds (read, of a batch in the bundle, admitted by the chain's
    rules: its own key's voluntary one, or an office's), a mandatory one over a voluntary one; others are left out."""
    for item in recalls:
        statement = read(item.body, "recall")
        try:
            digest = Recall.read(statement).batch_digest
            batch = batches.get(bytes.fromhex(digest)[:DIGEST_PREFIX_BYTES])
            if batch is None or batch.digest != digest:
                continue
            recall = admit_recall(root, statement, endorsed_key(chain.endorsed, str(batch.record.get("key_id"))))
        except TrustError:
            continue
        if batch.recall is None or (recall.mandatory and batch.recall["kind"] == "voluntary"):
            kind = "mandatory" if recall.mandatory else "voluntary"
            batches[batch.signed.digest_prefix] = dataclasses.replace(
                batch, recall={"kind": kind, "reason": recall.reason, "recalled_on": recall.recalled_on.isoformat()})


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TrustError("The bundle's statements and batch records must be lists.", code="malformed")
    return value


def _whole(value: Any) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise TrustError("The bundle's version must be a whole number.", code="malformed")
    return value
