"""The command line: every command is real, loads, and has help text."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from mlissues import __version__
from mlissues.cli import COMMANDS, main
from tests.conftest import REPO_ROOT


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


def _pytest(*args: str, corpus: str) -> str:
    environment = {**os.environ, "MLISSUES_CORPUS": corpus}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=REPO_ROOT, env=environment, timeout=120,
    )  # fmt: skip
    return done.stdout


def test_corpus_tests_carry_the_marker_and_skip_with_a_reason_without_it(tmp_path):
    needs_corpus = "tests/test_crawl.py::test_anonymous_crawl_says_so"  # through `api`
    missing = str(tmp_path / "no-corpus")
    output = _pytest(needs_corpus, "tests/test_cli.py::test_version", "-m", "corpus",
                     corpus=missing)  # fmt: skip
    assert "1 skipped, 1 deselected" in output
    assert f"the shared corpus is missing at {missing}" in output
