"""The README works as typed: its two quick-start commands are what CI runs, and its everyday commands run and verify."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent
SLOW = ("ocop-stamps serve",)  # runs until stopped


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def readme_shell_blocks(text: str | None = None) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", readme() if text is None else text, flags=re.S)


def section(title: str) -> str:
    """The README's text under the heading *title*, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme(), flags=re.S | re.M)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def shell_commands(block: str) -> list[str]:
    """The commands of a shell block, continuation lines joined as the shell joins them."""
    return [line for line in block.replace("\\\n", "").splitlines() if line.strip()]


def everyday_commands() -> list[str]:
    return shell_commands(readme_shell_blocks(section("Everyday use"))[0])


def activation_line() -> str:
    """The README's command that puts the venv's ocop-stamps on PATH (POSIX shells)."""
    lines = [line for block in readme_shell_blocks() for line in shell_commands(block) if "activate" in line]
    assert len(lines) == 1 and "Scripts\\activate" in lines[0], "the quick start activates the venv (POSIX and Windows)"
    return lines[0]


def test_quick_start_commands_are_what_ci_runs() -> None:
    install, test = (block.strip() for block in readme_shell_blocks()[:2])
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert install in ci_lines and test in ci_lines
    assert "pip install" in install and "ocop-stamps demo" in install and "pytest" in test


def test_every_command_in_the_readme_exists() -> None:
    commands = set(cli.cli.commands)
    for line in everyday_commands():
        if line.startswith("ocop-stamps "):
            assert line.split()[1] in commands, line


def venv_as_the_quick_start_made_it(folder: Path) -> dict[str, str]:
    """*folder*/.venv is this test run's venv, and PATH does not have its bin folder: only activating finds ocop-stamps."""
    if sys.prefix == sys.base_prefix or not (Path(sys.prefix) / "bin" / "activate").exists():
        pytest.fail("run the tests from the venv the README's quick start makes (.venv/bin/python -m pytest)")
    (folder / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    bin_dir = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(part for part in os.environ.get("PATH", "").split(os.pathsep) if part != bin_dir)
    return {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": path}


@pytest.mark.skipif(os.name != "posix", reason="the README's examples are POSIX shell")
def test_the_everyday_block_runs_as_typed_in_a_fresh_instance(tmp_path: Path) -> None:
    """Each command of '## Everyday use' exactly as printed (after the quick start's activation), in a new instance
    ($OCOP_STAMPS_HOME) with the passphrase in $OCOP_STAMPS_PASSPHRASE; all but serve, which runs until stopped."""
    env = {**venv_as_the_quick_start_made_it(tmp_path), "OCOP_STAMPS_HOME": str(tmp_path / "instance"),
           "OCOP_STAMPS_PASSPHRASE": "mật khẩu của HTX"}
    commands = [command for command in everyday_commands() if not command.startswith(SLOW)]
    assert commands[0].startswith("ocop-stamps init") and commands[-1].startswith("ocop-stamps verify")
    dates_hold = dt.date.today() <= examples_work_until()  # after that, the README says verify answers "warning"
    for command in commands:
        done = subprocess.run(["sh", "-c", f"{activation_line()}\n{command}"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=120)
        expected = 0 if dates_hold or not command.startswith("ocop-stamps verify") else 3
        assert done.returncode == expected, f"$ {command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Warning:" not in done.stderr or not dates_hold, f"$ {command}\n{done.stderr}"
    assert ("Tem chính hãng" if dates_hold else "có cảnh báo") in done.stdout and "Mật ong rừng Bình Liêu" in done.stdout


def examples_work_until() -> dt.date:
    """The last day the README says its example dates verify green ("the commands work until DD/MM/YYYY")."""
    match = re.search(r"work until (\d{2})/(\d{2})/(\d{4})", readme())
    assert match, "the README says until when its example dates hold"
    day, month, year = (int(part) for part in match.groups())
    return dt.date(year, month, day)
