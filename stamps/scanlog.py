"""The scan log: every online check of a well-formed code, for copy detection and for inspectors.

A signature proves origin, not uniqueness: a photocopied stamp verifies too.
So the verifier records each scan (time, result, a coarse client hint such as
"android" or "ios"; never an IP address) and counts the earlier scans of the
same unit. Scans whose signature did not verify, and scans by link-preview
bots, are recorded but not counted against the unit.

Each unit's count of counted scans and the time of the first are kept in
``scan_counts`` by a trigger (an UPSERT) in the statement that inserts the
scans: reading a unit's history is one primary-key look-up however often the
unit was scanned (counting its rows in ``scans`` grew with every scan of a
photocopied stamp).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
from typing import Any, Callable, NamedTuple

from stamps.code import UnverifiedStamp
from stamps.store import Store, utc_now
from stamps.verify import Verification

DEFAULT_COPY_THRESHOLD = 5
DEFAULT_FLUSH_SECONDS = 0.25
CLOSE_TIMEOUT_SECONDS = 10.0
UNCOUNTED_CLIENTS = frozenset({"bot"})
INSERT_ROWS = 100  # 600 parameters: under SQLite's smallest limit (999)


class ScanHistory(NamedTuple):
    """What the log knew of a unit before this scan (a tuple: one is made per scan)."""

    previous: int
    first_scanned_at: str | None

    def first_scanned(self) -> dt.datetime | None:
        if self.first_scanned_at is None:
            return None
        return dt.datetime.fromisoformat(self.first_scanned_at.replace("Z", "+00:00"))

    def to_json(self, threshold: int) -> dict[str, Any]:
        return {"previous": self.previous, "first_scanned_at": self.first_scanned_at, "copy_threshold": threshold}


NO_HISTORY = ScanHistory(0, None)


class Scan(NamedTuple):
    """One row of the scan log, in the columns' order (a tuple: one is made per scan)."""

    digest_prefix: str
    serial: int
    scanned_at: str
    result: str
    client: str
    counted: bool


