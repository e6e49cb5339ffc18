"""Input a newcomer gets wrong is one `Error:` line and exit 1, never a traceback (issue 12,
item 10): --db at a folder, labels files in other encodings or with a huge field, a study file
that is not UTF-8, a pickle named model.skops (a malformed study import: tests/test_makkouk.py)."""

from __future__ import annotations

import pickle

import click
import pytest
from click.testing import CliRunner

from classifier.labels import read_labels_csv
from mlissues.cli import COMMANDS, main

LABELS = "repository,number,category,annotator\npytorch/pytorch,1,MLEAK,ann\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line_error(result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.output, result.output
    assert sum(line.startswith("Error: ") for line in lines) == 1, result.output
    for text in expected:
        assert text in lines[-1], result.output


def _commands_with_db(group: click.Group, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(None):
        command = group.get_command(None, name)
        if isinstance(command, click.Group):
            yield from _commands_with_db(command, (*prefix, name))
        elif any(param.name == "db_url" for param in command.params):
            yield (*prefix, name), command


LABELS_FILE = "labels.csv"


def _arguments(command: click.Command, folder) -> list[str]:
    """Values for the required arguments that pass click's own checks."""
    values = []
    for param in command.params:
        if isinstance(param, click.Argument) and (param.required or param.nargs == -1):
            if isinstance(param.type, click.Path):
                values.append(str(folder) if not param.type.file_okay else LABELS_FILE)
            elif isinstance(param.type, click.types.IntParamType):
                values.append("1")
            else:
                values.append("octo/edge" if param.name != "category" else "NSR")
    return values


def test_db_at_a_folder_is_one_line_for_every_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / LABELS_FILE).write_text(LABELS)
    folder = tmp_path / "data"
    folder.mkdir()
    commands = dict(_commands_with_db(main))
    assert {name[0] for name in commands} == set(COMMANDS) - {"fake-github", "discover"}
    for name, command in commands.items():
        extra = ["--by", "x"] if name == ("label", "adjudicate") else []
        result = run(*name, "--db", str(folder), *extra, *_arguments(command, folder))
        one_line_error(result, "is a folder")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (LABELS.replace(",ann\n", ",café\n").encode("latin-1"), "line 2: not UTF-8 text"),
        (LABELS.encode("utf-16"), "UTF-16"),
        (
            (LABELS + 'pytorch/pytorch,2,MLEAK,"' + "x" * 140_000 + '"\n').encode(),
            "line 3: a field is longer than 131,072 characters",
        ),
    ],
    ids=["latin-1", "utf-16", "huge-field"],
)
def test_labels_files_train_cannot_read_are_one_line(tmp_path, content, expected):
    # (frictionless raises the csv module's process-wide field limit: the rule must not care)
    path = tmp_path / "labels.csv"
    path.write_bytes(content)
    db = str(tmp_path / "x.db")
    run("init-db", "--db", db)
    one_line_error(run("train", "--db", db, "--labels", str(path)), expected)
    one_line_error(run("label", "import", "--db", db, str(path)), expected)


def test_a_labels_file_with_a_byte_order_mark_reads_like_any_other(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_bytes(LABELS.encode("utf-8-sig"))
    assert read_labels_csv(path)[["repository", "number", "category"]].values.tolist() == [
        ["pytorch/pytorch", 1, "MLEAK"]
    ]
    db = str(tmp_path / "x.db")
    run("init-db", "--db", db)
    result = run("label", "import", "--db", db, str(path))
    assert "repository pytorch/pytorch is not in the database" in result.output


def test_a_study_or_taxonomy_file_that_is_not_utf8_is_one_line(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_bytes("groups:\n  ml: ['tensorflow/tensorflow']  # café\n".encode("latin-1"))
    one_line_error(
        run("crawl", "--db", str(tmp_path / "x.db"), "--config", str(study)), "not UTF-8 text"
    )
    study.write_text("groups: [unclosed\n")
    one_line_error(
        run("crawl", "--db", str(tmp_path / "x.db"), "--config", str(study)), "cannot read"
    )
    taxonomy = tmp_path / "taxonomy.yaml"
    taxonomy.write_bytes("name: tax # café\n".encode("latin-1"))
    run("init-db", "--db", str(tmp_path / "x.db"))
    result = run("train", "--db", str(tmp_path / "x.db"), "--taxonomy", str(taxonomy))
    one_line_error(result, "not UTF-8 text")


def test_a_pickle_named_model_skops_is_one_line(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.skops").write_bytes(pickle.dumps({"a": 1}))
    (model / "card.json").write_text('{"version": "x", "threshold": 0.5}')
    db = str(tmp_path / "x.db")
    run("init-db", "--db", db)
    one_line_error(run("classify", "--db", db, "--model", str(model)), "not a skops model file")
