"""An inspector's side of the bundle: the trust root they pinned and the newest bundle they have seen, kept on their
own machine (not next to the bundle, which anyone could replace), so a bundle older than one already seen is refused.

The state is one JSON file in the user's state folder (``$OCOP_STAMPS_STATE_DIR`` overrides it), written atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import platformdirs

from keys.keyring import Keyring
from stamps.errors import StampError, TrustError
from stamps.roles.desk import write_document
from stamps.trust.bundle import MAX_BUNDLE_BYTES, Bundle, read_bundle
from stamps.trust.root import TrustRoot
from stamps.verify import Verification, Verifier

STATE_ENV = "OCOP_STAMPS_STATE_DIR"
STATE_FILE = "inspector.json"


@dataclasses.dataclass(frozen=True)
class OpenedBundle:
    """A bundle as an inspector opened it, with whether it is past its expiry."""

    bundle: Bundle
    stale: bool


def state_path() -> Path:
    folder = os.environ.get(STATE_ENV) or platformdirs.user_state_dir("ocop-stamps", appauthor=False)
    return Path(folder) / STATE_FILE


def open_bundle(data: bytes, *, trust_root: bytes | None, now: dt.datetime) -> OpenedBundle:
    """Check *data* against the pinned trust root (or *trust_root*, pinned now on first use) and the newest bundle
    seen from its hub; remember it. TrustError for a bundle that does not hold or is older than one seen."""
    state = _load_state()
    pinned = _pinned_root(state, trust_root)
    bundle, root = read_bundle(data, pinned)
    scope = sequence_of(bundle)
    seen = state.get("bundles", {}).get(scope)
    if seen and (bundle.version < seen["version"] or bundle.as_of < seen["as_of"]):
        raise TrustError(f"This bundle from {bundle.hub} (version {bundle.version}, as of {bundle.as_of}) is older than one "
                         f"already seen (version {seen['version']}, as of {seen['as_of']}).", code="rollback",
                         hint="Someone may be replaying an old bundle: fetch from the hub's own address, or ask its operator.")
    state["trust_root"] = root.canonical.decode("utf-8")
    state.setdefault("bundles", {})[scope] = {"version": bundle.version, "as_of": bundle.as_of}
    _save_state(state)
    return OpenedBundle(bundle, bundle.is_stale(now))


def sequence_of(bundle: Bundle) -> str:
    """The sequence a bundle belongs to: a hub's every-province bundles (its id), or one province's ("id/province"). A
    hub signs each scope at its own times, so each is compared only with bundles of the same scope."""
    return bundle.hub if bundle.province is None else f"{bundle.hub}/{bundle.province}"


def _pinned_root(state: dict[str, Any], given: bytes | None) -> TrustRoot:
    held = TrustRoot.load(state["trust_root"].encode("utf-8")) if state.get("trust_root") else None
    if given is not None:
        offered = TrustRoot.load(given)
        return held.accept_update(offered) if held else offered
    if held is None:
        raise TrustError("No trust root is pinned on this machine yet.", code="no_trust_root",
                         hint="Give the national trust root file once with --trust-root root.json (from the OCOP office).")
    return held


def _load_state() -> dict[str, Any]:
    path = state_path()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise StampError(f"The inspector's state file {path} cannot be read ({error}).",
                         hint="Move it away; the next bundle then needs --trust-root again.") from None
    return state if isinstance(state, dict) else {}


def _save_state(state: dict[str, Any]) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(path, json.dumps(state, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_document(path, data)
    except OSError as error:
        raise StampError(f"Cannot write {path}: {error.strerror}.") from None


FETCH_TIMEOUT_SECONDS = 60


def fetch_bundle(hub_url: str, out: Path, *, province: str | None, trust_root: bytes | None, now: dt.datetime) -> OpenedBundle:
    """Download the hub's newest bundle, check it as :func:`open_bundle` does, then save it to *out* (whole or not at
    all; nothing is saved or remembered if a check fails)."""
    query = "?" + urllib.parse.urlencode({"province": province}) if province else ""
    url = hub_url.rstrip("/") + "/api/v1/bundle" + query
    if not url.startswith(("https://", "http://")):
        raise StampError(f"The hub address must start with https:// (got {hub_url[:80]!r}).")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as answer:  # noqa: S310 (scheme checked above)
            data = answer.read(MAX_BUNDLE_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise StampError(f"The hub answered {error.code} for {url}: {_error_message(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise StampError(f"Cannot reach the hub at {hub_url}: {reason}.", hint="Check the address and the network, then try again.") from None
    opened = open_bundle(data, trust_root=trust_root, now=now)
    _write_atomically(out, data)
    return opened


def _error_message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read(4096)).get("message", "no message"))
    except (ValueError, AttributeError, OSError):
        return "no message"


def verify_with_bundle(data: bytes, code: str, *, trust_root: bytes | None, today: dt.date | None,
                       now: dt.datetime) -> tuple[Verification, OpenedBundle]:
    """Verify *code* against a bundle alone (no network, no instance)."""
    opened = open_bundle(data, trust_root=trust_root, now=now)
    verifier = Verifier(Keyring([]), opened.bundle.batches.get, opened.bundle.chain)  # the bundle alone
    return verifier.verify(code, today=today or now.date()), opened
