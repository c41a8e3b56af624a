"""Page shells: a page rendered once with markers where per-unit lines go, then filled in for each request.

Every unit of a batch gets the same result page but for its serial and its
scan history, so the scan route renders the template once per verdict, batch
and language (with markers in the unit's places) and, per request, only
escapes the unit's lines into the markers. The markers carry a per-process
random nonce, so no producer-supplied text can be taken for one. Shells are
kept as UTF-8: a page is encoded once per shell, not once per scan.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Hashable, Sequence

from markupsafe import escape

MAX_SHELLS = 1024


class PageShells:
    """A bounded cache of rendered shells, keyed by everything the rendered part depends on."""

    def __init__(self, max_shells: int = MAX_SHELLS) -> None:
        self._max_shells = max_shells
        self._shells: dict[Hashable, _Shell] = {}
        self._nonce = secrets.token_hex(8)
        self._marker = re.compile(f"\x00{self._nonce}:(\\d+)\x00")
        self._lock = threading.Lock()

    def page(self, key: Hashable, values: Sequence[str], render: Callable[[tuple[str, ...]], str]) -> bytes:
        """The page (UTF-8) for *key* with *values* escaped into its markers; *render(markers)* draws a missing shell."""
        shell = self._shells.get(key)
        if shell is None:
            shell = self._shell(render(tuple(f"\x00{self._nonce}:{index}\x00" for index in range(len(values)))), len(values))
            with self._lock:
                if len(self._shells) >= self._max_shells:
                    self._shells.clear()
                self._shells[key] = shell
        return shell.fill(values)

    def _shell(self, html: str, slots: int) -> "_Shell":
        pieces = self._marker.split(html)
        texts, indexes = tuple(pieces[0::2]), tuple(int(index) for index in pieces[1::2])
        if sorted(indexes) != list(range(slots)):
            raise ValueError(f"the template placed markers {indexes}, expected each of 0..{slots - 1} once")
        return _Shell(tuple(text.encode("utf-8") for text in texts), indexes)


class _Shell:
    """Literal HTML pieces (UTF-8) with the index of the value that goes between each two."""

    __slots__ = ("texts", "indexes")

    def __init__(self, texts: tuple[bytes, ...], indexes: tuple[int, ...]) -> None:
        self.texts = texts
        self.indexes = indexes

    def fill(self, values: Sequence[str]) -> bytes:
        parts = [self.texts[0]]
        for index, text in zip(self.indexes, self.texts[1:]):
            parts.append(str(escape(values[index])).encode("utf-8"))
            parts.append(text)
        return b"".join(parts)
