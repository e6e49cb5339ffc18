"""CSV import/export of annotations and the `mlissues label` commands."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from classifier.labeling import (
    AnnotationImportError,
    LabelingSession,
    export_annotations,
    import_annotations,
)
from db import schema
from mlissues.cli import main
from tests import test_labeling_support as support
from tests.test_labeling_support import annotation_rows

engine, two_repositories = support.engine, support.two_repositories
HEADER = "repository,number,category,annotator,kind,note\n"


def _numbers(engine, repository: str, count: int) -> list[int]:
    i, r = schema.issues, schema.repositories
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(i.c.number)
                .join(r, r.c.id == i.c.repository_id)
                .where(r.c.full_name == repository)
                .order_by(i.c.number)
                .limit(count)
            ).scalars()
        )


def _write(tmp_path, text: str):
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_export_then_import_restores_every_annotation(engine, tmp_path):
    session = LabelingSession(engine, "alice")
    session.label("EXEC", note='says "segfault", twice\nin two lines')
    session.skip()
    session.unsure("MA")
    before = annotation_rows(engine)
    out = io.StringIO()
    assert export_annotations(engine, out) == 3
    text = out.getvalue()
    assert text.splitlines()[0] == "repository,number,category,annotator,kind,note,status"
    with engine.begin() as connection:
        connection.execute(schema.annotations.delete())
    assert import_annotations(engine, _write(tmp_path, text)).new == 3
    assert annotation_rows(engine) == before


def test_export_holds_references_only_never_issue_text(engine):
    session = LabelingSession(engine, "alice")
    title = session.current.title
    session.label("NSR")
    out = io.StringIO()
    export_annotations(engine, out)
    assert title not in out.getvalue()
    assert out.getvalue().count("\n") == 2


def test_old_repository_names_resolve_through_aliases(two_repositories, tmp_path):
    number = _numbers(two_repositories, "apache/mxnet", 1)[0]
    path = _write(tmp_path, HEADER + f"apache/incubator-mxnet,{number},EXEC,labeler1,label,\n")
    assert import_annotations(two_repositories, path).new == 1
    out = io.StringIO()
    export_annotations(two_repositories, out)
    assert f"apache/mxnet,{number},EXEC,labeler1,label,,labeled" in out.getvalue()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("keras-team/keras,{n},BOGUS,a,label,", "line 3: unknown category 'BOGUS'"),
        ("keras-team/keras,99999999,EXEC,a,label,", "line 3: issue keras-team/keras#99999999 is"),
        ("nobody/nothing,1,EXEC,a,label,", "line 3: repository nobody/nothing is not in"),
        ("keras-team/keras,{n},EXEC,a,label", "line 3: expected 6 fields, found 5"),
        ("keras-team/keras,twelve,EXEC,a,label,", "line 3: number 'twelve' is not an issue"),
        ("keras-team/keras,{n},EXEC,a,verdict,", "line 3: kind 'verdict' is not one of"),
        ("keras-team/keras,{n},EXEC, ,label,", "line 3: an annotation needs an annotator"),
        ('keras-team/keras,{n},EXEC,a,label,"unclosed', "line 3: malformed CSV"),
        (
            "keras-team/keras,{first},NSR,a,label,",
            "line 3: same issue, annotator and kind as line 2",
        ),
    ],
)
def test_bad_rows_name_the_line_and_import_nothing(engine, tmp_path, row, message):
    first, second = _numbers(engine, "keras-team/keras", 2)
    good = f"keras-team/keras,{first},EXEC,a,label,fine\n"
    path = _write(tmp_path, HEADER + good + row.format(n=second, first=first) + "\n")
    with pytest.raises(AnnotationImportError, match="nothing imported") as error:
        import_annotations(engine, path)
    assert message in str(error.value)
    assert annotation_rows(engine) == []


def test_bad_header_and_empty_file_are_refused(engine, tmp_path):
    with pytest.raises(AnnotationImportError, match=r"line 1: header needs .* missing category"):
        import_annotations(engine, _write(tmp_path, "repository,number,annotator\n"))
    with pytest.raises(AnnotationImportError, match="line 1: the file is empty"):
        import_annotations(engine, _write(tmp_path, ""))
    with pytest.raises(AnnotationImportError, match="cannot read it"):
        import_annotations(engine, tmp_path / "missing.csv")


# --- command line ---------------------------------------------------------------------------


def _cli(*arguments: str):
    return CliRunner().invoke(main, ["label", *arguments], catch_exceptions=False)


@pytest.mark.parametrize("command", ["export", "import", "agreement", "adjudicate"])
def test_every_label_command_has_help(command):
    result = _cli(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output
    assert main.get_command(None, "label").get_command(None, command).help.strip()


def test_cli_round_trip_agreement_and_adjudication(db_url, corpus, tmp_path):
    engine = support.keras_database(db_url, corpus)
    a, b, c = _numbers(engine, "keras-team/keras", 3)
    rows = [
        f"keras-team/keras,{a},EXEC,alice,label,", f"keras-team/keras,{a},EXEC,bob,label,",
        f"keras-team/keras,{b},MA,alice,label,", f"keras-team/keras,{b},MLEAK,bob,label,grows",
        f"keras-team/keras,{c},NSR,alice,label,", f"keras-team/keras,{c},NSR,bob,label,",
    ]  # fmt: skip
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    assert "imported 6 annotations" in _cli("import", "--db", db_url, str(path)).output

    result = _cli("agreement", "--db", db_url, "--annotators", "alice,bob", "--show")
    assert result.exit_code == 0
    assert "issues labeled by at least two: 3" in result.output
    assert "overall" in result.output and "disagreements: 1" in result.output
    assert f"keras-team/keras {b} MA MLEAK grows" in " ".join(result.output.split())

    result = _cli(
        "adjudicate", "--db", db_url, "keras-team/keras", str(b), "MLEAK", "--by", "carol"
    )
    assert result.exit_code == 0 and "adjudicated MLEAK by carol" in result.output

    out = tmp_path / "export.csv"
    _cli("export", "--db", db_url, "--out", str(out))
    assert f"keras-team/keras,{b},MLEAK,carol,adjudication,,labeled" in out.read_text()


def test_cli_errors_are_one_line_without_traceback(db_url, corpus, tmp_path):
    engine = support.keras_database(db_url, corpus)
    number = _numbers(engine, "keras-team/keras", 1)[0]
    path = _write(tmp_path, HEADER + f"keras-team/keras,{number},BOGUS,a,label,\n")
    result = CliRunner().invoke(main, ["label", "import", "--db", db_url, str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "line 2: unknown category" in result.output
    result = CliRunner().invoke(main, ["label", "agreement", "--db", db_url])
    assert result.exit_code == 1 and "agreement needs at least two annotators" in result.output
    result = CliRunner().invoke(
        main, ["label", "adjudicate", "--db", db_url, "keras-team/keras", "1", "EXEC", "--by", "x"]
    )
    assert result.exit_code == 1 and "keras-team/keras#1 is not in the database" in result.output


# --- rows the database lacks, and files imported twice (issue 12, item 15) --------------------


def test_skip_unknown_imports_the_rest_and_counts_what_it_left_out(engine, tmp_path):
    first, second = _numbers(engine, "keras-team/keras", 2)
    rows = [
        f"keras-team/keras,{first},EXEC,a,label,",
        "someone/else,1,NSR,a,label,",
        "someone/else,2,NSR,a,label,",
        f"keras-team/keras,{second},MA,a,label,",
        "keras-team/keras,999999,NSR,a,label,",
    ]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    db = str(engine.url.render_as_string(hide_password=False))
    refused = CliRunner().invoke(main, ["label", "import", "--db", db, str(path)])
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert "repository someone/else is not in the database" in refused.output
    assert "--skip-unknown" in refused.output and annotation_rows(engine) == []

    result = _cli("import", "--db", db, "--skip-unknown", str(path))
    assert result.exit_code == 0
    assert "imported 2 annotations" in result.output
    assert "skipped 3 rows naming a repository or issue not in the database" in result.output
    assert len(annotation_rows(engine)) == 2


def test_importing_the_same_file_again_changes_nothing_and_says_so(engine, tmp_path):
    first, second = _numbers(engine, "keras-team/keras", 2)
    rows = [f"keras-team/keras,{first},EXEC,a,label,", f"keras-team/keras,{second},MA,a,label,"]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    db = str(engine.url.render_as_string(hide_password=False))
    assert "imported 2 annotations" in _cli("import", "--db", db, str(path)).output
    before = _times(engine)

    again = _cli("import", "--db", db, str(path))
    assert again.output == "nothing to import: all 2 annotations are already stored\n"
    assert _times(engine) == before

    path.write_text(HEADER + rows[0] + "\n" + rows[1].replace(",MA,", ",MLEAK,") + "\n")
    changed = _cli("import", "--db", db, str(path)).output
    assert "imported 1 annotations" in changed and "(0 new, 1 changed; 1 already" in changed


def _times(engine) -> list[tuple]:
    a = schema.annotations
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(a.c.issue_id, a.c.created_at)).all())
