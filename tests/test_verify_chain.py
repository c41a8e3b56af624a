"""Verification under a trust chain (a hub, an inspector): a stamp is genuine only if an OCOP office of the trust root
endorses its key on the scan day, and the record's producer is the endorsed one; stars are shown as attested."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

import pytest

from keys.keyfile import key_id
from stamps.demo import DEMO_PASSPHRASE
from stamps.instance import Instance
from stamps.trust.envelope import Statement, StoredStatement, sign
from stamps.trustroot import install_root
from stamps.trust.statements import Revocation
from stamps.verify import Result, Verification
from trust_fixtures import Chain

TODAY = dt.date.today()


@dataclasses.dataclass
class Hub:
    """The demo instance turned into a hub: a trust root, and the demo producer's key endorsed by its province."""

    instance: Instance
    chain: Chain
    record: dict[str, Any]

    def endorsement(self, **changes: Any) -> Statement:
        product = self.record["product"]
        options = {"producer": self.record["producer"], "product": (product["name"], product["ocop_certificate_no"]),
                   "key_from": TODAY - dt.timedelta(days=30), "key_until": TODAY + dt.timedelta(days=700),
                   "product_until": TODAY + dt.timedelta(days=700), **changes}
        return self.chain.endorsement(**options)

    def keep(self, *statements: Statement) -> None:
        self.instance.store.add_statements([StoredStatement(s.hash, s.kind, s.signer, s.hash, 1, s.canonical.decode())
                                            for s in statements])

    def verify(self, code: str) -> Verification:
        return self.instance.verifier().verify(code)


@pytest.fixture()
def hub(demo: Any) -> Any:
    instance = Instance.open(demo.instance_root)
    chain = Chain(producer=instance.signing_key(DEMO_PASSPHRASE))
    install_root(instance.store, chain.root())
    yield Hub(instance, chain, demo.batch.record)
    instance.close()


def test_an_endorsed_key_gives_genuine_with_attested_stars(hub: Hub, code: Callable[[int], str]) -> None:
    hub.keep(hub.endorsement())
    verification = hub.verify(code(1))
    assert verification.result is Result.GENUINE
    ocop = verification.to_json()["ocop"]
    assert ocop["attested"] is True and ocop["stars"] == 4 and ocop["office"]["id"] == "dien-bien"
    assert ocop["decision_no"] == "QĐ 1234/QĐ-UBND"


def test_a_key_no_office_endorses_is_an_unknown_issuer(hub: Hub, code: Callable[[int], str]) -> None:
    verification = hub.verify(code(1))
    assert (verification.result, [r.code for r in verification.reasons]) == (Result.UNKNOWN_ISSUER, ["key_unknown"])
    hub.keep(hub.endorsement(key_until=TODAY - dt.timedelta(days=1)))
    verification = hub.verify(code(1))
    assert (verification.result, [r.code for r in verification.reasons]) == (Result.UNKNOWN_ISSUER, ["endorsement_expired"])


def test_a_revoked_endorsement_is_seen_on_the_next_scan(hub: Hub, code: Callable[[int], str]) -> None:
    endorsement = hub.endorsement()
    hub.keep(endorsement)
    assert hub.verify(code(1)).result is Result.GENUINE
    revocation = Revocation("endorsement", endorsement.hash, "Vi phạm quy chế", "2026-12-01T00:00:00Z")
    hub.keep(sign("revocation", revocation.body(), hub.chain.province))
    verification = hub.verify(code(1))
    assert (verification.result, [r.code for r in verification.reasons]) == (Result.REVOKED_KEY, ["endorsement_revoked"])


def test_a_record_naming_another_producer_than_the_endorsed_one_is_forged(hub: Hub, code: Callable[[int], str]) -> None:
    hub.keep(hub.endorsement(producer={**hub.record["producer"], "name": "Công ty khác"}))
    verification = hub.verify(code(1))
    assert (verification.result, [r.code for r in verification.reasons]) == (Result.FORGED, ["producer_mismatch"])
    assert verification.batch is None


@pytest.mark.parametrize("changes, reason", [
    ({"product": ("Trà San tuyết PH.14 hữu cơ", "DB-0000-0000")}, "ocop_not_endorsed"),  # another certificate
    ({"product": ("Một sản phẩm khác", "DB-2024-0114")}, "ocop_not_endorsed"),  # the certificate of another product
    ({"product_until": TODAY - dt.timedelta(days=1)}, "ocop_endorsement_expired"),
])
def test_stars_no_office_attests_are_not_shown_and_the_result_says_why(hub: Hub, code: Callable[[int], str],
                                                                      changes: dict[str, Any], reason: str) -> None:
    hub.keep(hub.endorsement(**changes))
    verification = hub.verify(code(1))
    assert verification.result is Result.GENUINE
    assert verification.to_json()["ocop"] == {"attested": False, "reason": {"code": reason, **_messages(reason)}}


