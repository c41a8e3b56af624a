"""The inspector's bundle: signed by a hub of the trust root, verified with no network, stale ones flagged, older ones
refused, every item inside checked again."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from stamps.demo import DEMO_PASSPHRASE
from stamps.errors import TrustError
from stamps.instance import Instance
from keys.keyfile import key_id
from keys.keyring import Keyring
from stamps.batch_record import SignedBatchRecord
from stamps.registry import list_batches
from stamps.roles.hub import sign_bundle
from stamps.trust.bundle import BUNDLE_KINDS, Bundle, make_bundle, read_bundle
from stamps.verify import Verifier
from stamps.trust.envelope import Statement, StoredStatement, sign
from stamps.trustroot import install_root
from stamps.trust.statements import Recall, timestamp
from stamps.verify import Result
from test_verify_chain import Hub
from trust_fixtures import PRODUCER, Chain

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture()
def hub(demo: Any) -> Iterator[Hub]:
    """The demo instance as a hub: a trust root listing a hub key, the demo producer endorsed."""
    instance = Instance.open(demo.instance_root)
    hub = Hub(instance, Chain(producer=instance.signing_key(DEMO_PASSPHRASE)), demo.batch.record)
    install_root(instance.store, hub.chain.root())
    hub.keep(hub.endorsement())
    yield hub
    instance.close()


@pytest.fixture()
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The inspector's own state folder (pinned root, newest bundle seen), private to the test."""
    folder = tmp_path / "inspector-state"
    monkeypatch.setenv("OCOP_STAMPS_STATE_DIR", str(folder))
    return folder


def signed_bundle(hub: Hub, *, now: dt.datetime = NOW, with_records: bool = False, **options: Any) -> bytes:
    store = hub.instance.store
    records = [batch.signed for batch in list_batches(store)] if with_records else []
    return make_bundle(hub.chain.root(), hub.chain.hub, store.statements(BUNDLE_KINDS), records, now=now, **options).canonical


def verifier(bundle: Bundle) -> Verifier:
    return Verifier(Keyring([]), bundle.batches.get, bundle.chain)


def test_a_bundle_alone_verifies_a_code_with_attested_stars_and_its_recall(hub: Hub, code: Callable[[int], str]) -> None:
    bundle, _ = read_bundle(signed_bundle(hub, with_records=True), hub.chain.root())
    verification = verifier(bundle).verify(code(5))
    assert verification.result is Result.GENUINE and verification.to_json()["ocop"]["attested"] is True


@pytest.mark.parametrize("signer, result", [("producer", Result.RECALLED), ("province", Result.RECALLED),
                                            ("hub", Result.GENUINE)])  # the hub's key is neither the batch's nor an office's
def test_a_recall_counts_in_a_bundle_only_when_the_batch_key_or_an_office_signed_it(
        hub: Hub, demo: Any, code: Callable[[int], str], signer: str, result: Result) -> None:
    recall = Recall(demo.batch.digest, "Sai nhãn", signer == "province", dt.date.today(), timestamp(NOW))
    hub.keep(sign("recall", recall.body(), getattr(hub.chain, signer)))
    bundle, _ = read_bundle(signed_bundle(hub, with_records=True), hub.chain.root())
    assert verifier(bundle).verify(code(5)).result is result


def test_without_records_the_bundle_proves_the_signature_but_not_the_origin(hub: Hub, code: Callable[[int], str]) -> None:
    bundle, _ = read_bundle(signed_bundle(hub), hub.chain.root())
    assert verifier(bundle).verify(code(1)).result is Result.UNKNOWN_BATCH


