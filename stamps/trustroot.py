"""An instance's place in the trust chain: the trust root it holds (rollback-protected) and its chain.

The store keeps every trust root the instance held, as canonical bytes; a new
one is added only through :meth:`TrustRoot.accept_update` of the newest. An instance
without one is a single cooperative's: its own trust store decides, and its
stars are shown as not attested.
"""

from __future__ import annotations

import datetime as dt

from stamps.errors import TrustError
from stamps.store import Store
from stamps.trust.chain import CHAIN_KINDS, TrustChain
from stamps.trust.root import TrustRoot


def current_root(store: Store) -> TrustRoot | None:
    """The trust root this instance holds, or None (a single cooperative's instance)."""
    text = store.trust_root()
    return TrustRoot.load(text.encode("utf-8")) if text else None


def install_root(store: Store, root: TrustRoot, now: dt.datetime | None = None) -> TrustRoot:
    """Hold *root* from now on: the first one as given, a later one only as an update of the one held; never an
    expired one (TrustError)."""
    moment = now or dt.datetime.now(dt.timezone.utc)
    if root.is_expired(moment):
        raise TrustError(f"Trust root version {root.version} expired on {root.expires:%Y-%m-%d}.", code="expired",
                         hint="Ask the national root operator for the current one.")
    with store.transaction():
        held = current_root(store)
        accepted = held.accept_update(root) if held else root
        if held is None or accepted is not held:
            store.add_trust_root(accepted.version, accepted.canonical.decode("utf-8"))
        return accepted


def load_chain(store: Store) -> TrustChain | None:
    """The chain of the held trust root and the kept endorsements and revocations; None without a trust root."""
    root = current_root(store)
    if root is None:
        return None
    return TrustChain.from_statements(root, store.statements(CHAIN_KINDS))
