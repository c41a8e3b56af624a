"""Issuing stamp codes: serials are recorded in one transaction, then signed and written out.

:func:`issue_stamps` is the whole run, for the CLI and the demo alike. Order
matters: the serial range is committed before any file is written, and files
are written in a hidden folder (``.issue-XXXXXXXX.partial``) that is renamed
into place only when complete, so an interrupted run leaves no partial output
under the final name. The range is recorded with that folder, and as written
once the folder is in place. While a run lives it holds an OS lock on a file
beside its folder (a killed process loses it), so a range recorded but never
written (the process was killed, the power failed) is told from one still
being written, and shown with the command that writes it; the next run
removes the hidden folders of dead runs.
Codes are deterministic (Ed25519 signatures are), so an issued range can be
written again with :func:`reprint_range` without issuing anything new.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Callable, ContextManager, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from keys.keyfile import key_hint, key_id, private_key_seed
from stamps.batch_record import StoredBatch
from stamps.code import SIGNATURE_BYTES, STAMP_TAG, IssuedCode, SerialRange, encode_base32, header_bytes
from stamps.errors import IssuanceError
from stamps.store import SerialAllowance, Store
from stamps.url import code_url

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

if TYPE_CHECKING:
    from stamps.printing.jobs import PrintJob

MAX_ISSUE_COUNT = 10_000_000
PROGRAM = "ocop-stamps"
STAGING_PREFIX = ".issue-"
STAGING_SUFFIX = ".partial"
LOCK_SUFFIX = ".lock"
STALE_AFTER_SECONDS = 24 * 3600  # for folders without a lock: a running issue adds a file to its folder every few seconds


class StampSigner:
    """Signs unit codes for one batch with the key that signed the batch record.

    Each stamp is signed with libsodium (PyNaCl), as the verifier checks it: its Ed25519 signing is about twice as
    fast as OpenSSL's here, and Ed25519 signatures are deterministic, so both give the same bytes (a test checks it).
    """

    def __init__(self, private_key: Ed25519PrivateKey, batch: StoredBatch, base_url: str) -> None:
        if key_id(private_key.public_key()) != batch.record["key_id"]:
            raise IssuanceError(f"Batch {batch.digest[:12]} was signed with key {batch.record['key_id']}, not with this key.")
        self._secret = crypto_sign_seed_keypair(private_key_seed(private_key))[1]
        self._hint = key_hint(private_key.public_key())
        self._prefix = batch.signed.digest_prefix
        self._base_url = base_url

    def code(self, serial: int) -> IssuedCode:
        header = header_bytes(self._hint, self._prefix, serial)
        token = encode_base32(header + crypto_sign(STAMP_TAG + header, self._secret)[:SIGNATURE_BYTES])
        return IssuedCode(serial, token, code_url(self._base_url, token))

    def codes(self, serials: SerialRange) -> Iterator[IssuedCode]:
        return (self.code(serial) for serial in range(serials.first, serials.last + 1))


def allocate_serials(store: Store, batch: StoredBatch, count: int, staging: Path | None = None) -> SerialRange:
    """Record the next *count* serials of the batch, atomically; never past its quantity, never twice; with the
    hidden folder they will be written in (*staging*), whose run's lock tells whether they are still being written."""
    if not 1 <= count <= MAX_ISSUE_COUNT:
        raise IssuanceError(f"--count must be between 1 and {MAX_ISSUE_COUNT:,}.")

    def check(allowance: SerialAllowance) -> None:
        if allowance.recalled:
            raise IssuanceError(f"Batch {batch.digest[:12]} is recalled; no more stamps can be issued for it.")
        left = allowance.quantity - allowance.issued
        if count > left:
            raise IssuanceError(f"Only {left:,} of the batch's {allowance.quantity:,} serials are left; asked for {count:,}.",
                                hint="Issue fewer, or create a new batch.")

    return store.allocate_serials(batch.digest, count, None if staging is None else str(staging.absolute()), check)


def reprint_range(batch: StoredBatch, first: int, last: int) -> SerialRange:
    """A range of serials that were already issued, to write again."""
    if not 1 <= first <= last:
        raise IssuanceError("The range to reprint must be FIRST-LAST with 1 <= FIRST <= LAST.")
    if last > batch.issued:
        raise IssuanceError(f"Only serials 1-{batch.issued} of this batch have been issued; {last} has not.",
                            hint="Issue new serials with --count instead.")
    return SerialRange(first, last)


