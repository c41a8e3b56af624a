"""An OCOP office's revocations: it withdraws one of its endorsements (by hash, hash prefix or file) or a producer
key it endorsed, with a revocation signed by its key, kept in its store and written to a file for the hub."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps import validation as v
from stamps.errors import NotFoundError, StampError, ValidationError
from stamps.roles.office import (Issued, check_records_unchanged, issued_endorsements, office_signer, records_basis,
                                    revoked, stored_statement)
from stamps.roles.desk import Desk, write_document, written_with
from stamps.trust.envelope import Statement, read, sign
from stamps.trust.statements import Revocation, timestamp


@dataclasses.dataclass(frozen=True)
class RevocationDraft:
    revocation: Revocation
    basis: int


def draft_revocation(desk: Desk, *, endorsement: str | None = None, key: str | None = None, reason: str,
                     now: dt.datetime | None = None) -> RevocationDraft:
    """A revocation of one of this office's endorsements (by hash, hash prefix or file) or of a key it endorsed."""
    if (endorsement is None) == (key is None):
        raise ValidationError("--endorsement/--key", "give exactly one of them")
    basis, issued, withdrawn = records_basis(desk), issued_endorsements(desk), revoked(desk)
    target, subject = ("endorsement", _endorsement_hash(endorsement, issued)) if endorsement else ("key", _endorsed_key(key or "", issued))
    already = (withdrawn.endorsements if target == "endorsement" else withdrawn.keys).get(subject)
    if already:
        raise StampError(f"That {target} is already revoked (revocation {already[:16]}).",
                         hint=f"Write it out again with 'ocop-stamps authority export {already[:16]}'.")
    text = v.required_text(reason, "--reason", max_length=300)
    revocation = Revocation(target, subject, text, timestamp(now or dt.datetime.now(dt.timezone.utc)))
    return RevocationDraft(revocation, basis)


def issue_revocation(desk: Desk, draft: RevocationDraft, private_key: Ed25519PrivateKey, out: Path) -> Statement:
    """Sign *draft* with the office's key, keep it in the office's store and write its envelope to *out*."""
    statement = sign("revocation", draft.revocation.body(), office_signer(desk, private_key))
    with written_with(desk.store, out):
        check_records_unchanged(desk, draft.basis)
        desk.store.add_statements([stored_statement(statement, draft.revocation.subject)])
        write_document(out, statement.canonical + b"\n")
    return statement


def _endorsement_hash(reference: str, issued: Sequence[Issued]) -> str:
    """The hash of one of the office's endorsements, named by its hash, a prefix (8+ hex digits) or its file."""
    path = Path(reference)
    if path.is_file():
        statement = read(path.read_bytes(), "endorsement")
        found = [item for item in issued if item.stored.hash == statement.hash]
    else:
        prefix = reference.strip().lower()
        found = [item for item in issued if len(prefix) >= 8 and item.stored.hash.startswith(prefix)]
    if len(found) != 1:
        raise NotFoundError(f"{reference!r} is not an endorsement this office issued.",
                            hint="Give its file or its hash ('ocop-stamps authority list' shows them).")
    return found[0].stored.hash


def _endorsed_key(reference: str, issued: Sequence[Issued]) -> str:
    prefix = reference.strip().lower()
    found = {key.key_id for item in issued for key in item.endorsement.keys if len(prefix) >= 6 and key.key_id.startswith(prefix)}
    if len(found) != 1:
        problem = "matches several keys" if found else "is not a key this office endorsed"
        raise NotFoundError(f"Key {reference!r} {problem}.", hint="'ocop-stamps authority list' shows the keys endorsed.")
    return found.pop()
