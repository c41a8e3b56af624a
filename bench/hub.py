"""Benchmark: a hub's acceptance of publications against raw Ed25519 verification, and its scan route against a
single cooperative's, in one run. Not a test: it prints figures and ratios and exits 0 whatever they are.

Run from the repository root::

    .venv/bin/python bench/hub.py                        # 1,000 producers, 10,000 batches, 10 s per route
    .venv/bin/python bench/hub.py --producers 100 --batches 1000 --duration 3     # a quicker look

What is measured, all in one run on one machine:

1. raw verify/s: libsodium's Ed25519 verification (PyNaCl ``crypto_sign_open``) of batch records' signed bytes
   (the messages the hub checks), in this process, one thread: the baseline;
2. publications accepted/s: batch records, each read, checked against the chain (its key endorsed today, its
   producer the endorsed one), its signature checked once with libsodium and stored (batches and statements, one
   transaction per request of --request-size records), as the hub does them:
   - in this process, one thread, on an SQLite hub store (``Acceptance.accept``, what the route calls): the
     target is at least 50 % of (1), single thread against single thread;
   - over HTTP, one client at a time, to the hub served under gunicorn (the real route): for information;
3. the scan route ``/V/<TOKEN>`` of a hub holding --producers endorsed producers and --batches batch records (the
   demo producer's among them, published to it over HTTP like everyone's) against the same route of the
   single-cooperative demo instance it was copied from, over the same pool of codes, both served by ONE gunicorn
   server with the same workers (the hub mounted under /hub): the target is at least 90 %.

The load generator of (3) is bench/verifier.py's (wrk when installed, else Python threads).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from nacl.bindings import crypto_sign_open  # noqa: E402
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402

from keys.keyfile import generate_private_key, key_id, public_key_bytes  # noqa: E402
from stamps.batch_record import SignedBatchRecord, build_record  # noqa: E402
from stamps.instance import DB_NAME, Instance  # noqa: E402
from stamps.records import Batch, FarmArea, Producer, Product  # noqa: E402
from stamps.roles.acceptance import Acceptance, hold_trust_root  # noqa: E402
from stamps.store import open_store  # noqa: E402
from stamps.trust.envelope import Statement, sign  # noqa: E402
from stamps.trust.publication import request_body  # noqa: E402
from stamps.trust.root import Office, TrustRoot, make_root, sign_root  # noqa: E402
from stamps.trust.statements import EndorsedKey, EndorsedProduct, Endorsement, ProducerIdentity, timestamp  # noqa: E402
from verifier import (HOST, SCAN_ROUTE, Target, build_app, build_instance, check_route, free_port, measure,  # noqa: E402
                      python_load, start_server, stop_server, wrk_load)

TODAY = dt.date.today()
PROVINCE = "Điện Biên"
HUB_MOUNT = "/hub"
TARGET_ACCEPT_RATIO = 0.50
TARGET_SCAN_RATIO = 0.90


class Authority:
    """The national key and one province office (Điện Biên, where the demo producer is), and the trust root."""

    def __init__(self) -> None:
        self.national, self.office = generate_private_key(), generate_private_key()
        office = Office("dien-bien", "Văn phòng Điều phối NTM tỉnh Điện Biên", "province", PROVINCE,
                        (key_id(self.office.public_key()),), TODAY - dt.timedelta(days=365), TODAY + dt.timedelta(days=3650))
        self.root: TrustRoot = sign_root(make_root(national=[self.national.public_key()], offices=[(office, [self.office.public_key()])],
                                                   version=1, expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)),
                                         [self.national])

    def endorse(self, key: Ed25519PrivateKey, ref: str, producer: dict[str, Any], product: dict[str, Any]) -> Statement:
        listed = EndorsedProduct(product["name"], product["ocop_certificate_no"], product["ocop_stars"], "province",
                                 "QĐ 1/QĐ-UBND", TODAY - dt.timedelta(days=100), TODAY + dt.timedelta(days=900))
        body = Endorsement("dien-bien", ref, 1, timestamp(dt.datetime.now(dt.timezone.utc)), ProducerIdentity.of(producer),
                           (EndorsedKey(key.public_key(), TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=900)),),
                           (listed,)).body()
        return sign("endorsement", body, self.office)


class Producer_:
    """One producer of the fill: its key, records and signed batches."""

    def __init__(self, number: int, batches: int) -> None:
        self.key = generate_private_key()
        self.producer = Producer.from_input({"name": f"HTX Thử nghiệm số {number}", "kind": "cooperative",
                                             "province": PROVINCE, "commune": "xã Mường Phăng"})
        self.product = Product.from_input({"name": f"Mật ong hoa Ban {number}", "category": "Mật ong", "ocop_stars": 4,
                                           "ocop_certificate_no": f"DB-{number:05d}", "ocop_issued": (TODAY - dt.timedelta(days=100)).isoformat()})
        self.area = FarmArea.from_input({"name": f"Vùng ong {number}", "kind": "raising", "province": PROVINCE})
        self.batches = [self._signed(lot) for lot in range(batches)]

    def _signed(self, lot: int) -> SignedBatchRecord:
        batch = Batch.from_input({"lot_code": f"MO-{lot:05d}", "quantity": 1000, "production_date": (TODAY - dt.timedelta(days=10)).isoformat(),
                                  "expiry_date": (TODAY + dt.timedelta(days=700)).isoformat(),
                                  "origin_steps": [{"step": "Thu hoạch", "date": (TODAY - dt.timedelta(days=12)).isoformat(),
                                                    "place": "Mường Phăng"}]})
        record = build_record(producer=self.producer, product=self.product, farm_areas=[self.area], batch=batch,
                              key_id=key_id(self.key.public_key()), signed_at=timestamp(dt.datetime.now(dt.timezone.utc)))
        return SignedBatchRecord.sign(record, self.key)

    def endorsement(self, authority: Authority, number: int) -> Statement:
        return authority.endorse(self.key, f"HTX-{number:05d}", self.producer.to_dict(), self.product.to_dict())


# 1 and 2: verification and acceptance ---------------------------------------------------------------------------
def raw_verify_rate(records: list[SignedBatchRecord], seconds: float) -> float:
    """libsodium verifications a second of the records' signed bytes, one thread."""
    signed = [(record.signature + record.message, _PUBLIC_KEYS[record.record["key_id"]]) for record in records]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for message, public_key in signed:
            crypto_sign_open(message, public_key)
        done += len(signed)
    return done / (time.perf_counter() - started)