@pytest.mark.parametrize("change", ["flip a bit", "another hub key", "older trust root"])
def test_a_bundle_that_does_not_hold_is_refused(hub: Hub, change: str) -> None:
    data = signed_bundle(hub)
    pinned = hub.chain.root()
    if change == "flip a bit":
        document = json.loads(data)
        payload = bytearray(__import__("base64").b64decode(document["payload"]))
        payload[len(payload) // 2] ^= 0x01
        document["payload"] = __import__("base64").b64encode(bytes(payload)).decode()
        data = json.dumps(document).encode()
    elif change == "another hub key":
        data = signed_bundle(hub)
        pinned_other = Chain(hub=hub.chain.producer).root()  # a root where the hub key is another one
        with pytest.raises(TrustError):
            read_bundle(data, pinned_other)
        return
    else:
        pinned = hub.chain.root(2)
    with pytest.raises(TrustError):
        read_bundle(data, pinned)


def test_the_hub_serves_the_newest_bundle_it_was_given(hub: Hub, apps: Any) -> None:
    client = apps().test_client()
    assert client.get("/api/v1/bundle").status_code == 404
    sign_bundle(hub.instance.store, hub.chain.hub, now=NOW - dt.timedelta(hours=1))
    sign_bundle(hub.instance.store, hub.chain.hub, now=NOW, with_records=True)
    answer = client.get("/api/v1/bundle")
    assert answer.status_code == 200 and answer.get_data() == hub.instance.store.bundle("").encode()
    assert read_bundle(answer.get_data(), hub.chain.root())[0].as_of == timestamp(NOW)


# --- the inspector's CLI -----------------------------------------------------------------------------------------------

def run_cli(*args: str, network: bool = True) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli", *args]
    if not network:
        if not shutil.which("unshare") or subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode:
            if os.environ.get("OCOP_REQUIRE_TOOLS") == "1":
                pytest.fail("OCOP_REQUIRE_TOOLS=1 but 'unshare -rn' (a process without network) is not available")
            pytest.skip("'unshare -rn' (a process without network) is not available here")
        command = ["unshare", "-rn", *command]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ.copy(), timeout=120)


def files(tmp_path: Path, hub: Hub, **options: Any) -> tuple[Path, Path]:
    bundle, root = tmp_path / "bundle.json", tmp_path / "root.json"
    bundle.write_bytes(signed_bundle(hub, **options))
    root.write_bytes(hub.chain.root().canonical)
    return bundle, root


def test_an_inspector_verifies_with_the_network_switched_off(hub: Hub, code: Callable[[int], str], tmp_path: Path,
                                                            state: Path) -> None:
    bundle, root = files(tmp_path, hub, with_records=True)
    first = run_cli("verify", "--bundle", str(bundle), "--trust-root", str(root), "--json", code(7), network=False)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["result"] == "genuine" and answer["ocop"]["office"]["id"] == "dien-bien"
    assert answer["bundle"]["stale"] is False and answer["bundle"]["hub"] == "hub-dien-bien"
    again = run_cli("verify", "--bundle", str(bundle), code(7), network=False)  # the trust root is pinned now
    assert again.returncode == 0 and "Bundle from hub-dien-bien" in again.stdout


def test_a_stale_bundle_is_flagged_with_its_date_and_an_older_one_refused(hub: Hub, code: Callable[[int], str],
                                                                         tmp_path: Path, state: Path) -> None:
    old = NOW - dt.timedelta(days=10)
    bundle, root = files(tmp_path, hub, with_records=True, now=old)
    stale = run_cli("verify", "--bundle", str(bundle), "--trust-root", str(root), code(7))
    assert stale.returncode == 3 and f"expired on {timestamp(old + dt.timedelta(days=7))}" in stale.stdout
    newer = tmp_path / "newer.json"
    newer.write_bytes(signed_bundle(hub, with_records=True))
    assert run_cli("verify", "--bundle", str(newer), code(7)).returncode == 0
    refused = run_cli("verify", "--bundle", str(bundle), code(7))
    assert refused.returncode == 1 and "older than one already seen" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr


def test_without_a_pinned_trust_root_the_inspector_is_told_how_to_give_one(hub: Hub, code: Callable[[int], str],
                                                                          tmp_path: Path, state: Path) -> None:
    bundle, _ = files(tmp_path, hub)
    result = run_cli("verify", "--bundle", str(bundle), code(1))
    assert result.returncode == 1 and "--trust-root" in result.stderr and "Traceback" not in result.stderr


def test_bundle_fetch_downloads_checks_and_saves_from_a_running_hub(hub: Hub, demo: Any, tmp_path: Path,
                                                                    state: Path, code: Callable[[int], str]) -> None:
    from test_cli import free_port
    from verify_server.background import stop_verifier, wait_until_ready
    sign_bundle(hub.instance.store, hub.chain.hub, now=NOW, with_records=True)
    root = tmp_path / "root.json"
    root.write_bytes(hub.chain.root().canonical)
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "cli", "--instance", str(demo.instance_root), "serve", "--port",
                              str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", child.poll)
        out = tmp_path / "fetched.json"
        fetched = run_cli("bundle", "fetch", "--hub", f"http://127.0.0.1:{port}", "--out", str(out), "--trust-root", str(root))
        assert fetched.returncode == 0, fetched.stderr
        assert out.read_bytes() == hub.instance.store.bundle("").encode()
        missing = run_cli("bundle", "fetch", "--hub", f"http://127.0.0.1:{port}", "--province", "Quảng Ninh", "--out",
                          str(tmp_path / "none.json"))
        assert missing.returncode == 1 and "404" in missing.stderr and not (tmp_path / "none.json").exists()
    finally:
        stop_verifier(child)
    assert run_cli("verify", "--bundle", str(out), code(2), network=False).returncode == 0


