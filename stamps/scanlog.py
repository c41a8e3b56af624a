"""The scan log: every online check of a well-formed code, for copy detection and for inspectors.

A signature proves origin, not uniqueness: a photocopied stamp verifies too.
So the verifier records each scan (time, result, a coarse client hint such as
"android" or "ios"; never an IP address) and keeps, per unit, how many
**distinct places** have scanned it. A place (a "source") is one network (an
address prefix: IPv4 /24, IPv6 /48) and one kind of device (a phone or a
computer: the User-Agent is the client's to choose, so it may split a network
in two, no more), on one day; it is
kept only as an HMAC of those under a random key that is made each day and
deleted the next, never as an address. One place adds at most one to a unit's
count a day, however often it scans, so nobody can make a genuine unit read
"possible copy" for later buyers by reloading its page; the copy threshold
applies to the places other than the one scanning now.

The store keeps the log (only appended to, pruned by age), which places
scanned which unit today (older days are worthless once their key is gone and
are dropped), today's key, and per unit its counted scans, distinct places and
first scan, kept in the transaction that appends the scans. Reading a unit's
history is one read, however often it was scanned (``Store.known_unit``).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from typing import Callable, Hashable, NamedTuple

from stamps.batch_record import StoredBatch
from stamps.code import UnverifiedStamp, decode_token
from stamps.errors import StampError
from stamps.scans import NO_HISTORY, KnownUnit, Scan, ScanHistory, UnitScans, Visit
from stamps.store import Store, utc_now
from stamps.url import extract_token
from stamps.verify import Verification

DEFAULT_COPY_THRESHOLD = 5
DEFAULT_RATE_LIMIT_PER_MINUTE = 60  # scans a minute per client and verifier process (verify_server.ratelimit)
DEFAULT_FLUSH_SECONDS = 0.25
CLOSE_TIMEOUT_SECONDS = 10.0
MAINTENANCE_SECONDS = 3600.0
UNCOUNTED_CLIENTS = frozenset({"bot"})
PHONES = frozenset({"android", "ios"})  # every other device hint is a computer, for telling places apart
SOURCE_HEX_DIGITS = 32  # 128 bits of the HMAC


class ScanReads(NamedTuple):
    """What a verifier reads for one scan before verifying it: the store's change mark, the scanning place, and the
    unit's history, all in one read (:meth:`ScanLog.read`)."""

    mark: Hashable
    source: str
    known: KnownUnit


