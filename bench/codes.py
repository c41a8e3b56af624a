"""Benchmark: issuing and verifying stamp codes, against the fastest raw Ed25519 on this machine.

Run from the repository root::

    .venv/bin/python bench/codes.py            # 100,000 codes, 20,000 verifications, 3 rounds
    .venv/bin/python bench/codes.py --quick    # 10,000 codes, 2,000 verifications (smoke run)

The baseline of each ratio is the fastest raw Ed25519 primitive available in
the same run: OpenSSL's (through `cryptography`) and libsodium's (through
PyNaCl) are both timed on the same messages every round, and the faster one
is the limit the project is held to (the verifier checks stamps with
libsodium, which is about twice as fast here, so an OpenSSL baseline would
flatter it). Each round times the baselines and the project path back to back
(their order alternating between rounds), so machine noise hits both; the
table shows median rates, which primitive was fastest, and the median of the
per-round ratios. It is a report: the exit status is 0 whatever the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair

from keys.keyfile import key_hint, private_key_seed
from stamps import registry
from stamps.code import STAMP_TAG, decode_token, header_bytes
from stamps.demo import demo_data
from stamps.instance import Instance
from stamps.issuance import StampSigner, allocate_serials
from stamps.batch_record import StoredBatch
from stamps.url import extract_token
from stamps.verify import Result, Verifier

BASE_URL = "https://truyxuat.example.vn"
TARGET = 0.50
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Setup:
    """A throw-away instance with a signing key, one producer, one product and one farm area."""

    instance: Instance
    key: Ed25519PrivateKey
    product_id: int
    area_id: int


@dataclasses.dataclass
class Series:
    """Per-round rates (operations per second) of one baseline/project pair."""

    name: str
    baseline: list[float] = dataclasses.field(default_factory=list)
    project: list[float] = dataclasses.field(default_factory=list)
    fastest: list[str] = dataclasses.field(default_factory=list)  # which primitive set each round's baseline

    def ratio(self) -> float:
        return statistics.median(p / b for p, b in zip(self.project, self.baseline))


# setup ------------------------------------------------------------------


def open_setup(root: Path) -> Setup:
    instance = Instance.create(root, BASE_URL)
    instance.generate_key(None, "bench key (throw-away)")
    entry = demo_data()["producers"][0]
    producer_id = registry.add_producer(instance.store, entry["producer"])
    area_id = registry.add_farm_area(instance.store, producer_id, _without_key(entry["farm_areas"][0]))
    product_id = registry.add_product(instance.store, producer_id, _without_key(entry["products"][0]))
    return Setup(instance, instance.signing_key(None), product_id, area_id)


def _without_key(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in entry.items() if name != "key"}


def new_batch(setup: Setup, quantity: int, number: int) -> StoredBatch:
    """A fresh signed batch of *quantity* units (one per round, so each round issues from serial 1)."""
    fields = {**demo_data()["batch"]["fields"], "lot_code": f"BENCH-{number:03d}", "quantity": quantity}
    return registry.create_batch(setup.instance.store, setup.key, setup.product_id, [setup.area_id], fields)


def stamp_messages(key: Ed25519PrivateKey, batch: StoredBatch, count: int) -> list[bytes]:
    """The 28-byte messages the project signs (STAMP_TAG + header) for serials 1..count."""
    hint, prefix = key_hint(key.public_key()), batch.signed.digest_prefix
    return [STAMP_TAG + header_bytes(hint, prefix, serial) for serial in range(1, count + 1)]


def signature_pairs(urls: list[str]) -> list[tuple[bytes, bytes]]:
    """(signature, signed message) of each stamp URL, for the raw verify baseline."""
    stamps = [decode_token(extract_token(url)) for url in urls]
    return [(stamp.signature, stamp.signing_bytes()) for stamp in stamps]


def sample(items: list[str], size: int) -> list[str]:
    """*size* items spread evenly over *items*."""
    step = max(1, len(items) // size)
    return items[::step][:size]


# the timed work ---------------------------------------------------------


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def raw_sign(key: Ed25519PrivateKey, messages: list[bytes]) -> list[bytes]:
    sign = key.sign
    return [sign(message) for message in messages]


def sodium_keys(key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    """The same key pair in libsodium's form: (32-byte public key, 64-byte secret key)."""
    public, secret = crypto_sign_seed_keypair(private_key_seed(key))
    return public, secret


def raw_sign_sodium(secret: bytes, messages: list[bytes]) -> list[bytes]:
    return [crypto_sign(message, secret)[:64] for message in messages]


