"""The command line: every command is real, loads, and has help text."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlissues import __version__
from mlissues.cli import COMMANDS, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name):
    command = main.get_command(None, name)
    assert command is not None, f"{name} does not load"
    assert (command.help or "").strip(), f"{name} has no help text"
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_top_level_help_lists_exactly_the_registered_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1].split()
    for name in COMMANDS:
        assert name in listed


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
