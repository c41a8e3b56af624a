"""What each role of the trust chain does (the design brief's roles): the producer enrols and publishes, an OCOP
office endorses and revokes, the national root operator signs the trust root, the hub accepts what endorsed keys
sign and serves inspectors' bundles, an inspector verifies with a bundle and no network. The formats and rules they
share are in :mod:`stamps.trust`; the store is :mod:`stamps.store`."""
