"""A small trust chain for tests: a national root, a province office, the central office and one producer."""

from __future__ import annotations

import dataclasses
import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys.keyfile import key_id
from stamps.trust.envelope import Statement, sign
from stamps.trust.root import Hub, Office, TrustRoot, make_root, sign_root
from stamps.trust.statements import EndorsedKey, EndorsedProduct, Endorsement, ProducerIdentity, timestamp

PRODUCER = {"name": "HTX Nông nghiệp Mường Phăng", "kind": "cooperative", "province": "Điện Biên",
            "commune": "xã Mường Phăng", "address": "Bản Phăng 1", "tax_code": "5600123456"}
DAY = dt.date(2026, 12, 1)
EXPIRES = dt.datetime(2027, 12, 1, tzinfo=dt.timezone.utc)


def seed_key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


@dataclasses.dataclass
class Chain:
    national: Ed25519PrivateKey = dataclasses.field(default_factory=lambda: seed_key(1))
    province: Ed25519PrivateKey = dataclasses.field(default_factory=lambda: seed_key(2))
    central: Ed25519PrivateKey = dataclasses.field(default_factory=lambda: seed_key(3))
    producer: Ed25519PrivateKey = dataclasses.field(default_factory=lambda: seed_key(4))
    hub: Ed25519PrivateKey = dataclasses.field(default_factory=lambda: seed_key(5))

    def offices(self) -> list[tuple[Office, list]]:
        window = (dt.date(2026, 1, 1), dt.date(2030, 12, 31))
        return [(Office("dien-bien", "Văn phòng Điều phối NTM tỉnh Điện Biên", "province", "Điện Biên",
                        (key_id(self.province.public_key()),), *window), [self.province.public_key()]),
                (Office("trung-uong", "Văn phòng Điều phối NTM Trung ương", "central", None,
                        (key_id(self.central.public_key()),), *window), [self.central.public_key()])]

    def root(self, version: int = 1) -> TrustRoot:
        hub = Hub("hub-dien-bien", "Cổng truy xuất tỉnh Điện Biên", "https://truyxuat.example.vn",
                  (key_id(self.hub.public_key()),))
        return sign_root(make_root(national=[self.national.public_key()], offices=self.offices(),
                                   hubs=[(hub, [self.hub.public_key()])], version=version, expires=EXPIRES), [self.national])

    def endorsement(self, *, version: int = 1, stars: int = 4, office: str = "province", producer: dict | None = None,
                    key_until: dt.date = dt.date(2028, 12, 1), product: tuple[str, str] = ("Mật ong hoa Ban", "OCOP-DB-2026-017"),
                    product_until: dt.date = dt.date(2029, 3, 14), key: Ed25519PrivateKey | None = None,
                    key_from: dt.date = dt.date(2026, 11, 30)) -> Statement:
        level = "national" if stars == 5 else "province"
        endorsed = EndorsedProduct(*product, stars, level, "QĐ 1234/QĐ-UBND", dt.date(2026, 3, 15), product_until)
        signer = self.province if office == "province" else self.central
        endorsement = Endorsement("dien-bien" if office == "province" else "trung-uong", "HTX-MP-01", version,
                                  timestamp(dt.datetime(2026, 11, 30, 9, tzinfo=dt.timezone.utc)),
                                  ProducerIdentity.of(producer or PRODUCER),
                                  (EndorsedKey((key or self.producer).public_key(), key_from, key_until),), (endorsed,))
        return sign("endorsement", endorsement.body(), signer)