def test_bundle_sign_signs_with_the_instance_key_only_when_the_trust_root_lists_it_as_a_hub(
        demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCOP_STAMPS_PASSPHRASE", DEMO_PASSPHRASE.decode())
    instance = Instance.open(demo.instance_root)
    key = instance.signing_key(DEMO_PASSPHRASE)
    install_root(instance.store, Chain().root())  # its hub key is another one
    instance.close()
    refused = run_cli("--instance", str(demo.instance_root), "bundle", "sign")
    assert refused.returncode == 1 and "is not a hub key" in refused.stderr and "Traceback" not in refused.stderr
    instance = Instance.open(demo.instance_root)
    install_root(instance.store, Chain(hub=key).root(2))
    instance.close()
    signed = run_cli("--instance", str(demo.instance_root), "bundle", "sign", "--with-records", "--valid-days", "3")
    assert signed.returncode == 0, signed.stderr
    assert "1 batch records" in signed.stdout


# --- a bundle's own values, each in its one form (no instance needed) ---------------------------------------------

def chain_bundle_body(chain: Chain) -> dict[str, Any]:
    """The body of a genuine bundle of *chain*'s endorsement, as its hub signs it."""
    endorsement = chain.endorsement()
    stored = [StoredStatement(endorsement.hash, "endorsement", endorsement.signer, "", 1, endorsement.canonical.decode(), 1)]
    return make_bundle(chain.root(), chain.hub, stored, [], now=NOW).body


@pytest.mark.parametrize("change", [
    {"as_of": "yesterday"}, {"as_of": "2026-12-01 08:00:00"}, {"expires": "9999"}, {"expires": "2026-02-30T00:00:00Z"},
    {"province": 5}, {"province": " Điện Biên"}, {"province": "x" * 101},
], ids=["as-of-words", "as-of-with-a-space", "expires-a-year", "expires-not-a-day", "province-a-number",
        "province-not-trimmed", "province-too-long"])
def test_a_hub_signed_bundle_whose_times_or_province_are_not_in_their_form_is_malformed(change: dict[str, Any]) -> None:
    """as_of and expires are compared as text (freshness, staleness): a time in any other form would break that order."""
    chain = Chain()
    body = chain_bundle_body(chain)
    assert read_bundle(sign("bundle", body, chain.hub).canonical, chain.root())[0].as_of == timestamp(NOW)
    with pytest.raises(TrustError) as refused:
        read_bundle(sign("bundle", {**body, **change}, chain.hub).canonical, chain.root())
    assert refused.value.code == "malformed"


def test_a_bundle_statement_given_as_its_text_is_malformed() -> None:
    """An item of statements is an envelope object, in one form; its text inside a string is another form."""
    chain = Chain()
    body = chain_bundle_body(chain)
    as_text = {**body, "statements": [json.dumps(item) for item in body["statements"]]}
    with pytest.raises(TrustError) as refused:
        read_bundle(sign("bundle", as_text, chain.hub).canonical, chain.root())
    assert refused.value.code == "malformed"


def recalls_bundle(chain: Chain, *recalls: Statement) -> Bundle:
    """A bundle of *chain*'s endorsement, one batch record of its producer's key, and *recalls* in that order."""
    record = SignedBatchRecord.sign({"key_id": key_id(chain.producer.public_key()), "producer": PRODUCER}, chain.producer)
    statements = [chain.endorsement(), *recalls]
    stored = [StoredStatement(s.hash, s.kind, s.signer, "", 1, s.canonical.decode(), seq) for seq, s in enumerate(statements, 1)]
    bundle, _ = read_bundle(make_bundle(chain.root(), chain.hub, stored, [record], now=NOW).canonical, chain.root())
    return bundle


def a_recall(chain: Chain, signer: str, reason: str, *, mandatory: bool = False, body: dict[str, Any] | None = None) -> Statement:
    record = SignedBatchRecord.sign({"key_id": key_id(chain.producer.public_key()), "producer": PRODUCER}, chain.producer)
    recall = Recall(record.digest.hex(), reason, mandatory, dt.date(2026, 12, 1), "2026-12-01T08:00:00Z")
    return sign("recall", {**recall.body(), **(body or {})}, getattr(chain, signer))


def test_an_offices_mandatory_recall_is_not_replaced_by_a_later_voluntary_one() -> None:
    """A batch keeps its first recall that holds; only a mandatory one takes the place of a voluntary one (the producer
    cannot turn an office's order into its own voluntary recall by publishing one after it)."""
    chain = Chain()
    ordered, own = a_recall(chain, "province", "Vượt ngưỡng", mandatory=True), a_recall(chain, "producer", "Tự thu hồi")
    for recalls in ((ordered, own), (own, ordered)):
        (batch,) = recalls_bundle(chain, *recalls).batches.values()
        assert batch.recall == {"kind": "mandatory", "reason": "Vượt ngưỡng", "recalled_on": "2026-12-01"}
    (batch,) = recalls_bundle(chain, own, a_recall(chain, "producer", "Lần hai")).batches.values()
    assert batch.recall is not None and batch.recall["reason"] == "Tự thu hồi"


def test_a_recall_whose_body_is_malformed_is_left_out_like_any_that_does_not_hold() -> None:
    """One bad item does not make the whole bundle unreadable (an inspector would have no bundle at all)."""
    chain = Chain()
    (batch,) = recalls_bundle(chain, a_recall(chain, "producer", "Sai", body={"recalled_on": "2026-02-30"})).batches.values()
    assert batch.recall is None


def test_a_batch_record_that_is_not_an_object_is_malformed_not_a_crash() -> None:
    """Canonical JSON of an array passes the export's own checks; a recall of it made the reader fail with AttributeError."""
    chain = Chain()
    record = SignedBatchRecord.sign(["not", "an", "object"], chain.producer)  # type: ignore[arg-type]
    recall = sign("recall", Recall(record.digest.hex(), "Sai", False, dt.date(2026, 12, 1), "2026-12-01T00:00:00Z").body(),
                  chain.producer)
    stored = [StoredStatement(s.hash, s.kind, s.signer, "", 1, s.canonical.decode(), seq)
              for seq, s in enumerate([chain.endorsement(), recall], 1)]
    with pytest.raises(TrustError) as refused:
        read_bundle(make_bundle(chain.root(), chain.hub, stored, [record], now=NOW).canonical, chain.root())
    assert refused.value.code == "malformed"


def test_a_provinces_bundles_and_the_every_province_bundles_are_separate_sequences(hub: Hub, state: Path) -> None:
    """A hub signs each scope at its own times: a newer province bundle does not make the every-province one 'older'."""
    from stamps.roles.inspector import open_bundle
    root = hub.chain.root().canonical
    everything = signed_bundle(hub, now=NOW - dt.timedelta(hours=2))
    province = signed_bundle(hub, now=NOW, province="Điện Biên")
    open_bundle(province, trust_root=root, now=NOW)
    assert open_bundle(everything, trust_root=None, now=NOW).bundle.province is None
    with pytest.raises(TrustError) as refused:
        open_bundle(signed_bundle(hub, now=NOW - dt.timedelta(hours=3), province="Điện Biên"), trust_root=None, now=NOW)
    assert refused.value.code == "rollback"


def test_bundle_sign_takes_its_key_from_another_instance(demo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub key can live in another instance folder (another machine, a USB stick), not in the verifier's."""
    monkeypatch.setenv("OCOP_STAMPS_PASSPHRASE", DEMO_PASSPHRASE.decode())
    keys = tmp_path / "hub-key"
    assert run_cli("--instance", str(keys), "init", "--base-url", "https://truyxuat.example.vn").returncode == 0
    assert run_cli("--instance", str(keys), "keys", "generate", "--label", "Hub key").returncode == 0
    key_instance = Instance.open(keys)
    hub_key = key_instance.signing_key(DEMO_PASSPHRASE)
    key_instance.close()
    instance = Instance.open(demo.instance_root)
    install_root(instance.store, Chain(hub=hub_key).root())
    instance.close()
    signed = run_cli("--instance", str(demo.instance_root), "bundle", "sign", "--key-instance", str(keys))
    assert signed.returncode == 0, signed.stderr
