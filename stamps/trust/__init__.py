"""The trust chain: signed statements (enrolment, endorsement, revocation, recall), the trust root of the OCOP
offices, the hub's acceptance rules and the inspector's bundle. The formats are in docs/trust-format.md."""
