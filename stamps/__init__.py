"""OCOP traceability stamps: signed batch records, compact signed stamp codes, offline verification.

Where to start::

    from stamps.instance import Instance
    from stamps import registry
    from stamps.issuance import StampSigner, allocate_serials

    instance = Instance.open(path)
    batch = registry.find_batch(instance.store, "PH14-2611-01")
    signer = StampSigner(instance.private_key(batch.record["key_id"], passphrase), batch, instance.base_url)
    code = signer.code(allocate_serials(instance.store, batch, 1).first)
    verifier = instance.verifier()
    assert verifier.verify(code.url).result.value == "genuine"

The format is specified in docs/stamp-format.md.
"""
