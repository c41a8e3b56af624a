"""A producer's publishing to its hub: signed recalls and key revocations, the outbox, and ``publish``.

The outbox is not a table: it is everything publishable the store holds (endorsements, the batch records this
instance signed, recall and revocation statements) minus what the hub is known to hold (``published(hub)``,
marked after each answer 2xx). ``publish`` sends it in dependency order (endorsements, batch records, recalls,
revocations), in requests of at most CHUNK_ITEMS items; the hub answers an item it already holds as held, so a
retry after a lost answer succeeds and nothing is lost when the network is not there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.client
import ssl
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps import registry
from stamps import validation as v
from stamps.batch_record import StoredBatch
from stamps.errors import StampError, TrustError
from stamps.store import Store
from stamps.trust.envelope import Statement, StoredStatement, read, sign
from stamps.trust.publication import (BATCH_RECORD, MAX_REQUEST_BYTES, PUBLISHED_KINDS, batch_record_json,
                                      is_batch_record, request_body, unchecked_record)
from stamps.trust.statements import Endorsement, Recall, Revocation, timestamp

if TYPE_CHECKING:
    from stamps.instance import Instance

HUB_SETTING = "hub_url"
ORDER = ("endorsement", BATCH_RECORD, "recall", "revocation")  # what a later item may depend on comes first
CHUNK_ITEMS = 500
CHUNK_BYTES = MAX_REQUEST_BYTES // 4
TIMEOUT_SECONDS = 60
REASON_MAX = 300  # a signed recall's or revocation's reason (stamps.trust.statements)
KeySource = Callable[[str], "Ed25519PrivateKey | None"]  # the private key of a key id, if this instance holds it


class Outgoing(NamedTuple):
    """One item of the outbox: its kind, what marks it published (statement hash, or batch digest), its JSON."""

    kind: str
    mark: str
    document: Any
    size: int


@dataclasses.dataclass
class Published:
    """What one ``publish`` did: items the hub took (new) and already held, by kind; records held back and why."""

    hub: str
    accepted: dict[str, int] = dataclasses.field(default_factory=dict)
    held: int = 0
    held_back: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        if not self.accepted and not self.held:
            if self.held_back:
                return f"Nothing sent to {self.hub}: the batch records above cannot be published yet."
            return f"Nothing new to publish: the hub {self.hub} holds everything of this instance."
        taken = ", ".join(f"{count} {kind.replace('-', ' ')}{'s' if count != 1 else ''}" for kind, count in self.accepted.items())
        already = f" ({self.held} it already held)" if self.held else ""
        return f"Published to {self.hub}: {taken or 'nothing new'}{already}."


# recalls and revocations -------------------------------------------------------------------------------------------
class Recalled(NamedTuple):
    batch: StoredBatch
    signed: bool  # a signed recall was made for the hub
    earlier: bool  # the batch was recalled before; only its signed recall was made now


def recall_batch(store: Store, reference: str, reason: str, kind: str, on: dt.date | None, keys: KeySource,
                 now: dt.datetime) -> Recalled:
    """Recall a batch here (its stamps verify as recalled) and, when this instance holds the batch's key, keep a
    recall signed by it for the hub, in one transaction. A batch recalled before signed recalls existed gets its
    signed recall now."""
    batch = registry.find_batch(store, reference)
    if batch.recall:
        return _sign_earlier_recall(store, batch, keys, now)
    key = keys(batch.record["key_id"])
    text = v.required_text(reason, "reason", max_length=REASON_MAX if key else 500)
    day = on or now.date()
    statement = _recall_statement(batch, text, kind == "mandatory", day, key, now) if key else None
    with store.transaction():
        recalled = registry.recall_batch(store, batch.digest, text, kind, day)
        if statement is not None:
            store.add_statements([_stored(statement, batch.digest)])
    return Recalled(recalled, statement is not None, False)


def _sign_earlier_recall(store: Store, batch: StoredBatch, keys: KeySource, now: dt.datetime) -> Recalled:
    assert batch.recall is not None
    if store.statements(["recall"], subject=batch.digest) or (key := keys(batch.record["key_id"])) is None:
        raise StampError(f"Batch {batch.digest[:12]} was already recalled on {batch.recall['recalled_on']}.")
    statement = _recall_statement(batch, batch.recall["reason"][:REASON_MAX].strip(), batch.recall["kind"] == "mandatory",
                                  dt.date.fromisoformat(batch.recall["recalled_on"]), key, now)
    store.add_statements([_stored(statement, batch.digest)])
    return Recalled(batch, True, True)


def _recall_statement(batch: StoredBatch, reason: str, mandatory: bool, day: dt.date, key: Ed25519PrivateKey,
                      now: dt.datetime) -> Statement:
    return sign("recall", Recall(batch.digest, reason, mandatory, day, timestamp(now)).body(), key)


class Revoked(NamedTuple):
    key_id: str
    signed: bool  # a revocation signed by the key itself was made for the hub


def revoke_key(instance: Instance, reference: str, reason: str, keys: KeySource, now: dt.datetime) -> Revoked:
    """Revoke a key here and, when this instance holds it, keep the key's own signed revocation for the hub."""
    key = instance.trust.get(reference)
    done = bool(instance.store.statements(["revocation"], subject=key.key_id))
    private = None if done else keys(key.key_id)
    statement = None
    if private is not None:
        text = v.required_text(reason or "Revoked by its producer.", "reason", max_length=REASON_MAX)
        statement = sign("revocation", Revocation("key", key.key_id, text, timestamp(now)).body(), private)
    with instance.store.transaction():
        instance.trust.set_status(key.key_id, "revoked", reason or None)
        if statement is not None:
            instance.store.add_statements([_stored(statement, key.key_id)])
    return Revoked(key.key_id, statement is not None)