_PUBLIC_KEYS: dict[str, bytes] = {}  # raw public keys by key id, of the producers made


def library_accept_rate(folder: Path, authority: Authority, producer: Producer_, request_size: int) -> float:
    """Records accepted a second by Acceptance.accept on a fresh SQLite hub store, one thread."""
    store = open_store(folder / "accept.db", create=True)
    try:
        hold_trust_root(store, authority.root.canonical)
        acceptance, now = Acceptance(), dt.datetime.now(dt.timezone.utc)
        acceptance.accept(store, request_body([producer.endorsement(authority, 0).to_json()]), now)
        bodies = [request_body([record.export() for record in producer.batches[start:start + request_size]])
                  for start in range(0, len(producer.batches), request_size)]
        acceptance.accept(store, bodies[0], now)  # warm-up: the first request loads what the process has not used yet
        started = time.perf_counter()
        for body in bodies[1:]:
            assert acceptance.accept(store, body, now)["accepted"] > 0
        return (len(producer.batches) - request_size) / (time.perf_counter() - started)
    finally:
        store.close()


def post(port: int, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(f"http://{HOST}:{port}{HUB_MOUNT}/api/v1/publish", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        return json.loads(answer.read())


def fill_hub(port: int, authority: Authority, producers: list[Producer_], demo: tuple[Statement, dict[str, Any]],
             request_size: int) -> tuple[int, float]:
    """Publish every producer's endorsement and batch records (and the demo producer's) to the hub over HTTP; the
    batch records accepted and the seconds spent posting them (endorsements are posted first, apart)."""
    endorsements = [producer.endorsement(authority, number).to_json() for number, producer in enumerate(producers, 1)]
    for start in range(0, len(endorsements), request_size):
        post(port, request_body(endorsements[start:start + request_size]))
    post(port, request_body([demo[0].to_json(), demo[1]]))
    exports = [record.export() for producer in producers for record in producer.batches]
    bodies = [request_body(exports[start:start + request_size]) for start in range(0, len(exports), request_size)]
    started, accepted = time.perf_counter(), 0
    for body in bodies:
        accepted += post(port, body)["accepted"]
    return accepted, time.perf_counter() - started


# 3: the scan route ------------------------------------------------------------------------------------------------------
def demo_publication(root: Path, authority: Authority) -> tuple[Statement, dict[str, Any]]:
    """The demo producer's endorsement (its public key, from the instance) and its pool batch's export."""
    instance = Instance.open(root, read_only=True)
    try:
        pool = [batch for batch in _batches(instance) if batch.record["batch"]["lot_code"] == "BENCH-VERIFIER"][0]
        key = instance.trust.get(pool.record["key_id"])
    finally:
        instance.close()
    record = pool.record
    body = Endorsement("dien-bien", "DEMO", 1, timestamp(dt.datetime.now(dt.timezone.utc)), ProducerIdentity.of(record["producer"]),
                       (EndorsedKey(key.public_key, TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=900)),),
                       ()).body()
    return sign("endorsement", body, authority.office), pool.signed.export()


def _batches(instance: Instance) -> list[Any]:
    from stamps.registry import list_batches

    return list_batches(instance.store)


def make_hub_folder(demo_root: Path, hub_root: Path, authority: Authority) -> None:
    """The hub: a copy of the demo instance's folder with no batch of its own yet, holding the trust root."""
    shutil.copytree(demo_root, hub_root)
    (hub_root / DB_NAME).unlink()
    for extra in ("-wal", "-shm"):
        (hub_root / (DB_NAME + extra)).unlink(missing_ok=True)
    instance = Instance.create(hub_root, "https://truyxuat.example.vn")
    try:
        hold_trust_root(instance.store, authority.root.canonical)
    finally:
        instance.close()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark a hub: publications accepted against raw Ed25519 "
                                                 "verification, and its scan route against a single cooperative's.")
    parser.add_argument("--producers", type=int, default=1000, help="endorsed producers on the hub (default 1000)")
    parser.add_argument("--batches", type=int, default=10000, help="batch records on the hub, spread over them (default 10000)")
    parser.add_argument("--request-size", type=int, default=500, help="items per publish request (default 500)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="measure the scan routes this many times, median (default 1)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections for the scan routes (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--pool", type=int, default=2000, help="distinct stamp codes to scan (default 2000)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    return parser.parse_args()


def ratio_line(label: str, value: float, base: float, target: float) -> None:
    ratio = value / base if base else 0.0
    verdict = "meets" if ratio >= target else "BELOW"
    print(f"{label}: {value:,.0f}/s = {ratio:.0%} of {base:,.0f}/s ({verdict} the target of {target:.0%})")


def main() -> None:
    args = parse_arguments()
    print(f"hub benchmark: {args.producers:,} producers, {args.batches:,} batches, requests of {args.request_size}, "
          f"{args.workers} gunicorn workers, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    authority = Authority()
    per_producer = max(1, args.batches // args.producers)
    started = time.perf_counter()
    producers = [Producer_(number, per_producer) for number in range(1, args.producers + 1)]
    for producer in producers:
        _PUBLIC_KEYS[key_id(producer.key.public_key())] = public_key_bytes(producer.key.public_key())
    print(f"signed {args.producers * per_producer:,} batch records in {time.perf_counter() - started:.1f} s")
    bench_producer = Producer_(0, 5000)
    _PUBLIC_KEYS[key_id(bench_producer.key.public_key())] = public_key_bytes(bench_producer.key.public_key())
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)
    with tempfile.TemporaryDirectory(prefix="ocop-bench-hub-") as folder_text:
        folder = Path(folder_text)
        raw = raw_verify_rate(bench_producer.batches[:2000], args.duration)
        print(f"raw Ed25519 verify (libsodium crypto_sign_open, one thread): {raw:,.0f}/s")
        library = library_accept_rate(folder, authority, bench_producer, args.request_size)
        ratio_line("publications accepted in-process (Acceptance.accept, SQLite, one thread)", library, raw, TARGET_ACCEPT_RATIO)

        port = free_port()
        paths, _ = build_instance(folder / "single", f"http://{HOST}:{port}", args.pool)
        make_hub_folder(folder / "single", folder / "hub", authority)
        app = DispatcherMiddleware(build_app(folder / "single"), {HUB_MOUNT: build_app(folder / "hub")})
        child = start_server(app, port, args.workers)
        try:
            accepted, seconds = fill_hub(port, authority, producers, demo_publication(folder / "single", authority),
                                         args.request_size)
            print(f"publications accepted over HTTP (one client, requests of {args.request_size}, gunicorn): "
                  f"{accepted / seconds:,.0f}/s ({accepted:,} batch records in {seconds:.1f} s; "
                  f"{accepted / seconds / raw:.0%} of raw verify/s, for information)")
            measured = scan_routes(args, port, paths, use_wrk, folder)
        finally:
            stop_server(child)
    single, hub = measured
    print(f"scan route {SCAN_ROUTE}, single cooperative: {single.requests_per_second:,.0f}/s (p99 {single.p99_ms:.1f} ms, "
          f"{single.non_2xx + single.errors} non-2xx/errors)")
    print(f"scan route {SCAN_ROUTE}, hub of {args.producers:,} producers and {accepted + 1:,} batches: "
          f"{hub.requests_per_second:,.0f}/s (p99 {hub.p99_ms:.1f} ms, {hub.non_2xx + hub.errors} non-2xx/errors)")
    ratio_line("scan route on the hub against the single cooperative", hub.requests_per_second, single.requests_per_second,
               TARGET_SCAN_RATIO)


def scan_routes(args: argparse.Namespace, port: int, paths: list[str], use_wrk: bool, folder: Path) -> list[Any]:
    targets = [Target(SCAN_ROUTE, "single", paths), Target(SCAN_ROUTE, "hub", [HUB_MOUNT + path for path in paths])]
    for target in targets:
        check_route(port, target.paths[0])
    load = wrk_load(port, args.connections, folder) if use_wrk else python_load(port, args.connections)
    return measure(load, targets, args.duration, args.rounds)


if __name__ == "__main__":
    main()
