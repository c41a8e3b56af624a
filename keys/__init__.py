"""Ed25519 key files (keys.keyfile) and the trust store of public keys (keys.truststore)."""
