"""The hub's acceptance of publications (``POST /api/v1/publish``): what endorsed keys and OCOP offices sign.

Each item of a request (stamps.trust.publication) is checked against the trust root the hub holds and the chain
of what it already accepted, in the request's order, on the hub's clock (never the sender's):

- an endorsement: signed by an office of the trust root, within its scope, and newer than the one held for its
  producer (the same or an older version with other bytes is ``replayed``);
- a batch record: its key endorsed today, not revoked, its producer the endorsed one, its signature (checked once,
  with libsodium), its 80-bit digest prefix not another held record's;
- a recall: of a batch held (or earlier in the request), signed by the key that signed the batch's record (not
  revoked) or by an office of the trust root;
- a revocation: by an office, or by a producer key of itself.

Everything accepted is kept in one transaction, or nothing (the first refusal answers for the request): each item
byte for byte with its hash among the statements, in acceptance order; batch records also as batches (the
verifier finds them), recalls also as recall rows. An item already held is answered ``held``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from typing import Any, NamedTuple

from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from keys.keyfile import public_key_bytes
from stamps.batch_record import SignedBatchRecord
from stamps.errors import TrustError
from stamps.present import VIETNAM_TIME
from stamps.registry import batch_by_prefix
from stamps.store import Store
from stamps.trust.chain import (Endorsed, Standing, TrustChain, admit_endorsement, admit_recall, admit_revocation,
                                endorsed_key)
from stamps.trust.envelope import Statement, StoredStatement, read
from stamps.trust.publication import (BATCH_RECORD, MAX_ITEM_BYTES, PUBLISHED_KINDS, RESULT_FORMAT, RecordReader,
                                      Rejected, batch_record_json, checked_record_json, is_batch_record, read_request, unchecked_record)
from stamps.trust.statements import EndorsedKey, Recall, Revocation
from stamps.trust.root import TrustRoot
from stamps.trustroot import install_root, load_chain

HUB_ORIGIN = "hub"  # the origin of the batches a hub accepted (``batch list`` shows it)
TRUST_GENERATION = "trust_generation"


def hold_trust_root(store: Store, data: bytes) -> TrustRoot:
    """Make this verifier a hub of the trust root in *data* (its signature checked; a newer version of the one held
    replaces it, an older one is refused: TrustError ``rollback``)."""
    return install_root(store, TrustRoot.load(data))


class Kept(NamedTuple):
    """One accepted item: what the answer says of it, and what is stored (nothing for an item already held)."""

    position: int  # the item's index in the request
    kind: str
    hash: str
    status: str  # "accepted" or "held"
    digest: str | None = None
    stored: StoredStatement | None = None


class Acceptance:
    """A hub process's acceptance service: it keeps the chain it last read (rebuilt when the store's trust
    generation moves) and the record parts it checked, between requests. Shared by the process's threads."""

    def __init__(self) -> None:
        self._chain: tuple[int, TrustChain] | None = None
        self._records = RecordReader()
        self._lock = threading.Lock()

    def accept(self, store: Store, body: bytes, now: dt.datetime) -> dict[str, Any]:
        """Check and keep one publish request (all of it, or nothing: Rejected names the item refused)."""
        items = read_request(body)
        with store.transaction():
            store.serialize_statements()  # two hub processes check and keep one publication after the other
            generation, chain = self._current_chain(store)
            intake = Intake(store, chain, now.astimezone(VIETNAM_TIME).date(), self._records, items)
            for index, item in enumerate(items):
                intake.take(index, item)
            intake.keep()
        return intake.answer()

    def _current_chain(self, store: Store) -> tuple[int, TrustChain]:
        """The chain as the store holds it, kept under the trust generation read before it (every kept endorsement,
        revocation or trust root moves the generation, this process's own included, so a kept chain is never older
        than its generation says)."""
        generation = int(store.setting(TRUST_GENERATION) or 0)
        with self._lock:
            cached = self._chain
        if cached is not None and cached[0] == generation:
            return cached
        chain = load_chain(store)
        if chain is None:
            raise Rejected("This verifier holds no trust root.", code="not_a_hub")
        with self._lock:
            self._chain = (generation, chain)
        return generation, chain


