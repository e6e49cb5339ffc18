"""Study config files: repositories grouped for comparison (e.g. `ml` vs `traditional`).

TOML (read with the standard library) or YAML, the same shape:

    [study]                          # optional: what the datasheet says about the study
    title = "System-related issues in ML frameworks"
    creators = ["Ada Lovelace (Example University)"]
    version = "1.0"
    license = "CC-BY-4.0"            # of the labels and derived data, not of GitHub's texts
    collection_end = 2024-06-30      # open issues are censored here (a date: 23:59:59 UTC)

    [groups]
    ml = ["tensorflow/tensorflow", "pytorch/pytorch", "apache/mxnet"]
    traditional = ["numpy/numpy"]
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time
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


# The [study] keys and what each must be; every one is optional.
STUDY_KEYS = {
    "title": "a string",
    "description": "a string",
    "creators": "a list of names",
    "version": "a string",
    "license": "an SPDX id or a sentence",
    "contact": "a string",
    "collection_end": "a date or a UTC date-time",
}


def load_study_metadata(path: str | Path) -> dict[str, object]:
    """The optional [study] table of a study config: {key: value}, collection_end as ISO 8601
    UTC text (a date means its last second, 23:59:59). Empty when the file has none."""
    path = Path(path)
    data = _read(path)
    study = data.get("study", {}) if isinstance(data, dict) else {}
    if not isinstance(study, dict):
        raise ConfigError(f"{path}: [study] must be a table of keys such as title = '...'")
    unknown = sorted(set(study) - set(STUDY_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown [study] key {', '.join(unknown)}; use {', '.join(STUDY_KEYS)}"
        )
    return {key: _study_value(path, key, value) for key, value in study.items()}


def _study_value(path: Path, key: str, value: object) -> object:
    if key == "collection_end":
        return _utc_text(path, value)
    if key == "creators":
        names = [value] if isinstance(value, str) else value
        if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
            return names
    elif isinstance(value, str) and value.strip():
        return value.strip()
    raise ConfigError(f"{path}: [study] {key} must be {STUDY_KEYS[key]}, not {value!r}")


def _utc_text(path: Path, value: object) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"{path}: [study] collection_end {value!r} is not a date; write 2024-06-30"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))  # the whole day was collected
    if not isinstance(value, datetime):
        raise ConfigError(f"{path}: [study] collection_end must be a date, not {value!r}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