def project_issue(setup: Setup, batch: StoredBatch, count: int) -> list[str]:
    """What `issue` does before writing files: record the serials, then sign every code."""
    serials = allocate_serials(setup.instance.store, batch, count)
    signer = StampSigner(setup.key, batch, setup.instance.base_url)
    return [issued.url for issued in signer.codes(serials)]


def raw_verify(public_key: Ed25519PublicKey, pairs: list[tuple[bytes, bytes]]) -> None:
    verify = public_key.verify
    for signature, message in pairs:
        verify(signature, message)


def raw_verify_sodium(public: bytes, pairs: list[tuple[bytes, bytes]]) -> None:
    for signature, message in pairs:
        crypto_sign_open(signature + message, public)


def make_verifier(instance: Instance) -> Verifier:
    """The verifier exactly as cli.py's `verify` builds it."""
    return instance.verifier()


def project_verify(verifier: Verifier, urls: list[str]) -> list[Result]:
    return [verifier.verify(url).result for url in urls]


# rounds -----------------------------------------------------------------


def paired(series: Series, count: int, baselines: dict[str, Callable[[], object]], project: Callable[[], T],
           flip: bool) -> T:
    """Time every baseline and the project once each (project first when *flip*); record the project's rate and the
    fastest baseline's."""
    if flip:
        project_time, result = timed(project)
        baseline_times = {name: timed(work)[0] for name, work in baselines.items()}
    else:
        baseline_times = {name: timed(work)[0] for name, work in baselines.items()}
        project_time, result = timed(project)
    fastest = min(baseline_times, key=baseline_times.__getitem__)
    series.baseline.append(count / baseline_times[fastest])
    series.fastest.append(fastest)
    series.project.append(count / project_time)
    return result


def run_round(setup: Setup, number: int, codes: int, checks: int, signing: Series, verifying: Series) -> None:
    batch = new_batch(setup, codes, number)
    messages = stamp_messages(setup.key, batch, codes)
    flip = number % 2 == 1
    public, secret = sodium_keys(setup.key)
    urls = paired(signing, codes, {"OpenSSL": lambda: raw_sign(setup.key, messages),
                                   "libsodium": lambda: raw_sign_sodium(secret, messages)},
                  lambda: project_issue(setup, batch, codes), flip)
    chosen = sample(urls, checks)
    pairs, verifier = signature_pairs(chosen), make_verifier(setup.instance)
    results = paired(verifying, checks, {"OpenSSL": lambda: raw_verify(setup.key.public_key(), pairs),
                                         "libsodium": lambda: raw_verify_sodium(public, pairs)},
                     lambda: project_verify(verifier, chosen), flip)
    if set(results) != {Result.GENUINE}:
        raise SystemExit(f"round {number}: expected only genuine results, got {sorted(set(results))}")


# report -----------------------------------------------------------------


def report(codes: int, checks: int, rounds: int, rows: list[Series]) -> None:
    print(f"{codes:,} codes issued, {checks:,} verified; median of {rounds} interleaved rounds\n")
    print(f"{'path':<34}{'fastest raw/s':>15}{'(by)':>11}{'project/s':>12}{'ratio':>8}{'target':>8}  result")
    for row in rows:
        ratio = row.ratio()
        verdict = "PASS" if ratio >= TARGET else "FAIL"
        fastest = max(set(row.fastest), key=row.fastest.count)
        print(f"{row.name:<34}{statistics.median(row.baseline):>15,.0f}{fastest:>11}{statistics.median(row.project):>12,.0f}"
              f"{ratio:>8.1%}{TARGET:>8.0%}  {verdict}")
    print("\nper-round ratios: " + "; ".join(
        f"{row.name.split(' ')[0]} " + ", ".join(f"{p / b:.1%}" for p, b in zip(row.project, row.baseline))
        for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark stamp-code issuance and verification against raw Ed25519.")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10,000 codes, 2,000 verifications")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    args = parser.parse_args()
    codes, checks = (10_000, 2_000) if args.quick else (100_000, 20_000)
    signing = Series("issue (allocate + sign + URL)")
    verifying = Series("verify (Verifier, store lookup)")
    with tempfile.TemporaryDirectory(prefix="ocop-bench-") as folder:
        setup = open_setup(Path(folder) / "instance")
        try:
            for number in range(args.rounds):
                run_round(setup, number, codes, checks, signing, verifying)
        finally:
            setup.instance.close()
    report(codes, checks, args.rounds, [signing, verifying])


if __name__ == "__main__":
    main()
