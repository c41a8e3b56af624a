"""Two real OS processes issuing serials for the same batch at the same time.

Both processes import everything first, report that they are ready, and start
together when the test says go, so their transactions really contend for the
database. Whatever the interleaving, the issued ranges must be disjoint,
together contiguous from serial 1, and never beyond the batch quantity.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cli import PASSPHRASE_ENV
from cli import cli as ocop_cli

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "concurrency test passphrase"
TODAY = dt.date.today()
START_TIMEOUT = 30.0


def run_cli(instance: Path, *args: object) -> str:
    result = CliRunner().invoke(ocop_cli, ["--instance", str(instance), *map(str, args)],
                                env={PASSPHRASE_ENV: PASSPHRASE, "OCOP_STAMPS_HOME": None})
    assert result.exit_code == 0, f"{args}: {result.output} {result.exception!r}"
    return result.stdout


def make_instance(root: Path, quantity: int) -> Path:
    """An instance with one signed batch, lot LOT, of *quantity* units and nothing issued."""
    inst = root / "inst"
    run_cli(inst, "init", "--base-url", "https://truyxuat.example.vn")
    run_cli(inst, "keys", "generate", "--label", "HTX")
    run_cli(inst, "producer", "add", "--name", "HTX", "--kind", "cooperative", "--province", "Sơn La", "--commune", "xã A")
    run_cli(inst, "product", "add", "--producer", 1, "--name", "Mận hậu", "--category", "Trái cây")
    run_cli(inst, "batch", "create", "--product", 1, "--lot-code", "LOT", "--quantity", quantity,
            "--production-date", TODAY - dt.timedelta(days=1), "--expiry-date", TODAY + dt.timedelta(days=30))
    return inst


def process_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "OCOP_STAMPS_HOME"}
    env[PASSPHRASE_ENV] = PASSPHRASE
    return env


# Both workers wait at this barrier after their imports: write READY, wait for GO.
BARRIER = """
import pathlib, sys, time
def barrier(ready, go):
    pathlib.Path(ready).touch()
    deadline = time.time() + 30
    while not pathlib.Path(go).exists():
        if time.time() > deadline:
            sys.exit("no go signal")
        time.sleep(0.0005)
"""

ALLOCATOR = BARRIER + """
import json
from stamps import registry
from stamps.errors import IssuanceError
from stamps.instance import Instance
from stamps.issuance import allocate_serials

ready, go, root, lot, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
instance = Instance.open(pathlib.Path(root))
batch = registry.find_batch(instance.store, lot)
ranges, refused = [], 0
barrier(ready, go)
began = time.time()
for size in [1, 2, 3] * rounds:          # many small ranges, contending with the other process
    try:
        got = allocate_serials(instance.store, batch, size)
        ranges.append([got.first, got.last])
    except IssuanceError:
        refused += 1
    time.sleep(0.0005)                    # a breath between ranges (a real issuer writes files here), so
                                          # SQLite's busy handler lets the other process in: turns interleave
while True:                               # then take single serials until the batch is used up
    try:
        got = allocate_serials(instance.store, batch, 1)
        ranges.append([got.first, got.last])
    except IssuanceError:
        refused += 1
        break
