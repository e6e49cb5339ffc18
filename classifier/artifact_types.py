"""What a model file may hold: an exact list of type names, and a reader of a file's types.

A skops file names the type of every object it rebuilds (`module.Class`), and skops.io builds
a type only when told to trust it. Trusting by prefix (`builtins.`, `numpy`, ...) let a crafted
file wrap `builtins.exec` in `numpy.vectorize` inside a `FunctionTransformer` and run code on
`mlissues classify`. So the list below holds exact names only: what the shipped model and the
models that `build_pipeline` makes in every configuration contain (tests/test_model_file.py
checks both, and fails naming the type when a new estimator needs adding here). Everything
else is refused before anything is built, skops's own defaults included.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # containers and values
        "builtins.dict",
        "builtins.list",
        "builtins.str",
        "builtins.tuple",
        "numpy.float64",
        "numpy.int64",
        "numpy.ndarray",
        # this toolkit's estimators
        "classifier.features.DocumentColumns",
        "classifier.features.WeakSignals",
        "classifier.model.CalibratedLinear",
        "classifier.model.GatedClassifier",
        "classifier.model._Constant",
        "classifier.text.TextNormalizer",
        # scikit-learn parts of build_pipeline
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.feature_extraction.text.CountVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.FeatureUnion",
        "sklearn.pipeline.Pipeline",
        "sklearn.svm._classes.LinearSVC",
    }
)

SCHEMA_MEMBER = "schema.json"  # where a skops file describes every object it holds


class NotAModelFile(ValueError):
    """The file is not a skops archive (e.g. a pickle renamed model.skops)."""


def artifact_types(path: str | Path) -> set[str]:
    """Every `module.Class` a skops file would build, read without building anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read(SCHEMA_MEMBER))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, ValueError, RecursionError):
        raise NotAModelFile("not a skops model file (a zip archive with schema.json)") from None
    found: set[str] = set()
    stack = [schema]
    while stack:  # iterative: a crafted file may nest deeper than Python's recursion limit
        node = stack.pop()
        if isinstance(node, dict):
            if "__module__" in node or "__class__" in node:
                found.add(f"{node.get('__module__')}.{node.get('__class__')}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def untrusted_types(types: set[str]) -> list[str]:
    """The names among `types` that are not on the list, sorted."""
    return sorted(types - TRUSTED_TYPES)
