"""Enrolment, the OCOP offices and the national root, through the CLI as a clerk runs it.

One template (a cooperative with its producer, product, key and enrolment request; a province office; the central
office; a national root listing both, version 1 signed) is built once through the CLI; each test works on a copy.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import PASSPHRASE_ENV
from cli import cli as ocop_cli
from stamps.canonical import canonical_json
from stamps.errors import StampError
from stamps.instance import Instance
from stamps.records import add_months
from stamps.trust.chain import CHAIN_KINDS, TrustChain, admit_endorsement
from stamps.store import open_store
from stamps.trust.envelope import StoredStatement, read
from stamps.trust.root import TrustRoot
from stamps.trust.statements import Endorsement
from test_cli import PASSPHRASE, assert_error, invoke, ok
from test_readme import everyday_commands, examples_work_until, readme_shell_blocks, section, shell_commands

TODAY = dt.date.today()
DECISION = TODAY - dt.timedelta(days=30)
LONGEST = add_months(DECISION, 36)
PRODUCT = "Mật ong hoa Ban"
CERTIFICATE = "OCOP-DB-2026-017"
PROVINCE_OFFICE = "Văn phòng Điều phối NTM tỉnh Điện Biên"
CENTRAL_OFFICE = "Văn phòng Điều phối NTM Trung ương"


def product_options(name: str = PRODUCT, certificate: str = CERTIFICATE, stars: int = 4, *extra: object,
                    valid_until: dt.date = LONGEST) -> list[object]:
    return ["--product", name, "--certificate-no", certificate, "--stars", stars, "--decision-no", "QĐ 1234/QĐ-UBND",
            "--decision-date", DECISION, "--valid-until", valid_until, *extra]


@dataclasses.dataclass(frozen=True)
class Desks:
    """A cooperative (coop), a province office (office), the central office (central) and the national root (nat)."""

    root: Path

    @property
    def coop(self) -> Path:
        return self.root / "coop"

    @property
    def office(self) -> Path:
        return self.root / "office"

    @property
    def central(self) -> Path:
        return self.root / "central"

    @property
    def nat(self) -> Path:
        return self.root / "nat"

    @property
    def key_id(self) -> str:
        """The cooperative's signing key."""
        instance = Instance.open(self.coop, read_only=True)
        try:
            return instance.signing_key_id
        finally:
            instance.close()

    def endorse(self, *args: object, office: str = "office", out: str = "endorsement.json", request: str = "request.json") -> str:
        return ok(invoke(self.root / office, "authority", "endorse", self.root / request, "--producer-ref", "HTX-MP-01",
                         *args, "--out", self.root / out))

    def statements(self, instance: str) -> list[StoredStatement]:
        """The statements kept in the store of *instance* (a folder under the root)."""
        store = open_store(self.root / instance / "ocop-stamps.db", read_only=True)
        try:
            return store.statements()
        finally:
            store.close()


def make_cooperative(folder: Path, province: str = "Điện Biên") -> None:
    ok(invoke(folder, "init", "--base-url", "https://truyxuat.example.vn"))
    ok(invoke(folder, "keys", "generate", "--label", "HTX Mường Phăng"))
    ok(invoke(folder, "producer", "add", "--name", "HTX Nông nghiệp Mường Phăng", "--kind", "cooperative",
              "--province", province, "--commune", "xã Mường Phăng", "--address", "Bản Phăng 1", "--tax-code", "5600123456",
              "--phone", "0912 345 678"))
    ok(invoke(folder, "product", "add", "--producer", 1, "--name", PRODUCT, "--category", "Mật ong", "--ocop-stars", 4,
              "--ocop-certificate-no", CERTIFICATE, "--ocop-issued", DECISION))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Desks:
    desks = Desks(tmp_path_factory.mktemp("authority"))
    make_cooperative(desks.coop)
    ok(invoke(desks.coop, "enrol", "--out", desks.root / "request.json"))
    ok(invoke(desks.office, "authority", "init", "--name", PROVINCE_OFFICE, "--scope", "province", "--province", "Điện Biên",
              "--card", desks.root / "office-card.json"))
    ok(invoke(desks.central, "authority", "init", "--name", CENTRAL_OFFICE, "--scope", "central",
              "--card", desks.root / "central-card.json"))
    ok(invoke(desks.nat, "authority", "root", "init"))
    for card in ("office-card.json", "central-card.json"):
        ok(invoke(desks.nat, "authority", "root", "office", "add", desks.root / card))
    ok(invoke(desks.nat, "authority", "root", "sign", "--out", desks.root / "root.json"))
    return desks