def _messages(code: str) -> dict[str, str]:
    from stamps.verify import Reason
    return {"message": Reason(code).message, "message_vi": Reason(code).message_vi}


def test_without_a_trust_root_stars_are_self_declared(demo: Any, code: Callable[[int], str]) -> None:
    instance = Instance.open(demo.instance_root)
    try:
        verification = instance.verifier().verify(code(1))
    finally:
        instance.close()
    assert verification.result is Result.GENUINE
    assert verification.to_json()["ocop"]["reason"]["code"] == "ocop_self_declared"


def test_the_key_id_of_the_demo_is_what_the_chain_endorses(hub: Hub) -> None:
    assert hub.endorsement().signer == key_id(hub.chain.province.public_key())


def test_the_page_shows_who_attests_the_stars_and_a_revocation_on_the_next_scan(hub: Hub, code: Callable[[int], str],
                                                                              apps: Any) -> None:
    endorsement = hub.endorsement()
    hub.keep(endorsement)
    client = apps().test_client()
    path = "/V/" + code(2).rsplit("/V/", 1)[1]
    page = client.get(path, headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "4 sao OCOP (cấp tỉnh) — Văn phòng Điều phối NTM tỉnh Điện Biên, QĐ số QĐ 1234/QĐ-UBND" in page
    assert "chưa được cơ quan OCOP xác nhận" not in page
    hub.keep(sign("revocation", Revocation("endorsement", endorsement.hash, "Vi phạm", "2026-12-01T00:00:00Z").body(),
                  hub.chain.province))
    answer = client.get("/api/v1/verify", query_string={"code": code(2)}).get_json()
    assert answer["result"] == "revoked_key" and answer["reasons"][0]["code"] == "endorsement_revoked"


def test_a_single_cooperative_page_labels_its_stars_as_not_attested(demo: Any, code: Callable[[int], str], apps: Any) -> None:
    path = "/V/" + code(3).rsplit("/V/", 1)[1]
    page = apps().test_client().get(path, headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "★★★★☆" in page and "chủ thể tự khai, chưa được cơ quan OCOP xác nhận" in page


def test_keeping_an_endorsement_or_a_trust_root_moves_the_trust_generation(hub: Hub) -> None:
    store = hub.instance.store
    before = store.setting("trust_generation")
    hub.keep(hub.endorsement())
    after_endorsement = store.setting("trust_generation")
    install_root(store, hub.chain.root(2))
    assert len({before, after_endorsement, store.setting("trust_generation")}) == 3


def test_a_hub_lists_the_keys_its_offices_endorse(hub: Hub, apps: Any) -> None:
    client = apps().test_client()
    assert client.get("/api/v1/keys").get_json()["keys"] == []
    hub.keep(hub.endorsement())
    keys = apps().test_client().get("/api/v1/keys").get_json()["keys"]
    assert [(key["kid"], key["label"], key["status"]) for key in keys] == [
        (key_id(hub.chain.producer.public_key()), hub.record["producer"]["name"], "active")]


@pytest.mark.parametrize("lang, words", [("vi", "không còn hiệu lực"), ("en", "key is not valid today")])
def test_a_lapsed_endorsement_has_its_reason_on_the_page_in_both_languages(hub: Hub, code: Callable[[int], str],
                                                                          apps: Any, lang: str, words: str) -> None:
    hub.keep(hub.endorsement(key_until=TODAY - dt.timedelta(days=1)))
    path = "/V/" + code(4).rsplit("/V/", 1)[1]
    page = apps().test_client().get(path, headers={"Accept-Language": lang}).get_data(as_text=True)
    assert words in page


def test_an_expired_trust_root_is_not_installed(hub: Hub) -> None:
    from stamps.errors import TrustError
    from trust_fixtures import EXPIRES
    with pytest.raises(TrustError) as refused:
        install_root(hub.instance.store, hub.chain.root(2), now=EXPIRES + dt.timedelta(seconds=1))
    assert refused.value.code == "expired" and hub.instance.store.trust_root() == hub.chain.root().canonical.decode()
