"""The hub, as real processes: ``ocop-stamps serve --trust-root`` on 127.0.0.1 (SQLite, and PostgreSQL when
$OCOP_STAMPS_TEST_POSTGRES is set), the CLI publishing to it, and each of the hub's refusals over HTTP."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli import cli as ocop_cli
from keys.keyfile import generate_private_key, key_id
from stamps.batch_record import SignedBatchRecord, StoredBatch
from stamps.issuance import StampSigner
from stamps.demo import DEMO_PASSPHRASE, DemoRun
from stamps.instance import Instance
from stamps.store import open_store
from stamps.trust.envelope import Statement, StoredStatement, sign
from stamps.trust.publication import REJECTIONS, request_body
from stamps.trust.statements import (EndorsedKey, EndorsedProduct, Endorsement, Enrolment, ProducerIdentity, Recall,
                                     Revocation, timestamp)
from stamps.trustroot import install_root
from store_engines import ENGINES, PRODUCER, Locations, signed_batch
from trust_fixtures import Chain, seed_key
from verify_server.background import stop_verifier, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
NOW = dt.datetime.now(dt.timezone.utc)
pytestmark = pytest.mark.skipif(os.name == "nt", reason="the hub runs under gunicorn, which does not run on Windows")


# the hub as a process -------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass
class Hub:
    """A hub process: its instance folder, its database (None: the folder's SQLite file), its address."""

    folder: Path
    database: str | None
    port: int
    child: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, trust_root: Path | None) -> None:
        command = [sys.executable, "-m", "cli", "--instance", str(self.folder), *self.database_option, "serve",
                   "--port", str(self.port), "--workers", "1", "--rate-limit", "0", "--no-access-log"]
        command += ["--trust-root", str(trust_root)] if trust_root else []
        with open(self.folder.parent / f"hub-{self.port}.log", "ab") as log:
            self.child = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log)
        wait_until_ready(f"{self.url}/healthz", self.child.poll)

    def stop(self) -> None:
        if self.child is not None:
            stop_verifier(self.child)

    @property
    def database_option(self) -> list[str]:
        return ["--database", self.database] if self.database else []

    def post(self, body: bytes) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(f"{self.url}/api/v1/publish", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def publish(self, *items: Statement | SignedBatchRecord | dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.post(request_body([document(item) for item in items]))

    def verify(self, code: str) -> dict[str, Any]:
        query = urllib.parse.urlencode({"code": code})
        with urllib.request.urlopen(f"{self.url}/api/v1/verify?{query}", timeout=30) as answer:
            return json.loads(answer.read())


def document(item: Statement | SignedBatchRecord | dict[str, Any]) -> dict[str, Any]:
    if isinstance(item, Statement):
        return item.to_json()
    if isinstance(item, SignedBatchRecord):
        return item.export()
    return item


def make_hub(folder: Path, database: str | None) -> Hub:
    """An initialised hub instance (no key: a verifier needs none) on a free port, not started."""
    run_cli("init", "--base-url", "https://truyxuat.example.vn", instance=folder, database=database, check=True)
    return Hub(folder, database, free_port())


def write_root(folder: Path, chain: Chain, version: int = 1) -> Path:
    path = folder / f"root-v{version}.json"
    path.write_bytes(chain.root(version).canonical)
    return path


@pytest.fixture(scope="module", params=ENGINES)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub per store engine for the module, started with the test chain's trust root."""
    folder = tmp_path_factory.mktemp(f"hub-{request.param}")
    locations = Locations(folder)
    try:
        database = None if request.param == "sqlite" else str(locations.new("postgresql"))
        running = make_hub(folder / "hub", database)
        running.start(write_root(folder, Chain()))
        yield running
        running.stop()
    finally:
        locations.remove()


# the CLI ----------------------------------------------------------------------------------------------------------------
def run_cli(*arguments: str, instance: Path, database: str | None = None, check: bool = False) -> Result:
    options = ["--instance", str(instance)] + (["--database", database] if database else [])
    result = CliRunner().invoke(ocop_cli, [*options, *arguments],
                                env={"OCOP_STAMPS_HOME": None, "OCOP_STAMPS_DATABASE": None,
                                     "OCOP_STAMPS_PASSPHRASE": DEMO_PASSPHRASE.decode()})
    if check:
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output} {result.exception!r}"
    return result


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0 and "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


# statements the tests publish ---------------------------------------------------------------------------------------------
def endorsement(key: Ed25519PrivateKey, ref: str, *, producer: dict[str, Any] = PRODUCER, version: int = 1,
                office: Ed25519PrivateKey | None = None, office_id: str = "dien-bien", stars: int = 4,
                key_until: dt.date = TODAY + dt.timedelta(days=700),
                product: tuple[str, str] = ("Trà San tuyết", "DB-2024-0114")) -> Statement:
    """An office's endorsement of *key* for producer reference *ref*, valid from a month ago (the province office's)."""
    listed = EndorsedProduct(*product, stars, "national" if stars == 5 else "province", "QĐ 1234/QĐ-UBND",
                             TODAY - dt.timedelta(days=300), TODAY + dt.timedelta(days=700))
    body = Endorsement(office_id, ref, version, timestamp(NOW), ProducerIdentity.of(producer),
                       (EndorsedKey(key.public_key(), TODAY - dt.timedelta(days=30), key_until),), (listed,)).body()
    return sign("endorsement", body, office or Chain().province)


def self_revocation(key: Ed25519PrivateKey) -> Statement:
    return sign("revocation", Revocation("key", key_id(key.public_key()), "Mất máy tính", timestamp(NOW)).body(), key)


def recall(batch: SignedBatchRecord, signer: Ed25519PrivateKey, *, mandatory: bool = False) -> Statement:
    return sign("recall", Recall(batch.digest.hex(), "Lỗi bao bì", mandatory, TODAY, timestamp(NOW)).body(), signer)


def keep_endorsement(root: Path, statement: Statement) -> None:
    """Put an office's endorsement into a producer instance's store (what 'endorsement import' does)."""
    instance = Instance.open(root)
    try:
        subject = Endorsement.read(statement).subject
        instance.store.add_statements([StoredStatement(statement.hash, "endorsement", statement.signer, subject, 1,
                                                       statement.canonical.decode())])
    finally:
        instance.close()


def demo_endorsement(demo: DemoRun) -> Statement:
    instance = Instance.open(demo.instance_root)
    try:
        key = instance.signing_key(DEMO_PASSPHRASE)
    finally:
        instance.close()
    record = demo.batch.record
    return endorsement(key, "PHAN-NHAT", producer=record["producer"],
                       product=(record["product"]["name"], record["product"]["ocop_certificate_no"]))


def demo_code(demo: DemoRun, serial: int) -> str:
    lines = (demo.output / "codes.csv").read_text(encoding="utf-8").splitlines()
    return lines[serial].split(",")[1]


# publishing with the CLI ------------------------------------------------------------------------------------------------
def test_a_producer_publishes_with_the_cli_and_a_shopper_scans_at_the_hub(hub: Hub, demo: DemoRun) -> None:
    producer = demo.instance_root
    code = demo_code(demo, 1)
    assert hub.verify(code)["result"] == "unknown_issuer"
    keep_endorsement(producer, demo_endorsement(demo))

    first = run_cli("publish", "--hub", hub.url + "/", instance=producer, check=True)
    assert f"Published to {hub.url}: 1 endorsement, 1 batch record." in first.stdout
    answer = hub.verify(code)
    assert answer["result"] == "genuine" and answer["ocop"]["attested"] is True

    again = run_cli("publish", instance=producer, check=True)  # the hub is remembered
    assert "Nothing new to publish" in again.stdout

    run_cli("recall", demo.batch.digest, "--reason", "Lô hàng lỗi", instance=producer, check=True)
    assert "1 recall." in run_cli("publish", instance=producer, check=True).stdout
    assert hub.verify(code)["result"] == "recalled"

    run_cli("revoke", demo.batch.record["key_id"], "--reason", "Lộ khóa", instance=producer, check=True)
    assert "1 revocation." in run_cli("publish", instance=producer, check=True).stdout
    assert hub.verify(demo_code(demo, 2))["result"] == "revoked_key"


def test_an_offices_revocation_file_published_is_seen_on_the_next_scan(hub: Hub, demo: DemoRun, tmp_path: Path) -> None:
    key = generate_private_key()
    endorsed, batch = endorsement(key, "OFFICE-REVOKES"), signed_batch(key, "OFFICE-REVOKES")
    assert hub.publish(endorsed, batch)[0] == 200
    code = StampSigner(key, StoredBatch(batch, "local", 0, None), "https://truyxuat.example.vn").code(1).url
    assert hub.verify(code)["result"] == "genuine"
    withdrawal = tmp_path / "revocation.json"
    withdrawal.write_bytes(sign("revocation", Revocation("endorsement", endorsed.hash, "Không còn đủ điều kiện",
                                                         timestamp(NOW)).body(), Chain().province).canonical)
    published = run_cli("publish", "--hub", hub.url, str(withdrawal), instance=demo.instance_root, check=True)
    assert "1 revocation." in published.stdout
    assert hub.verify(code)["result"] == "revoked_key"


def test_issue_warns_until_the_batch_has_reached_the_hub(hub: Hub, demo: DemoRun, tmp_path: Path) -> None:
    producer = demo.instance_root
    keep_endorsement(producer, demo_endorsement(demo))
    issue = ["issue", demo.batch.digest[:16], "--count", "1", "--format", "csv"]
    assert "hub" not in run_cli(*issue, "--out", str(tmp_path / "a"), instance=producer, check=True).stderr  # no hub set

    offline = f"http://127.0.0.1:{free_port()}"
    assert "saved in the outbox" in one_line_error(run_cli("publish", "--hub", offline, instance=producer))
    warned = [line for line in run_cli(*issue, "--out", str(tmp_path / "b"), instance=producer, check=True).stderr.splitlines()
              if "Warning" in line]
    assert len(warned) == 1 and re.fullmatch(rf"Warning: Batch {demo.batch.digest[:16]} has not reached the hub {offline} "
                                             r"yet: .*'ocop-stamps publish'.*", warned[0])

    run_cli("publish", "--hub", hub.url, instance=producer, check=True)
    assert "Warning" not in run_cli(*issue, "--out", str(tmp_path / "c"), instance=producer, check=True).stderr


def test_a_publish_with_the_hub_down_keeps_the_outbox_and_succeeds_later(demo: DemoRun, tmp_path: Path) -> None:
    producer = demo.instance_root
    keep_endorsement(producer, demo_endorsement(demo))
    later = make_hub(tmp_path / "hub", None)

    down = one_line_error(run_cli("publish", "--hub", later.url, instance=producer))
    assert f"Could not reach the hub at {later.url}" in down and "2 item(s) saved in the outbox" in down
    later.start(write_root(tmp_path, Chain()))
    try:
        assert f"Published to {later.url}: 1 endorsement, 1 batch record." in run_cli("publish", instance=producer,
                                                                                        check=True).stdout
        assert later.verify(demo_code(demo, 3))["result"] == "genuine"
    finally:
        later.stop()


def test_a_retry_after_a_lost_answer_succeeds_and_the_hub_answers_held(hub: Hub, tmp_path: Path) -> None:
    """The hub kept the request but its answer never arrived: the items stay in the outbox, and sent again they are
    answered 'held' (nothing kept twice)."""
    from stamps.roles.publishing import HubUnreachable, post_request, publish

    store = open_store(tmp_path / "producer.db", create=True)
    key = generate_private_key()
    store.add_statements([stored(endorsement(key, "RETRY"))])
    records = [signed_batch(key, f"RETRY-{number}") for number in range(3)]
    store.insert_batches(records, "local")

    def lost_answer(url: str, body: bytes) -> dict[str, Any]:
        post_request(url, body)
        raise HubUnreachable("The connection was reset")

    with pytest.raises(HubUnreachable, match="4 item"):
        publish(store, hub.url, send=lost_answer)
    assert not store.published(hub.url)
    report = publish(store, hub.url)
    assert (report.accepted, report.held) == ({}, 4)
    assert "Nothing new" in publish(store, hub.url).summary()
    store.close()


def stored(statement: Statement) -> StoredStatement:
    return StoredStatement(statement.hash, statement.kind, statement.signer, Endorsement.read(statement).subject, 1,
                           statement.canonical.decode())


# the hub's refusals, one by one ------------------------------------------------------------------------------------------
Case = Callable[[Hub], tuple[list[Any], int]]  # the request's items, and the index of the item refused


def _bad_record_signature(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    batch = signed_batch(key, "BAD-SIG")
    return [endorsement(key, "BAD-SIG"), SignedBatchRecord(batch.canonical, bytes(64))], 1


def _bad_statement_signature(hub: Hub) -> tuple[list[Any], int]:
    envelope = endorsement(generate_private_key(), "BAD-SIG-2").to_json()
    signature = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    signature[5] ^= 1
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(signature)).decode()
    return [envelope], 0


def _key_revoked(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    return [endorsement(key, "REVOKED"), self_revocation(key), signed_batch(key, "REVOKED")], 2


def _endorsement_revoked(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    endorsed = endorsement(key, "WITHDRAWN")
    withdrawal = sign("revocation", Revocation("endorsement", endorsed.hash, "Hết hiệu lực", timestamp(NOW)).body(),
                      Chain().province)
    return [endorsed, withdrawal, signed_batch(key, "WITHDRAWN")], 2


def province_key_revocation(key: Ed25519PrivateKey) -> Statement:
    return sign("revocation", Revocation("key", key_id(key.public_key()), "Khóa bị lộ", timestamp(NOW)).body(), Chain().province)


def _key_withdrawn_by_its_only_office(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    return [endorsement(key, "WITHDRAWN-KEY"), province_key_revocation(key), signed_batch(key, "WITHDRAWN-KEY")], 2


def _endorsement_expired(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    return [endorsement(key, "LAPSED", key_until=TODAY - dt.timedelta(days=1)), signed_batch(key, "LAPSED")], 1


def _producer_mismatch(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    other = {**PRODUCER, "name": "HTX Khác"}
    return [endorsement(key, "OTHER", producer=other), signed_batch(key, "OTHER")], 1


def _replayed(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    assert hub.publish(endorsement(key, "REPLAY", version=2))[0] == 200
    return [endorsement(key, "REPLAY", version=1)], 0


def _prefix_taken(hub: Hub) -> tuple[list[Any], int]:
    """A held record (planted in the hub's store with another digest under the same 80-bit prefix: finding a real
    collision takes 2^40 work) and a second record whose prefix collides with it."""
    key = generate_private_key()
    batch = signed_batch(key, "COLLIDE")
    store = open_store(hub.database or hub.folder / "ocop-stamps.db")
    try:
        columns = store.table_columns("batches")
        planted = dict(zip(columns, [None] * len(columns)), digest=batch.digest_prefix.hex() + "f" * 44,
                       digest_prefix=batch.digest_prefix.hex(), lot_code="PLANTED", product_name="x",
                       key_id=key_id(key.public_key()), quantity=1, record="{}", signature="00" * 64, origin="hub",
                       created_at="2026-01-01T00:00:00.000000Z")
        store.load_rows("batches", columns, [tuple(planted[name] for name in columns)])
    finally:
        store.close()
    return [endorsement(key, "COLLIDE"), batch], 1


def _recall_of_an_unknown_batch(hub: Hub) -> tuple[list[Any], int]:
    key = generate_private_key()
    return [endorsement(key, "NO-BATCH"), recall(signed_batch(key, "NEVER-SENT"), key)], 1


def _recall_by_another_producer(hub: Hub) -> tuple[list[Any], int]:
    key, stranger = generate_private_key(), generate_private_key()
    batch = signed_batch(key, "NOT-YOURS")
    return [endorsement(key, "OWNER"), endorsement(stranger, "STRANGER"), batch, recall(batch, stranger)], 3


def _oversize_item(hub: Hub) -> tuple[list[Any], int]:
    batch = signed_batch(generate_private_key(), "BIG")
    return [{**batch.export(), "record": batch.canonical.decode() + " " * 70_000}], 0


CASES: dict[str, tuple[Case, str]] = {
    "bad signature of a batch record": (_bad_record_signature, "bad_signature"),
    "bad signature of a statement": (_bad_statement_signature, "bad_signature"),
    "unknown key": (lambda hub: ([signed_batch(generate_private_key(), "STRANGER")], 0), "key_not_endorsed"),
    "not an office's key": (lambda hub: ([endorsement(generate_private_key(), "FAKE", office=seed_key(77))], 0),
                            "unknown_office"),
    "office out of its scope": (lambda hub: ([endorsement(generate_private_key(), "FIVE", stars=5)], 0), "out_of_scope"),
    "revoked key": (_key_revoked, "key_revoked"),
    "revoked endorsement": (_endorsement_revoked, "endorsement_revoked"),
    "key withdrawn by its only office": (_key_withdrawn_by_its_only_office, "endorsement_revoked"),
    "expired endorsement": (_endorsement_expired, "endorsement_expired"),
    "record of another producer": (_producer_mismatch, "producer_mismatch"),
    "replayed older endorsement": (_replayed, "replayed"),
    "digest prefix collision": (_prefix_taken, "digest_prefix_taken"),
    "recall of a batch not held": (_recall_of_an_unknown_batch, "unknown_batch"),
    "recall signed by another key": (_recall_by_another_producer, "wrong_signer"),
    "not a published kind": (lambda hub: ([Enrolment(ProducerIdentity.of(PRODUCER), seed_key(9).public_key(),
                                                     timestamp(NOW)).sign(seed_key(9))], 0), "wrong_kind"),
    "oversize item": (_oversize_item, "too_large"),
    "malformed item": (lambda hub: ([{"payload": "x"}], 0), "malformed"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_refusal_has_its_code_and_status_and_keeps_nothing_of_the_request(hub: Hub, case: str) -> None:
    make, code = CASES[case]
    items, refused = make(hub)
    status, answer = hub.publish(*items)
    assert (status, answer["error"], answer["index"]) == (REJECTIONS[code].status, code, refused), answer
    assert answer["message"] == REJECTIONS[code].message and answer["detail"] and len(answer["hash"]) == 64
    if refused:  # the items before the refused one were fine, and were not kept: sent alone now, they are new
        status, alone = hub.publish(items[0])
        assert status == 200 and alone["items"][0]["status"] == "accepted", alone


@pytest.mark.parametrize("in_one_request", [True, False], ids=["one request", "two requests"])
def test_a_province_offices_key_revocation_leaves_another_offices_endorsement_standing(hub: Hub, in_one_request: bool) -> None:
    """The province office withdraws the key from its own endorsement; the central office's endorsement of the same key
    still holds, so the hub accepts its batch record (checked in the chain the request grows, and in the one it reads)."""
    key = generate_private_key()
    ref = f"SCOPED-{in_one_request}"
    statements = [endorsement(key, ref), endorsement(key, ref, office=Chain().central, office_id="trung-uong", stars=5),
                  province_key_revocation(key)]
    batch = signed_batch(key, ref)
    requests = [[*statements, batch]] if in_one_request else [statements, [batch]]
    for items in requests:
        status, answer = hub.publish(*items)
        assert status == 200 and answer["accepted"] == len(items), answer


@pytest.mark.parametrize("body, code, index", [
    (b"not json", "malformed", None), (b"[" * 100_000, "malformed", None),
    (b'{"format": "ocop-publish/1"}', "malformed", None), (b'{"format": "ocop-publish/1", "items": []}', "malformed", None),
    (b'{"format": "x", "items": [{}]}', "malformed", None), (b'{"format": "ocop-publish/1", "items": [null, 1]}', "malformed", 0),
    (b'{"format": "ocop-publish/1", "items": [{"format": "ocop-signed-batch/1", "digest": 1}]}', "malformed", 0),
], ids=["text", "deep", "no items", "empty items", "wrong format", "null item", "bad record"])
def test_a_malformed_request_gets_its_code_never_a_server_error(hub: Hub, body: bytes, code: str, index: int | None) -> None:
    status, answer = hub.post(body)
    assert (status, answer["error"], answer["index"]) == (REJECTIONS[code].status, code, index), answer


def test_an_oversize_request_is_refused_before_its_body_is_read(hub: Hub) -> None:
    """Content-Length over the limit: the hub answers 413 at once (the sender may still be sending)."""
    with socket.create_connection(("127.0.0.1", hub.port), timeout=10) as connection:
        connection.sendall(b"POST /api/v1/publish HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % (4 * 1024 * 1024 + 1) + b" " * 1000)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and json.loads(body)["error"] == "too_large", answer


def test_publishing_again_is_answered_held(hub: Hub) -> None:
    key = generate_private_key()
    items = [endorsement(key, "AGAIN"), signed_batch(key, "AGAIN-1"), signed_batch(key, "AGAIN-2")]
    status, first = hub.publish(*items)
    assert status == 200 and (first["accepted"], first["held"]) == (3, 0)
    status, again = hub.publish(*items)
    assert status == 200 and (again["accepted"], again["held"]) == (0, 3)
    assert [item["hash"] for item in again["items"]] == [item["hash"] for item in first["items"]]


def test_the_hub_keeps_each_item_byte_for_byte_in_acceptance_order(hub: Hub) -> None:
    key = generate_private_key()
    batch = signed_batch(key, "KEPT")
    items = [endorsement(key, "KEPT"), batch, recall(batch, key)]
    status, answer = hub.publish(*items)
    assert status == 200
    store = open_store(hub.database or hub.folder / "ocop-stamps.db", read_only=True)
    try:
        kept = [store.statement(item["hash"]) for item in answer["items"]]
        assert [item.kind for item in kept] == ["endorsement", "batch-record", "recall"]  # type: ignore[union-attr]
        assert [item.seq for item in kept] == sorted(item.seq for item in kept)  # type: ignore[union-attr]
        assert kept[0].body.encode() == items[0].canonical and kept[2].body.encode() == items[2].canonical  # type: ignore
        assert json.loads(kept[1].body) == batch.export()  # type: ignore[union-attr]
        state = store.batch_state(batch.digest_prefix.hex())
        assert state is not None and state.origin == "hub" and state.recall["kind"] == "voluntary"  # type: ignore[index]
    finally:
        store.close()


# starting a hub ------------------------------------------------------------------------------------------------------------
def test_a_hub_refuses_to_start_with_an_older_trust_root(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    make_hub(folder, None)
    instance = Instance.open(folder)
    install_root(instance.store, Chain().root(2))
    instance.close()
    older = write_root(tmp_path, Chain(), 1)
    line = one_line_error(run_cli("serve", "--trust-root", str(older), "--port", str(free_port()), instance=folder))
    assert "version 1, older than version 2" in line


def test_a_verifier_without_a_trust_root_is_not_a_hub(tmp_path: Path, apps: Callable[..., Any]) -> None:
    client = apps().test_client()
    answer = client.post("/api/v1/publish", data=request_body([{"x": 1}]), content_type="application/json")
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_a_hub"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/api/v1/publish").status_code == 405
    assert client.get("/healthz").status_code == 200


def test_a_request_under_the_limit_but_over_the_apps_page_size_is_read(apps: Callable[..., Any]) -> None:
    """The verifier's own requests are at most 16 KB; a publish request may be far larger."""
    body = request_body([{"payload": "x" * 100_000}])
    answer = apps().test_client().post("/api/v1/publish", data=body, content_type="application/json")
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_a_hub"



@pytest.mark.parametrize("address, says", [("{url}/api/v1/publish", "without a path"),
                                           ("{https}", "does not answer in HTTPS")])
def test_a_wrong_hub_address_is_named_as_such_not_as_being_offline(hub: Hub, demo: DemoRun, address: str, says: str) -> None:
    keep_endorsement(demo.instance_root, demo_endorsement(demo))
    given = address.format(url=hub.url, https=hub.url.replace("http://", "https://"))
    result = run_cli("publish", "--hub", given, instance=demo.instance_root)
    assert says in one_line_error(result) and "outbox" not in result.output
