"""The producer's side of the trust chain: the enrolment request it sends an office, the endorsement it gets back.

``enrol`` signs the producer's identity (its producer record without contact details) and public key with that
key (proof of possession). ``endorsement import`` checks that an office's endorsement names this instance's
producer and one of its keys, checks the office's signature against the trust root when there is one, and keeps
it in the store, from where ``publish`` sends it to a hub.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import public_key_bytes
from stamps import registry
from stamps.errors import NotFoundError, TrustError
from stamps.store import Store
from stamps.roles.office import stored_statement
from stamps.trust.chain import admit_endorsement
from stamps.roles.desk import write_document
from stamps.trust.envelope import Statement, read
from stamps.trust.root import TrustRoot
from stamps.trustroot import current_root, install_root
from stamps.trust.statements import IDENTITY_FIELDS, Endorsement, Enrolment, ProducerIdentity, timestamp

if TYPE_CHECKING:
    from stamps.instance import Instance


def producer_identity(store: Store, producer_id: int | None = None) -> ProducerIdentity:
    """The identity of producer *producer_id*, or of the instance's only producer."""
    if producer_id is None:
        rows = store.record_rows("producers")
        if len(rows) != 1:
            problem = f"has {len(rows)} producers" if rows else "has no producer yet"
            raise NotFoundError(f"This instance {problem}; say which one to enrol.",
                                hint="Give --producer ID ('ocop-stamps producer list' shows them)." if rows
                                else "Add it with 'ocop-stamps producer add ...'.")
        producer_id = int(rows[0]["id"])
    return ProducerIdentity.of(registry.producer(store, producer_id).to_dict())


def write_enrolment(store: Store, producer_id: int | None, private_key: Ed25519PrivateKey, out: Path,
                    now: dt.datetime | None = None) -> Enrolment:
    """Sign an enrolment request for the producer and *private_key*'s public key, and write its envelope to *out*."""
    moment = timestamp(now or dt.datetime.now(dt.timezone.utc))
    enrolment = Enrolment(producer_identity(store, producer_id), private_key.public_key(), moment)
    write_document(out, enrolment.sign(private_key).canonical + b"\n")
    return enrolment


class Imported(NamedTuple):
    """An endorsement kept by ``endorsement import``: whether it was new, whether its office signature was checked,
    and what the producer should know (products that match none of its own)."""

    endorsement: Endorsement
    hash: str
    new: bool
    checked_by: str | None
    warnings: list[str]


def import_endorsement(instance: Instance, document: Any, trust_root: bytes | None = None) -> Imported:
    """Keep an office's endorsement of this instance's producer and key (checked against the trust root given or held)."""
    statement = read(document, "endorsement")
    endorsement = Endorsement.read(statement)
    _check_own_key(instance, endorsement)
    _check_producer(instance.store, endorsement.producer)
    root = TrustRoot.load(trust_root) if trust_root is not None else current_root(instance.store)
    office = admit_endorsement(root, statement).office.name if root else None
    with instance.store.transaction():
        if root is not None and trust_root is not None:
            install_root(instance.store, root)
        _check_newest(instance.store, endorsement, statement)
        new = instance.store.add_statements([stored_statement(statement, endorsement.subject, endorsement.version)]) == 1
    return Imported(endorsement, statement.hash, new, office, _product_warnings(instance.store, endorsement))


def _check_own_key(instance: Instance, endorsement: Endorsement) -> None:
    """One of the endorsed keys must be one of this instance's (its private key file here, the same public key)."""
    own = {key.key_id: key for key in instance.trust.all() if instance.key_path(key.key_id).exists()}
    for endorsed in endorsement.keys:
        key = own.get(endorsed.key_id)
        if key is not None and public_key_bytes(key.public_key) == public_key_bytes(endorsed.public_key):
            return
    named = ", ".join(key.key_id for key in endorsement.keys)
    raise TrustError(f"The endorsement is for key {named}, which is not one of this instance's keys "
                     f"({', '.join(sorted(own)) or 'none'}).", code="wrong_key",
                     hint="Import it into the instance that made the enrolment request.")


def _check_producer(store: Store, endorsed: ProducerIdentity) -> None:
    """The endorsed producer must be one of this instance's producers, field for field; otherwise say which differs."""
    rows = store.record_rows("producers")
    identities = [(int(row["id"]), ProducerIdentity.of(registry.producer(store, int(row["id"])).to_dict())) for row in rows]
    if any(identity == endorsed for _, identity in identities):
        return
    if not identities:
        raise NotFoundError("This instance has no producer record.", hint="Add it with 'ocop-stamps producer add ...'.")
    wanted = endorsed.to_dict()
    producer_id, closest = min(identities, key=lambda item: sum(item[1].to_dict().get(f) != wanted.get(f) for f in IDENTITY_FIELDS))
    here = closest.to_dict()
    differences = "; ".join(f"{field} {here.get(field)!r} here, {wanted.get(field)!r} in the endorsement"
                            for field in IDENTITY_FIELDS if here.get(field) != wanted.get(field))
    raise TrustError(f"The endorsement names another producer than producer {producer_id} of this instance: {differences}.",
                     code="producer_mismatch",
                     hint=f"If the office is right, correct the record ('ocop-stamps producer edit {producer_id} ...') and import again.")


def _check_newest(store: Store, endorsement: Endorsement, statement: Statement) -> None:
    for stored in store.statements(["endorsement"], subject=endorsement.subject):
        if stored.hash != statement.hash and stored.version >= endorsement.version:
            raise TrustError(f"This is version {endorsement.version} of the endorsement by {endorsement.office}; "
                             f"version {stored.version} is already here.", code="replayed",
                             hint="Import the newest endorsement the office gave you.")


def _product_warnings(store: Store, endorsement: Endorsement) -> list[str]:
    """Endorsed products that match none of this instance's products by name and certificate number."""
    own = {(row["data"].get("name"), row["data"].get("ocop_certificate_no")) for row in store.record_rows("products")}
    return [f"The endorsed product {product.name!r} (certificate {product.certificate_no}) matches none of this "
            f"instance's products by name and certificate number: its stamps will not show attested stars until a "
            f"product record matches it exactly." for product in endorsement.products
            if (product.name, product.certificate_no) not in own]


def endorsements(store: Store) -> list[tuple[Endorsement, str, bool]]:
    """The endorsements kept here, oldest first: each with its hash and whether it is its producer's newest."""
    kept = [(Endorsement.read(read(stored.body, "endorsement")), stored.hash) for stored in store.statements(["endorsement"])]
    newest: dict[str, int] = {}
    for endorsement, _ in kept:
        newest[endorsement.subject] = max(newest.get(endorsement.subject, 0), endorsement.version)
    return [(endorsement, digest, newest[endorsement.subject] == endorsement.version) for endorsement, digest in kept]


def find_endorsement(store: Store, reference: str | None) -> tuple[Endorsement, str]:
    """An endorsement kept here by hash prefix (8+ hex digits), or the newest one kept when *reference* is None."""
    kept = endorsements(store)
    if reference is None:
        if not kept:
            raise NotFoundError("No endorsement is kept here yet.", hint="Import one with 'ocop-stamps endorsement import FILE'.")
        return kept[-1][0], kept[-1][1]
    prefix = reference.strip().lower()
    found = [(endorsement, digest) for endorsement, digest, _ in kept if len(prefix) >= 8 and digest.startswith(prefix)]
    if len(found) != 1:
        raise NotFoundError(f"{reference!r} names no single endorsement kept here.", hint="'ocop-stamps endorsement list' shows them.")
    return found[0]