def _stored(statement: Statement, subject: str) -> StoredStatement:
    return StoredStatement(statement.hash, statement.kind, statement.signer, subject, 1, statement.canonical.decode("utf-8"))


# the outbox ----------------------------------------------------------------------------------------------------------
def hub_address(store: Store, given: str | None) -> str:
    """The hub to publish to: *given* (then remembered), else the one remembered; StampError without either."""
    if given is None:
        remembered = store.setting(HUB_SETTING)
        if not remembered:
            raise StampError("No hub to publish to yet.", hint="Give its address once: ocop-stamps publish --hub https://...")
        return remembered
    address = given.strip().rstrip("/")
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise StampError(f"The hub address must be an http(s):// address without query, e.g. https://truyxuat.example.vn "
                         f"(got {given[:80]!r}).")
    store.set_setting(HUB_SETTING, address)
    return address


def outbox(store: Store, hub: str) -> tuple[list[Outgoing], list[str]]:
    """What the hub does not hold yet, in dependency order; and notes on batch records held back (they would be
    refused: no endorsement here names their key, or names another producer)."""
    sent = store.published(hub)
    statements = [item for item in store.statements(PUBLISHED_KINDS) if item.hash not in sent]
    endorsed = _endorsed_producers(store.statements(["endorsement"]))
    records, held_back = _records(store, sent, endorsed)
    outgoing = [Outgoing(item.kind, item.hash, json.loads(item.body), len(item.body)) for item in statements] + records
    return sorted(outgoing, key=lambda item: ORDER.index(item.kind)), held_back


def _endorsed_producers(statements: Iterable[StoredStatement]) -> dict[str, list[Endorsement]]:
    """The endorsements kept here, by the keys they name (their office signature is the hub's to check)."""
    found: dict[str, list[Endorsement]] = {}
    for item in statements:
        if item.kind == "endorsement":
            endorsement = Endorsement.read(read(item.body, "endorsement"))
            for key in endorsement.keys:
                found.setdefault(key.key_id, []).append(endorsement)
    return found


def _records(store: Store, sent: set[str], endorsed: dict[str, list[Endorsement]]) -> tuple[list[Outgoing], list[str]]:
    records: list[Outgoing] = []
    held_back: dict[str, list[StoredBatch]] = {}
    for batch in registry.list_batches(store):
        if batch.origin != "local" or batch.digest in sent:
            continue
        reason = _held_back(batch, endorsed)
        if reason:
            held_back.setdefault(reason, []).append(batch)
        else:
            records.append(Outgoing(BATCH_RECORD, batch.digest, batch.signed.export(), len(batch.signed.canonical) + 300))
    notes = [f"{len(batches)} batch record(s) not sent ({_lots(batches)}): {HELD_BACK[reason]}" for reason, batches in held_back.items()]
    return records, notes


# Why a batch record stays out of the outbox (the hub would refuse it), and what fixes it.
HELD_BACK = {
    "not_endorsed": "no endorsement here names the key that signed them; import your OCOP office's endorsement "
                    "('ocop-stamps endorsement import FILE').",
    "producer_mismatch": "their producer (name, kind, tax code, province, commune or address) differs from what your OCOP "
                         "office endorsed: change the producer record back ('ocop-stamps producer edit') and create the "
                         "batch again, or send the office a new request ('ocop-stamps enrol') and import its new endorsement.",
}


def _held_back(batch: StoredBatch, endorsed: dict[str, list[Endorsement]]) -> str | None:
    """Why the hub would refuse *batch*'s record (a key of HELD_BACK), or None."""
    naming = endorsed.get(batch.record["key_id"], [])
    if not naming:
        return "not_endorsed"
    if not any(item.producer.matches(batch.record["producer"]) for item in naming):
        return "producer_mismatch"
    return None


def _lots(batches: Sequence[StoredBatch]) -> str:
    shown = ", ".join(batch.record["batch"]["lot_code"] for batch in batches[:5])
    return shown + (", ..." if len(batches) > 5 else "")


# sending ---------------------------------------------------------------------------------------------------------------
class HubUnreachable(StampError):
    """The hub could not be reached or could not take the request now: what was not sent stays in the outbox."""


