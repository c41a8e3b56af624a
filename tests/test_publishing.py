"""The producer's side of publishing, without a hub: recalls and revocations signed for the hub, and the outbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner, Result

from cli import cli as ocop_cli
from keys.keyfile import generate_private_key
from stamps import registry
from stamps.demo import DEMO_PASSPHRASE, DemoRun
from stamps.instance import Instance
from stamps.roles.publishing import outbox
from stamps.trust.envelope import StoredStatement, read
from stamps.trust.statements import Recall, Revocation
from store_engines import signed_batch


def run(demo: DemoRun, *arguments: str, passphrase: str = DEMO_PASSPHRASE.decode()) -> Result:
    return CliRunner().invoke(ocop_cli, ["--instance", str(demo.instance_root), *arguments],
                              env={"OCOP_STAMPS_HOME": None, "OCOP_STAMPS_PASSPHRASE": passphrase})


def kept(demo: DemoRun, kind: str) -> list[tuple[str, object]]:
    instance = Instance.open(demo.instance_root, read_only=True)
    try:
        return [(item.subject, read(item.body, kind)) for item in instance.store.statements([kind])]
    finally:
        instance.close()


def test_a_recall_is_signed_by_the_batchs_key_and_kept_for_the_hub(demo: DemoRun) -> None:
    result = run(demo, "recall", demo.batch.digest[:16], "--reason", "Nhiễm nấm mốc", "--mandatory", "--on", "2026-11-20")
    assert result.exit_code == 0 and "recalled: Nhiễm nấm mốc" in result.stdout, result.output
    ((subject, statement),) = kept(demo, "recall")
    statement.verify_by(signing_key_public(demo))  # type: ignore[attr-defined]
    recall = Recall.read(statement)  # type: ignore[arg-type]
    assert subject == demo.batch.digest and (recall.batch_digest, recall.mandatory, recall.recalled_on) == (
        demo.batch.digest, True, dt.date(2026, 11, 20))
    assert "already recalled" in run(demo, "recall", demo.batch.digest[:16], "--reason", "again").output


def test_a_recall_with_a_wrong_passphrase_records_nothing(demo: DemoRun) -> None:
    result = run(demo, "recall", demo.batch.digest[:16], "--reason", "Lỗi", passphrase="wrong")
    assert result.exit_code == 1 and "passphrase" in result.output.lower()
    instance = Instance.open(demo.instance_root, read_only=True)
    try:
        assert registry.find_batch(instance.store, demo.batch.digest).recall is None
    finally:
        instance.close()
    assert kept(demo, "recall") == []


def test_a_batch_recalled_before_signed_recalls_gets_its_signed_recall_now(demo: DemoRun) -> None:
    instance = Instance.open(demo.instance_root)
    registry.recall_batch(instance.store, demo.batch.digest, "Sai nhãn", "voluntary", dt.date(2026, 11, 2))
    instance.close()
    result = run(demo, "recall", demo.batch.digest[:16], "--reason", "Sai nhãn")
    assert result.exit_code == 0 and "now signed for the hub" in result.stdout, result.output
    ((_, statement),) = kept(demo, "recall")
    assert Recall.read(statement).reason == "Sai nhãn"  # type: ignore[arg-type]
    assert "already recalled" in run(demo, "recall", demo.batch.digest[:16], "--reason", "Sai nhãn").output


def test_a_recall_of_another_producers_batch_is_kept_here_only(demo: DemoRun, tmp_path: Path) -> None:
    other = generate_private_key()
    imported = signed_batch(other, "KHAC")
    instance = Instance.open(demo.instance_root)
    instance.store.insert_batch(imported, "imported")
    instance.close()
    result = run(demo, "recall", imported.digest.hex()[:16], "--reason", "Hàng giả")
    assert result.exit_code == 0 and "no signed recall was made" in result.stderr, result.output
    assert kept(demo, "recall") == []


def test_revoke_signs_the_keys_own_revocation_unless_unsigned(demo: DemoRun) -> None:
    key_id = demo.batch.record["key_id"]
    assert run(demo, "revoke", key_id, "--reason", "lost", passphrase="wrong").exit_code == 1
    assert kept(demo, "revocation") == [] and "active" in run(demo, "keys", "list").output
    result = run(demo, "revoke", key_id, "--reason", "Mất máy tính")
    assert result.exit_code == 0 and "signed revocation" in result.stdout, result.output
    ((subject, statement),) = kept(demo, "revocation")
    statement.verify_by(signing_key_public(demo))  # type: ignore[attr-defined]
    assert subject == key_id and Revocation.read(statement).subject == key_id  # type: ignore[arg-type]
    assert run(demo, "revoke", key_id).exit_code == 0 and len(kept(demo, "revocation")) == 1  # not signed twice


def test_revoke_unsigned_needs_no_passphrase(demo: DemoRun) -> None:
    result = run(demo, "revoke", demo.batch.record["key_id"], "--unsigned", passphrase="wrong")
    assert result.exit_code == 0 and "signed" not in result.stdout, result.output
    assert kept(demo, "revocation") == []


def signing_key_public(demo: DemoRun):  # type: ignore[no-untyped-def]
    instance = Instance.open(demo.instance_root, read_only=True)
    try:
        return instance.trust.get(demo.batch.record["key_id"]).public_key
    finally:
        instance.close()


def test_records_no_endorsement_names_are_held_back_with_the_reason(demo: DemoRun) -> None:
    instance = Instance.open(demo.instance_root)
    try:
        items, notes = outbox(instance.store, "https://hub.example.vn")
    finally:
        instance.close()
    assert items == [] and len(notes) == 1 and "no endorsement here names the key" in notes[0]
    result = run(demo, "publish", "--hub", "https://hub.example.vn")
    assert result.exit_code == 1 and "endorsement import" in result.stderr
    assert "Nothing sent to https://hub.example.vn: the batch records above cannot be published yet." in result.stdout


def test_a_record_of_an_edited_producer_is_held_back_and_issue_says_why_not_publish(demo: DemoRun) -> None:
    """The producer record was changed after the office endorsed it: publishing cannot help, and neither says it would."""
    from stamps.roles.publishing import unpublished_warning
    from test_verify_chain import TODAY
    from trust_fixtures import Chain
    instance = Instance.open(demo.instance_root)
    try:
        chain = Chain(producer=instance.signing_key(DEMO_PASSPHRASE))
        product = demo.batch.record["product"]
        endorsement = chain.endorsement(producer={**demo.batch.record["producer"], "address": "Địa chỉ cũ"},
                                        product=(product["name"], product["ocop_certificate_no"]),
                                        key_from=TODAY, key_until=TODAY + dt.timedelta(days=30))
        instance.store.add_statements([StoredStatement(endorsement.hash, "endorsement", endorsement.signer, "x", 1,
                                                       endorsement.canonical.decode())])
        instance.store.set_setting("hub_url", "https://hub.example.vn")
        warning = unpublished_warning(instance.store, demo.batch)
        _, notes = outbox(instance.store, "https://hub.example.vn")
    finally:
        instance.close()
    assert warning is not None and "cannot reach the hub" in warning and "run 'ocop-stamps publish'" not in warning
    assert len(notes) == 1 and "differs from what your OCOP office endorsed" in notes[0]


def test_a_hub_address_must_be_http(demo: DemoRun) -> None:
    result = run(demo, "publish", "--hub", "ftp://hub.example.vn")
    assert result.exit_code == 1 and "http(s)://" in result.output
    assert "No hub to publish to yet" in run(demo, "publish").output
