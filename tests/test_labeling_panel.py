"""The ipywidgets panel: handlers called directly, and hostile issue text rendered harmless."""

from __future__ import annotations

from datetime import datetime
from html.parser import HTMLParser

from classifier.labeling import Assignment, LabelingSession
from classifier.labeling.render import MAX_COMMENTS, issue_html, markdown_html, thread_html
from classifier.labeling.store import Comment, IssueView, candidate_issues
from classifier.labeling.widgets import LabelingPanel, SetupForm, category_keys
from taxonomy import default_taxonomy
from tests import test_labeling_support as support
from tests.test_labeling_support import annotation_rows

engine = support.engine
VERSION = default_taxonomy().version


def _panel(engine, annotator: str = "alice") -> LabelingPanel:
    return LabelingPanel(LabelingSession(engine, annotator))


def test_category_button_stores_the_label_with_the_note_and_shows_the_next_issue(engine):
    panel = _panel(engine)
    first = panel.session.current
    panel.note.value = "segfault in fit"
    panel.category_buttons["EXEC"].click()
    assert annotation_rows(engine) == [
        (first.issue_id, "alice", "EXEC", "labeled", "label", "segfault in fit", VERSION)
    ]
    assert panel.note.value == ""
    assert panel.session.current.title not in (None, first.title)
    assert "answered 1" in panel.status.value and "remaining 64" in panel.status.value


def test_keys_label_skip_toggle_unsure_and_undo(engine):
    panel = _panel(engine)
    keys = category_keys(default_taxonomy().codes)
    ids = [panel.session.current.issue_id]
    panel.key_box.value = keys["MA"]
    ids.append(panel.session.current.issue_id)
    panel.key_box.value = "s"
    ids.append(panel.session.current.issue_id)
    panel.key_box.value = "u"
    assert panel.unsure.value is True
    panel.key_box.value = keys["NSR"]
    assert panel.unsure.value is False and panel.key_box.value == ""
    assert annotation_rows(engine) == sorted(
        [
            (ids[0], "alice", "MA", "labeled", "label", None, VERSION),
            (ids[1], "alice", None, "skipped", "label", None, VERSION),
            (ids[2], "alice", "NSR", "unsure", "label", None, VERSION),
        ]
    )
    panel.key_box.value = "z"
    assert panel.session.current.issue_id == ids[2]
    assert len(annotation_rows(engine)) == 2


def test_skip_and_undo_buttons(engine):
    panel = _panel(engine)
    skipped = panel.session.current.issue_id
    panel.skip_button.click()
    assert annotation_rows(engine) == [(skipped, "alice", None, "skipped", "label", None, VERSION)]
    panel.undo_button.click()
    assert annotation_rows(engine) == []
    assert panel.session.current.issue_id == skipped
    assert "#" + str(panel.session.current.number) in panel.issue.value


def test_a_new_panel_resumes_after_the_last_answer(engine):
    panel = _panel(engine)
    for code in ("EXEC", "NSR"):
        panel.category_buttons[code].click()
    waiting = panel.session.current.issue_id
    reopened = _panel(engine)
    assert reopened.session.current.issue_id == waiting
    assert "answered 2" in reopened.status.value


def test_buttons_are_disabled_when_nothing_is_left(engine):
    first = int(candidate_issues(engine).issue_id.iloc[0])
    panel = LabelingPanel(LabelingSession(engine, "alice", support.Only([first])))
    panel.category_buttons["NSR"].click()
    assert "Nothing left to label" in panel.issue.value
    assert all(button.disabled for button in panel.category_buttons.values())
    panel.category_buttons["NSR"].click()  # a stale click does nothing
    assert len(annotation_rows(engine)) == 1


def test_every_category_has_a_distinct_key_apart_from_skip_unsure_undo():
    keys = category_keys(default_taxonomy().codes)
    assert len(set(keys.values())) == len(keys) == 16
    assert not {"s", "u", "z"} & set(keys.values())


# --- hostile text -------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


def _only_escaped(html: str) -> None:
    """No element, attribute or link in `html` can run script (escaped text is fine)."""
    elements = _Elements(html)
    assert not {"script", "iframe", "img", "object", "embed"} & set(elements.tags)
    assert not [name for name, _ in elements.attributes if name.startswith("on")]
    assert not [v for _, v in elements.attributes if "javascript:" in v.lower()]


