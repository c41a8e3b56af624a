"""What the verifier may know of a client: a coarse device hint, its network prefix, its rate-limit key.

The device hint is one of a handful of words taken from the User-Agent header
and goes into the scan log. The network prefix (IPv4 /24, IPv6 /48) is only
hashed with the day's key to count distinct places (stamps.scanlog). The
rate-limit key lives in one process's memory for a minute. No IP address, no
full User-Agent and no cookie is ever stored or logged.
"""

from __future__ import annotations

import functools
import ipaddress

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


NETWORK_PREFIX = {4: 24, 6: 48}  # one household, office or small provider network; never the whole address
LIMIT_PREFIX = {4: 32, 6: 64}  # one client: an IPv4 address, an IPv6 subscriber's /64


@functools.lru_cache(maxsize=4096)
def network_of(address: str | None) -> str:
    """The client's network for counting places (``203.0.113.0/24``, ``2001:db8:1::/48``); ``unknown`` without one.

    Only this prefix, hashed with the day's key (stamps.scanlog), ever leaves the request; never the address.
    """
    return _prefix(address, NETWORK_PREFIX)


@functools.lru_cache(maxsize=4096)
def client_of(address: str | None) -> str:
    """The client for rate limiting: its IPv4 address or IPv6 /64 (kept in memory only, never logged)."""
    return _prefix(address, LIMIT_PREFIX)


def _prefix(address: str | None, bits: dict[int, int]) -> str:
    try:
        parsed = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        parsed = parsed.ipv4_mapped
    return str(ipaddress.ip_network(f"{parsed}/{bits[parsed.version]}", strict=False))