class Intake:
    """One request's items, checked in order against a chain that grows with the endorsements and revocations
    accepted before them."""

    def __init__(self, store: Store, chain: TrustChain, day: dt.date, records: RecordReader, items: list[Any]) -> None:
        self.store = store
        self.chain = chain
        self.day = day
        self.records = records
        self.kept: list[Kept] = []
        self.batches: list[SignedBatchRecord] = []
        self.recalls: list[Recall] = []
        self.held_batches = store.batch_digests(_claimed_prefixes(items))
        self.batch_keys: dict[str, str] = {}  # digest -> key id of the records accepted in this request
        self.hashes: set[str] = set()
        self._raw_keys: dict[str, bytes] = {}
        self._standings: dict[str, tuple[TrustChain, Standing]] = {}

    def take(self, index: int, item: Any) -> None:
        """Check one item; Rejected (naming it) if it may not be kept."""
        try:
            self.kept.append(self._batch_record(index, item) if is_batch_record(item) else self._statement(index, item))
        except TrustError as error:
            raise Rejected.of(error, index, item) from None

    def keep(self) -> None:
        """Store what was accepted (in the request's transaction)."""
        self.store.insert_batches(self.batches, HUB_ORIGIN)
        self.store.add_statements([item.stored for item in self.kept if item.stored is not None])
        for recall in self.recalls:
            self.store.add_recall(recall.batch_digest, "mandatory" if recall.mandatory else "voluntary", recall.reason,
                                  recall.recalled_on.isoformat())

    def answer(self) -> dict[str, Any]:
        entries = [{"index": item.position, "kind": item.kind, "hash": item.hash, "status": item.status}
                   | ({"digest": item.digest} if item.digest else {}) for item in self.kept]
        accepted = sum(item.status == "accepted" for item in self.kept)
        return {"format": RESULT_FORMAT, "accepted": accepted, "held": len(self.kept) - accepted, "items": entries}

    # batch records ------------------------------------------------------------------------------------------------
    def _batch_record(self, index: int, item: dict[str, Any]) -> Kept:
        unchecked = unchecked_record(item)
        digest = unchecked.digest.hex()
        if self.held_batches.get(digest[:20]) == digest:
            return Kept(index, BATCH_RECORD, _sha256(batch_record_json(unchecked)), "held", digest)
        self.records.check(unchecked, item["digest"])
        signed = unchecked
        key_id = signed.record["key_id"]
        standing = self._standing(key_id)
        if standing.reason:
            raise TrustError(f"Key {key_id} that signed the batch record may not publish today: {standing.reason}.",
                             code=standing.reason)
        self._check_signature(signed, key_id, standing.endorsements[0])
        if TrustChain.producer_problem(standing, signed.record):
            raise TrustError("The batch record's producer is not the one the OCOP office endorsed for its key.",
                             code="producer_mismatch")
        self._check_prefix(signed)
        return self._accepted_record(index, signed, key_id)

    def _standing(self, key_id: str) -> Standing:
        """The key's standing today under the request's chain (asked once per key and chain: a request's records
        usually share one key)."""
        found = self._standings.get(key_id)
        if found is None or found[0] is not self.chain:
            found = self._standings[key_id] = (self.chain, self.chain.standing(key_id, self.day))
        return found[1]

    def _check_signature(self, signed: SignedBatchRecord, key_id: str, endorsed: Endorsed) -> None:
        raw = self._raw_keys.get(key_id)
        if raw is None:
            key = endorsed.endorsement.key(key_id)
            assert key is not None  # the standing found the key in this endorsement
            raw = self._raw_keys[key_id] = public_key_bytes(key.public_key)
        try:
            crypto_sign_open(signed.signature + signed.message, raw)  # libsodium, once per record
        except BadSignatureError:
            raise TrustError("The batch record's signature does not match its content.", code="bad_signature") from None

    def _check_prefix(self, signed: SignedBatchRecord) -> None:
        prefix = signed.digest_prefix.hex()
        other = self.held_batches.get(prefix)
        if other is not None and other != signed.digest.hex():
            raise TrustError(f"Batch {other[:16]} held here has the same digest prefix {prefix}; a stamp could not tell "
                             "the two apart.", code="digest_prefix_taken")

    def _accepted_record(self, index: int, signed: SignedBatchRecord, key_id: str) -> Kept:
        body = checked_record_json(signed)
        stored = StoredStatement(_sha256(body), BATCH_RECORD, key_id, signed.digest.hex(), 1, body.decode("utf-8"))
        self.batches.append(signed)
        self.batch_keys[signed.digest.hex()] = key_id
        self.held_batches[signed.digest_prefix.hex()] = signed.digest.hex()
        return Kept(index, BATCH_RECORD, stored.hash, "accepted", signed.digest.hex(), stored)

    # statements ---------------------------------------------------------------------------------------------------
    def _statement(self, index: int, item: Any) -> Kept:
        if not isinstance(item, dict):
            raise TrustError("An item must be a statement's DSSE envelope or an exported batch record (a JSON object).",
                             code="malformed")
        statement = read(item, *PUBLISHED_KINDS)
        if len(statement.canonical) > MAX_ITEM_BYTES:
            raise TrustError(f"A statement may be at most {MAX_ITEM_BYTES:,} bytes.", code="too_large")
        if statement.hash in self.hashes or self.store.statement(statement.hash) is not None:
            return Kept(index, statement.kind, statement.hash, "held")
        subject, version = CHECKS[statement.kind](self, statement)
        self.hashes.add(statement.hash)
        stored = StoredStatement(statement.hash, statement.kind, statement.signer, subject, version,
                                 statement.canonical.decode("utf-8"))
        return Kept(index, statement.kind, statement.hash, "accepted", None, stored)

    def _endorsement(self, statement: Statement) -> tuple[str, int]:
        endorsed = admit_endorsement(self.chain.root, statement)
        endorsement = endorsed.endorsement
        held = [item.version for item in self.store.statements(["endorsement"], subject=endorsement.subject)]
        held += [item.stored.version for item in self.kept
                 if item.stored is not None and item.kind == "endorsement" and item.stored.subject == endorsement.subject]
        if held and max(held) >= endorsement.version:
            raise TrustError(f"This is version {endorsement.version} of {endorsement.subject}'s endorsement; the hub holds "
                             f"version {max(held)}.", code="replayed")
        self.chain = self.chain.with_endorsement(endorsed)
        return endorsement.subject, endorsement.version

    def _revocation(self, statement: Statement) -> tuple[str, int]:
        revocation = Revocation.read(statement)
        endorsed = {item.hash: item for item in self.chain.endorsed}
        self.chain = self.chain.with_revocations([admit_revocation(self.chain.root, statement, revocation, endorsed)])
        return revocation.subject, 1

    def _recall(self, statement: Statement) -> tuple[str, int]:
        batch_key = self._batch_key(Recall.read(statement).batch_digest)
        by_batch_key = statement.signer == batch_key and self.chain.root.office_of_key(statement.signer) is None
        recall = admit_recall(self.chain.root, statement, self._recalling_key(batch_key) if by_batch_key else None)
        self.recalls.append(recall)
        return recall.batch_digest, 1

    def _batch_key(self, digest: str) -> str:
        """The key that signed a batch held here or accepted earlier in the request; TrustError for another batch."""
        if digest in self.batch_keys:
            return self.batch_keys[digest]
        batch = batch_by_prefix(self.store, bytes.fromhex(digest[:20]))
        if batch is None or batch.digest != digest:
            raise TrustError(f"Batch {digest[:16]} is not held by this hub.", code="unknown_batch")
        return str(batch.record["key_id"])

    def _recalling_key(self, key_id: str) -> EndorsedKey | None:
        """An endorsed producer key that may still recall its batches: not revoked (an endorsement that lapsed still
        lets its producer withdraw what it sold)."""
        standing = self.chain.standing(key_id, self.day)
        if standing.reason in ("key_revoked", "endorsement_revoked", "key_not_endorsed"):
            raise TrustError(f"Key {key_id} may not recall: {standing.reason}.", code=str(standing.reason))
        return endorsed_key(self.chain.endorsed, key_id)


CHECKS = {"endorsement": Intake._endorsement, "revocation": Intake._revocation, "recall": Intake._recall}


def _claimed_prefixes(items: list[Any]) -> list[str]:
    """The digest prefixes the batch records of a request claim (looked up in one read before they are checked)."""
    return [item["digest"][:20] for item in items if is_batch_record(item) and isinstance(item.get("digest"), str)]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
