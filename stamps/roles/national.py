"""The national root operator's desk: the national key, the offices and hubs it lists, and the trust roots it signs.

The operator adds the offices' cards (``authority root office add CARD``) and the hubs (``authority root hub add``)
to a draft kept in the desk's settings, then signs the draft as the next version of the trust root
(``authority root sign``). Each version is held through :func:`stamps.trustroot.install_root`, so a new one is
written only if :meth:`TrustRoot.accept_update` accepts it from the one before (signed by the previous national
key, a higher version).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, NamedTuple, Sequence, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.keyfile import key_id, load_public_key_pem, public_key_bytes, public_key_from_bytes
from stamps import validation as v
from stamps.errors import KeyStoreError, NotFoundError, StampError, ValidationError
from stamps.records import add_months
from stamps.roles.office import OfficeProfile
from stamps.roles.desk import Desk, write_document, written_with
from stamps.trust.root import Hub, Office, TrustRoot, make_root, sign_root
from stamps.trustroot import current_root, install_root
from stamps.url import normalize_base_url

ROLE = "national-root"
KEY_SETTING = "national_key"
OFFICES_SETTING = "root_offices"
HUBS_SETTING = "root_hubs"
DEFAULT_EXPIRES_DAYS = 365
OFFICE_VALIDITY_MONTHS = 60
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


Entry = TypeVar("Entry", Office, Hub)


class Draft(NamedTuple):
    """What the next trust root will list (each office and hub with its public key), and the last one signed."""

    offices: list[tuple[Office, Ed25519PublicKey]]
    hubs: list[tuple[Hub, Ed25519PublicKey]]
    signed: TrustRoot | None

    @property
    def unsigned_changes(self) -> bool:
        """Whether the draft lists other offices or hubs than the last trust root signed."""
        offices, hubs = [entry.to_dict() for entry, _ in self.offices], [entry.to_dict() for entry, _ in self.hubs]
        if self.signed is None:
            return bool(offices or hubs)
        return offices != [office.to_dict() for office in self.signed.offices] or hubs != [hub.to_dict() for hub in self.signed.hubs]


def init_national_root(root: Path, passphrase: bytes, *, database: str | None = None) -> str:
    """Make the national root operator's instance in *root* with its encrypted national key; returns the key id."""
    if not passphrase:
        raise KeyStoreError("An empty passphrase would leave the national key unprotected.", hint="Choose a passphrase.")
    desk = Desk.create(root, ROLE, database=database)
    try:
        public_key = desk.new_key(passphrase).public_key()
        with desk.store.transaction():
            desk.set_settings(KEY_SETTING, {"key_id": key_id(public_key), "public_key": public_key_bytes(public_key).hex()})
            desk.claim()
        return key_id(public_key)
    finally:
        desk.close()


def national_public_key(desk: Desk) -> Ed25519PublicKey:
    return public_key_from_bytes(bytes.fromhex(desk.settings(KEY_SETTING)["public_key"]))


def national_key(desk: Desk, passphrase: bytes | None) -> Ed25519PrivateKey:
    """The national private key."""
    return desk.private_key(key_id(national_public_key(desk)), passphrase)


def draft(desk: Desk) -> Draft:
    """The offices and hubs the next trust root will list, and the last one signed."""
    offices = [(Office.from_input(item["office"]), _key(item)) for item in desk.settings(OFFICES_SETTING) or []]
    hubs = [(Hub(**{**item["hub"], "keyids": tuple(item["hub"]["keyids"])}), _key(item))
            for item in desk.settings(HUBS_SETTING) or []]
    return Draft(offices, hubs, current_root(desk.store))


def _key(item: dict[str, Any]) -> Ed25519PublicKey:
    return public_key_from_bytes(bytes.fromhex(item["public_key"]))


def add_office(desk: Desk, card: Any, *, valid_from: dt.date | None = None, valid_until: dt.date | None = None,
               today: dt.date | None = None) -> tuple[Office, Office | None]:
    """List the office of *card* in the draft (replacing the entry with its id); returns it and the one replaced."""
    profile = OfficeProfile.from_card(card)
    start = valid_from or today or dt.date.today()
    end = valid_until or add_months(start, OFFICE_VALIDITY_MONTHS)
    office = Office.from_input({**profile.as_office(start).to_dict(), "valid_from": start.isoformat(), "valid_until": end.isoformat()})
    current = draft(desk)
    _check_key_unused(desk, current, profile.public_key, office.id)
    offices, replaced = _replaced(current.offices, office, profile.public_key)
    _save(desk, OFFICES_SETTING, "office", offices)
    return office, replaced


def remove_office(desk: Desk, office_id: str) -> Office:
    """Take an office out of the draft."""
    offices, found = _removed(draft(desk).offices, office_id, "office")
    _save(desk, OFFICES_SETTING, "office", offices)
    return found


