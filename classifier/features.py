"""Column selectors and weak-supervision features over the documents frame.

Weak supervision comes from two kinds of labeling functions: the taxonomy's indicative keywords
and the repositories' own labels (`type:build/install`, `module: memory usage`, ...). They enter
the model as features, so the model learns how far to trust them, and they also make up the
keyword-rules baseline that the evaluation reports beside the model.
"""

from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from taxonomy import Taxonomy, default_taxonomy

# Repository label patterns (lowercased, URL-decoded) that point at one category.
LABEL_RULES: dict[str, str] = {
    r"build|install|compil|bazel|cmake": "COMPL",
    r"dependency bug|version mismatch|compat": "API",
    r"config": "CONFIG",
    r"rpc|grpc|serving|network": "CONN",
    r"race|thread.?safe": "RACE",
    r"crash|segfault|abort": "EXEC",
    # Not comp:micro or comp:lite: measured on held-out issues they were wrong more often than
    # right (a component, not a category; see the codebook).
    r"windows|macos|arm|rocm|tpus?\b|mkl": "HA",
    r"memory usage|memory|oom": "MA",
    r"dataloader|comp:data|serializ|io\b": "IO",
    r"leak": "MLEAK",
    r"onnx|tensorrt|converter|export|quantiz|jit|coreml": "CONV",
    r"deadlock|thread|multiprocess": "MT",
    r"regression": "PR",
    r"dist-strat|distributed|nccl|horovod|multi-?gpu": "SYNC",
    r"performance|perf\b": "RU",
    r"docs|documentation|feature|question|support": "NSR",
}
_LABEL_PATTERNS = [(re.compile(pattern), code) for pattern, code in LABEL_RULES.items()]
# Keyword matching reads this much of an issue: enough for title, description and first log.
KEYWORD_CHARS = 5000
# The raw view reads this much text: the cues sit at the start, and throughput matters.
RAW_VIEW_CHARS = 1500
VIEWS = ("text", "title", "labels", "raw")
_WORD = re.compile(r"[a-z0-9_]+")


def keyword_hits(text: str, keywords: list[tuple[list[str], list[list[str]]]]) -> list[int]:
    """Hits of each keyword group (words, phrases) in lowercased text.

    A plain word matches the words it begins (leak -> leaks, allocat -> allocator, but not
    'port' inside 'import'); other keywords ("out of memory", "error: ") match as substrings,
    counted only when their first word occurs at all (a set lookup spares most searches).
    """
    tokens = sorted(_WORD.findall(text))
    present = set(tokens)
    counts = []
    for words, phrases in keywords:
        hits = 0
        for phrase, first_word in phrases:
            if not first_word or first_word in present:
                hits += text.count(phrase)
        for word in words:
            start = bisect_left(tokens, word)
            hits += bisect_left(tokens, word + "\U0010ffff", start) - start
        counts.append(hits)
    return counts


def split_keywords(keywords: list[str]) -> tuple[list[str], list[list[str]]]:
    """(plain words, [phrase, its leading word or ""]) of a keyword list, lowercased."""
    lowered = [k.lower() for k in keywords]
    words = [k for k in lowered if _WORD.fullmatch(k)]
    phrases = []
    for phrase in lowered:
        if not _WORD.fullmatch(phrase):
            leading = _WORD.match(phrase)
            phrases.append([phrase, leading.group(0) if leading else ""])
    return words, phrases


def taxonomy_keywords(taxonomy: Taxonomy | None = None) -> dict[str, list[str]]:
    """Indicative keywords of every system category (plain data, so models serialize safely)."""
    taxonomy = taxonomy or default_taxonomy()
    return {code: list(taxonomy[code].keywords) for code in taxonomy.system_codes}


def issue_text(documents: pd.DataFrame) -> list[str]:
    """Title, body and first comments of each issue, as one raw text."""
    return [
        f"{title}\n\n{body or ''}\n\n{comments or ''}"
        for title, body, comments in zip(
            documents["title"], documents["body"], _column(documents, "comments"), strict=True
        )
    ]