class ScanLog:
    """Counts and records the scans of one verifier process.

    With ``flush_seconds`` > 0, new scans are gathered in memory and written
    together, in one transaction, by a background thread every
    ``flush_seconds`` and when the process exits: one commit per scan costs
    more than the rest of a scan, and worker processes would queue on the
    write lock. A scan is counted at once by its own process and within
    ``flush_seconds`` by the others; a crash of the process loses at most that
    many seconds of scans (never records). With 0, each scan is written at
    once, in the transaction that reads the unit's history. Once an hour the
    places of past days are dropped and, with ``keep_days``, log rows older
    than that (the per-unit counts stay): by the background thread, or with 0
    by the first scan after the hour.
    """

    def __init__(self, open_store: Callable[[], Store], flush_seconds: float, *, keep_days: int | None = None) -> None:
        self._open_store = open_store
        self._flush_seconds = flush_seconds
        self._keep_days = keep_days
        self._lock = threading.Lock()
        self._pending: list[Scan] = []
        self._pending_visits: dict[tuple[str, int, str, str], Visit] = {}
        self._pending_units: dict[tuple[str, int], tuple[int, str]] = {}  # new places and the first of them, per unit
        self._day_key: tuple[str, bytes] | None = None
        self._owner_pid: int | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_maintenance: float | None = None

    def read(self, store: Store, code: str, day: dt.date, network: str, client: str) -> ScanReads | None:
        """For a code shaped like a stamp, the store's change mark and the unit's history, read together before the
        code is verified (one round trip to a database server, not two); None for anything else."""
        try:
            stamp = decode_token(extract_token(code))
        except StampError:
            return None
        source = self.source_of(store, day, network, client)
        mark, known = store.scan_reads(stamp.digest_prefix.hex(), stamp.serial, day.isoformat(), source)
        return ScanReads(mark, source, known)

    def record(self, store: Store, verification: Verification, client: str, network: str, threshold: int, *,
               log: bool = True, reads: ScanReads | None = None) -> tuple[Verification, ScanHistory]:
        """Log one scan and apply copy detection: more than *threshold* other places is a possible copy.

        *client* is ``channel/device`` (``page/android``, ``api/other``, ``page/bot``);
        *network* the client's address prefix (``203.0.113.0/24``), which is
        only hashed. Codes that are not stamps are not logged; ``log=False``
        only reads. *reads* is what :meth:`read` found for this scan, on the day it was verified; with
        ``flush_seconds`` 0 the history is read again, in the transaction that writes the scan.
        """
        stamp = verification.stamp
        if stamp is None:
            return verification, NO_HISTORY
        source = reads.source if reads else self.source_of(store, verification.checked_on, network, client)
        if log and self._flush_seconds <= 0:
            with store.transaction():
                verification, history, scan, visit = self._count(store, verification, stamp, client, source, threshold)
                store.record_scans([scan], [visit] if visit else [])
            self._maintain()  # no background thread in this mode: the hourly upkeep rides on a scan
            return verification, history
        with self._lock:
            known = reads.known if reads else None
            verification, history, scan, visit = self._count(store, verification, stamp, client, source, threshold, known)
            if log:
                self._remember(scan, visit)
        return verification, history

    def flush(self, store: Store | None = None) -> int:
        """Write the gathered scans now (in *store*, else a connection of its own); returns how many."""
        with self._lock:
            scans, self._pending = self._pending, []
            visits = list(self._pending_visits.values())
        if not scans:
            return 0
        target = store or self._open_store()
        try:
            target.record_scans(scans, visits)
        except BaseException:
            with self._lock:  # keep them (they are still counted) for the next attempt
                self._pending = scans + self._pending
            raise
        finally:
            if store is None:
                target.close()
        with self._lock:  # committed: the database counts them from now on
            for visit in visits:
                self._forget(visit)
        return len(scans)

    def close(self) -> None:
        """Stop the background thread, after its current write, then write what is left."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and self._owner_pid == os.getpid():
            atexit.unregister(self.close)
            thread.join(timeout=CLOSE_TIMEOUT_SECONDS)
        self.flush()

    def source_of(self, store: Store, day: dt.date, network: str, client: str) -> str:
        """The pseudonym of the place a scan comes from on *day*: an HMAC of its network and its kind of device
        (phone or computer, from *client*) under the day's key."""
        device = "phone" if client.rsplit("/", 1)[-1] in PHONES else "computer"
        return self._source(store, day.isoformat(), network, device)

    def _source(self, store: Store, day: str, network: str, device: str) -> str:
        day_key = self._day_key
        if day_key is None or day_key[0] != day:
            day_key = self._day_key = (day, store.day_key(day, lambda: secrets.token_bytes(32)))
        message = f"{network}|{device}".encode("utf-8", "replace")
        return hmac.new(day_key[1], message, hashlib.sha256).hexdigest()[:SOURCE_HEX_DIGITS]

    def _count(self, store: Store, verification: Verification, stamp: UnverifiedStamp, client: str, source: str,
               threshold: int, known: KnownUnit | None = None) -> tuple[Verification, ScanHistory, Scan, Visit | None]:
        prefix, serial, day = stamp.digest_prefix.hex(), stamp.serial, verification.checked_on.isoformat()
        now = utc_now()
        counted = verification.signature_verified and client.rsplit("/", 1)[-1] not in UNCOUNTED_CLIENTS
        scan = Scan(prefix, serial, now, verification.result.value, client, counted)
        if not verification.signature_verified:
            return verification, NO_HISTORY, scan, None  # an unproven unit has no history to show
        if known is None:
            known = store.known_unit(prefix, serial, day, source)
        pending_places, pending_first = self._pending_units.get((prefix, serial), (0, None))
        this_place = known.this_place_counted or (prefix, serial, day, source) in self._pending_visits
        other_places = known.places + pending_places - (1 if this_place else 0)
        first = min(filter(None, (known.first_scanned_at, pending_first)), default=None)
        if other_places > threshold:
            verification = verification.with_warning("possible_copy")
        visit = Visit(prefix, serial, day, source, now) if counted and not this_place else None
        return verification, ScanHistory(other_places, first), scan, visit

    def _remember(self, scan: Scan, visit: Visit | None) -> None:
        if self._owner_pid != _process_id and not self._stopping.is_set():
            # The first scan of this process: a forked worker starts without the parent's threads.
            self._thread = threading.Thread(target=self._work_periodically, name="scan-log", daemon=True)
            self._thread.start()
            self._owner_pid = _process_id
            atexit.register(self.close)
        self._pending.append(scan)
        if visit is not None:
            self._pending_visits[visit[:4]] = visit
            unit = (visit.digest_prefix, visit.serial)
            places, first = self._pending_units.get(unit, (0, visit.seen_at))
            self._pending_units[unit] = (places + 1, first)

    def _forget(self, visit: Visit) -> None:
        if self._pending_visits.pop(visit[:4], None) is None:
            return
        unit = (visit.digest_prefix, visit.serial)
        places, first = self._pending_units[unit]
        if places <= 1:
            del self._pending_units[unit]
        else:
            self._pending_units[unit] = (places - 1, first)

    def _work_periodically(self) -> None:
        while not self._stopping.wait(self._flush_seconds):
            try:
                self.flush()
                self._maintain()
            except StampError as error:  # a busy database, a full disk: the scans stay gathered for the next round
                logging.getLogger(__name__).error("could not write the scan log (%s); will retry", error.diagnostics())
            except Exception:  # not a failure we know: its traceback is for the operator
                logging.getLogger(__name__).exception("could not write the scan log; will retry")

    def _maintain(self) -> None:
        """Once an hour: make room for this month's and next month's scans, drop places of past days (their key is
        gone) and, with keep_days, old log rows."""
        if self._last_maintenance is not None and time.monotonic() - self._last_maintenance < MAINTENANCE_SECONDS:
            return
        self._last_maintenance = time.monotonic()
        store = self._open_store()
        try:
            today = _today_of(self._day_key)
            store.make_room_for_scans(today)
            forget_past_places(store, today)
            if self._keep_days is not None:
                prune_scans(store, older_than_days=self._keep_days)
        finally:
            store.close()


