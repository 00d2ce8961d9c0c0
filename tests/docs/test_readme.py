"""The README stays true to the CLI: every command line it shows names a real command, and every
flag on that line is one the command's ``--help`` lists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from imagetrust.cli.commands import load_all
from imagetrust.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"
load_all()


def readme_command_lines() -> list[str]:
    text = README.read_text()
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.split("#", 1)[0].strip()
                match = re.search(r"(?:^|/)imagetrust\s+(.*)$", part)
                if match:
                    lines.append(match.group(1))
    return lines


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = cli
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        assert sub is not None, f"README shows unknown command {rest[0]!r}"
        command, rest = sub, rest[1:]
    return command, rest


def test_readme_shows_commands() -> None:
    assert len(readme_command_lines()) >= 10


@pytest.mark.parametrize("line", readme_command_lines())
def test_readme_command_line_matches_help(line: str) -> None:
    command, rest = resolve(shlex.split(line))
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    flags = [word.split("=", 1)[0] for word in rest if word.startswith("-")]
    for flag in flags:
        assert flag in known, f"{line!r}: {flag} is not an option of this command"


def test_every_command_is_in_the_readme() -> None:
    shown = {shlex.split(line)[0] for line in readme_command_lines()}
    hidden = {"quickview", "recommendations"}  # aliases of check and recommend
    assert set(cli.commands) - hidden <= shown
