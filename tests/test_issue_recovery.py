"""Interrupted issue runs: workers die with their parent, SIGTERM cleans up as Ctrl-C does, and what a killed run
left (serials recorded but never written, a hidden working folder) is shown with the command that writes the
serials, and cleaned up, by the next commands.

The process tests run the real CLI (``python -m cli ... issue --count 10000``, a PDF job whose QR encoding is spread
over a process pool) and signal it once its pool workers exist.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from cli import cli as ocop_cli
from stamps import registry
from stamps.instance import DB_NAME, Instance
from stamps.issuance import (IssueFeedback, IssueInterrupted, SerialRange, StampSigner, _interruptions, allocate_serials,
                             issue_stamps, unwritten_serials)
from stamps.printing.jobs import PARALLEL_FROM, PrintJob, encoding_workers, parse_format
from stamps.store.sqlite import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[1]
BIG_JOB = 10_000
QUANTITY = 30_000
WAIT_SECONDS = 30.0
WORKERS = encoding_workers(BIG_JOB)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc (Linux)")
needs_pool = pytest.mark.skipif(WORKERS < 2, reason="one core: a PDF job runs without worker processes")


def run(inst: Path, *args: object) -> Result:
    return CliRunner().invoke(ocop_cli, ["--instance", str(inst), *map(str, args)], env={"OCOP_STAMPS_HOME": None})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.output} {result.exception!r}"
    return result


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with an unencrypted key and one batch, lot LOT, nothing issued."""
    inst = tmp_path_factory.mktemp("template") / "inst"
    ok(run(inst, "init", "--base-url", "https://truyxuat.example.vn"))
    ok(run(inst, "keys", "generate", "--label", "HTX", "--unsafe-no-passphrase"))
    ok(run(inst, "producer", "add", "--name", "HTX", "--kind", "cooperative", "--province", "Sơn La", "--commune", "xã A"))
    ok(run(inst, "product", "add", "--producer", 1, "--name", "Mận hậu", "--category", "Trái cây"))
    ok(run(inst, "batch", "create", "--product", 1, "--lot-code", "LOT", "--quantity", QUANTITY,
           "--production-date", "2026-01-01", "--expiry-date", "2027-01-01"))
    return inst


@pytest.fixture
def inst(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "inst")
    return tmp_path / "inst"


def digest16(inst: Path) -> str:
    return str(json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["digest"][:16])


def reprint_line(inst: Path, first: int, last: int) -> str:
    return f"ocop-stamps --instance {shlex.quote(str(inst))} issue {digest16(inst)} --reprint {first}-{last}"


def staging_folders(inst: Path) -> list[Path]:
    return sorted((inst / "output").glob(".issue-*.partial"))


# --- real processes -------------------------------------------------------------------------------------------