def _today_of(day_key: tuple[str, bytes] | None) -> str:
    return day_key[0] if day_key else dt.datetime.now(dt.timezone.utc).date().isoformat()


def _note_process_id() -> None:
    """Kept here rather than asked of the system on every scan (a system call); a fork moves it."""
    global _process_id
    _process_id = os.getpid()


_process_id = os.getpid()
if hasattr(os, "register_at_fork"):  # no fork on Windows: the process id never changes there
    os.register_at_fork(after_in_child=_note_process_id)


# --- reports and upkeep, for producers and inspectors (the CLI's `scans` commands) ---------------------------

def unit_report(store: Store, digest_prefix: bytes, threshold: int) -> list[UnitScans]:
    """Every scanned unit of a batch, by serial: counted scans, distinct places, first scan, and the copy flag."""
    return [UnitScans(*count, possible_copy=count.places > threshold) for count in store.unit_counts(digest_prefix.hex())]


def clear_counts(store: Store, batch: StoredBatch, first: int, last: int) -> int:
    """Forget the counted scans of serials first..last (e.g. the producer's own QA scans); returns units cleared.

    The log keeps its rows, marked as not counted, so an inspector still sees them.
    """
    quantity = batch.record["batch"]["quantity"]
    if not 1 <= first <= last <= quantity:
        raise StampError(f"Serials {first}-{last} are not serials of this batch (1-{quantity:,}).",
                         hint="Give a range within the batch, e.g. --serials 1-20.")
    return store.clear_counts(batch.signed.digest_prefix.hex(), first, last)


def prune_scans(store: Store, *, older_than_days: int, now: dt.datetime | None = None) -> int:
    """Delete log rows older than *older_than_days* days; the per-unit counts stay."""
    cutoff = ((now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=older_than_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return store.prune_scans(cutoff)


def forget_past_places(store: Store, today: str) -> int:
    """Drop the places of days before *today*: their key is deleted, so they can no longer match a scan."""
    return store.forget_places_before(today)