@contextlib.contextmanager
def staged_output(parent: Path) -> Iterator[Path]:
    """A hidden working folder under *parent*, made before anything is issued (so an unwritable place fails early)
    and removed unless :func:`publish` moved it into place."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, suffix=STAGING_SUFFIX, dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(staging: Path) -> Iterator[None]:
    """Hold the OS lock on STAGING.lock while the block runs: the mark of a live run (a killed process loses it).

    The file names its holder only while locked (written after locking, emptied before unlocking), so a file found
    unlocked with a name in it is a dead run's, and an empty one belongs to a run starting or finishing.
    """
    path = staging.with_name(staging.name + LOCK_SUFFIX)
    try:
        with open(path, "w+b") as handle:
            _lock(handle, wait=True)
            handle.write(f"{os.getpid()}@{socket.gethostname()}\n".encode())
            handle.flush()
            try:
                yield
            finally:
                handle.truncate(0)
                handle.flush()
    finally:
        path.unlink(missing_ok=True)


def writer_alive(staging: Path) -> bool | None:
    """Whether the run writing *staging* lives (True), died (False), or cannot be told (None: no lock, or an empty one)."""
    try:
        handle = open(staging.with_name(staging.name + LOCK_SUFFIX), "rb")
    except FileNotFoundError:
        return None
    except OSError:
        return True  # a file we may not read: leave its folder alone
    with handle:
        if not _lock(handle, wait=False):
            return True
        return False if handle.read(1) else None


def _lock(handle: IO[bytes], *, wait: bool) -> bool:
    """Take the exclusive OS lock on an open file (released when it is closed); False if *wait* is off and it is held."""
    try:
        if sys.platform == "win32":
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if wait else msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        if wait:
            raise
        return False
    return True


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove the hidden working folders under *parent* that dead runs left (with their lock files); returns them.

    A folder is stale when its lock file says its run died, or, without a lock (folders of older versions, or of a run
    starting), when nothing was added to it for :data:`STALE_AFTER_SECONDS`. A folder a running issue is writing is
    never touched.
    """
    if not parent.is_dir():
        return []
    stale = [folder for folder in parent.glob(f"{STAGING_PREFIX}*{STAGING_SUFFIX}") if _is_stale(folder)]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
        folder.with_name(folder.name + LOCK_SUFFIX).unlink(missing_ok=True)
    return stale


def _is_stale(folder: Path) -> bool:
    alive = writer_alive(folder)
    if alive is not None:
        return not alive
    try:
        return time.time() - folder.stat().st_mtime > STALE_AFTER_SECONDS
    except OSError:
        return False  # already gone (another run cleaned it)


def default_destination(parent: Path, batch: StoredBatch, serials: SerialRange) -> Path:
    """LOT-DIGEST8-FIRST-LAST under *parent*, made unique with -2, -3, ... if it exists."""
    lot = batch.record["batch"]["lot_code"].replace("/", "-")
    path = parent / f"{lot}-{batch.digest[:8]}-{serials.first:07d}-{serials.last:07d}"
    number = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{number}")
        number += 1
    return candidate


def publish(staging: Path, destination: Path) -> Path:
    """Move a complete staging folder to its final name (refusing to replace anything)."""
    if destination.exists():
        raise IssuanceError(f"{destination} already exists; it was not replaced.")
    staging.rename(destination)
    return destination


def mark_written(store: Store, batch: StoredBatch, serials: SerialRange) -> None:
    """Record that the files of every issued range of the batch inside *serials* were written."""
    store.mark_written(batch.digest, serials)


def unwritten_serials(store: Store, batch: StoredBatch) -> list[SerialRange]:
    """The batch's serials recorded but never written (their run is gone), adjacent ranges joined; ranges a live run
    is writing are left out."""
    joined: list[SerialRange] = []
    for first, last, staging in store.unwritten_ranges(batch.digest):
        if staging is not None and writer_alive(Path(staging)):
            continue
        if joined and joined[-1].last + 1 == first:
            first = joined.pop().first
        joined.append(SerialRange(first, last))
    return joined


def reprint_command(batch: StoredBatch, serials: SerialRange, program: str = PROGRAM) -> str:
    """The command that writes *serials* of the batch again."""
    return f"{program} issue {batch.digest[:16]} --reprint {serials.first}-{serials.last}"


class IssueInterrupted(KeyboardInterrupt):
    """SIGTERM stopped an issue run; it is cleaned up and reported as Ctrl-C (KeyboardInterrupt) is."""


def _ignore(text: str) -> None:
    return None


@contextlib.contextmanager
def _no_progress(serials: SerialRange, steps: int) -> Iterator[Callable[[int], None]]:
    yield lambda done: None


