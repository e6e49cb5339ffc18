"""The `mlissues` command: a thin group that loads each package's commands on demand.

Each package owns its commands (db.cli, miner.cli, ...); this module only names them, so that
`mlissues status` does not pay for importing spaCy or matplotlib.
"""

from __future__ import annotations

import importlib
import logging

import click

from mlissues import __version__

COMMANDS: dict[str, str] = {
    "init-db": "db.cli:init_db",
    "status": "db.cli:status",
    "crawl": "miner.cli:crawl",
    "discover": "miner.cli:discover",
    "worker": "miner.cli:worker",
    "fake-github": "miner.cli:fake_github",
    "label": "classifier.labeling.cli:label",
    "train": "classifier.cli:train",
    "classify": "classifier.cli:classify",
    "figures": "analysis.cli:figures",
    "export": "analysis.cli:export",
    "import-study": "miner.makkouk:import_study_group",
}


QUIET_HELP = "Only warnings and errors; no progress bars."
VERBOSE_HELP = "More detail (-vv: every HTTP request)."


class LazyGroup(click.Group):
    """A click group whose subcommands are imported the first time they are used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        _accept_verbosity(command)
        return command


def _verbosity(ctx: click.Context, param: click.Parameter, value) -> None:
    """-q or -v given anywhere: the last word on the logging level, before the command runs."""
    if value:
        chosen = ctx.find_root().meta
        chosen[param.name] = value
        _configure_logging(chosen.get("quiet", False), chosen.get("verbose", 0))


def _accept_verbosity(command: click.Command) -> None:
    """-q/-v after a subcommand too (`mlissues crawl -q`), not only before it."""
    if not any(param.name == "quiet" for param in command.params):
        command.params += [
            click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                         callback=_verbosity, help=QUIET_HELP),
            click.Option(["-v", "--verbose"], count=True, expose_value=False,
                         callback=_verbosity, help=VERBOSE_HELP),
        ]  # fmt: skip
    for sub in getattr(command, "commands", {}).values():
        _accept_verbosity(sub)


def _configure_logging(quiet: bool, verbose: int) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)
    # urllib3 logs every request URL at DEBUG; keep it at INFO unless asked twice.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlissues")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
@click.pass_context
def main(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """Mine, label, classify and analyse system-related issues of ML frameworks."""
    ctx.meta.update(quiet=quiet, verbose=verbose)
    _configure_logging(quiet, verbose)