class ScanLog:
    """Counts and records the scans of one verifier process.

    With ``flush_seconds`` > 0, new scans are gathered in memory and written
    together, in one transaction, by a background thread every
    ``flush_seconds`` and when the process exits: one commit per scan costs
    more than the rest of a scan, and worker processes would queue on the
    write lock. A scan is counted at once by its own process and within
    ``flush_seconds`` by the others; a crash of the process loses at most that
    many seconds of scans (never records). With 0, each scan is written at
    once, in the transaction that counts the earlier ones.
    """

    def __init__(self, open_store: Callable[[], Store], flush_seconds: float) -> None:
        self._open_store = open_store
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: list[Scan] = []
        self._pending_counts: dict[tuple[str, int], tuple[int, str]] = {}
        self._owner_pid: int | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, store: Store, verification: Verification, client: str, threshold: int, *,
               log: bool = True) -> tuple[Verification, ScanHistory]:
        """Log one scan and apply copy detection: more than *threshold* earlier counted scans is a possible copy.

        *client* is ``channel/device`` (``page/android``, ``api/other``, ``page/bot``).
        Codes that are not stamps are not logged; ``log=False`` only counts (a
        page reloaded to switch language is not another scan).
        """
        stamp = verification.stamp
        if stamp is None:
            return verification, NO_HISTORY
        if log and self._flush_seconds <= 0:
            with store.write() as db:
                verification, history, scan = self._count(db.conn, verification, stamp, client, threshold)
                _write(db.conn, [scan])
            return verification, history
        with self._lock:
            verification, history, scan = self._count(store.db.conn, verification, stamp, client, threshold)
            if log:
                self._remember(scan)
        return verification, history

    def flush(self, store: Store | None = None) -> int:
        """Write the gathered scans now (in *store*, else a connection of its own); returns how many."""
        with self._lock:
            scans, self._pending = self._pending, []
        if not scans:
            return 0
        target = store or self._open_store()
        try:
            with target.write() as db:
                _write(db.conn, scans)
        except BaseException:
            with self._lock:  # keep them (they are still counted) for the next attempt
                self._pending = scans + self._pending
            raise
        finally:
            if store is None:
                target.close()
        with self._lock:  # committed: the database counts them from now on
            for scan in scans:
                self._forget(scan)
        return len(scans)

    def close(self) -> None:
        """Stop the background thread, after its current write, then write what is left."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and self._owner_pid == os.getpid():
            atexit.unregister(self.close)
            thread.join(timeout=CLOSE_TIMEOUT_SECONDS)
        self.flush()

    def _count(self, connection: Any, verification: Verification, stamp: UnverifiedStamp, client: str,
               threshold: int) -> tuple[Verification, ScanHistory, Scan]:
        prefix = stamp.digest_prefix.hex()
        history = NO_HISTORY  # an unproven unit has no history to show
        if verification.signature_verified:
            history = _merged(_history(connection, prefix, stamp.serial), self._pending_counts.get((prefix, stamp.serial)))
            if history.previous > threshold:
                verification = verification.with_warning("possible_copy")
        counted = verification.signature_verified and client.rsplit("/", 1)[-1] not in UNCOUNTED_CLIENTS
        return verification, history, Scan(prefix, stamp.serial, utc_now(), verification.result.value, client, counted)

    def _remember(self, scan: Scan) -> None:
        if self._owner_pid != _process_id and not self._stopping.is_set():
            # The first scan of this process: a forked worker starts without the parent's threads.
            self._thread = threading.Thread(target=self._flush_periodically, name="scan-log", daemon=True)
            self._thread.start()
            self._owner_pid = _process_id
            atexit.register(self.close)
        self._pending.append(scan)
        if scan.counted:
            count, first = self._pending_counts.get((scan.digest_prefix, scan.serial), (0, scan.scanned_at))
            self._pending_counts[(scan.digest_prefix, scan.serial)] = (count + 1, first)

    def _forget(self, scan: Scan) -> None:
        unit = (scan.digest_prefix, scan.serial)
        if scan.counted and unit in self._pending_counts:
            count, first = self._pending_counts[unit]
            if count <= 1:
                del self._pending_counts[unit]
            else:
                self._pending_counts[unit] = (count - 1, first)

    def _flush_periodically(self) -> None:
        while not self._stopping.wait(self._flush_seconds):
            try:
                self.flush()
            except Exception:  # a busy or full disk: the scans stay gathered for the next round
                logging.getLogger(__name__).exception("could not write the scan log; will retry")


def _note_process_id() -> None:
    """Kept here rather than asked of the system on every scan (a system call); a fork moves it."""
    global _process_id
    _process_id = os.getpid()


_process_id = os.getpid()
if hasattr(os, "register_at_fork"):  # no fork on Windows: the process id never changes there
    os.register_at_fork(after_in_child=_note_process_id)


def _write(connection: Any, scans: list[Scan]) -> None:
    """Insert *scans*, 100 to a statement; the store's trigger adds the counted ones to their units' counts.

    One statement per 100 rows rather than one per row (executemany): with the
    counts kept too, a flush of 300 scans takes about as long as the insert
    alone took row by row (0.5 ms here), and the worker's request thread gets
    the interpreter back sooner.
    """
    for start in range(0, len(scans), INSERT_ROWS):
        chunk = scans[start:start + INSERT_ROWS]
        connection.execute(_INSERT_SCANS + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk)),
                           [value for scan in chunk for value in scan])


_INSERT_SCANS = "INSERT INTO scans (digest_prefix, serial, scanned_at, result, client, counted) VALUES "


def _history(connection: Any, digest_prefix: str, serial: int) -> ScanHistory:
    """The unit's committed history: one row of scan_counts, whatever the number of its scans."""
    row = connection.execute("SELECT scans, first_scanned_at FROM scan_counts WHERE digest_prefix = ? AND serial = ?",
                             [digest_prefix, serial]).fetchone()
    return ScanHistory(int(row[0]), row[1]) if row else NO_HISTORY


def _merged(stored: ScanHistory, pending: tuple[int, str] | None) -> ScanHistory:
    if pending is None:
        return stored
    count, first = pending
    return ScanHistory(stored.previous + count, min(stored.first_scanned_at or first, first))
