"""Ed25519 keys: encrypted key files (keys.keyfile) and trusted public keys as values (keys.keyring)."""
