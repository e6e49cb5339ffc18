"""A labeling session: one annotator working through a queue of issues.

    session = LabelingSession(engine, "alice", strategy="keyword")
    issue = session.current          # the issue to label (None when the queue is empty)
    session.label("MLEAK", note="grows per epoch")
    session.undo()                   # the last answer is deleted and its issue shown again

Every answer is written at once; a new session for the same annotator resumes where the last
one stopped, never showing an issue this annotator has already answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from classifier.labeling import store
from classifier.labeling.sampling import Assignment, Strategy, make_strategy
from classifier.labeling.store import Annotation, AnnotationError, IssueView
from taxonomy import Taxonomy, default_taxonomy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    answered: int  # by this annotator, in any session
    remaining: int  # assigned to this annotator and not answered yet


class LabelingSession:
    """The queue of one annotator; see the module docstring for a walk-through."""

    def __init__(
        self,
        engine: Engine,
        annotator: str,
        strategy: Strategy | str = "random",
        *,
        taxonomy: Taxonomy | None = None,
        assignment: Assignment | None = None,
        rerank_every: int = 20,
        seed: int = 0,
    ):
        self.engine = engine
        self.annotator = annotator.strip()
        if not self.annotator:
            raise AnnotationError("choose an annotator name first")
        self.taxonomy = taxonomy or default_taxonomy()
        self.strategy = (
            make_strategy(strategy, seed=seed, taxonomy=self.taxonomy)
            if isinstance(strategy, str)
            else strategy
        )
        self.assignment = assignment or Assignment()
        self.assignment.check(self.annotator)
        self.rerank_every = rerank_every
        self._queue: list[int] = []
        self._current: IssueView | None = None
        self._since_rank = 0
        self._rank()

    # --- the queue ------------------------------------------------------------------------

    def _rank(self) -> None:
        candidates = store.candidate_issues(self.engine)
        with self.engine.connect() as connection:
            done = store.annotated_issue_ids(connection, self.annotator)
        mine = candidates[
            [
                issue_id not in done and self.assignment.includes(self.annotator, issue_id)
                for issue_id in candidates["issue_id"]
            ]
        ]
        self._queue = self.strategy.rank(self.engine, mine)
        self._since_rank = 0
        log.info("%s: %d issues queued by %s", self.annotator, len(self._queue), self.strategy.name)

    @property
    def queue(self) -> tuple[int, ...]:
        """The issue ids still to show this annotator, in order (the current one first)."""
        return tuple(self._queue)

    @property
    def current(self) -> IssueView | None:
        """The issue waiting for an answer; None when everything assigned is answered."""
        if self._current is None and self._queue:
            self._current = store.load_issue(self.engine, self._queue[0])
        return self._current

    def next_issue(self) -> IssueView | None:
        """The issue to label now (the same one until it is answered)."""
        return self.current

    @property
    def progress(self) -> Progress:
        with self.engine.connect() as connection:
            answered = store.count_annotations(connection, self.annotator)
        return Progress(answered=answered, remaining=len(self._queue))

    # --- answers ----------------------------------------------------------------------------

    def label(self, category: str, note: str = "") -> Annotation:
        """Store a sure label for the current issue and move on."""
        return self._answer(self.taxonomy.normalize(category), "labeled", note)

    def unsure(self, category: str | None = None, note: str = "") -> Annotation:
        """Store a tentative label (or none) marked unsure, and move on."""
        code = self.taxonomy.normalize(category) if category else None
        return self._answer(code, "unsure", note)

    def skip(self, note: str = "") -> Annotation:
        """Pass on the current issue; it is recorded so it is not shown again."""
        return self._answer(None, "skipped", note)

    def _answer(self, category: str | None, status: str, note: str) -> Annotation:
        issue = self.current
        if issue is None:
            raise NothingToLabelError(f"{self.annotator} has no issue left to label")
        annotation = Annotation(issue.issue_id, self.annotator, category, status, "label", note)
        with self.engine.begin() as connection:
            store.save_annotations(connection, [annotation], self.taxonomy.version)
        self._advance()
        return annotation

    def _advance(self) -> None:
        self._queue.pop(0)
        self._current = None
        self._since_rank += 1
        if self.strategy.adaptive and self._since_rank >= self.rerank_every:
            self._rank()

    def undo(self) -> IssueView | None:
        """Delete this annotator's latest answer (from any session) and show that issue again."""
        with self.engine.begin() as connection:
            issue_id = store.last_annotation(connection, self.annotator)
            if issue_id is None:
                return None
            store.delete_annotation(connection, issue_id, self.annotator)
        if issue_id in self._queue:
            self._queue.remove(issue_id)
        self._queue.insert(0, issue_id)
        self._current = None
        return self.current


class NothingToLabelError(LookupError):
    """The annotator's queue is empty."""