@pytest.fixture
def desks(template: Desks, tmp_path: Path) -> Desks:
    shutil.copytree(template.root, tmp_path / "desks")
    return Desks(tmp_path / "desks")


def trust_root(path: Path) -> TrustRoot:
    return TrustRoot.load(path.read_bytes())


def chain_of(desks: Desks, instance: str = "coop") -> TrustChain:
    kept = [item for item in desks.statements(instance) if item.kind in CHAIN_KINDS]
    return TrustChain.from_statements(trust_root(desks.root / "root.json"), kept)


# the whole flow -------------------------------------------------------------------------------------------------
def test_enrol_endorse_import_is_a_chain_the_root_admits(desks: Desks) -> None:
    card = json.loads((desks.root / "office-card.json").read_text(encoding="utf-8"))
    assert card["id"] == "dien-bien" and card["scope"] == "province" and card["province"] == "Điện Biên"
    office_key = desks.office / "private-keys" / f"{card['key_id']}.key.pem"
    assert b"ENCRYPTED" in office_key.read_bytes()
    if os.name == "posix":
        assert office_key.stat().st_mode & 0o777 == 0o600

    out = desks.endorse(*product_options())
    assert f"key {desks.key_id} valid {TODAY} to {LONGEST}" in out and "version 1" in out
    imported = ok(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json", "--trust-root", desks.root / "root.json"))
    assert f"signed by {PROVINCE_OFFICE} (checked against the trust root)" in imported

    statement = read((desks.root / "endorsement.json").read_bytes(), "endorsement")
    endorsed = admit_endorsement(trust_root(desks.root / "root.json"), statement)
    assert endorsed.office.id == "dien-bien" and endorsed.endorsement.producer.name == "HTX Nông nghiệp Mường Phăng"
    assert [item.hash for item in desks.statements("office")] == [statement.hash]
    kept = desks.statements("coop")
    assert [(item.hash, item.subject, item.version) for item in kept] == [(statement.hash, "dien-bien/HTX-MP-01", 1)]

    chain = chain_of(desks)
    standing = chain.standing(desks.key_id, TODAY)
    assert standing.endorsed
    record = {"producer": {"name": "HTX Nông nghiệp Mường Phăng", "kind": "cooperative", "province": "Điện Biên",
                           "commune": "xã Mường Phăng", "address": "Bản Phăng 1", "tax_code": "5600123456", "phone": "0912 345 678"},
              "product": {"name": PRODUCT, "ocop_certificate_no": CERTIFICATE}}
    assert chain.producer_problem(standing, record) is None
    assert chain.attestation(standing, record, TODAY).product.stars == 4
    assert "current" in ok(invoke(desks.coop, "endorsement", "list"))
    assert json.loads(ok(invoke(desks.coop, "endorsement", "show")))["producer_ref"] == "HTX-MP-01"


def test_the_central_office_endorses_five_stars_anywhere(desks: Desks, tmp_path: Path) -> None:
    make_cooperative(tmp_path / "coop-sl", province="Sơn La")
    ok(invoke(tmp_path / "coop-sl", "enrol", "--out", desks.root / "request-sl.json"))
    desks.endorse(*product_options(stars=5), office="central", request="request-sl.json")
    statement = read((desks.root / "endorsement.json").read_bytes(), "endorsement")
    assert admit_endorsement(trust_root(desks.root / "root.json"), statement).office.scope == "central"


def test_each_root_version_is_accepted_as_the_update_of_the_one_before(desks: Desks) -> None:
    first = trust_root(desks.root / "root.json")
    hub_key = "ab" * 32
    ok(invoke(desks.nat, "authority", "root", "hub", "add", "--id", "hub-dien-bien", "--name", "Hub Điện Biên",
              "--url", "https://truyxuat.example.vn", "--public-key", hub_key))
    assert "changes not signed yet" in ok(invoke(desks.nat, "authority", "root", "show"))
    assert "version 2" in ok(invoke(desks.nat, "authority", "root", "sign", "--out", desks.root / "root2.json", "--expires-days", 30))
    ok(invoke(desks.nat, "authority", "root", "office", "remove", "trung-uong"))
    ok(invoke(desks.nat, "authority", "root", "sign", "--out", desks.root / "root3.json"))
    second, third = trust_root(desks.root / "root2.json"), trust_root(desks.root / "root3.json")
    assert first.accept_update(second) is second and second.accept_update(third) is third
    assert (second.version, third.version) == (2, 3) and [hub.id for hub in second.hubs] == ["hub-dien-bien"]
    assert [office.id for office in third.offices] == ["dien-bien"]
    assert second.expires.date() == (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).date()


# the office's refusals -------------------------------------------------------------------------------------------
def tampered_request(desks: Desks) -> None:
    path = desks.root / "request.json"
    envelope = json.loads(path.read_bytes())
    body = json.loads(base64.b64decode(envelope["payload"]))
    body["producer"]["name"] = "HTX Khác"
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode("ascii")
    path.write_text(json.dumps(envelope), encoding="utf-8")


def another_province(desks: Desks, tmp_path: Path) -> None:
    make_cooperative(tmp_path / "coop-sl", province="Sơn La")
    ok(invoke(tmp_path / "coop-sl", "enrol", "--out", desks.root / "request.json"))


def as_it_is(desks: Desks, tmp_path: Path) -> None:
    pass


# case -> (the office asked, how the request is made, the product options, what the one-line error says)
REFUSALS = {
    "five stars by a province office": ("office", as_it_is, product_options(stars=5), "5 stars are the central office's"),
    "four stars by the central office": ("central", as_it_is, product_options(stars=4), "endorses 5 stars only"),
    "a producer of another province": ("office", another_province, product_options(),
                                       "endorses producers in Điện Biên; this producer is in Sơn La"),
    "a validity beyond 36 months": ("office", as_it_is, product_options(valid_until=LONGEST + dt.timedelta(days=1)),
                                    f"at most 36 months later ({LONGEST})"),
    "a tampered request": ("office", lambda desks, _: tampered_request(desks), product_options(), "signature does not match"),
    "a product option missing": ("office", as_it_is, [*product_options(), "--product", "Trà"], "--certificate-no: given 1 times for 2"),
    "a product already expired": ("office", as_it_is, product_options(valid_until=TODAY - dt.timedelta(days=1)), "already past"),
    "a decision dated after today": ("office", as_it_is, ["--product", PRODUCT, "--certificate-no", CERTIFICATE, "--stars", 4,
                                                          "--decision-no", "QĐ 9/QĐ-UBND", "--decision-date", TODAY + dt.timedelta(days=30)],
                                     "is after today"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_the_office_refuses_what_it_may_not_endorse(desks: Desks, tmp_path: Path, case: str) -> None:
    office, prepare, options, message = REFUSALS[case]
    prepare(desks, tmp_path)
    result = invoke(desks.root / office, "authority", "endorse", desks.root / "request.json", "--producer-ref", "X-1",
                    *options, "--out", desks.root / "endorsement.json")
    assert_error(result, contains=message)
    assert not (desks.root / "endorsement.json").exists()
    assert desks.statements(office) == []


# re-endorsement ------------------------------------------------------------------------------------------------
def test_a_new_endorsement_of_a_producer_is_the_next_version_and_keeps_the_earlier_products(desks: Desks) -> None:
    desks.endorse(*product_options(), out="v1.json")
    out = desks.endorse(*product_options("Trà San tuyết", "OCOP-DB-2026-020", 3), out="v2.json")
    assert "version 2" in out and "replacing version 1" in out
    first, second = (Endorsement.read(read((desks.root / name).read_bytes())) for name in ("v1.json", "v2.json"))
    assert (first.version, second.version) == (1, 2) and first.subject == second.subject
    assert [product.certificate_no for product in second.products] == [CERTIFICATE, "OCOP-DB-2026-020"]
    assert [(item.subject, item.version) for item in desks.statements("office")] == [("dien-bien/HTX-MP-01", 1), ("dien-bien/HTX-MP-01", 2)]

    withdrawn = desks.endorse("--withdraw", CERTIFICATE, out="v3.json")
    assert [product.certificate_no for product in Endorsement.read(read((desks.root / "v3.json").read_bytes())).products] == ["OCOP-DB-2026-020"]
    assert "version 3" in withdrawn

    for name in ("v1.json", "v3.json"):
        ok(invoke(desks.coop, "endorsement", "import", desks.root / name, "--trust-root", desks.root / "root.json"))
    assert_error(invoke(desks.coop, "endorsement", "import", desks.root / "v2.json"), contains="version 3 is already here")
    assert chain_of(desks).endorsed[0].endorsement.version == 3


def test_a_new_key_is_endorsed_beside_the_old_one(desks: Desks) -> None:
    old = desks.key_id
    desks.endorse(*product_options(), out="v1.json")
    ok(invoke(desks.coop, "keys", "generate", "--label", "new"))
    ok(invoke(desks.coop, "enrol", "--out", desks.root / "request2.json"))
    desks.endorse(request="request2.json", out="v2.json")
    keys = Endorsement.read(read((desks.root / "v2.json").read_bytes())).keys
    assert [key.key_id for key in keys] == [old, desks.key_id]
    ok(invoke(desks.coop, "endorsement", "import", desks.root / "v2.json", "--trust-root", desks.root / "root.json"))
    assert chain_of(desks).standing(old, TODAY).endorsed and chain_of(desks).standing(desks.key_id, TODAY).endorsed


def test_a_producer_reference_of_another_producer_is_refused(desks: Desks, tmp_path: Path) -> None:
    desks.endorse(*product_options(), out="v1.json")
    other = tmp_path / "coop-2"
    ok(invoke(other, "init", "--base-url", "https://truyxuat.example.vn"))
    ok(invoke(other, "keys", "generate", "--label", "B"))
    ok(invoke(other, "producer", "add", "--name", "HTX Khác", "--kind", "cooperative", "--province", "Điện Biên", "--commune", "xã A"))
    ok(invoke(other, "enrol", "--out", desks.root / "request-b.json"))
    result = invoke(desks.office, "authority", "endorse", desks.root / "request-b.json", "--producer-ref", "HTX-MP-01",
                    *product_options(), "--out", desks.root / "v2.json")
    assert_error(result, contains="Check --producer-ref")
    assert not (desks.root / "v2.json").exists() and len(desks.statements("office")) == 1
    result = invoke(desks.office, "authority", "endorse", desks.root / "request.json", "--producer-ref", "OTHER",
                    *product_options(), "--out", desks.root / "v2.json")
    assert_error(result, contains="already endorsed as producer 'HTX-MP-01'")


# revocation ----------------------------------------------------------------------------------------------------
def test_the_office_revokes_an_endorsement_or_a_key(desks: Desks) -> None:
    desks.endorse(*product_options())
    ok(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json", "--trust-root", desks.root / "root.json"))
    out = ok(invoke(desks.office, "authority", "revoke", "--endorsement", desks.root / "endorsement.json", "--reason", "Sai thông tin",
                    "--out", desks.root / "revocation.json"))
    assert "publish it to the hub" in out
    revocation = (desks.root / "revocation.json").read_bytes()
    chain = TrustChain.from_statements(trust_root(desks.root / "root.json"), [*desks.statements("office")])
    assert chain.standing(desks.key_id, TODAY).reason == "endorsement_revoked"
    assert read(revocation, "revocation").signer == json.loads((desks.root / "office-card.json").read_text())["key_id"]
    assert_error(invoke(desks.office, "authority", "revoke", "--endorsement", desks.root / "endorsement.json", "--reason", "x",
                        "--out", desks.root / "again.json"), contains="already revoked")
    assert not (desks.root / "again.json").exists()

    ok(invoke(desks.office, "authority", "revoke", "--key", desks.key_id, "--reason", "Mất máy tính", "--out", desks.root / "r2.json"))
    chain = TrustChain.from_statements(trust_root(desks.root / "root.json"), [*desks.statements("office")])
    assert chain.standing(desks.key_id, TODAY).reason == "endorsement_revoked"  # a province office withdraws the key
    assert {key_id for _, key_id in chain.withdrawn_keys} == {desks.key_id} and not chain.revoked_keys
    assert_error(invoke(desks.office, "authority", "endorse", desks.root / "request.json", "--producer-ref", "HTX-MP-01",
                        *product_options(), "--out", desks.root / "v2.json"), contains="was revoked by this office")
    assert "revocation of key" in ok(invoke(desks.office, "authority", "list"))
    exported = ok(invoke(desks.office, "authority", "export", read(revocation).hash[:12]))
    assert exported.strip().encode() == revocation.strip()


def test_the_office_revokes_only_what_it_issued(desks: Desks) -> None:
    for option, value in (("--endorsement", "0" * 64), ("--key", "0123456789abcdef")):
        result = invoke(desks.office, "authority", "revoke", option, value, "--reason", "x", "--out", desks.root / "r.json")
        assert_error(result, contains="this office")
        assert not (desks.root / "r.json").exists()


# the producer's import -------------------------------------------------------------------------------------------
def other_national_root(desks: Desks) -> Path:
    """Version 2 of a trust root listing the same office, signed by another national key."""
    ok(invoke(desks.root / "nat2", "authority", "root", "init"))
    ok(invoke(desks.root / "nat2", "authority", "root", "office", "add", desks.root / "office-card.json"))
    for _ in range(2):
        ok(invoke(desks.root / "nat2", "authority", "root", "sign", "--out", desks.root / "root-other.json"))
    return desks.root / "root-other.json"


def test_import_refuses_an_endorsement_of_another_key_or_producer(desks: Desks) -> None:
    desks.endorse(*product_options())
    twin = desks.root / "twin"
    make_cooperative(twin)  # the same producer record, another key
    assert_error(invoke(twin, "endorsement", "import", desks.root / "endorsement.json"), contains="not one of this instance's keys")
    ok(invoke(desks.coop, "producer", "edit", 1, "--commune", "xã Nà Tấu"))
    error = assert_error(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json"))
    assert "commune 'xã Nà Tấu' here, 'xã Mường Phăng' in the endorsement" in error
    assert desks.statements("coop") == [] and desks.statements("twin") == []


def test_import_refuses_a_trust_root_that_is_not_an_update_of_the_one_held(desks: Desks) -> None:
    desks.endorse(*product_options())
    ok(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json", "--trust-root", desks.root / "root.json"))
    desks.endorse("--withdraw", CERTIFICATE, *product_options("Trà", "OCOP-2"), out="v2.json")
    other = other_national_root(desks)
    assert_error(invoke(desks.coop, "endorsement", "import", desks.root / "v2.json", "--trust-root", other),
                 contains="version 2 is not signed by the national key(s) of version 1")
    ok(invoke(desks.nat, "authority", "root", "sign", "--out", desks.root / "root2.json"))
    ok(invoke(desks.coop, "endorsement", "import", desks.root / "v2.json", "--trust-root", desks.root / "root2.json"))
    assert_error(invoke(desks.coop, "endorsement", "import", desks.root / "v2.json", "--trust-root", desks.root / "root.json"),
                 contains="older than version 2")
    assert [item.version for item in desks.statements("coop")] == [1, 2]


def test_import_refuses_an_endorsement_the_trust_root_does_not_vouch_for(desks: Desks) -> None:
    desks.endorse(*product_options())
    ok(invoke(desks.nat, "authority", "root", "office", "remove", "dien-bien"))
    ok(invoke(desks.nat, "authority", "root", "sign", "--out", desks.root / "root2.json"))
    assert_error(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json", "--trust-root", desks.root / "root2.json"),
                 contains="no OCOP office's in the trust root")
    assert desks.statements("coop") == []


def test_import_without_a_trust_root_says_the_signature_was_not_checked(desks: Desks) -> None:
    desks.endorse(*product_options())
    out = ok(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json"))
    assert "office signature not checked" in out
    assert "was already here" in ok(invoke(desks.coop, "endorsement", "import", desks.root / "endorsement.json"))


# instances -------------------------------------------------------------------------------------------------------
def test_each_desk_keeps_to_its_own_instance(desks: Desks) -> None:
    assert_error(invoke(desks.office, "authority", "init", "--name", "X", "--scope", "central"), contains="already an OCOP office's")
    assert_error(invoke(desks.coop, "authority", "root", "init"), contains="is a cooperative's instance")
    assert_error(invoke(desks.nat, "authority", "endorse", desks.root / "request.json", "--producer-ref", "A", *product_options()),
                 contains="is not an OCOP office's instance")
    assert_error(invoke(desks.root / "nowhere", "authority", "list"), contains="is not an OCOP office's instance")
    assert not (desks.root / "nowhere").exists()
    assert_error(invoke(desks.office, "authority", "root", "sign"), contains="is not the national root operator's instance")


def test_several_products_from_a_file_and_options(desks: Desks) -> None:
    listed = [{"name": "Trà San tuyết", "certificate_no": "OCOP-DB-2026-020", "stars": 3, "decision_no": "QĐ 99",
               "decision_date": DECISION.isoformat()}]
    (desks.root / "products.json").write_text(json.dumps(listed, ensure_ascii=False), encoding="utf-8")
    desks.endorse("--products-file", desks.root / "products.json", *product_options(), "--key-valid-until", TODAY + dt.timedelta(days=90))
    endorsement = Endorsement.read(read((desks.root / "endorsement.json").read_bytes()))
    assert [(p.name, p.stars, p.level) for p in endorsement.products] == [("Trà San tuyết", 3, "province"), (PRODUCT, 4, "province")]
    assert endorsement.keys[0].valid_until == TODAY + dt.timedelta(days=90)


def test_enrol_names_the_producer_when_there_are_several(desks: Desks) -> None:
    ok(invoke(desks.coop, "producer", "add", "--name", "HTX B", "--kind", "cooperative", "--province", "Điện Biên", "--commune", "xã B"))
    assert_error(invoke(desks.coop, "enrol", "--out", desks.root / "r.json"), contains="has 2 producers")
    assert not (desks.root / "r.json").exists()
    out = ok(invoke(desks.coop, "enrol", "--producer", 2, "--out", desks.root / "r.json"))
    assert re.search(r"Enrolment request of HTX B for key [0-9a-f]{16}", out)
    assert read((desks.root / "r.json").read_bytes(), "enrolment").signer == desks.key_id


def test_a_refused_authority_init_makes_nothing(tmp_path: Path) -> None:
    office = tmp_path / "office"
    base = ["authority", "init", "--name", PROVINCE_OFFICE, "--scope", "province"]
    assert_error(invoke(office, *base, "--card", tmp_path / "card.json"), contains="--province: is required")
    assert_error(invoke(office, *base, "--province", "Điện Biên", "--card", tmp_path / "missing" / "card.json"),
                 contains="the folder")
    assert_error(invoke(office, *base, "--province", "Điện Biên", "--id", "Điện Biên", "--card", tmp_path / "card.json"),
                 contains="id: must be lower-case letters")
    assert_error(invoke(office, *base, "--province", "Điện Biên", "--card", tmp_path / "card.json", passphrase=""),
                 contains="empty passphrase")
    assert not office.exists() and not (tmp_path / "card.json").exists()


def test_an_office_and_the_national_root_on_postgresql(postgres_location: str, tmp_path: Path, template: Desks) -> None:
    office, nat = tmp_path / "office", tmp_path / "nat"
    database = ["--database", postgres_location]
    ok(invoke(office, *database, "authority", "init", "--name", PROVINCE_OFFICE, "--scope", "province", "--province", "Điện Biên",
              "--card", tmp_path / "card.json"))
    assert sorted(path.name for path in office.iterdir()) == ["private-keys"]
    ok(invoke(office, *database, "authority", "endorse", template.root / "request.json", "--producer-ref", "HTX-MP-01",
              *product_options(), "--out", tmp_path / "endorsement.json"))
    assert "HTX-MP-01 v1 current" in ok(invoke(office, *database, "authority", "list"))
    assert_error(invoke(nat, *database, "authority", "root", "init"), contains="already an OCOP office's instance")


def test_the_readme_block_runs_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'## OCOP offices' continues the everyday example: its commands, in order, in the folder of that instance."""
    if TODAY > examples_work_until():
        pytest.skip("the README's example dates have run out, as it says")
    monkeypatch.chdir(tmp_path)
    env = {PASSPHRASE_ENV: "mật khẩu", "OCOP_STAMPS_HOME": str(tmp_path / "htx"), "OCOP_STAMPS_DATABASE": None}
    everyday = [command for command in everyday_commands() if command.split()[1] in ("init", "keys", "producer", "product")]
    block = readme_shell_blocks(section("The trust chain: OCOP offices, the hub, inspectors"))[0]
    for command in [*everyday, *shell_commands(block)]:
        words = shlex.split(command, comments=True)
        assert words[0] == "ocop-stamps", command
        result = CliRunner().invoke(ocop_cli, words[1:], env=env, prog_name="ocop-stamps")
        assert result.exit_code == 0, f"$ {command}\n{result.output}"
    assert "checked against the trust root" in result.output


def test_two_endorsements_drafted_at_once_are_not_both_signed(desks: Desks) -> None:
    """Between the checks and the signature another endorse may run (the passphrase is asked in between): the later
    one to sign is refused, so two endorsements never share a version."""
    from stamps.roles import office
    from stamps.roles.desk import Desk

    desk = Desk.open(desks.office, office.ROLE)
    try:
        enrolment = office.read_enrolment((desks.root / "request.json").read_bytes())
        products = office.products_from_columns({}, [{"name": PRODUCT, "certificate_no": CERTIFICATE, "stars": 4,
                                                      "decision_no": "QĐ 1", "decision_date": DECISION.isoformat()}])
        first, second = (office.draft_endorsement(desk, enrolment, "HTX-MP-01", products) for _ in range(2))
        key = office.office_key(desk, PASSPHRASE.encode())
        office.issue_endorsement(desk, first, key, desks.root / "first.json")
        with pytest.raises(StampError, match="changed while this was being prepared"):
            office.issue_endorsement(desk, second, key, desks.root / "second.json")
    finally:
        desk.close()
    assert not (desks.root / "second.json").exists() and len(desks.statements("office")) == 1


def test_a_trust_root_is_signed_only_with_an_office_and_enrol_takes_another_key(desks: Desks) -> None:
    ok(invoke(desks.root / "nat2", "authority", "root", "init"))
    assert_error(invoke(desks.root / "nat2", "authority", "root", "sign", "--out", desks.root / "r.json"), contains="lists no office")
    assert not (desks.root / "r.json").exists()
    old = desks.key_id
    ok(invoke(desks.coop, "keys", "generate", "--label", "new"))
    ok(invoke(desks.coop, "enrol", "--key", old[:8], "--out", desks.root / "r.json"))
    assert read((desks.root / "r.json").read_bytes(), "enrolment").signer == old != desks.key_id