def test_hostile_issue_text_is_shown_as_text_never_executed(engine):
    issue_id = support.hostile_issue(engine)
    panel = LabelingPanel(LabelingSession(engine, "alice", support.Only([issue_id])))
    html = panel.issue.value
    _only_escaped(html.split("</style>", 1)[1])
    assert html.count("&lt;script&gt;alert(") == 2  # title and body, shown as text
    assert 'print("&lt;b&gt;not bold&lt;/b&gt;")' in html.replace("&quot;", '"')
    assert "<pre><code>" in html


def test_markdown_links_only_http_and_images_become_links():
    html = markdown_html(
        "[a](javascript:alert(1)) [b](https://example.org) ![c](https://x/y.png)"
        ' <a href="https://ok" onclick="x()">raw</a>'
    )
    _only_escaped(html)
    assert (
        '<a href="https://example.org" target="_blank" rel="noopener noreferrer nofollow">b</a>'
        in html
    )
    assert "[image: c]</a>" in html and "<img" not in html


def test_long_threads_fold_their_middle():
    comments = [Comment("u", datetime(2020, 1, i), f"c{i}") for i in range(1, 8)]
    html = thread_html(comments, head=2, tail=1)
    shown, rest = html.split("<details>")
    assert "c1" in shown and "c2" in shown and "c3" not in shown
    assert "<summary>4 more comments</summary>" in rest and rest.rstrip().endswith("c7</p>\n</div>")


def test_markdown_nested_deeper_than_the_parser_goes_hides_nothing():
    nested_list = "".join("  " * depth + f"- level{depth}\n" for depth in range(12))
    quotes = "> " * 30 + "deep words"
    for text in (nested_list, quotes, "> " * 500 + "deepest words"):
        html = markdown_html(text + "\n\nthe words after")
        assert "the words after" in html
        assert "level11" in html or "deep words" in html or "deepest words" in html
    assert "shown as plain text" in markdown_html(">" * 200 + " deepest words")
    assert "shown as plain text" not in markdown_html(nested_list)


def test_thousands_of_comments_are_folded_saying_how_many_and_where_to_read_them():
    comments = tuple(Comment("u", datetime(2020, 1, 1), f"comment number {i}") for i in range(3000))
    issue = IssueView(1, "octo/edge", 7, "t", "b", "open", "u", datetime(2020, 1, 1),
                      comments=comments)  # fmt: skip
    html = issue_html(issue)
    assert len(html) < 60_000
    assert f"{3000 - MAX_COMMENTS:,} more comments are not shown here" in html
    assert 'href="https://github.com/octo/edge/issues/7"' in html.split("not shown here")[1]
    for shown in (0, 1, MAX_COMMENTS // 2 - 1, 3000 - MAX_COMMENTS // 2, 2999):
        assert f"comment number {shown}<" in html
    assert f"comment number {MAX_COMMENTS // 2}<" not in html


def test_setup_form_starts_a_panel_or_says_what_is_wrong(engine):
    form = SetupForm(engine, annotator="", strategy="random", annotators=("alice", "bob"))
    assert form.start() is None and "annotator name" in form.message.value
    form.annotator.value = "carol"
    assert form.start() is None and "carol" in form.message.value
    form.annotator.value = "alice"
    form.overlap.value = 0.5
    form.start_button.click()
    assert form.panel.session.annotator == "alice" and form.message.value == ""
    assert form.panel.session.assignment == Assignment(("alice", "bob"), 0.5)


def test_setup_form_names_a_missing_database_and_opens_the_one_typed_in(engine, tmp_path):
    form = SetupForm(str(tmp_path / "missing.db"), annotator="alice")
    assert form.strategy.value == "balanced-margin"  # the strategy the README advises
    assert form.start() is None and form.open() is None
    assert "no database at" in form.message.value
    assert "../data/demo/issues.db" in form.message.value
    assert not (tmp_path / "missing.db").exists()
    form.database.value = engine.url.render_as_string(hide_password=False)
    assert form.start() is not None and form.message.value == ""
    assert form.panel.session.strategy.name == "balanced-margin"