def start_issue(inst: Path, count: int = BIG_JOB) -> subprocess.Popen[str]:
    env = {name: value for name, value in os.environ.items() if name != "OCOP_STAMPS_HOME"}
    return subprocess.Popen([sys.executable, "-m", "cli", "--instance", str(inst), "issue", "LOT", "--count", str(count)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", start_new_session=True)


def process_state(pid: int) -> str | None:
    """The state letter of a process (R, S, Z, ...), None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def wait_for_workers(process: subprocess.Popen[str]) -> list[int]:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(workers := [pid for pid in children(process.pid) if alive(pid)]) < WORKERS:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the PDF job never started its pool workers"
        time.sleep(0.02)
    return workers


def wait_until_gone(pids: list[int], seconds: float = 5.0) -> list[int]:
    """The pids still alive after up to *seconds*."""
    deadline = time.monotonic() + seconds
    while (left := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


@pytest.fixture
def started(inst: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start issue runs on the test's instance; whatever is still running at the end is killed."""
    processes: list[subprocess.Popen[str]] = []

    def start(count: int = BIG_JOB) -> subprocess.Popen[str]:
        processes.append(start_issue(inst, count))
        return processes[-1]

    yield start
    for process in processes:
        if os.name == "posix":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: workers a failed fix left behind go too
        else:
            process.kill()
        process.communicate()


@linux_only
@needs_pool
@pytest.mark.parametrize("signum, to_group", [(signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGTERM to the process", "Ctrl-C (SIGINT to the process group)"])
def test_a_stopped_run_cleans_up_and_says_what_to_do(inst: Path, started, signum: int, to_group: bool) -> None:
    process = started()
    workers = wait_for_workers(process)
    os.killpg(process.pid, signum) if to_group else process.send_signal(signum)
    _, stderr = process.communicate(timeout=WAIT_SECONDS)  # returns only once no worker holds the pipes open
    assert process.returncode == 130 and stderr.rstrip().endswith("Interrupted."), stderr  # as for any Ctrl-C
    assert "Traceback" not in stderr
    assert (f"Serials 1-{BIG_JOB} are recorded but their files were not written. "
            f"Write them with: {reprint_line(inst, 1, BIG_JOB)}") in stderr
    assert list((inst / "output").glob(".issue-*")) == []  # neither the folder nor its lock file
    assert wait_until_gone(workers, 1.0) == []


@linux_only
@needs_pool
def test_ctrl_c_while_the_pool_starts_neither_hangs_nor_prints_a_traceback(started) -> None:
    """The interrupt lands as the first worker is forked: the worker once raised it itself (a traceback), and a pool
    whose manager thread had not started yet could not stop its workers (the run hung). 8 of 10 runs failed so."""
    for _ in range(4):
        process = started(2 * PARALLEL_FROM)  # the run makes its pool; serials are left for the next run
        while not [pid for pid in children(process.pid) if alive(pid)]:
            assert process.poll() is None, process.communicate()
            time.sleep(0.001)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=WAIT_SECONDS)
        assert process.returncode == 130 and "Traceback" not in stderr, stderr


@linux_only
@needs_pool
def test_kill_9_takes_the_workers_along_and_the_next_commands_say_what_to_do(inst: Path, started) -> None:
    process = started()
    workers = wait_for_workers(process)
    [left] = staging_folders(inst)
    lock = left.with_name(left.name + ".lock")
    assert lock.read_text().startswith(f"{process.pid}@")
    process.kill()
    process.wait()
    assert wait_until_gone(workers) == [], "pool workers outlived their killed parent"
    command = reprint_line(inst, 1, BIG_JOB)

    assert f"NOT WRITTEN 1-{BIG_JOB}" in ok(run(inst, "batch", "list")).stdout
    assert command in ok(run(inst, "batch", "list")).stdout
    shown = json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)
    assert shown["unwritten"] == [{"first": 1, "last": BIG_JOB, "reprint": command}]

    after = ok(run(inst, "issue", "LOT", "--count", 1, "--format", "csv"))
    assert f"Write them with: {command}" in after.stderr
    assert f"Removed 1 unfinished output folder(s) of interrupted runs from {inst / 'output'}." in after.stderr
    assert not left.exists() and not lock.exists() and staging_folders(inst) == []
    assert f"serials {BIG_JOB + 1}-{BIG_JOB + 1}" in after.stdout  # it went on


def issued(inst: Path) -> int:
    return int(json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["issued"])


def test_a_live_run_is_left_alone_and_dead_runs_folders_are_removed(inst: Path, started) -> None:
    live = started()
    deadline = time.monotonic() + WAIT_SECONDS
    while issued(inst) < BIG_JOB:  # its serials are recorded: from now on it writes them
        assert live.poll() is None and time.monotonic() < deadline, live.communicate()
        time.sleep(0.02)
    [live_folder] = staging_folders(inst)
    output = inst / "output"
    dead, old, starting, fresh = (output / f".issue-{name}.partial" for name in ("dead", "old", "starting", "fresh"))
    for folder in (dead, old, starting, fresh):
        folder.mkdir()
        (folder / "codes.csv").write_text("serial,code,short_code\n")
    (output / ".issue-dead.partial.lock").write_text(f"4321@{socket.gethostname()}\n")  # named, not locked: died
    (output / ".issue-starting.partial.lock").write_bytes(b"")  # a run between making its lock file and locking it
    a_week_ago = time.time() - 7 * 24 * 3600
    os.utime(old, (a_week_ago, a_week_ago))  # no lock (an older version's), untouched for a week

    assert "NOT WRITTEN" not in ok(run(inst, "batch", "list")).stdout  # being written is not "never written"
    result = ok(run(inst, "issue", "LOT", "--count", 1, "--format", "csv"))
    assert result.stderr.splitlines()[0] == f"Removed 2 unfinished output folder(s) of interrupted runs from {output}."
    assert "Warning" not in result.stderr
    assert [folder.exists() for folder in (dead, old, starting, fresh)] == [False, False, True, True]
    assert not (output / ".issue-dead.partial.lock").exists()
    assert live_folder.exists() and live.poll() is None, "the running issue's folder was removed"


@pytest.mark.skipif(os.name != "posix", reason="os.fork")
def test_a_worker_watching_its_parent_ends_with_it() -> None:
    """The watch that ends a worker where the kernel cannot (not Linux): a real parent, killed."""
    script = """
import os, sys, time
from stamps.printing.pdf import watch_parent
parent = os.getpid()
pid = os.fork()
if pid == 0:
    watch_parent(parent, interval=0.02)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if sys.platform.startswith("linux") and not alive(child):
            break
        time.sleep(0.02)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the watched child outlived its parent")
    parent.stdout.close()


# --- recorded but never written, through the library ----------------------------------------------------------

def record_without_writing(inst: Path, count: int) -> SerialRange:
    """What a run killed between recording its serials and writing them leaves in the store."""
    instance = Instance.open(inst)
    try:
        return allocate_serials(instance.store, registry.find_batch(instance.store, "LOT"), count)
    finally:
        instance.close()


def test_serials_never_written_are_shown_with_the_command_that_clears_them(inst: Path) -> None:
    ok(run(inst, "issue", "LOT", "--count", 2, "--format", "csv"))
    lost = record_without_writing(inst, 3)
    command = reprint_line(inst, 3, 5)

    listed = ok(run(inst, "batch", "list")).stdout.splitlines()
    assert listed[0].endswith("issued 5/30,000  (local)  NOT WRITTEN 3-5")
    assert listed[1] == f"    serials 3-5 were never written; write them with: {command}"
    assert json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["unwritten"] == [
        {"first": lost.first, "last": lost.last, "reprint": command}]
    warned = ok(run(inst, "issue", "LOT", "--count", 1, "--format", "csv"))
    assert warned.stderr.startswith("Warning: serials 3-5 of this batch were recorded but their files were never written "
                                    f"(a run was stopped). Write them with: {command}\n")
    assert "serials 6-6" in warned.stdout

    program, *args = shlex.split(command)
    assert program == "ocop-stamps"
    cleared = ok(CliRunner().invoke(ocop_cli, args, env={"OCOP_STAMPS_HOME": None}))
    assert "Warning" not in cleared.stderr and "3 stamps (serials 3-5" in cleared.stdout
    assert ok(run(inst, "batch", "list")).stdout.splitlines() == [listed[0].replace("5/", "6/").removesuffix("  NOT WRITTEN 3-5")]
    assert json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["unwritten"] == []


def test_adjacent_unwritten_ranges_take_one_command_and_only_whole_ranges_are_cleared(inst: Path) -> None:
    record_without_writing(inst, 2)
    record_without_writing(inst, 3)
    assert [entry["reprint"] for entry in json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["unwritten"]] == [
        reprint_line(inst, 1, 5)]
    inside = ok(run(inst, "issue", "LOT", "--reprint", "2-4", "--format", "csv"))  # covers neither range whole
    assert "Write them with: " + reprint_line(inst, 1, 5) in inside.stderr
    assert "NOT WRITTEN 1-5" in ok(run(inst, "batch", "list")).stdout
    ok(run(inst, "issue", "LOT", "--reprint", "1-3", "--format", "csv"))  # covers 1-2, not 3-5
    assert "NOT WRITTEN 3-5" in ok(run(inst, "batch", "list")).stdout
    ok(run(inst, "issue", "LOT", "--reprint", "3-5", "--format", "csv"))
    assert "NOT WRITTEN" not in ok(run(inst, "batch", "list")).stdout


def test_a_run_stopped_while_writing_leaves_no_folder_and_its_serials_unwritten(inst: Path) -> None:
    notices: list[str] = []

    @contextlib.contextmanager
    def progress(serials: SerialRange, steps: int) -> Iterator[Callable[[int], None]]:
        def step(done: int) -> None:
            raise KeyboardInterrupt  # Ctrl-C in the middle of writing

        yield step

    instance = Instance.open(inst)
    try:
        batch = registry.find_batch(instance.store, "LOT")
        signer = StampSigner(instance.signing_key(None), batch, instance.base_url)
        job = PrintJob((parse_format("csv"),), batch, instance.base_url)
        with pytest.raises(KeyboardInterrupt):
            issue_stamps(instance.store, job, signer, 4, output_dir=inst / "output",
                         feedback=IssueFeedback(notices.append, progress, "ocop-stamps"))
        assert unwritten_serials(instance.store, batch) == [SerialRange(1, 4)]
    finally:
        instance.close()
    assert notices == [f"Serials 1-4 are recorded but their files were not written. "
                       f"Write them with: ocop-stamps issue {batch.digest[:16]} --reprint 1-4"]
    assert list((inst / "output").iterdir()) == []


# --- the migration ---------------------------------------------------------------------------------------------

def test_an_older_instance_counts_its_ranges_as_written(inst: Path) -> None:
    ok(run(inst, "issue", "LOT", "--count", 2, "--format", "csv"))
    record_without_writing(inst, 3)  # under the old code nobody knew whether these were written
    with sqlite3.connect(inst / DB_NAME) as connection:
        connection.execute("DROP TABLE range_writes")  # as the code before migration 2 made it
        connection.execute("PRAGMA user_version = 1")
    connection.close()

    assert "NOT WRITTEN" not in ok(run(inst, "batch", "list")).stdout  # read-only: not migrated, nothing claimed
    ok(run(inst, "issue", "LOT", "--count", 1, "--format", "csv"))  # read-write: migrated
    with sqlite3.connect(inst / DB_NAME) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("SELECT count(*) FROM range_writes WHERE written_at IS NOT NULL").fetchone()[0] == 3
    connection.close()
    assert json.loads(ok(run(inst, "batch", "show", "LOT")).stdout)["unwritten"] == []
    record_without_writing(inst, 1)
    assert "NOT WRITTEN 7-7" in ok(run(inst, "batch", "list")).stdout  # and new ranges are followed


# --- signals within the run --------------------------------------------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM to itself")
def test_sigterm_waits_for_a_held_step() -> None:
    before = signal.getsignal(signal.SIGTERM)
    finished = False
    with pytest.raises(IssueInterrupted):
        with _interruptions() as interruptions:
            with interruptions.held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # delivered here, and held
                finished = True
    assert finished
    assert signal.getsignal(signal.SIGTERM) == before
