"""The demo's trust chain on one machine: a national root, the province's OCOP office, and a hub.

The office endorses the demo producer's key and its OCOP product; the national root lists the office; the
cooperative keeps the endorsement and publishes it with its batch to the hub, whose verifier then shows the stars as
the office attests them. Every step is the library call the matching command makes; the publication is the request
``ocop-stamps publish`` sends, handed to the hub's acceptance in this process instead of over HTTP (the demo's
verifier is not running yet). The passphrase is the demo's, never one for real keys. The folders are inside the
demo's folder, under ``chain/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from stamps.batch_record import StoredBatch
from stamps.demo import DEMO_PASSPHRASE
from stamps.instance import Instance
from stamps.roles import national, office
from stamps.roles.desk import Desk
from stamps.roles.acceptance import Acceptance, hold_trust_root
from stamps.roles.producer import import_endorsement, write_enrolment
from stamps.roles.publishing import publish
from stamps.verify import Verification



@dataclasses.dataclass(frozen=True)
class ChainDemo:
    """Where the demo's chain lives, and what it made."""

    folder: Path
    hub_root: Path
    trust_root: Path
    endorsement: Path
    office_name: str
    published: int


def run_chain_demo(cooperative_root: Path, batch: StoredBatch, stamp_url: str, base_url: str,
                   chain: dict[str, Any]) -> tuple[ChainDemo, Verification]:
    """The chain beside the demo's cooperative (*batch* is its demo batch), and the hub's verdict on *stamp_url*."""
    cooperative = Instance.open(cooperative_root)
    try:
        made = build_chain(cooperative, chain, batch.record["product"], base_url)
    finally:
        cooperative.close()
    hub = Instance.open(made.hub_root)
    try:
        return made, hub.verifier().verify(stamp_url)
    finally:
        hub.close()


def build_chain(cooperative: Instance, chain: dict[str, Any], product: dict[str, Any], base_url: str) -> ChainDemo:
    """Make the national root, the office and the hub beside *cooperative*, and endorse its producer's *product*."""
    folder = cooperative.root / "chain"
    folder.mkdir(mode=0o700)
    card, request, endorsement, trust_root = (folder / name for name in
                                              ("office-card.json", "request.json", "endorsement.json", "root.json"))
    profile = office.init_office(folder / "office", chain["office"], DEMO_PASSPHRASE, card)
    national.init_national_root(folder / "national", DEMO_PASSPHRASE)
    _sign_root(folder / "national", card, trust_root)
    producer_id = next(row["producer_id"] for row in cooperative.store.record_rows("products") if row["name"] == product["name"])
    write_enrolment(cooperative.store, producer_id, cooperative.signing_key(DEMO_PASSPHRASE), request)
    _endorse(folder / "office", request, endorsement, chain, product)
    import_endorsement(cooperative, endorsement.read_bytes(), trust_root.read_bytes())
    hub = Instance.create(folder / "hub", base_url)
    try:
        hold_trust_root(hub.store, trust_root.read_bytes())  # what 'serve --trust-root root.json' does
        acceptance = Acceptance()
        published = publish(cooperative.store, base_url,
                            send=lambda _url, body: acceptance.accept(hub.store, body, dt.datetime.now(dt.timezone.utc)))
    finally:
        hub.close()
    return ChainDemo(folder, folder / "hub", trust_root, endorsement, profile.name, sum(published.accepted.values()))


def _sign_root(root: Path, card: Path, out: Path) -> None:
    desk = Desk.open(root, national.ROLE)
    try:
        national.add_office(desk, _json(card))
        national.sign_trust_root(desk, national.national_key(desk, DEMO_PASSPHRASE), out)
    finally:
        desk.close()


def _endorse(root: Path, request: Path, out: Path, chain: dict[str, Any], product: dict[str, Any]) -> None:
    desk = Desk.open(root, office.ROLE)
    try:
        decided = dt.date.fromisoformat(product["ocop_issued"])
        item = {"name": product["name"], "certificate_no": product["ocop_certificate_no"], "stars": product["ocop_stars"],
                "level": product["ocop_level"], "decision_no": chain["decision_no"], "decision_date": decided.isoformat(),
                "valid_until": product.get("ocop_expires")}
        draft = office.draft_endorsement(desk, office.read_enrolment(_json(request)), chain["producer_ref"], [item])
        office.issue_endorsement(desk, draft, office.office_key(desk, DEMO_PASSPHRASE), out)
    finally:
        desk.close()


def _json(path: Path) -> Any:
    return json.loads(path.read_bytes())