def publish(store: Store, given_hub: str | None, documents: Sequence[bytes] = (), *,
            send: Callable[[str, bytes], dict[str, Any]] | None = None) -> Published:
    """Send the outbox (and *documents*: statement or batch-record files, e.g. an office's revocation) to the hub,
    marking each request's items published once the hub answered it 2xx."""
    hub = hub_address(store, given_hub)
    items, held_back = outbox(store, hub)
    items = [_document_item(data) for data in documents] + items
    report = Published(hub, held_back=held_back)
    post = send or post_request
    for chunk in _chunks(items):
        try:
            answer = post(hub + "/api/v1/publish", request_body([item.document for item in chunk]))
        except HubUnreachable as error:
            left = len(items) - sum(report.accepted.values()) - report.held
            raise HubUnreachable(f"{error.message}: {left} item(s) saved in the outbox; run 'ocop-stamps publish' again "
                                 "when online.") from None
        store.mark_published(hub, [item.mark for item in chunk])
        _count(report, chunk, answer)
    return report


def _document_item(data: bytes) -> Outgoing:
    """A statement or an exported batch record given as a file, sent as it is."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise StampError("A file given to publish is not UTF-8 JSON (a statement or an exported batch record).") from None
    if is_batch_record(document):
        signed = unchecked_record(document)
        return Outgoing(BATCH_RECORD, signed.digest.hex(), document, len(batch_record_json(signed)))
    statement = read(document, *PUBLISHED_KINDS)
    return Outgoing(statement.kind, statement.hash, document, len(statement.canonical))


def _chunks(items: list[Outgoing]) -> Iterable[list[Outgoing]]:
    chunk: list[Outgoing] = []
    size = 0
    for item in items:
        if chunk and (len(chunk) >= CHUNK_ITEMS or size + item.size > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item.size
    if chunk:
        yield chunk


def _count(report: Published, chunk: list[Outgoing], answer: dict[str, Any]) -> None:
    entries = answer.get("items") if isinstance(answer, dict) else None
    statuses = [entry.get("status") for entry in entries] if isinstance(entries, list) else []
    for item, status in zip(chunk, statuses):
        if status == "held":
            report.held += 1
        else:
            report.accepted[item.kind] = report.accepted.get(item.kind, 0) + 1


def post_request(url: str, body: bytes) -> dict[str, Any]:
    """POST *body* to the hub; its JSON answer. HubUnreachable when it cannot answer now; StampError (TrustError with
    the hub's code) when it refuses."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 (http(s) checked before)
            return _json(answer.read(MAX_REQUEST_BYTES))
    except urllib.error.HTTPError as error:
        raise _refusal(error) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        hub = url.rsplit('/api/', 1)[0]
        if isinstance(reason, ssl.SSLError):  # it answered, but not in HTTPS: the address is wrong, not the network
            raise StampError(f"The hub at {hub} does not answer in HTTPS ({reason}).",
                             hint="Check the address: http:// or https://, and the port.") from None
        raise HubUnreachable(f"Could not reach the hub at {hub} ({reason})") from None


def _refusal(error: urllib.error.HTTPError) -> StampError:
    hub = error.url.rsplit("/api/", 1)[0] if error.url else "the hub"
    if error.code >= 500 or error.code in (408, 429):
        return HubUnreachable(f"The hub at {hub} could not take the publication now (HTTP {error.code})")
    try:
        refusal = _json(error.read(64 * 1024))
    except (StampError, OSError):
        refusal = {}
    code, detail = refusal.get("error", f"http_{error.code}"), refusal.get("detail") or refusal.get("message", "")
    where = f" item {refusal['index']} ({str(refusal.get('hash'))[:16]})" if refusal.get("index") is not None else ""
    return TrustError(f"The hub at {hub} refused{where}: {code}: {detail} Nothing of that request was kept.", code=str(code),
                      hint=_REFUSAL_HINTS.get(str(code), ""))


_REFUSAL_HINTS = {
    "not_found": "Give the hub's address alone, without a path: e.g. https://truyxuat.example.vn",
    "not_a_hub": "Check the address: this verifier is not a hub.",
    "key_not_endorsed": "Import your OCOP office's endorsement first ('ocop-stamps endorsement import FILE').",
    "endorsement_expired": "Ask your OCOP office for a renewed endorsement, then import it.",
    "producer_mismatch": "Your producer record differs from the endorsed one: correct it and sign new batches.",
}


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise HubUnreachable("The hub answered something that is not JSON") from None
    return value if isinstance(value, dict) else {}


def unpublished_warning(store: Store, batch: StoredBatch) -> str | None:
    """A one-line warning when a hub is configured and this batch's record has not reached it yet."""
    hub = store.setting(HUB_SETTING)
    if not hub or batch.origin != "local" or batch.digest in store.published(hub):
        return None
    reason = _held_back(batch, _endorsed_producers(store.statements(["endorsement"])))
    if reason:
        return f"Batch {batch.digest[:16]} cannot reach the hub {hub}: {HELD_BACK[reason]}"
    return (f"Batch {batch.digest[:16]} has not reached the hub {hub} yet: run 'ocop-stamps publish' so shoppers' "
            "phones can verify these stamps there.")
