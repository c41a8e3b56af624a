"""One error tree for the whole project.

The library raises precise subclasses; the edges (the CLI, the verifier) turn
them into one line for a person with :meth:`StampError.diagnostics`.
"""

from __future__ import annotations


class StampError(Exception):
    """Root of every error this project raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def diagnostics(self) -> str:
        """The one line shown to a person: what is wrong, then how to fix it."""
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class ValidationError(StampError):
    """A record field breaks a rule; names the field and the rule."""

    def __init__(self, field: str, rule: str, *, hint: str = "") -> None:
        super().__init__(f"{field}: {rule}", hint=hint)
        self.field = field
        self.rule = rule


class NotFoundError(StampError):
    """A producer, farm area, product, batch or key that is not in the store."""


class InstanceError(StampError):
    """The instance folder is missing, not initialised or misconfigured."""


class IssuanceError(StampError):
    """Serials cannot be issued (quantity used up, bad count)."""


class KeyStoreError(StampError):
    """A key file is missing, unreadable, badly protected or undecryptable."""


class WrongPassphraseError(KeyStoreError):
    """The passphrase does not open the private key."""


class CodeFormatError(StampError):
    """Text that is not a stamp code of a format we know ("not a stamp")."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class StoreError(StampError):
    """The database could not be used: busy, read-only, full, unreachable, or not ours. Engines wrap their drivers'
    errors in it, so nothing above the store knows which driver is behind it."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened (a server down, a wrong address or password)."""


class TrustError(StampError):
    """A signed statement, trust root or bundle that does not hold: its signature, signer, shape or freshness.

    ``code`` names the rule broken (a row of the hub's answers and of docs/trust-format.md)."""

    def __init__(self, message: str, *, code: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.code = code
