"""Starting the CLI: commands load only what they use, and Ctrl-C never ends in a traceback.

Real processes, since both are about a fresh interpreter: which modules one
command imports, and what a SIGINT at an arbitrary moment of its life prints.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from stamps import registry
from stamps.instance import Instance

ROOT = Path(__file__).resolve().parents[1]
WEB_STACK = ("flask", "werkzeug", "jinja2", "gunicorn", "waitress", "verify_server")
PRINTING_STACK = ("reportlab", "zxingcpp", "PIL", "pypdfium2")

# The child is the console script's two lines (`from cli import main; main()`) after a marker: the parent counts
# each delay from the marker, i.e. from the moment the interpreter has started and our code is about to be loaded.
# (A SIGINT during Python's own start-up, before any line of ours runs, is Python's to report, not ours.)
STARTED = b"child started\n"
CHILD = f"import sys; sys.stderr.buffer.write({STARTED!r}); sys.stderr.flush(); from cli import main; main()"


@pytest.fixture(scope="module")
def bytecode_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bytecode cache outside the repository, filled once, as pip's install fills it for an installed program.

    Without it each child would compile cli.py from source (tens of ms) before its first line runs, while
    $PYTHONDONTWRITEBYTECODE (set on some machines) keeps it from ever being cached.
    """
    cache = tmp_path_factory.mktemp("pycache")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import cli"], cwd=ROOT, env={**env, "PYTHONPYCACHEPREFIX": str(cache)},
                   check=True, timeout=60)
    return cache


@pytest.fixture(scope="module")
def instance_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance with an unencrypted key and one batch of 1,000,000 units (lot L1), for real commands to run on."""
    root = tmp_path_factory.mktemp("startup") / "inst"
    instance = Instance.create(root, "https://truyxuat.example.vn")
    try:
        instance.generate_key(None, "test key")
        producer = registry.add_producer(instance.store, {"name": "HTX A", "kind": "cooperative", "province": "Sơn La",
                                                          "commune": "xã B"})
        product = registry.add_product(instance.store, producer, {"name": "Mật ong rừng", "category": "Mật ong"})
        today = dt.date.today()
        registry.create_batch(instance.store, instance.signing_key(None), product, [], {
            "lot_code": "L1", "quantity": 1_000_000, "production_date": today.isoformat(),
            "expiry_date": (today + dt.timedelta(days=365)).isoformat()})
    finally:
        instance.close()
    return root


def child_env(instance_root: Path, bytecode_cache: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "OCOP_STAMPS_HOME": str(instance_root), "PYTHONPYCACHEPREFIX": str(bytecode_cache)}


@pytest.mark.parametrize("args", [["--help"], ["batch", "list"], ["producer", "show", "1"], ["keys", "list"]],
                         ids=" ".join)
def test_commands_that_do_not_print_or_serve_load_neither_stack(instance_root: Path, bytecode_cache: Path,
                                                                 args: list[str]) -> None:
    probe = ("import json, sys\nfrom cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as end:\n"
             "    assert end.code in (0, None), end.code\n"
             "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=child_env(instance_root, bytecode_cache),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stderr.splitlines()[-1]))
    assert loaded.isdisjoint(WEB_STACK + PRINTING_STACK), sorted(loaded & set(WEB_STACK + PRINTING_STACK))


def test_issue_help_still_lists_the_formats_and_presets() -> None:
    done = subprocess.run([sys.executable, "-m", "cli", "issue", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Formats and presets:" in done.stdout and "a4-24" in done.stdout and "roll-50x30" in done.stdout


def interrupt_after(args: list[str], delay: float, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start the CLI with *args* and send it SIGINT *delay* seconds after it has started."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stderr is not None and child.stderr.readline() == STARTED
    threading.Timer(delay, child.send_signal, [signal.SIGINT]).start()
    return child


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX only")
def test_ctrl_c_at_any_moment_never_prints_a_traceback(instance_root: Path, bytecode_cache: Path, tmp_path: Path) -> None:
    """Delays from 20 to 880 ms cover loading the modules, opening the store and (for issue) writing a PDF."""
    env = child_env(instance_root, bytecode_cache)
    plans = [(["batch", "list"], delay) for delay in range(20, 420, 75)]
    plans += [(["issue", "L1", "--count", "300", "--out", str(tmp_path / f"out-{delay}")], delay)
              for delay in range(45, 900, 95)]
    outcomes = []
    for first in range(0, len(plans), 4):  # four at a time: two cores, and the delays still land all over
        children = [(args, delay, interrupt_after(args, delay / 1000, env)) for args, delay in plans[first:first + 4]]
        for args, delay, child in children:
            stdout, stderr = child.communicate(timeout=60)
            outcomes.append((" ".join(args[:2]), delay, child.returncode, stderr.decode("utf-8", "replace")))
    for command, delay, code, stderr in outcomes:
        assert "Traceback" not in stderr, f"{command} interrupted after {delay} ms:\n{stderr}"
        # 130, or killed by the signal itself in the last moments of Python's shutdown (a shell shows that as 130 too)
        assert code in (0, 128 + signal.SIGINT, -signal.SIGINT), f"{command} after {delay} ms: exit {code}\n{stderr}"
        if code > 0 and stderr:  # interrupted while a command ran (quiet while loading): one line says so
            assert stderr.rstrip("\n").endswith("Interrupted."), f"{command} after {delay} ms:\n{stderr}"
    interrupted = {command for command, _, code, _ in outcomes if code != 0}
    assert interrupted == {"batch list", "issue L1"}, outcomes  # the signal did land while each kind of command ran


def test_ctrl_c_during_a_command_is_one_line_and_exit_130(instance_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, deterministic: the moment the command's work is interrupted."""
    from click.testing import CliRunner

    import cli

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registry, "list_batches", interrupted)
    result = CliRunner().invoke(cli.cli, ["--instance", str(instance_root), "batch", "list"])
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "Interrupted.\n"), result.output
