"""The trust chain's rules: envelopes, the trust root, endorsements, revocations, attestation of stars."""

from __future__ import annotations

import datetime as dt

import pytest

from keys.keyfile import key_id
from stamps.errors import TrustError
from stamps.trust.chain import TrustChain, admit_endorsement, admit_recall
from stamps.trust.root import Office, make_root, sign_root
from stamps.trust.envelope import StoredStatement, read, sign
from stamps.trust.statements import Endorsement, Enrolment, ProducerIdentity, Recall, Revocation, timestamp
from trust_fixtures import DAY, EXPIRES, PRODUCER, Chain, seed_key

RECORD = {"producer": {**PRODUCER, "phone": "0912 345 678"},
          "product": {"name": "Mật ong hoa Ban", "ocop_certificate_no": "OCOP-DB-2026-017", "ocop_stars": 4}}


def stored(*statements) -> list[StoredStatement]:
    return [StoredStatement(s.hash, s.kind, s.signer, "", 1, s.canonical.decode(), seq) for seq, s in enumerate(statements, 1)]


def test_an_enrolment_proves_possession_of_its_key() -> None:
    producer = seed_key(9)
    statement = Enrolment(ProducerIdentity.of(PRODUCER), producer.public_key(), "2026-11-30T08:00:00Z").sign(producer)
    assert Enrolment.read(read(statement.canonical, "enrolment")).key_id == key_id(producer.public_key())
    other = Enrolment(ProducerIdentity.of(PRODUCER), seed_key(10).public_key(), "2026-11-30T08:00:00Z").sign(producer)
    with pytest.raises(TrustError) as refused:
        Enrolment.read(other)
    assert refused.value.code == "wrong_signer"


def test_a_statement_of_one_kind_is_not_read_as_another() -> None:
    statement = sign("recall", {"batch_digest": "0" * 64}, seed_key(4))
    with pytest.raises(TrustError) as refused:
        read(statement.canonical, "endorsement")
    assert refused.value.code == "wrong_kind"


def test_an_endorsed_key_is_endorsed_and_its_stars_attested() -> None:
    chain = Chain()
    trust = TrustChain.from_statements(chain.root(), stored(chain.endorsement()))
    standing = trust.standing(key_id(chain.producer.public_key()), DAY)
    assert standing.endorsed
    assert trust.producer_problem(standing, RECORD) is None
    attestation = trust.attestation(standing, RECORD, DAY)
    assert attestation.attested and attestation.product.stars == 4 and attestation.office.id == "dien-bien"


def test_a_province_office_may_not_endorse_five_stars() -> None:
    chain = Chain()
    with pytest.raises(TrustError) as refused:
        admit_endorsement(chain.root(), chain.endorsement(stars=5, office="province"))
    assert refused.value.code == "out_of_scope"
    assert admit_endorsement(chain.root(), chain.endorsement(stars=5, office="central")).office.scope == "central"


def test_a_newer_endorsement_replaces_the_older_one() -> None:
    chain = Chain()
    later = chain.endorsement(version=2, key_until=dt.date(2026, 12, 10))
    trust = TrustChain.from_statements(chain.root(), stored(later, chain.endorsement(version=1)))
    assert trust.standing(key_id(chain.producer.public_key()), dt.date(2026, 12, 11)).reason == "endorsement_expired"


def test_revocations_by_the_office_and_by_the_key_itself() -> None:
    chain = Chain()
    endorsement = chain.endorsement()
    producer_id = key_id(chain.producer.public_key())
    by_office = sign("revocation", Revocation("endorsement", endorsement.hash, "Hết hiệu lực", timestamp(dt.datetime.now(dt.timezone.utc))).body(), chain.province)
    assert TrustChain.from_statements(chain.root(), stored(endorsement, by_office)).standing(producer_id, DAY).reason == "endorsement_revoked"
    by_key = sign("revocation", Revocation("key", producer_id, "Mất máy tính", "2026-12-01T00:00:00Z").body(), chain.producer)
    assert TrustChain.from_statements(chain.root(), stored(endorsement, by_key)).standing(producer_id, DAY).reason == "key_revoked"
    by_stranger = sign("revocation", Revocation("key", producer_id, "x", "2026-12-01T00:00:00Z").body(), seed_key(20))
    assert TrustChain.from_statements(chain.root(), stored(endorsement, by_stranger)).standing(producer_id, DAY).endorsed


def test_a_record_naming_another_producer_is_refused() -> None:
    chain = Chain()
    trust = TrustChain.from_statements(chain.root(), stored(chain.endorsement()))
    standing = trust.standing(key_id(chain.producer.public_key()), DAY)
    assert trust.producer_problem(standing, {**RECORD, "producer": {**PRODUCER, "name": "HTX Khác"}}) == "producer_mismatch"


def test_a_trust_root_cannot_be_rolled_back() -> None:
    chain = Chain()
    with pytest.raises(TrustError) as refused:
        chain.root(2).accept_update(chain.root(1))
    assert refused.value.code == "rollback"


def test_a_province_office_may_not_endorse_a_producer_of_another_province_even_without_products() -> None:
    chain = Chain()
    statement = chain.endorsement(producer={**PRODUCER, "province": "Quảng Ninh"})
    with pytest.raises(TrustError) as refused:
        admit_endorsement(chain.root(), statement)
    assert refused.value.code == "out_of_scope"
    body = {**Endorsement.read(statement).body(), "producer": {**PRODUCER, "province": "Quảng Ninh"}, "products": []}
    with pytest.raises(TrustError) as refused:
        admit_endorsement(chain.root(), sign("endorsement", body, chain.province))
    assert refused.value.code == "out_of_scope"


