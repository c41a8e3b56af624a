"""What a verifier process keeps between requests: one open instance and one Verifier per thread.

A store belongs to the thread that opened it, so each worker thread (a
gunicorn worker process has one; waitress has several) opens its own. The
Verifier keeps its keyring, its cache of checked batch-record signatures and
its batch look-ups; it is rebuilt when the trust store's generation number
changes (a ``keys import``, ``keys retire`` or ``revoke`` by the CLI, from any
machine), so revocation takes effect on the next scan without a restart. That
number is read again only when the store's change mark moved (another
connection committed a change: SQLite's ``data_version``, PostgreSQL's version
row), not at every scan.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Hashable
from pathlib import Path

from stamps.instance import Instance
from stamps.present import VIETNAM_TIME
from stamps.registry import BatchLookup
from stamps.roles.acceptance import Acceptance
from stamps.scanlog import ScanLog
from stamps.store import Store
from stamps.verify import Verifier
from verify_server.ratelimit import RateLimiter

def vietnam_today() -> dt.date:
    """Expiry dates on Vietnamese labels are Vietnamese calendar days, whatever the server's clock zone."""
    return dt.datetime.now(VIETNAM_TIME).date()


class Runtime:
    """Per-thread access to the instance folder a verifier app serves."""

    def __init__(self, root: Path, scan_flush_seconds: float, *, keep_scan_days: int | None = None,
                 rate_limit_per_minute: int = 0, database: str | None = None) -> None:
        self.root = root
        self.database = database
        self._local = threading.local()
        self.scan_log = ScanLog(lambda: self._open().store, scan_flush_seconds, keep_days=keep_scan_days)
        self.rate_limiter = RateLimiter(rate_limit_per_minute)
        self.acceptance = Acceptance()  # a hub's publications (POST /api/v1/publish)

    def instance(self) -> Instance:
        """This thread's open instance (opened on first use; the scan log commits without a disk flush)."""
        instance: Instance | None = getattr(self._local, "instance", None)
        if instance is None:
            instance = self._local.instance = self._open()
        return instance

    def publishing_store(self) -> Store:
        """This thread's store for publications, whose commits reach the disk before the hub answers 2xx (the scan
        log's store skips that flush); opened on first use."""
        instance: Instance | None = getattr(self._local, "publishing", None)
        if instance is None:
            instance = self._local.publishing = Instance.open(self.root, database=self.database)
        return instance.store

    def _open(self) -> Instance:
        return Instance.open(self.root, durable=False, database=self.database)

    def verifier(self, mark: Hashable = None) -> Verifier:
        """This thread's Verifier, rebuilt when the trust store has changed since it was built.

        The store's change mark is read once per request: here, or by the caller
        with the scan's other reads (*mark*, taken before anything the Verifier
        reads); the Verifier's batch look-up follows it rather than reading it
        again.
        """
        local = self._local
        instance = self.instance()
        store = instance.store
        if mark is None:  # the caller read none with its own reads (Store.scan_reads)
            mark = store.change_mark()  # taken before reading, so a change made meanwhile is seen at the next scan
        if getattr(local, "mark", None) != mark:
            generation = instance.trust.generation()
            if getattr(local, "generation", None) != generation or not hasattr(local, "verifier"):
                local.batches = BatchLookup(store, follows_store=False)
                local.verifier = self.instance().verifier(local.batches)
                local.generation = generation
            local.batches.follow(mark)
            local.mark = mark
        verifier: Verifier = local.verifier
        return verifier

    def close(self) -> None:
        """Write the gathered scans and close this thread's connection (tests; worker processes simply exit)."""
        self.scan_log.close()
        for opened in ("instance", "publishing"):
            instance = getattr(self._local, opened, None)
            if instance is not None:
                instance.close()
        for name in ("instance", "publishing", "verifier", "batches", "generation", "mark"):  # a reopened connection starts a new mark
            self._local.__dict__.pop(name, None)