@dataclasses.dataclass(frozen=True)
class IssueFeedback:
    """How a run talks to its caller: *notify* gets one line per notice (warnings, what to do after a failure),
    *progress* is entered once serials are known (with the number of steps) and gets each step done, and
    *program* is how the commands a notice recommends begin."""

    notify: Callable[[str], None] = _ignore
    progress: Callable[[SerialRange, int], ContextManager[Callable[[int], None]]] = _no_progress
    program: str = PROGRAM


@dataclasses.dataclass(frozen=True)
class IssuedOutput:
    serials: SerialRange
    folder: Path


def issue_stamps(store: Store, job: PrintJob, signer: StampSigner, serials: int | SerialRange, *, output_dir: Path,
                 out: Path | None = None, feedback: IssueFeedback = IssueFeedback()) -> IssuedOutput:
    """Issue *serials* new serials (an int), or write an already-issued range again, into a new folder (*out*, or one
    named after the batch and range under *output_dir*); SIGTERM interrupts it as Ctrl-C does, with the same cleanup."""
    if out is not None and out.exists():
        raise IssuanceError(f"{out} already exists; choose another --out folder.")
    job.plans()  # a label that cannot hold the stamp fails here, before any serial is recorded
    parent = out.parent if out is not None else output_dir
    _tidy_up(store, job.batch, serials, (output_dir, parent), feedback)
    with _interruptions() as interruptions, staged_output(parent) as staging, writer_lock(staging):
        issued = serials if isinstance(serials, SerialRange) else allocate_serials(store, job.batch, serials, staging)
        with _told_if_unwritten(staging, job.batch, issued, feedback):
            with feedback.progress(issued, len(issued) * job.progress_steps) as step:
                _write(staging, job, signer, issued, step)
            with interruptions.held():  # in place and recorded as written, or neither
                folder = publish(staging, out or default_destination(parent, job.batch, issued))
                mark_written(store, job.batch, issued)
    return IssuedOutput(issued, folder)


@contextlib.contextmanager
def _told_if_unwritten(staging: Path, batch: StoredBatch, serials: SerialRange, feedback: IssueFeedback) -> Iterator[None]:
    """When the block fails before the folder is in place, say which serials are not written and how to write them."""
    try:
        yield
    except BaseException:
        if staging.exists():
            feedback.notify(f"Serials {serials.first}-{serials.last} are recorded but their files were not written. "
                            f"Write them with: {reprint_command(batch, serials, feedback.program)}")
        raise


def _write(staging: Path, job: PrintJob, signer: StampSigner, serials: SerialRange, step: Callable[[int], None]) -> None:
    from stamps.printing.jobs import write_stamps

    write_stamps(staging, job, lambda: signer.codes(serials), progress=step)


def _tidy_up(store: Store, batch: StoredBatch, serials: int | SerialRange, parents: tuple[Path, ...],
             feedback: IssueFeedback) -> None:
    """Before a run: remove what killed runs left behind, and name the serials they recorded but never wrote."""
    for parent in dict.fromkeys(parents):
        removed = remove_stale_staging(parent)
        if removed:
            feedback.notify(f"Removed {len(removed)} unfinished output folder(s) of interrupted runs from {parent}.")
    for pending in unwritten_serials(store, batch):
        if not (isinstance(serials, SerialRange) and serials.covers(pending)):
            feedback.notify(f"Warning: serials {pending.first}-{pending.last} of this batch were recorded but their files "
                            f"were never written (a run was stopped). Write them with: "
                            f"{reprint_command(batch, pending, feedback.program)}")


class _Interruptions:
    """SIGINT and SIGTERM as exceptions (KeyboardInterrupt, IssueInterrupted) in the main thread, held back while a
    step must not be cut in two (:meth:`held`)."""

    def __init__(self) -> None:
        self._holding = False
        self._pending: BaseException | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        error = KeyboardInterrupt() if signum == signal.SIGINT else IssueInterrupted()
        if not self._holding:
            raise error
        self._pending = self._pending or error

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Signals wait until the block is done, then interrupt."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            raise self._pending


@contextlib.contextmanager
def _interruptions() -> Iterator[_Interruptions]:
    """Install :class:`_Interruptions` for SIGINT (where Ctrl-C raises KeyboardInterrupt now) and SIGTERM."""
    guard = _Interruptions()
    if threading.current_thread() is not threading.main_thread():
        yield guard  # only the main thread receives signals
        return
    wanted = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is signal.default_int_handler else [])
    previous = {signum: signal.signal(signum, guard) for signum in wanted}
    try:
        yield guard
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
