"""The trust chain's formats and rules, without storage: signed statements (DSSE), the trust root (TUF root
metadata), the chain's rules for keys and stars, and the inspector's bundle. docs/trust-format.md specifies them;
what each role does with them is :mod:`stamps.roles`."""
