"""The labeling panel: an ipywidgets view over a LabelingSession.

One button per category (with its key), skip, unsure, undo, a note field, and the taxonomy's
definitions at hand. Keyboard: click the key box once, then each key press answers (Jupyter
gives widgets no global key events, and a box keeps keys away from notebook shortcuts).
The handlers are plain methods, so tests call them (or `button.click()`) directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import ipywidgets as widgets
from sqlalchemy.engine import Engine

from classifier.labeling.render import definitions_html, issue_html
from classifier.labeling.sampling import (
    RECOMMENDED_STRATEGY,
    STRATEGIES,
    Assignment,
    SamplingError,
)
from classifier.labeling.session import LabelingSession
from classifier.labeling.store import AnnotationError
from db.engine import DatabaseError, open_database

SKIP_KEY, UNSURE_KEY, UNDO_KEY = "s", "u", "z"
_CATEGORY_KEYS = "1234567890qwertyiopadfghjklxcvbnm"


def category_keys(codes: Sequence[str]) -> dict[str, str]:
    """A one-character shortcut per category: digits first, then letters (never s, u, z)."""
    if len(codes) > len(_CATEGORY_KEYS):
        raise ValueError(f"at most {len(_CATEGORY_KEYS)} categories get a key")
    return dict(zip(codes, _CATEGORY_KEYS, strict=False))


class LabelingPanel:
    """Display with `display(panel.widget)` (or just leave `panel` last in a cell)."""

    def __init__(self, session: LabelingSession):
        self.session = session
        self.keys = category_keys(session.taxonomy.codes)
        self.issue = widgets.HTML()
        self.status = widgets.HTML()
        self.note = widgets.Text(
            placeholder="note (optional), saved with the answer",
            layout=widgets.Layout(width="60%"),
        )
        self.key_box = widgets.Text(
            placeholder="click here, then press a key", continuous_update=True
        )
        self.key_box.observe(self.on_key, names="value")
        self.unsure = widgets.ToggleButton(
            description=f"unsure ({UNSURE_KEY})", tooltip="save the next answer as unsure"
        )
        self.category_buttons = {
            code: self._button(f"{code} ({key})", session.taxonomy[code].definition, code)
            for code, key in self.keys.items()
        }
        self.skip_button = self._button(f"skip ({SKIP_KEY})", "pass on this issue", None)
        self.undo_button = widgets.Button(
            description=f"undo ({UNDO_KEY})", icon="undo", tooltip="delete your last answer"
        )
        self.undo_button.on_click(lambda _button: self.on_undo())
        self.widget = self._layout()
        self.refresh()

    def _button(self, description: str, tooltip: str, code: str | None) -> widgets.Button:
        button = widgets.Button(
            description=description,
            tooltip=tooltip,
            layout=widgets.Layout(width="auto"),
            button_style="" if code else "warning",
        )
        button.on_click(lambda _button: self.on_category(code) if code else self.on_skip())
        return button

    def _layout(self) -> widgets.Widget:
        definitions = widgets.Accordion(
            children=[widgets.HTML(definitions_html(self.session.taxonomy, self.keys))],
            titles=("Taxonomy: definitions and keys",),
        )
        controls = widgets.HBox([self.unsure, self.skip_button, self.undo_button, self.key_box])
        buttons = widgets.GridBox(
            list(self.category_buttons.values()),
            layout=widgets.Layout(grid_template_columns="repeat(8, auto)", grid_gap="4px"),
        )
        return widgets.VBox([self.status, self.issue, buttons, controls, self.note, definitions])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # --- handlers ---------------------------------------------------------------------------

    def on_category(self, code: str) -> None:
        if self.session.current is None:
            return
        if self.unsure.value:
            self.session.unsure(code, self.note.value)
        else:
            self.session.label(code, self.note.value)
        self._after_answer()

    def on_skip(self) -> None:
        if self.session.current is not None:
            self.session.skip(self.note.value)
            self._after_answer()

    def on_undo(self) -> None:
        self.session.undo()
        self.refresh()

    def on_key(self, change: dict) -> None:
        """A key typed into the key box: answer with it, then clear the box."""
        key = (change.get("new") or "")[-1:].lower()
        if not key:
            return
        self.key_box.value = ""
        by_key = {k: code for code, k in self.keys.items()}
        if key in by_key:
            self.on_category(by_key[key])
        elif key == SKIP_KEY:
            self.on_skip()
        elif key == UNDO_KEY:
            self.on_undo()
        elif key == UNSURE_KEY:
            self.unsure.value = not self.unsure.value

    def _after_answer(self) -> None:
        self.note.value = ""
        self.unsure.value = False
        self.refresh()

    def refresh(self) -> None:
        """Show the current issue and the annotator's progress."""
        issue = self.session.current
        progress, session = self.session.progress, self.session
        self.status.value = (
            f"<b>{escape(session.annotator)}</b> · strategy {escape(session.strategy.name)}"
            f" · answered {progress.answered} · remaining {progress.remaining}"
        )
        self.issue.value = issue_html(issue) if issue else "<p><b>Nothing left to label.</b></p>"
        for button in (*self.category_buttons.values(), self.skip_button):
            button.disabled = issue is None