ended = time.time()
instance.close()
print(json.dumps({"ranges": ranges, "refused": refused, "began": began, "ended": ended}))
"""

CLI_ISSUER = BARRIER + """
import cli
ready, go = sys.argv[1], sys.argv[2]
barrier(ready, go)
cli.main(sys.argv[3:])
"""


def start_together(argvs: list[list[str]], tmp_path: Path) -> list[subprocess.CompletedProcess]:
    """Run ``python -c SCRIPT READY GO ARGS...`` for each [SCRIPT, *ARGS]; release them together once all are ready."""
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{index}" for index in range(len(argvs))]
    processes = [subprocess.Popen([sys.executable, "-c", script, str(ready), str(go), *args], cwd=ROOT, env=process_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
                 for (script, *args), ready in zip(argvs, readies)]
    try:
        deadline = time.time() + START_TIMEOUT
        while not all(ready.exists() for ready in readies):
            failed = [process for process in processes if process.poll() not in (None, 0)]
            assert not failed, failed[0].communicate()[1]
            assert time.time() < deadline, "the workers did not get ready"
            time.sleep(0.005)
        go.touch()
        results = []
        for process, argv in zip(processes, argvs):
            stdout, stderr = process.communicate(timeout=60)
            results.append(subprocess.CompletedProcess(argv, process.returncode, stdout, stderr))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def assert_disjoint_and_contiguous(ranges: list[tuple[int, int]], quantity: int) -> int:
    """The ranges never overlap, together cover 1..N without a gap, and N <= quantity; returns N."""
    ordered = sorted(ranges)
    assert all(first <= last for first, last in ordered)
    expected_first = 1
    for first, last in ordered:
        assert first == expected_first, f"gap or overlap at {first} (expected {expected_first}): {ordered}"
        expected_first = last + 1
    total = expected_first - 1
    assert total <= quantity
    return total


def issued_in_store(inst: Path) -> tuple[int, list[tuple[int, int]]]:
    from stamps import registry
    from stamps.instance import Instance

    instance = Instance.open(inst)
    try:
        issued = registry.find_batch(instance.store, "LOT").issued
        columns = ["first_serial", "last_serial"]
        rows = [row for chunk in instance.store.read_table("serial_ranges", columns) for row in chunk]
    finally:
        instance.close()
    return issued, [tuple(row) for row in rows]


def test_two_processes_allocating_many_small_ranges(tmp_path: Path) -> None:
    quantity, rounds = 400, 50  # each process asks for 300 serials in 150 ranges: more than the batch holds
    inst = make_instance(tmp_path, quantity)
    done = start_together([[ALLOCATOR, str(inst), "LOT", str(rounds)] for _ in range(2)], tmp_path)
    assert [process.returncode for process in done] == [0, 0], [process.stderr for process in done]
    reports = [json.loads(process.stdout) for process in done]

    per_process = [[tuple(pair) for pair in report["ranges"]] for report in reports]
    for ranges in per_process:
        assert ranges, "a process got no serial at all"
        assert ranges == sorted(ranges), "one process saw serials go backwards"
    everything = per_process[0] + per_process[1]
    assert assert_disjoint_and_contiguous(everything, quantity) == quantity
    assert all(report["refused"] >= 1 for report in reports)

    issued, rows = issued_in_store(inst)
    assert issued == quantity
    assert sorted(rows) == sorted(everything)

    # the overlap was real: both ran at the same time and their ranges interleave
    assert max(report["began"] for report in reports) < min(report["ended"] for report in reports)
    owner = {pair: index for index, ranges in enumerate(per_process) for pair in ranges}
    switches = sum(owner[a] != owner[b] for a, b in zip(sorted(everything), sorted(everything)[1:]))
    assert switches >= 2, "the two processes never took turns"


def read_csv(folder: Path) -> list[tuple[int, str]]:
    with open(folder / "codes.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["serial", "code"]
    return [(int(row[0]), row[1]) for row in rows[1:]]


def cli_issue_argv(inst: Path, out: Path, count: int) -> list[str]:
    return [CLI_ISSUER, "--instance", str(inst), "issue", "LOT", "--count", str(count), "--format", "csv", "--out", str(out)]


def test_two_cli_processes_issuing_at_once(tmp_path: Path) -> None:
    quantity, count = 2000, 1000
    inst = make_instance(tmp_path, quantity)
    outs = [tmp_path / "out-1", tmp_path / "out-2"]
    done = start_together([cli_issue_argv(inst, out, count) for out in outs], tmp_path)
    assert [process.returncode for process in done] == [0, 0], [process.stderr for process in done]
    assert all("Traceback" not in process.stderr for process in done)

    rows = [read_csv(out) for out in outs]
    ranges = []
    for issued in rows:
        serials = [serial for serial, _ in issued]
        assert len(serials) == count and serials == list(range(serials[0], serials[0] + count))
        ranges.append((serials[0], serials[-1]))
    assert assert_disjoint_and_contiguous(ranges, quantity) == quantity
    codes = [code for issued in rows for _, code in issued]
    assert len(set(codes)) == len(codes) == quantity
    assert issued_in_store(inst)[0] == quantity


def test_two_cli_processes_asking_for_more_than_is_left(tmp_path: Path) -> None:
    quantity, count = 1500, 1000
    inst = make_instance(tmp_path, quantity)
    outs = [tmp_path / "out-1", tmp_path / "out-2"]
    done = start_together([cli_issue_argv(inst, out, count) for out in outs], tmp_path)
    assert sorted(process.returncode for process in done) == [0, 1], [process.stderr for process in done]
    winner, loser = (0, 1) if done[0].returncode == 0 else (1, 0)
    error_lines = [line for line in done[loser].stderr.splitlines() if line.strip()]
    assert error_lines == [error_lines[0]] and error_lines[0].startswith("Error: Only 500 ")
    assert not outs[loser].exists()
    issued = read_csv(outs[winner])
    assert [serial for serial, _ in issued] == list(range(1, count + 1))
    assert issued_in_store(inst) == (count, [(1, count)])


def test_three_cli_processes_never_exceed_the_quantity(tmp_path: Path) -> None:
    workers, quantity, count = 3, 100, 40   # together they ask for 120: exactly one is refused, the others get 1-80
    inst = make_instance(tmp_path, quantity)
    outs = [tmp_path / f"out-{index}" for index in range(workers)]
    done = start_together([cli_issue_argv(inst, out, count) for out in outs], tmp_path)
    assert sorted(process.returncode for process in done) == [0, 0, 1], [process.stderr for process in done]
    written = [read_csv(out) for out, process in zip(outs, done) if process.returncode == 0]
    ranges = [(issued[0][0], issued[-1][0]) for issued in written]
    assert assert_disjoint_and_contiguous(ranges, quantity) == 2 * count
    assert len({code for issued in written for _, code in issued}) == 2 * count
    assert [out.exists() for out, process in zip(outs, done) if process.returncode] == [False]
    assert issued_in_store(inst)[0] == 2 * count
