"""Preprocessing: Markdown/log cleaning, token normalization and the TextNormalizer contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from classifier.text import (
    CODE,
    HEX,
    LOG,
    NUMBER,
    PATH,
    TRACE,
    URL,
    VERSION,
    TextNormalizer,
    clean_markdown,
    normalize_token,
)

TEMPLATE = """### System information
- Have I written custom code (as opposed to using a stock example script): yes
- OS Platform and Distribution (e.g., Linux Ubuntu 16.04):
- TensorFlow installed from (source or binary):
- Python version:
- GPU model and memory:
**Describe the current behavior**
**Describe the expected behavior**
**Standalone code to reproduce the issue**
"""


def normalize(*texts) -> list[str]:
    return list(TextNormalizer().fit(["x"]).transform(list(texts)))


@pytest.mark.parametrize("text", [None, "", "   \n\n  "])
def test_empty_text_gives_empty_string(text):
    assert clean_markdown(text) == ""
    assert normalize(text) == [""]


def test_fenced_code_becomes_one_marker_keeping_failure_signals():
    text = (
        "Training stops.\n```python\nimport x\nraise MemoryError()\n# Segmentation fault\n```\nok"
    )
    cleaned = clean_markdown(text)
    assert "import" not in cleaned
    assert f"{CODE} memoryerror segmentation_fault" in cleaned
    assert cleaned.startswith("Training stops.") and cleaned.endswith("ok")


def test_nested_fence_closes_only_at_a_fence_as_long_as_the_opening():
    text = "before\n````\n```\ninner code\n```\nstill code\n````\nafter"
    assert clean_markdown(text).split() == ["before", CODE, "after"]


def test_unterminated_fence_runs_to_the_end():
    assert clean_markdown("prose\n```\ncode that never closes\nmore").split() == ["prose", CODE]


def test_traceback_collapses_to_a_marker_with_the_exception_name():
    text = (
        "It fails:\nTraceback (most recent call last):\n"
        '  File "train.py", line 3, in <module>\n    model.fit(x)\n'
        "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM\nThanks"
    )
    assert clean_markdown(text).split("\n") == [
        "It fails:",
        f"{TRACE} resourceexhaustederror",
        "Thanks",
    ]


def test_log_lines_collapse_to_a_marker():
    text = (
        "2020-01-01 10:00:00.123: W tensorflow/core/bfc_allocator.cc:419] out of memory\n"
        "2020-01-01 10:00:01.000: I tensorflow/core/common_runtime/gpu.cc:1] device 0\nprose"
    )
    assert clean_markdown(text).split("\n") == [f"{LOG} out_of_memory", "prose"]


def test_only_boilerplate_leaves_only_the_answers():
    words = [w for w in clean_markdown(TEMPLATE).split() if w.strip("*#-")]
    assert words == ["yes"]
    assert normalize(TEMPLATE) == ["yes"]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("https://github.com/tensorflow/tensorflow/issues/1", URL),
        ("/usr/local/cuda/lib64/libcudart.so", PATH),
        ("C:\\Users\\me\\venv\\lib", PATH),
        ("0x7f3a2c00", HEX),
        ("1.15.0rc1", VERSION),
        ("v2.3", VERSION),
        ("4096", NUMBER),
        ("CUDA/cuDNN", "cuda cudnn"),
        ("OutOfMemoryError:", "outofmemoryerror"),
        ("tf.data", "tf.data"),
        ("...", ""),
    ],
)
def test_normalize_token(token, expected):
    assert normalize_token(token) == expected


def test_normalizer_lemmatizes_and_lowercases():
    assert normalize("The GPUs were running (slower) than before!") == [
        "the gpus be run slow than before"
    ]


def test_unicode_text_survives():
    (out,) = normalize("Fehler beim Laden: ÜberGröße 内存不足 — crashes 🐛")
    assert "übergröße" in out and "内存不足" in out and "crash" in out


def test_huge_body_is_capped():
    text = "memory " * 200_000
    (out,) = normalize(text)
    assert 0 < len(out) <= 3000
    (capped,) = TextNormalizer(max_chars=100).fit(["x"]).transform([text])
    assert len(capped) <= 100


def test_memoized_output_equals_plain_output():
    texts = ["Segfault in conv2d", "```\ncode\n```", "Segfault in conv2d"]
    plain = TextNormalizer().fit(texts).transform(texts)
    memo = TextNormalizer(memoize=True).fit(texts)
    assert list(memo.transform(texts)) == list(plain) == list(memo.transform(texts))


def test_transform_rejects_a_single_string_and_2d_input():
    normalizer = TextNormalizer().fit(["x"])
    with pytest.raises(ValueError, match="sequence of texts"):
        normalizer.transform("one string")
    with pytest.raises(ValueError, match="1-D"):
        normalizer.transform(np.array([["a", "b"]], dtype=object))


def test_transform_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TextNormalizer().transform(["x"])


@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_sklearn_estimator_checks(check):
    # check_estimator skips string-input transformers as a whole; these checks need no data.
    check(TextNormalizer.__name__, TextNormalizer())


def test_fit_sets_only_trailing_underscore_state_and_returns_self():
    normalizer = TextNormalizer(max_chars=50)
    params = normalizer.get_params()
    assert normalizer.fit(["a text"]) is normalizer
    assert normalizer.get_params() == params
    assert normalizer.spacy_version_
    assert clone(normalizer).get_params() == normalizer.get_params()
    restored = pickle.loads(pickle.dumps(normalizer))
    assert list(restored.transform(["Crashes"])) == ["crash"]