def test_an_office_revokes_only_what_it_endorsed_and_the_central_office_anything() -> None:
    chain = Chain()
    endorsement = chain.endorsement()
    producer_id = key_id(chain.producer.public_key())
    other_province = seed_key(30)
    offices = chain.offices() + [(Office("quang-ninh", "VP NTM Quảng Ninh", "province", "Quảng Ninh", (key_id(other_province.public_key()),),
                                         dt.date(2026, 1, 1), dt.date(2030, 1, 1)), [other_province.public_key()])]
    root = sign_root(make_root(national=[chain.national.public_key()], offices=offices, version=1, expires=EXPIRES), [chain.national])
    for signer, endorsed in ((other_province, True), (chain.central, False), (chain.province, False)):
        for revocation in (Revocation("endorsement", endorsement.hash, "x", "2026-12-01T00:00:00Z"),
                           Revocation("key", producer_id, "x", "2026-12-01T00:00:00Z")):
            trust = TrustChain.from_statements(root, stored(endorsement, sign("revocation", revocation.body(), signer)))
            assert trust.standing(producer_id, DAY).endorsed is endorsed, (signer, revocation.target)


def test_an_expired_trust_root_vouches_for_no_key_and_is_not_installed() -> None:
    chain = Chain()
    trust = TrustChain.from_statements(chain.root(), stored(chain.endorsement()))
    producer_id = key_id(chain.producer.public_key())
    assert trust.standing(producer_id, EXPIRES.date()).endorsed
    assert trust.standing(producer_id, EXPIRES.date() + dt.timedelta(days=1)).reason == "trust_root_expired"


def test_stars_are_attested_by_any_current_endorsement_that_holds_them_valid() -> None:
    chain = Chain()
    lapsed = chain.endorsement(product_until=dt.date(2026, 6, 1))
    central = sign("endorsement", {**Endorsement.read(chain.endorsement(office="central", stars=5)).body(),
                                   "producer_ref": "TW-01"}, chain.central)
    trust = TrustChain.from_statements(chain.root(), stored(lapsed, central))
    standing = trust.standing(key_id(chain.producer.public_key()), DAY)
    assert trust.attestation(standing, RECORD, DAY).product.stars == 5
    alone = TrustChain.from_statements(chain.root(), stored(lapsed))
    assert alone.attestation(alone.standing(key_id(chain.producer.public_key()), DAY), RECORD, DAY).reason == "ocop_endorsement_expired"


@pytest.mark.parametrize("signer, mandatory, admitted", [("producer", False, True), ("producer", True, True),
                                                         ("province", True, True), ("hub", False, False)])
def test_a_recall_is_the_batch_keys_or_an_offices(signer: str, mandatory: bool, admitted: bool) -> None:
    chain = Chain()
    recall = Recall("ab" * 32, "Sai nhãn", mandatory, DAY, "2026-12-01T00:00:00Z")
    statement = sign("recall", recall.body(), getattr(chain, signer))
    record_key = Endorsement.read(chain.endorsement()).keys[0]
    if admitted:
        assert admit_recall(chain.root(), statement, record_key) == recall
    else:
        with pytest.raises(TrustError):
            admit_recall(chain.root(), statement, record_key)


def test_a_file_of_another_kind_is_named_as_such() -> None:
    statement = sign("recall", {"batch_digest": "0" * 64}, seed_key(4))
    with pytest.raises(TrustError) as refused:
        read(statement.canonical, "endorsement")
    assert refused.value.message == "This is a recall, where an endorsement is expected."


def test_a_province_offices_key_revocation_counts_for_its_own_endorsements_only() -> None:
    """The loophole closed: an office that lists a real producer's key in an endorsement of an invented producer of its
    own province, then revokes that key, withdraws it from its own endorsement only; the key itself and the central
    office still revoke a key everywhere."""
    chain = Chain()
    genuine = chain.endorsement()
    producer_id = key_id(chain.producer.public_key())
    rogue = seed_key(30)
    offices = chain.offices() + [(Office("quang-ninh", "VP NTM Quảng Ninh", "province", "Quảng Ninh", (key_id(rogue.public_key()),),
                                         dt.date(2026, 1, 1), dt.date(2030, 1, 1)), [rogue.public_key()])]
    root = sign_root(make_root(national=[chain.national.public_key()], offices=offices, version=1, expires=EXPIRES), [chain.national])
    invented = sign("endorsement", {**Endorsement.read(genuine).body(), "office": "quang-ninh", "producer_ref": "QN-01",
                                    "producer": {**PRODUCER, "name": "HTX Bịa", "province": "Quảng Ninh"}, "products": []}, rogue)
    revoke = lambda signer: sign("revocation", Revocation("key", producer_id, "x", "2026-12-01T00:00:00Z").body(), signer)  # noqa: E731
    trust = TrustChain.from_statements(root, stored(genuine, invented, revoke(rogue)))
    standing = trust.standing(producer_id, DAY)
    assert standing.endorsed and [item.office.id for item in standing.endorsements] == ["dien-bien"]
    assert key_status(trust, producer_id) == "active"
    alone = TrustChain.from_statements(root, stored(invented, revoke(rogue)))
    assert alone.standing(producer_id, DAY).reason == "endorsement_revoked"
    for signer in (chain.central, chain.producer):
        everywhere = TrustChain.from_statements(root, stored(genuine, invented, revoke(signer)))
        assert everywhere.standing(producer_id, DAY).reason == "key_revoked"
        assert key_status(everywhere, producer_id) == "revoked"


def key_status(trust: TrustChain, identifier: str) -> str:
    return next(key.status for key in trust.keyring() if key.key_id == identifier)
