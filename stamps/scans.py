"""The scan log's values: a scan, a place's visit, a unit's history and its report row (no storage here).

See :mod:`stamps.scanlog` for what they mean for copy detection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple


class ScanHistory(NamedTuple):
    """What the log knows of a unit, as a shopper can judge it (a tuple: one is made per scan).

    ``other_places`` counts the distinct places (network and device, per day)
    that scanned the unit, not counting the one scanning now; ``first_scanned_at``
    is the first counted scan before this one (UTC, ISO 8601).
    """

    other_places: int
    first_scanned_at: str | None

    def first_scanned(self) -> dt.datetime | None:
        if self.first_scanned_at is None:
            return None
        return dt.datetime.fromisoformat(self.first_scanned_at.replace("Z", "+00:00"))

    def to_json(self, threshold: int) -> dict[str, Any]:
        return {"first_scanned_at": self.first_scanned_at, "other_places": self.other_places, "copy_threshold": threshold}


NO_HISTORY = ScanHistory(0, None)


class Scan(NamedTuple):
    """One row of the scan log, in the columns' order (a tuple: one is made per scan)."""

    digest_prefix: str
    serial: int
    scanned_at: str
    result: str
    client: str
    counted: bool


class Visit(NamedTuple):
    """One place's first counted scan of a unit on one day."""

    digest_prefix: str
    serial: int
    day: str
    source: str
    seen_at: str


class KnownUnit(NamedTuple):
    """A unit's committed history and whether this scan's place is already in it."""

    places: int
    first_scanned_at: str | None
    this_place_counted: bool


class UnitCount(NamedTuple):
    """One unit's kept counts: counted scans, distinct places, first scan."""

    serial: int
    scans: int
    places: int
    first_scanned_at: str


class UnitScans(NamedTuple):
    """One unit's scan history as a report row."""

    serial: int
    scans: int
    places: int
    first_scanned_at: str
    possible_copy: bool
