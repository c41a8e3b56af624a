"""A coarse client hint for the scan log: what kind of device scanned, never who or where.

The hint is one of a handful of words taken from the User-Agent header. No IP
address, no full User-Agent and no cookie is ever stored.
"""

from __future__ import annotations

import functools

PREVIEW_BOTS = ("bot", "crawler", "spider", "facebookexternalhit", "slurp", "preview", "headlesschrome")
DEVICES = (("android", "android"), ("iphone", "ios"), ("ipad", "ios"), ("windows", "windows"),
           ("macintosh", "mac"), ("cros", "chromeos"), ("linux", "linux"))


@functools.lru_cache(maxsize=1024)  # a handful of browsers send most scans; each scan asks
def client_hint(user_agent: str | None) -> str:
    """``android``, ``ios``, ``windows``, ``mac``, ``chromeos``, ``linux``, ``bot`` or ``other``."""
    agent = (user_agent or "").lower()
    if any(marker in agent for marker in PREVIEW_BOTS):
        return "bot"
    return next((device for marker, device in DEVICES if marker in agent), "other")
