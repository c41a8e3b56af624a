"""The demo: a throw-away instance with example producers, one signed batch and 20 stamps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps import registry
from stamps.code import BASE32_ALPHABET
from stamps.instance import Instance
from stamps.code import IssuedCode, SerialRange
from stamps.issuance import StampSigner, allocate_serials, issue_stamps
from stamps.printing.jobs import PrintJob, parse_format
from stamps.batch_record import StoredBatch
from stamps.verify import Verification

DEMO_PASSPHRASE = b"demo passphrase - not for real keys"
DEMO_FORMATS = ("pdf", "svg", "png")
DEMO_STAMPS = 20
DATE_FIELDS = frozenset({"ocop_issued", "ocop_expires", "harvest_date", "production_date", "expiry_date", "date"})


@dataclasses.dataclass(frozen=True)
class DemoRun:
    instance_root: Path
    batch: StoredBatch
    output: Path
    genuine_url: str
    genuine: Verification
    tampered_url: str
    tampered: Verification


def demo_data(today: dt.date | None = None) -> dict[str, Any]:
    """The demo records, every date moved by the same number of days so that they read as of *today* (default: today).

    stamps/data/demo.json holds them as of its ``dates_as_of`` day: ``demo_data(today=that day)`` gives them as
    written (the golden test vectors are built from that), any other day the same story, shifted.
    """
    data = json.loads(resources.files("stamps").joinpath("data/demo.json").read_text(encoding="utf-8"))
    shift = (today or dt.date.today()) - dt.date.fromisoformat(data["dates_as_of"])
    return _dates_moved(data, shift)


def _dates_moved(value: Any, shift: dt.timedelta) -> Any:
    """*value* (parsed JSON) with the ISO date of every field named in DATE_FIELDS moved by *shift*."""
    if isinstance(value, list):
        return [_dates_moved(item, shift) for item in value]
    if not isinstance(value, dict):
        return value
    return {name: (dt.date.fromisoformat(item) + shift).isoformat() if name in DATE_FIELDS else _dates_moved(item, shift)
            for name, item in value.items()}


def run_demo(root: Path, base_url: str, today: dt.date | None = None) -> DemoRun:
    """Set up *root* as a fresh instance, sign a batch, issue 20 stamps, verify a good and a tampered code.

    The records' dates are as of *today* (default: the day it runs), so the demo verifies green whenever it runs.
    """
    instance = Instance.create(root, base_url)
    try:
        instance.generate_key(DEMO_PASSPHRASE, "Demo key (Công ty TNHH trà Phan Nhất)")
        private_key = instance.signing_key(DEMO_PASSPHRASE)
        batch = _load_records(instance, private_key, demo_data(today))
        signer = StampSigner(private_key, batch, instance.base_url)
        job = PrintJob(tuple(parse_format(name) for name in DEMO_FORMATS), batch, instance.base_url)
        written = issue_stamps(instance.store, job, signer, DEMO_STAMPS, output_dir=instance.output_dir)
        verifier = instance.verifier()
        genuine_url = signer.code(written.serials.first).url
        tampered_url = tamper(signer.code(_middle(written.serials)).url)
        return DemoRun(root, batch, written.folder, genuine_url, verifier.verify(genuine_url, today=today), tampered_url,
                       verifier.verify(tampered_url, today=today))
    finally:
        instance.close()


def _load_records(instance: Instance, private_key: Any, data: dict[str, Any]) -> StoredBatch:
    ids: dict[str, int] = {}
    for entry in data["producers"]:
        producer_id = registry.add_producer(instance.store, entry["producer"])
        for area in entry["farm_areas"]:
            ids[area["key"]] = registry.add_farm_area(instance.store, producer_id, _without_key(area))
        for product in entry["products"]:
            ids[product["key"]] = registry.add_product(instance.store, producer_id, _without_key(product))
    batch = data["batch"]
    return registry.create_batch(instance.store, private_key, ids[batch["product"]],
                                 [ids[key] for key in batch["farm_areas"]], batch["fields"])


def _without_key(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in entry.items() if name != "key"}


def _middle(serials: SerialRange) -> int:
    return serials.first + len(serials) // 2


def tamper(url: str) -> str:
    """The same URL with one character of its token changed (what a forger editing a code gets)."""
    position = len(url) - 40
    replacement = next(char for char in BASE32_ALPHABET if char != url[position])
    return url[:position] + replacement + url[position + 1:]


def create_demo_product_batch(instance: Instance, private_key: Ed25519PrivateKey, lot_code: str,
                              quantity: int) -> StoredBatch:
    """Another batch of the demo product, from the demo's farm areas, in an instance run_demo made (for benchmarks)."""
    product_id, area_ids = _demo_record_ids(instance)
    fields = {**demo_data()["batch"]["fields"], "lot_code": lot_code, "quantity": quantity}
    return registry.create_batch(instance.store, private_key, product_id, area_ids, fields)


def issue_demo_product_codes(instance: Instance, lot_code: str, quantity: int, count: int) -> tuple[StoredBatch, list[IssuedCode]]:
    """A new batch of the demo product (*quantity* units) with *count* serials recorded and signed (for benchmarks)."""
    private_key = instance.signing_key(DEMO_PASSPHRASE)
    batch = create_demo_product_batch(instance, private_key, lot_code, quantity)
    signer = StampSigner(private_key, batch, instance.base_url)
    return batch, list(signer.codes(allocate_serials(instance.store, batch, count)))


def _demo_record_ids(instance: Instance) -> tuple[int, list[int]]:
    """The ids of the demo batch's product and farm areas in *instance* (looked up by name, as run_demo stored them)."""
    data = demo_data()
    wanted_product = data["batch"]["product"]
    wanted_areas = set(data["batch"]["farm_areas"])
    product_name = next(product["name"] for entry in data["producers"] for product in entry["products"]
                        if product["key"] == wanted_product)
    area_names = {area["name"] for entry in data["producers"] for area in entry["farm_areas"] if area["key"] in wanted_areas}
    product_id = next(row["id"] for row in instance.store.record_rows("products") if row["name"] == product_name)
    area_ids = [row["id"] for row in instance.store.record_rows("farm_areas") if row["name"] in area_names]
    return product_id, area_ids
