"""Key files (encrypted, owner-only), key ids and hints, and the trust store."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from keys import keyring as keyring_module
from keys.keyfile import (
    generate_private_key,
    key_hint,
    key_id,
    load_private_key,
    load_public_key_pem,
    needs_passphrase,
    public_key_bytes,
    public_key_from_bytes,
    public_key_pem,
    save_private_key,
)
from keys.keyring import Keyring, TrustedKey
from stamps.errors import KeyStoreError, NotFoundError, StampError, WrongPassphraseError
from stamps.instance import Instance

PASSPHRASE = b"mat khau dai - passphrase"
SEED = bytes(range(32))

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pem_der(pem: bytes) -> bytes:
    """The DER bytes inside a PEM file."""
    body = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return base64.b64decode(b"".join(body))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def saved_key(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = generate_private_key()
    path = tmp_path / "keys" / "signing.key.pem"
    save_private_key(key, path, PASSPHRASE)
    return key, path


# --------------------------------------------------------------------------- key files

def test_generate_save_load_round_trip(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    key, path = saved_key
    loaded = load_private_key(path, PASSPHRASE)
    assert raw_private(loaded) == raw_private(key)
    assert raw_public(loaded.public_key()) == raw_public(key.public_key())
    message = b"OCOP batch"
    key.public_key().verify(loaded.sign(message), message)


def test_generated_keys_differ() -> None:
    assert raw_private(generate_private_key()) != raw_private(generate_private_key())


def test_instance_key_round_trip(instance: Instance) -> None:
    trusted = instance.generate_key(PASSPHRASE, "Khóa ký HTX")
    assert instance.key_path(trusted.key_id).is_file()
    assert instance.signing_key_id == trusted.key_id
    signing = instance.signing_key(PASSPHRASE)
    assert key_id(signing.public_key()) == trusted.key_id
    assert raw_public(signing.public_key()) == raw_public(trusted.public_key)
    assert trusted.status == "active" and trusted.label == "Khóa ký HTX"


@posix_only
def test_private_key_file_is_owner_only_even_with_open_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = tmp_path / "fresh-dir" / "k.key.pem"
        save_private_key(generate_private_key(), path, PASSPHRASE)
    finally:
        os.umask(previous)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) & 0o077 == 0


@posix_only
def test_instance_private_key_file_and_dir_are_owner_only(instance: Instance) -> None:
    trusted = instance.generate_key(PASSPHRASE, "label")
    assert mode_of(instance.key_path(trusted.key_id)) == 0o600
    assert mode_of(instance.keys_dir) & 0o077 == 0
    assert mode_of(instance.root) & 0o077 == 0


def test_wrong_passphrase_raises_one_line_error(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    _, path = saved_key
    with pytest.raises(WrongPassphraseError) as caught:
        load_private_key(path, b"not the passphrase")
    line = caught.value.diagnostics()
    assert "passphrase" in line.lower()
    assert "\n" not in line and "\n" not in str(caught.value)
    assert isinstance(caught.value, KeyStoreError)


@pytest.mark.parametrize("passphrase", [None, b""])
def test_encrypted_key_without_passphrase_refused(saved_key: tuple[Ed25519PrivateKey, Path], passphrase: bytes | None) -> None:
    _, path = saved_key
    with pytest.raises(WrongPassphraseError) as caught:
        load_private_key(path, passphrase)
    assert "no passphrase" in caught.value.message
    assert "\n" not in caught.value.diagnostics()


def test_instance_signing_key_with_wrong_passphrase(instance: Instance) -> None:
    instance.generate_key(PASSPHRASE, "label")
    with pytest.raises(WrongPassphraseError):
        instance.signing_key(b"wrong")


def test_missing_key_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "abc.key.pem"
    with pytest.raises(KeyStoreError) as caught:
        load_private_key(path, PASSPHRASE)
    assert not isinstance(caught.value, WrongPassphraseError)
    assert str(path) in caught.value.message
    assert "missing" in caught.value.message


def test_instance_missing_key_file_names_the_file(instance: Instance) -> None:
    trusted = instance.generate_key(PASSPHRASE, "label")
    path = instance.key_path(trusted.key_id)
    path.unlink()
    with pytest.raises(KeyStoreError) as caught:
        instance.signing_key(PASSPHRASE)
    assert str(path) in caught.value.message


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620], ids=oct)
def test_key_file_readable_by_others_refused(saved_key: tuple[Ed25519PrivateKey, Path], mode: int) -> None:
    _, path = saved_key
    os.chmod(path, mode)
    with pytest.raises(KeyStoreError) as caught:
        load_private_key(path, PASSPHRASE)
    assert not isinstance(caught.value, WrongPassphraseError)
    assert str(path) in caught.value.message
    assert f"{mode:o}" in caught.value.message
    assert "chmod 600" in caught.value.hint
    assert "chmod 600" in caught.value.diagnostics()


@posix_only
def test_key_file_0400_accepted(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    key, path = saved_key
    os.chmod(path, 0o400)
    assert raw_private(load_private_key(path, PASSPHRASE)) == raw_private(key)


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key.pem"
    with pytest.raises(KeyStoreError) as caught:
        save_private_key(generate_private_key(), path, b"")
    assert "empty passphrase" in caught.value.message
    assert not path.exists()


def test_instance_empty_passphrase_refused_and_nothing_trusted(instance: Instance) -> None:
    with pytest.raises(KeyStoreError):
        instance.generate_key(b"", "label")
    assert instance.trust.all() == []
    assert instance.store.setting("signing_key_id") is None
    assert not instance.keys_dir.exists() or list(instance.keys_dir.iterdir()) == []


def test_existing_key_file_not_overwritten(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    _, path = saved_key
    before = path.read_bytes()
    with pytest.raises(KeyStoreError) as caught:
        save_private_key(generate_private_key(), path, PASSPHRASE)
    assert "already exists" in caught.value.message
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [
    b"",
    b"garbage \x00\x01\x02\xff not a key",
    b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
])
def test_damaged_key_file_gives_clear_keystore_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "damaged.key.pem"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyStoreError) as caught:
        load_private_key(path, PASSPHRASE)
    line = caught.value.diagnostics()
    assert "\n" not in line
    assert "damaged" in line or str(path) in line


def test_truncated_real_key_file_gives_keystore_error(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    _, path = saved_key
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(KeyStoreError):
        load_private_key(path, PASSPHRASE)


def test_non_ed25519_private_key_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.key.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSPHRASE))
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    with pytest.raises(KeyStoreError) as caught:
        load_private_key(path, PASSPHRASE)
    assert "Ed25519" in caught.value.message


def test_private_key_pem_is_encrypted(saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    key, path = saved_key
    pem = path.read_bytes()
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem
    assert b"BEGIN PRIVATE KEY" not in pem
    raw = raw_private(key)
    assert raw not in pem
    assert raw.hex().encode() not in pem.lower()
    assert raw not in pem_der(pem)


def test_raw_bytes_check_would_catch_an_unencrypted_key(tmp_path: Path) -> None:
    # The same check as above finds the secret in an unencrypted PKCS#8 file,
    # so the encrypted-file test really can fail.
    key = generate_private_key()
    path = tmp_path / "plain.key.pem"
    save_private_key(key, path, None)
    pem = path.read_bytes()
    assert b"ENCRYPTED" not in pem
    assert raw_private(key) in pem_der(pem)


def test_needs_passphrase_tells_encrypted_from_plain(tmp_path: Path, saved_key: tuple[Ed25519PrivateKey, Path]) -> None:
    _, encrypted = saved_key
    plain = tmp_path / "plain.key.pem"
    save_private_key(generate_private_key(), plain, None)
    assert needs_passphrase(encrypted) is True
    assert needs_passphrase(plain) is False
    assert needs_passphrase(tmp_path / "missing.key.pem") is False


# --------------------------------------------------------------------------- key id and hint

def test_key_id_is_first_8_bytes_of_sha256_of_raw_public_key() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32
    expected = hashlib.sha256(raw).hexdigest()[:16]
    identifier = key_id(public)
    assert identifier == expected
    assert len(identifier) == 16 and all(char in "0123456789abcdef" for char in identifier)


@pytest.mark.parametrize("_", range(3))
def test_key_id_and_hint_for_random_keys(_: int) -> None:
    public = generate_private_key().public_key()
    digest = hashlib.sha256(raw_public(public)).digest()
    assert key_id(public) == digest[:8].hex()
    assert key_hint(public) == digest[:3]
    assert len(key_hint(public)) == 3
    assert key_id(public).startswith(key_hint(public).hex())


def test_key_id_differs_between_keys() -> None:
    assert key_id(generate_private_key().public_key()) != key_id(generate_private_key().public_key())


def test_public_key_bytes_and_pem_round_trip() -> None:
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    assert public_key_bytes(public) == raw_public(public)
    assert raw_public(public_key_from_bytes(public_key_bytes(public))) == raw_public(public)
    assert raw_public(load_public_key_pem(public_key_pem(public), "x.pem")) == raw_public(public)


@pytest.mark.parametrize("raw", [b"", b"\x01" * 31, b"\x01" * 33])
def test_public_key_of_wrong_length_refused(raw: bytes) -> None:
    with pytest.raises(KeyStoreError):
        public_key_from_bytes(raw)


def test_load_public_key_pem_refuses_garbage() -> None:
    with pytest.raises(KeyStoreError) as caught:
        load_public_key_pem(b"not a pem", "their-key.pem")
    assert "their-key.pem" in caught.value.message


# --------------------------------------------------------------------------- trust store

def test_trust_store_add_and_get(instance: Instance) -> None:
    public = generate_private_key().public_key()
    added = instance.trust.add(public, "HTX Bình Liêu")
    identifier = key_id(public)
    assert added.key_id == identifier and added.status == "active" and added.reason is None
    got = instance.trust.get(identifier)
    assert raw_public(got.public_key) == raw_public(public)
    assert got.label == "HTX Bình Liêu"
    assert got.public_hex == raw_public(public).hex()
    assert [key.key_id for key in instance.trust.all()] == [identifier]


@pytest.mark.parametrize("length", [6, 7, 10, 16])
def test_trust_store_get_by_prefix(instance: Instance, length: int) -> None:
    public = generate_private_key().public_key()
    instance.trust.add(public, "label")
    identifier = key_id(public)
    assert instance.trust.get(identifier[:length]).key_id == identifier
    assert instance.trust.get(f"  {identifier[:length].upper()} ").key_id == identifier


@pytest.mark.parametrize("length", [0, 1, 5])
def test_trust_store_prefix_shorter_than_6_refused(instance: Instance, length: int) -> None:
    public = generate_private_key().public_key()
    instance.trust.add(public, "label")
    with pytest.raises(NotFoundError):
        instance.trust.get(key_id(public)[:length])


def test_trust_store_unknown_or_non_hex_refused(instance: Instance) -> None:
    public = generate_private_key().public_key()
    instance.trust.add(public, "label")
    other = key_id(generate_private_key().public_key())
    with pytest.raises(NotFoundError) as caught:
        instance.trust.get(other)
    assert "is not in the trust store" in caught.value.message
    with pytest.raises(NotFoundError):
        instance.trust.get(key_id(public)[:6] + "%")
    with pytest.raises(NotFoundError):
        instance.trust.get("zzzzzzzz")


def test_trust_store_ambiguous_prefix_refused(instance: Instance) -> None:
    first = generate_private_key().public_key()
    instance.trust.add(first, "first")
    identifier = key_id(first)
    # a second row whose id shares the first 6 hex digits (written directly: a real collision needs ~2^24 keys)
    twin = identifier[:6] + ("0" * 10 if identifier[6:] != "0" * 10 else "1" * 10)
    other = generate_private_key().public_key()
    instance.store.add_trusted_key(TrustedKey(twin, other, "twin", "active"))
    with pytest.raises(NotFoundError) as caught:
        instance.trust.get(identifier[:6])
    assert "matches several keys" in caught.value.message
    assert instance.trust.get(identifier).key_id == identifier


def test_trust_store_re_adding_keeps_status_and_updates_label(instance: Instance) -> None:
    public = generate_private_key().public_key()
    identifier = instance.trust.add(public, "old").key_id
    instance.trust.set_status(identifier, "revoked", "lost laptop")
    again = instance.trust.add(public, "new label")
    assert again.status == "revoked" and again.label == "new label"
    assert len(instance.trust.all()) == 1


def test_trust_store_add_refuses_unknown_status(instance: Instance) -> None:
    with pytest.raises(StampError):
        instance.trust.add(generate_private_key().public_key(), "label", status="trusted")
    assert instance.trust.all() == []


def test_status_active_retired_revoked(instance: Instance) -> None:
    identifier = instance.trust.add(generate_private_key().public_key(), "label").key_id
    retired = instance.trust.set_status(identifier, "retired")
    assert retired.status == "retired"
    revoked = instance.trust.set_status(identifier[:8], "revoked", "khóa bị lộ")
    assert revoked.status == "revoked" and revoked.reason == "khóa bị lộ"
    assert instance.trust.get(identifier).status == "revoked"


@pytest.mark.parametrize("status", ["active", "retired"])
def test_revocation_cannot_be_undone(instance: Instance, status: str) -> None:
    identifier = instance.trust.add(generate_private_key().public_key(), "label").key_id
    instance.trust.set_status(identifier, "revoked", "compromised")
    with pytest.raises(StampError) as caught:
        instance.trust.set_status(identifier, status)
    assert "cannot be undone" in caught.value.message
    key = instance.trust.get(identifier)
    assert key.status == "revoked" and key.reason == "compromised"


def test_retired_key_may_be_reactivated(instance: Instance) -> None:
    identifier = instance.trust.add(generate_private_key().public_key(), "label").key_id
    instance.trust.set_status(identifier, "retired")
    assert instance.trust.set_status(identifier, "active").status == "active"


def test_set_status_refuses_unknown_status_with_a_stamp_error(instance: Instance) -> None:
    # Like add(), set_status must answer a bad status with a StampError the CLI can print,
    # not let the database CHECK constraint escape as sqlite3.IntegrityError.
    identifier = instance.trust.add(generate_private_key().public_key(), "label").key_id
    try:
        instance.trust.set_status(identifier, "lost")
    except StampError:
        pass
    except Exception as error:
        pytest.fail(f"set_status('lost') leaked a database error instead of a StampError: {error}")
    else:
        pytest.fail("set_status accepted an unknown status")
    assert instance.trust.get(identifier).status == "active"


def test_set_status_of_unknown_key_refused(instance: Instance) -> None:
    with pytest.raises(NotFoundError):
        instance.trust.set_status("0123456789abcdef", "revoked")


def test_new_signing_key_retires_the_previous(instance: Instance) -> None:
    first = instance.generate_key(PASSPHRASE, "first")
    second = instance.generate_key(PASSPHRASE, "second")
    assert instance.signing_key_id == second.key_id
    old = instance.trust.get(first.key_id)
    assert old.status == "retired" and old.reason == f"replaced by {second.key_id}"
    assert instance.trust.get(second.key_id).status == "active"
    # the retired key can still be opened (e.g. to look at old batches)
    assert key_id(instance.private_key(first.key_id, PASSPHRASE).public_key()) == first.key_id


def test_revoked_key_cannot_be_loaded_for_signing(instance: Instance) -> None:
    trusted = instance.generate_key(PASSPHRASE, "label")
    instance.trust.set_status(trusted.key_id, "revoked", "compromised")
    with pytest.raises(KeyStoreError) as caught:
        instance.signing_key(PASSPHRASE)
    assert "revoked" in caught.value.message


# --------------------------------------------------------------------------- keyring

def test_keyring_finds_key_by_its_hint(instance: Instance) -> None:
    publics = [generate_private_key().public_key() for _ in range(3)]
    for index, public in enumerate(publics):
        instance.trust.add(public, f"key {index}")
    keyring = instance.trust.keyring()
    for public in publics:
        found = keyring.candidates(key_hint(public))
        assert [key.key_id for key in found] == [key_id(public)]
        assert found[0].hint == hashlib.sha256(raw_public(public)).digest()[:3]
    assert sorted(key.key_id for key in keyring) == sorted(key_id(public) for public in publics)


def test_keyring_unknown_hint_gives_empty_list(instance: Instance) -> None:
    public = generate_private_key().public_key()
    instance.trust.add(public, "label")
    keyring = instance.trust.keyring()
    hint = key_hint(public)
    unknown = bytes([hint[0] ^ 0xFF]) + hint[1:]
    assert keyring.candidates(unknown) == []
    assert keyring.candidates(b"") == []
    assert Keyring([]).candidates(hint) == []


def test_keyring_returns_every_key_sharing_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = b"\xab\xcd\xef"
    real_fingerprint = keyring_module.fingerprint
    colliding = [generate_private_key().public_key() for _ in range(2)]
    colliding_raw = {raw_public(public) for public in colliding}

    def fake_fingerprint(public: Ed25519PublicKey) -> bytes:
        digest = real_fingerprint(public)
        return shared + digest[3:] if raw_public(public) in colliding_raw else digest

    monkeypatch.setattr(keyring_module, "fingerprint", fake_fingerprint)
    loner = generate_private_key().public_key()
    keys = [TrustedKey(key_id(public), public, f"key {index}", status)
            for index, (public, status) in enumerate(zip([*colliding, loner], ["active", "revoked", "active"]))]
    keyring = Keyring(keys)

    found = keyring.candidates(shared)
    assert [key.key_id for key in found] == [keys[0].key_id, keys[1].key_id]
    assert [key.status for key in found] == ["active", "revoked"]  # status is the verifier's business, not the keyring's
    assert [key.key_id for key in keyring.candidates(key_hint(loner))] == [keys[2].key_id]
    assert len(list(keyring)) == 3
