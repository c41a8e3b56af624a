"""The README's two commands are the ones CI runs, and the CLI commands it shows exist."""

from __future__ import annotations

import re
from pathlib import Path

import cli

ROOT = Path(__file__).resolve().parent.parent


def readme_shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_quick_start_commands_are_what_ci_runs() -> None:
    install, test = (block.strip() for block in readme_shell_blocks()[:2])
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert install in ci_lines and test in ci_lines
    assert "pip install" in install and "ocop-stamps demo" in install and "pytest" in test


def test_every_command_in_the_readme_exists() -> None:
    commands = {name for name in cli.cli.commands}
    for line in readme_shell_blocks()[2].splitlines():
        if line.startswith("ocop-stamps "):
            assert line.split()[1] in commands, line