class SetupForm:
    """Choose the database, annotator, strategy and overlap, then start: the panel appears
    below the form. `database` is a path or URL (what --db takes), or an open engine."""

    def __init__(
        self,
        database: str | Engine,
        annotator: str = "",
        strategy: str = RECOMMENDED_STRATEGY,
        annotators: Sequence[str] = (),
        overlap: float = 0.0,
    ):
        self.engine: Engine | None = database if isinstance(database, Engine) else None
        self.panel: LabelingPanel | None = None
        shown = database.url.render_as_string(hide_password=True) if self.engine else database
        self._opened = shown if self.engine else None  # what the field said when opened
        self.database = widgets.Text(
            value=str(shown),
            description="database",
            placeholder="../data/issues.db, or a URL",
            layout=widgets.Layout(width="60%"),
        )
        self.annotator = widgets.Text(value=annotator, description="annotator")
        self.strategy = widgets.Dropdown(options=STRATEGIES, value=strategy, description="strategy")
        self.annotators = widgets.Text(
            value=",".join(annotators), description="team", placeholder="alice,bob (for overlap)"
        )
        self.overlap = widgets.FloatSlider(
            value=overlap, min=0.0, max=1.0, step=0.05, description="overlap"
        )
        self.start_button = widgets.Button(description="start labeling", button_style="primary")
        self.start_button.on_click(lambda _button: self.start())
        self.output = widgets.Output()
        self.message = widgets.HTML()
        fields = [self.annotator, self.strategy, self.annotators, self.overlap, self.start_button]
        self.widget = widgets.VBox(
            [
                self.database,
                widgets.HBox(fields[:2]),
                widgets.HBox(fields[2:]),
                self.message,
                self.output,
            ]
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _say(self, text: str) -> None:
        self.message.value = f"<b style='color:#b35900'>{escape(text)}</b>" if text else ""

    def open(self) -> Engine | None:
        """The database named in the form (None, with a message, when it cannot be opened)."""
        wanted = self.database.value.strip()
        if self.engine is not None and wanted == self._opened:
            return self.engine
        try:
            self.engine, self._opened = open_database(wanted or None), wanted
        except DatabaseError as error:
            self.engine = self._opened = None
            self._say(
                f"{error}. Type the path of your database in the field above (after make "
                "demo: ../data/demo/issues.db), then press start again."
            )
            return None
        return self.engine

    def start(self) -> LabelingPanel | None:
        """A panel for the chosen settings (None, with a message, when they are unusable)."""
        team = tuple(name.strip() for name in self.annotators.value.split(",") if name.strip())
        engine = self.open()
        if engine is None:
            return None
        try:
            session = LabelingSession(
                engine,
                self.annotator.value,
                self.strategy.value,
                assignment=Assignment(team, self.overlap.value),
            )
        except (SamplingError, AnnotationError) as error:
            self._say(str(error))
            return None
        self._say("")
        self.panel = LabelingPanel(session)
        self.output.clear_output()
        with self.output:
            from IPython.display import display

            display(self.panel.widget)
        return self.panel