def _column(documents: pd.DataFrame, name: str) -> pd.Series:
    if name in documents:
        return documents[name].fillna("")
    return pd.Series([""] * len(documents), index=documents.index)


def label_names(value) -> list[str]:
    """A documents frame's `labels` cell (tuple, list or separator-joined string) as names."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\x1f|;]", value) if part]
    return [str(part) for part in value]


def label_tokens(documents: pd.DataFrame) -> list[str]:
    """Each issue's repository labels as space-separated tokens, e.g. 'label=comp:lite'."""
    return [
        " ".join("label=" + re.sub(r"\s+", "_", name.lower()) for name in label_names(value))
        for value in _column(documents, "labels")
    ]


def label_rule_codes(names: list[str]) -> set[str]:
    """Categories that an issue's repository labels point at, by LABEL_RULES."""
    codes = set()
    for name in names:
        text = name.lower().replace("%2f", "/")
        codes.update(code for pattern, code in _LABEL_PATTERNS if pattern.search(text))
    return codes


class DocumentColumns(TransformerMixin, BaseEstimator):
    """Select one text view of the documents: 'text' (title+body+comments), 'title', 'labels',
    or 'raw' (the first RAW_VIEW_CHARS characters of title and body, unnormalized)."""

    def __init__(self, view: str = "text"):
        self.view = view

    def fit(self, X, y=None):
        self._check(X)
        self.view_ = self.view
        return self

    def transform(self, X) -> list[str]:
        check_is_fitted(self, "view_")
        self._check(X)
        if self.view == "text":
            return issue_text(X)
        if self.view == "title":
            return [str(title) for title in X["title"].fillna("")]
        if self.view == "raw":
            return [text[:RAW_VIEW_CHARS] for text in issue_text(X)]
        return label_tokens(X)

    def _check(self, X) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {self.view!r}")
        if not isinstance(X, pd.DataFrame) or "title" not in X:
            raise ValueError("expected a documents DataFrame (see classifier.documents)")


class WeakSignals(TransformerMixin, BaseEstimator):
    """Keyword and repository-label hits per taxonomy category, as a sparse count matrix.

    Columns: for each system category, log1p of its keyword hits in the text, keyword hits in the
    title, and (use_labels) whether a repository label points at it (see LABEL_RULES).
    """

    def __init__(self, keywords: dict[str, list[str]] | None = None, use_labels: bool = True):
        self.keywords = keywords
        self.use_labels = use_labels

    def fit(self, X, y=None):
        keywords = self.keywords if self.keywords is not None else taxonomy_keywords()
        self.codes_ = list(keywords)
        self.keywords_ = {code: split_keywords(keywords[code]) for code in self.codes_}
        return self

    def transform(self, X) -> sp.csr_matrix:
        check_is_fitted(self, "codes_")
        texts = [text[:KEYWORD_CHARS].lower() for text in issue_text(X)]
        titles = [str(title).lower() for title in X["title"].fillna("")]
        groups = [self.keywords_[code] for code in self.codes_]
        parts = [
            np.array([keyword_hits(text, groups) for text in texts], dtype=float),
            np.array([keyword_hits(title, groups) for title in titles], dtype=float),
        ]
        if self.use_labels:
            labels = [label_rule_codes(label_names(v)) for v in _column(X, "labels")]
            parts.append(
                np.array([[code in hits for code in self.codes_] for hits in labels], dtype=float)
            )
        matrix = np.hstack(parts).reshape(len(texts), len(parts) * len(self.codes_))
        return sp.csr_matrix(np.log1p(matrix))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "codes_")
        return np.array(
            [f"{kind}:{code}" for kind in self._kinds() for code in self.codes_],
            dtype=object,
        )

    def _kinds(self) -> tuple[str, ...]:
        return ("keywords", "title", "label") if self.use_labels else ("keywords", "title")

    def rule_votes(self, X) -> np.ndarray:
        """Per category, keyword hits in the text plus double weight for title and label hits."""
        matrix = np.expm1(self.transform(X).toarray())
        n = len(self.codes_)
        return matrix[:, :n] + 2 * matrix[:, n:].reshape(len(matrix), -1, n).sum(axis=1)
