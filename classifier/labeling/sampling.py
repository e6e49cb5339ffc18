"""Which issue to label next: sampling strategies and the overlap between annotators.

Every order is deterministic (hashes of issue ids, never the process's random state), so a
reopened session continues with the same queue and two annotators see shared issues in
roughly the same order, which makes their overlap fill up early.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from taxonomy import Taxonomy, default_taxonomy


class SamplingError(ValueError):
    """A strategy or overlap setting that cannot be used as asked."""


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that is the same in every process (Python's hash() is salted per run)."""
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _unit(*parts: object) -> float:
    return stable_hash(*parts) / 2**64


@dataclass(frozen=True)
class Assignment:
    """Who labels which issue: each issue goes to one annotator, a share of them to two.

    With one annotator (or none named) every issue is theirs.
    """

    annotators: tuple[str, ...] = ()
    overlap: float = 0.0
    salt: str = "mlissues"

    def __post_init__(self) -> None:
        if not 0.0 <= self.overlap <= 1.0:
            raise SamplingError(f"overlap must be between 0 and 1, not {self.overlap}")
        if len(set(self.annotators)) != len(self.annotators):
            raise SamplingError("an annotator is named twice in the overlap setting")

    def annotators_of(self, issue_id: int) -> tuple[str, ...]:
        count = len(self.annotators)
        if count <= 1:
            return self.annotators
        first = stable_hash(self.salt, "first", issue_id) % count
        if _unit(self.salt, "overlap", issue_id) >= self.overlap:
            return (self.annotators[first],)
        offset = 1 + stable_hash(self.salt, "second", issue_id) % (count - 1)
        return (self.annotators[first], self.annotators[(first + offset) % count])

    def includes(self, annotator: str, issue_id: int) -> bool:
        return len(self.annotators) <= 1 or annotator in self.annotators_of(issue_id)

    def check(self, annotator: str) -> None:
        if len(self.annotators) > 1 and annotator not in self.annotators:
            raise SamplingError(
                f"{annotator!r} is not among the annotators of the overlap setting "
                f"({', '.join(self.annotators)})"
            )


class Strategy(Protocol):
    """Orders candidate issues (issue_id, repository, number, title, body): most useful first."""

    name: str
    adaptive: bool  # True when the order changes as labels come in (re-rank now and then)

    def rank(self, engine: Engine, candidates: pd.DataFrame) -> list[int]: ...


def random_order(issue_ids: Sequence[int], seed: int) -> list[int]:
    return sorted(issue_ids, key=lambda issue_id: stable_hash("random", seed, issue_id))


@dataclass
class RandomStrategy:
    seed: int = 0
    name: str = "random"
    adaptive: bool = False

    def rank(self, engine: Engine, candidates: pd.DataFrame) -> list[int]:
        return random_order(candidates["issue_id"].tolist(), self.seed)


def interleave(*queues: Sequence[int]) -> list[int]:
    """a1, b1, c1, a2, b2, ... skipping queues that ran out."""
    return [item for group in zip_longest(*queues) for item in group if item is not None]


@dataclass
class StratifiedStrategy:
    """Round-robin over repositories, so a small repository is not drowned by a big one."""

    seed: int = 0
    name: str = "stratified"
    adaptive: bool = False

    def rank(self, engine: Engine, candidates: pd.DataFrame) -> list[int]:
        groups = candidates.groupby("repository")["issue_id"]
        queues = [random_order(ids.tolist(), self.seed) for _, ids in groups]
        queues.sort(key=lambda queue: stable_hash("stratum", self.seed, queue[0]))
        return interleave(*queues)


KEYWORD_TEXT_CHARS = 2000  # the start of an issue says what it is about; logs follow


