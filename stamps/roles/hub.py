"""The hub: a public verifier for many cooperatives. Here: the inspectors' bundles it serves.

The hub operator signs a bundle of what the hub holds with a hub key of the trust root (``ocop-stamps bundle sign``,
on the operator's machine, against the hub's database); the verifier itself holds no private key and serves the
newest bundle as it was signed (``GET /api/v1/bundle``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stamps.errors import TrustError
from stamps.registry import list_batches
from stamps.store import Store
from stamps.trust.bundle import BUNDLE_KINDS, DEFAULT_VALID_DAYS, Bundle, make_bundle, read_bundle
from stamps.trustroot import current_root


def sign_bundle(store: Store, hub_key: Ed25519PrivateKey, *, now: dt.datetime, province: str | None = None,
                with_records: bool = False, valid_days: int = DEFAULT_VALID_DAYS) -> Bundle:
    """Sign a bundle of *store* (under the trust root it holds) and keep it there for the verifier to serve."""
    root = current_root(store)
    if root is None:
        raise TrustError("This instance holds no trust root, so it is no hub.", code="no_trust_root",
                         hint="Start the hub once with 'ocop-stamps serve --trust-root root.json'.")
    records = [batch.signed for batch in list_batches(store)] if with_records else []
    statement = make_bundle(root, hub_key, store.statements(BUNDLE_KINDS), records, now=now, province=province,
                            valid_days=valid_days)
    bundle, _ = read_bundle(statement.canonical, root)  # what an inspector will check, checked before it is served
    store.add_bundle(province or "", bundle.as_of, statement.canonical.decode("utf-8"))
    return bundle


def served_bundle(store: Store, province: str) -> str | None:
    """The newest signed bundle for *province* ('' for all), as signed."""
    return store.bundle(unicodedata.normalize("NFC", province.strip()))