def add_hub(desk: Desk, data: dict[str, Any], public_key: Ed25519PublicKey) -> tuple[Hub, Hub | None]:
    """List a hub (a public verifier whose key signs inspectors' bundles) in the draft, replacing the one with its id."""
    hub_id = v.required_text(data.get("id"), "--id", max_length=63)
    if not _ID.fullmatch(hub_id):
        raise ValidationError("--id", "must be lower-case letters, digits and dashes (e.g. hub-dien-bien)")
    hub = Hub(hub_id, v.required_text(data.get("name"), "--name"), normalize_base_url(str(data.get("url") or "")),
              (key_id(public_key),))
    current = draft(desk)
    _check_key_unused(desk, current, public_key, hub.id)
    hubs, replaced = _replaced(current.hubs, hub, public_key)
    _save(desk, HUBS_SETTING, "hub", hubs)
    return hub, replaced


def remove_hub(desk: Desk, hub_id: str) -> Hub:
    """Take a hub out of the draft."""
    hubs, found = _removed(draft(desk).hubs, hub_id, "hub")
    _save(desk, HUBS_SETTING, "hub", hubs)
    return found


def _replaced(entries: list[tuple[Entry, Ed25519PublicKey]], entry: Entry,
              public_key: Ed25519PublicKey) -> tuple[list[tuple[Entry, Ed25519PublicKey]], Entry | None]:
    """*entries* with *entry* in place of the one with its id (at the end when new), and the one it replaced."""
    replaced = next((old for old, _ in entries if old.id == entry.id), None)
    return [item for item in entries if item[0].id != entry.id] + [(entry, public_key)], replaced


def _removed(entries: list[tuple[Entry, Ed25519PublicKey]], entry_id: str,
             what: str) -> tuple[list[tuple[Entry, Ed25519PublicKey]], Entry]:
    found = next((entry for entry, _ in entries if entry.id == entry_id), None)
    if found is None:
        raise NotFoundError(f"No {what} {entry_id!r} in the draft.", hint="'ocop-stamps authority root show' lists them.")
    return [item for item in entries if item[0].id != entry_id], found


def _check_key_unused(desk: Desk, current: Draft, public_key: Ed25519PublicKey, entry_id: str) -> None:
    """A key has one role in the trust root: the national key's, one office's or one hub's."""
    identifier = key_id(public_key)
    if identifier == key_id(national_public_key(desk)):
        raise StampError(f"Key {identifier} is the national key; an office or hub signs with a key of its own.")
    listed: list[tuple[Office | Hub, Ed25519PublicKey]] = [*current.offices, *current.hubs]
    for entry, public_key in listed:
        if key_id(public_key) == identifier and entry.id != entry_id:
            raise StampError(f"Key {identifier} is already listed for {entry.id!r}; each office and hub has its own key.")


def _save(desk: Desk, setting: str, member: str, items: Sequence[tuple[Office | Hub, Ed25519PublicKey]]) -> None:
    desk.set_settings(setting, [{member: entry.to_dict(), "public_key": public_key_bytes(public_key).hex()}
                                for entry, public_key in items])


def sign_trust_root(desk: Desk, private_key: Ed25519PrivateKey, out: Path, *, expires_days: int = DEFAULT_EXPIRES_DAYS,
                    now: dt.datetime | None = None) -> TrustRoot:
    """Sign the draft as the next version of the trust root, hold it (only as an update of the last) and write it to *out*."""
    if key_id(private_key.public_key()) != key_id(national_public_key(desk)):
        raise KeyStoreError("That private key is not this instance's national key.")
    current = draft(desk)
    if not current.offices:
        raise StampError("The draft lists no office yet.", hint="Add one with 'ocop-stamps authority root office add CARD.json'.")
    days = v.integer(expires_days, "--expires-days", minimum=1, maximum=3650)
    expires = (now or dt.datetime.now(dt.timezone.utc)) + dt.timedelta(days=days)
    version = (current.signed.version if current.signed else 0) + 1
    signed = sign_root(make_root(national=[private_key.public_key()], version=version, expires=expires,
                                 offices=[(office, [public_key]) for office, public_key in current.offices],
                                 hubs=[(hub, [public_key]) for hub, public_key in current.hubs]), [private_key])
    with written_with(desk.store, out):
        install_root(desk.store, signed)
        write_document(out, signed.canonical + b"\n")
    return signed


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key given as 64 hex digits or as a PEM file ('ocop-stamps keys export')."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"[0-9a-f]{64}", cleaned):
        return public_key_from_bytes(bytes.fromhex(cleaned))
    path = Path(text)
    if not path.is_file():
        raise ValidationError("--public-key", "must be 64 hex digits or a PEM public key file")
    return load_public_key_pem(path.read_bytes(), str(path))


def listing(desk: Desk) -> list[str]:
    """The national key, the last trust root signed, and what the next one lists, one line each."""
    current = draft(desk)
    lines = [f"National key {key_id(national_public_key(desk))}"]
    if current.signed:
        lines.append(f"Last signed: version {current.signed.version}, expires {current.signed.expires:%Y-%m-%d}"
                     f"{' (changes not signed yet)' if current.unsigned_changes else ''}")
    else:
        lines.append("No trust root signed yet.")
    for office, public_key in current.offices:
        where = f" {office.province}" if office.province else ""
        lines.append(f"office {office.id}  {office.name}  {office.scope}{where}  key {key_id(public_key)}  "
                     f"valid {office.valid_from} to {office.valid_until}")
    for hub, public_key in current.hubs:
        lines.append(f"hub {hub.id}  {hub.name}  {hub.url}  key {key_id(public_key)}")
    return lines