def keyword_scores(candidates: pd.DataFrame, taxonomy: Taxonomy) -> pd.Series:
    """How many system categories have a keyword in the title or start of the body.

    Keywords are lower-case substrings ("allocat" is meant to match "allocation"); plain
    substring search is far faster than one big case-insensitive regular expression.
    """
    keywords = [taxonomy[code].keywords for code in taxonomy.system_codes]
    texts = (
        candidates["title"].fillna("")
        + "\n"
        + candidates["body"].fillna("").str[:KEYWORD_TEXT_CHARS]
    ).str.lower()
    scores = [sum(any(k in text for k in words) for words in keywords) for text in texts]
    return pd.Series(scores, index=candidates.index, dtype=int)


@dataclass
class KeywordStrategy:
    """Issues that mention the taxonomy's keywords first (most categories matched first).

    A share of random picks is mixed in so the sample still shows what the keywords miss.
    """

    taxonomy: Taxonomy | None = None
    seed: int = 0
    random_share: float = 0.2
    name: str = "keyword"
    adaptive: bool = False

    def rank(self, engine: Engine, candidates: pd.DataFrame) -> list[int]:
        frame = candidates.assign(
            score=keyword_scores(candidates, self.taxonomy or default_taxonomy())
        )
        frame["tie"] = [stable_hash("keyword", self.seed, i) for i in frame["issue_id"]]
        enriched = frame[frame.score > 0].sort_values(["score", "tie"], ascending=[False, True])
        rest = random_order(frame.loc[frame.score == 0, "issue_id"].tolist(), self.seed)
        return mix(enriched["issue_id"].tolist(), rest, self.random_share)


def mix(preferred: list[int], others: list[int], share: float) -> list[int]:
    """Put one of `others` after every 1/share - 1 of `preferred`; leftovers at the end."""
    if share <= 0 or not others:
        return preferred + others
    step = max(1, round(1 / share) - 1)
    chunks = [preferred[i : i + step] for i in range(0, len(preferred), step)]
    mixed: list[int] = []
    others_left = list(others)
    for chunk in chunks:
        mixed.extend(chunk)
        if others_left:
            mixed.append(others_left.pop(0))
    return mixed + others_left


# --- uncertainty sampling -------------------------------------------------------------------


def least_confident(proba: np.ndarray) -> np.ndarray:
    """1 - the top probability: high when the model's best guess is weak."""
    return 1.0 - np.asarray(proba).max(axis=1)


def margin(proba: np.ndarray) -> np.ndarray:
    """1 - (top - second) probability: high when the two best guesses are close."""
    ordered = np.sort(np.asarray(proba), axis=1)
    if ordered.shape[1] < 2:
        return np.zeros(len(ordered))
    return 1.0 - (ordered[:, -1] - ordered[:, -2])


UNCERTAINTY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "least-confident": least_confident,
    "margin": margin,
}


def most_uncertain(proba: np.ndarray, issue_ids: Sequence[int], measure: str) -> list[int]:
    """Issue ids ordered by uncertainty, highest first (ties by id, for a stable order)."""
    scores = UNCERTAINTY[measure](proba)
    order = sorted(range(len(issue_ids)), key=lambda k: (-scores[k], issue_ids[k]))
    return [issue_ids[k] for k in order]


STRATEGIES = ("random", "stratified", "keyword", "least-confident", "margin", "balanced-margin")
# What the simulations of benchmarks/active_learning.py advise (see the README).
RECOMMENDED_STRATEGY = "balanced-margin"


def make_strategy(
    name: str, *, seed: int = 0, taxonomy: Taxonomy | None = None, model=None
) -> Strategy:
    """A strategy by name; the active-learning ones use `model` or train on current labels."""
    if name == "random":
        return RandomStrategy(seed)
    if name == "stratified":
        return StratifiedStrategy(seed)
    if name == "keyword":
        return KeywordStrategy(taxonomy, seed)
    if name in UNCERTAINTY:
        from classifier.labeling.active import UncertaintyStrategy

        return UncertaintyStrategy(measure=name, model=model, taxonomy=taxonomy, seed=seed)
    if name == "balanced-margin":  # half class-balanced margin sampling, half random
        from classifier.labeling.active import BalancedStrategy

        return BalancedStrategy(model=model, taxonomy=taxonomy, seed=seed)
    raise SamplingError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
