"""Study config files: repositories grouped for comparison (e.g. `ml` vs `traditional`).

TOML (read with the standard library) or YAML, the same shape:

    [groups]
    ml = ["tensorflow/tensorflow", "pytorch/pytorch", "apache/mxnet"]
    traditional = ["numpy/numpy"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from miner.crawl import RepositorySpec


class ConfigError(Exception):
    """The study config cannot be used; the message names the file and the problem."""


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return yaml.safe_load(text) or {}
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"study config {path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())  # YAML's messages span lines
        raise ConfigError(f"cannot read study config {path}: {reason}") from None


def load_study(path: str | Path) -> list[RepositorySpec]:
    """The repositories of a study config, each with its group, in file order."""
    path = Path(path)
    data = _read(path)
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, dict) or not groups:
        raise ConfigError(
            f"{path} has no [groups] table; write e.g. groups.ml = ['tensorflow/tensorflow']"
        )
    specs = []
    for group, names in groups.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{path}: group {group!r} must be a list of OWNER/REPO names")
        specs.extend(RepositorySpec(name, str(group)) for name in names)
    return specs
