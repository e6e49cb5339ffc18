"""Issue text normalization: Markdown and log noise become tokens, prose is lemmatized by spaCy.

GitHub issues in ML frameworks are mostly pasted code, logs, tracebacks and template prompts; left
as they are, their identifiers and numbers drown the few sentences that say what went wrong.
`clean_markdown` replaces each kind of noise with one marker token (xxcode, xxtrace, xxlog,
xxurl, xxpath, xxversion, xxhex, xxnum — spaCy would split `__CODE__`-style markers) and keeps
the failure signals found inside it (exception names, "segmentation fault", "out of memory"...),
because those name the problem. `TextNormalizer` then tokenizes and lemmatizes with spaCy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

CODE, TRACE, LOG = "xxcode", "xxtrace", "xxlog"
URL, PATH, VERSION, HEX, NUMBER = "xxurl", "xxpath", "xxversion", "xxhex", "xxnum"
MARKERS = (CODE, TRACE, LOG, URL, PATH, VERSION, HEX, NUMBER)

# Failure signals worth keeping when the code or log around them is dropped: exception class
# names, and phrases found by plain substring search (far faster than one big regex).
_EXCEPTION = re.compile(r"\b[A-Z][a-z]\w*?(?:Error|Exception|Exhausted|Fault)\b")
_SIGNAL_PHRASES = (
    "segmentation fault",
    "core dumped",
    "out of memory",
    "illegal memory access",
    "illegal instruction",
    "bad_alloc",
    "check failed",
    "undefined reference",
    "undefined symbol",
    "deadlock",
    "killed",
    "aborted",
    "memory leak",
    "nccl",
    "cudnn_status",
    "cuda error",
    "resource exhausted",
    "timed out",
    "timeout",
)
# More failure signals found inside logs and traces (glibc, CUDA, NCCL, linkers, sockets), each
# a plain cue of one category that dropping the log used to lose ("double free" -> EXEC, "invalid
# device function" -> HA). Measured as its own candidate in benchmarks/select_model.py.
_LOG_SIGNAL_PHRASES = (
    "double free",
    "free(): invalid",
    "corrupted size",
    "stack smashing",
    "bus error",
    "floating point exception",
    "terminate called",
    "device-side assert",
    "invalid device function",
    "no kernel image",
    "invalid device ordinal",
    "compute capability",
    "cublas_status",
    "cufft",
    "curand",
    "cusolver",
    "nccl error",
    "unhandled system error",
    "connection refused",
    "connection reset",
    "broken pipe",
    "address already in use",
    "deadline exceeded",
    "too many open files",
    "cannot allocate memory",
    "failed to allocate",
    "bfc_allocator",
    "memory leak",
    "multiple definition",
    "cannot find -l",
    "dll load failed",
    "was compiled against",
    "version mismatch",
    " avx",
    "sse4",
    "illegal hardware instruction",
    # A leading space keeps "hang" out of "change"; the space is dropped from the token.
    " hangs",
    " hanging",
    " stuck",
    " slower",
)
SIGNAL_SETS = {"basic": _SIGNAL_PHRASES, "extended": _SIGNAL_PHRASES + _LOG_SIGNAL_PHRASES}
# Signals are looked for at the start and the end of a block (where tracebacks end).
_SIGNAL_SPAN = 4000
_MAX_SIGNALS = 12

# An opening fence of 3+ backticks or tildes; it closes at the first fence of the same
# character at least as long (CommonMark), or at the end of the text when unterminated.
_FENCE_OPEN = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_TRACE_LINE = re.compile(
    r"^\s*(?:Traceback \(most recent call last\)|File \"[^\"]*\", line \d+"
    r"|#\d+\s+0x[0-9a-f]+|at [\w$.]+\([\w.]*:?\d*\)|\d+\s+\S+\s+0x[0-9a-f]{6,}"
    r"|\*\*\* Begin stack trace|\w+\.(?:py|cc|cpp|h):\d+)",
    re.IGNORECASE,
)
_LOG_LINE = re.compile(
    r"^\s*(?:\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d|[IWEF]\d{4} \d\d:\d\d:\d\d"
    r"|\[\d\d:\d\d:\d\d\]|(?:INFO|WARNING|ERROR|DEBUG|CRITICAL)[:\s]"
    r"|[-=]{2,} .* [-=]{2,}$|>>> |\$ |In \[\d+\]:)",
)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t)\S")
# Token patterns, matched against whole whitespace tokens by normalize_token.
_URL = re.compile(r"(?:https?|ftp|file)://\S+|www\.\S+")
# A whitespace-delimited word with two or more slashes (one slash is often "CUDA/cuDNN").
_PATH = re.compile(r"(?<!\S)(?:[^\s/\\]*[/\\]){2,}\S*")
_HEX = re.compile(r"0x[0-9a-fA-F]+|[0-9a-f]{12,}")
_VERSION = re.compile(r"v?\d+(?:\.\d+){1,3}(?:[-.+]?(?:rc|dev|post|a|b|cu)\d*)?", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d[\d,.]*(?:[a-z]{1,2}|%)?", re.IGNORECASE)
_INLINE_CODE = re.compile(r"`([^`\n]{1,200})`")
# Markdown marks (#, >, -, **) need no pass of their own: the tokenizer drops them.
_SPACES = re.compile(r"[ \t\r\f\v]{2,}|[\t\r\f\v]")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# Issue-template prompts of TensorFlow, PyTorch and MXNet: the questions, not the answers.
# Anchored at line starts (after list and emphasis marks), which keeps the search fast.
_BOILERPLATE = re.compile(
    r"^[ \t>*#_-]*(?:"
    + "|".join(
        (
            r"please make sure that this is a (?:bug|feature request|build/installation issue|"
            r"documentation issue|performance issue)\.?[^\n]*",
            r"tag:\w+_template",
            r"system information",
            r"have i written custom code[^:\n]*:?",
            r"os platform and distribution[^:\n]*:?",
            r"mobile device[^:\n]*:?",
            r"tensorflow installed from[^:\n]*:?",
            r"tensorflow version[^:\n]*:?",
            r"(?:python|bazel|gcc/compiler|gcc|cuda/cudnn|cuda|cudnn) version[^:\n]*:?",
            r"gpu model and memory:?",
            r"exact command to reproduce:?",
            r"you can collect some of this information using our environment capture[^\n]*",
            r"you can also obtain the tensorflow version with[^\n]*",
            r"describe the (?:current|expected) behaviou?r:?",
            r"describe the problem[^\n]*",
            r"standalone code to reproduce the issue:?",
            r"provide a reproducible test case[^\n]*",
            r"other info / logs?[^\n]*",
            r"include any logs or source code that would be helpful[^\n]*",
            r"source code / logs?",
            r"if including tracebacks, please include the full traceback[^\n]*",
            r"large logs and files should be attached[^\n]*",
            r"steps to reproduce(?: the behaviou?r)?:?",
            r"to reproduce",
            r"expected behaviou?r",
            r"additional context",
            r"please copy and paste the output from our[^\n]*",
            r"environment collection script[^\n]*",
            r"(?:pytorch|mxnet) version[^:\n]*:?",
            r"how you installed pytorch[^:\n]*:?",
            r"build command you used[^:\n]*:?",
            r"any other relevant information:?",
            r"environment info \(required\)",
            r"package used \(python/r/scala/julia\):?",
            r"error message:?",
            r"minimum reproducible example",
            r"what have you tried to solve it\??",
            r"a clear and concise description of what[^\n]*",
            r"🐛 bug",
            r"cc @[\w-]+(?: @[\w-]+)*",
        )
    )
    + ")",
    re.IGNORECASE | re.MULTILINE,
)
# Raw text beyond this is dropped before cleaning: the tail of huge logs costs and adds little.
RAW_CHARS = 12000
# The template regex runs only on texts that contain one of these (a fast substring test).
_TEMPLATE_HINTS = (
    "information",
    "describe",
    "reproduce",
    "version",
    "behavio",
    "context",
    "template",
    "error message",
    "cc @",
    "🐛",
)


def _signals(text: str, phrases: tuple[str, ...]) -> str:
    """Distinct failure signals of a code or log block, as plain words."""
    if len(text) > 2 * _SIGNAL_SPAN:
        text = f"{text[:_SIGNAL_SPAN]}\n{text[-_SIGNAL_SPAN:]}"
    found = dict.fromkeys(name.lower() for name in _EXCEPTION.findall(text))
    lower = text.lower()
    found.update(dict.fromkeys(p.strip().replace(" ", "_") for p in phrases if p in lower))
    return " ".join(list(found)[:_MAX_SIGNALS])


def _block(marker: str, content: str, phrases: tuple[str, ...]) -> str:
    signals = _signals(content, phrases)
    return f"\n{marker} {signals}\n" if signals else f"\n{marker}\n"


def _fence_blocks(text: str) -> Iterator[tuple[bool, str]]:
    """Split text into (is_code, part) pieces at Markdown code fences (nested ones included)."""
    position = 0
    while True:
        opening = _FENCE_OPEN.search(text, position)
        if opening is None:
            yield False, text[position:]
            return
        yield False, text[position : opening.start()]
        fence = opening.group(1)
        closing = re.compile(
            rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE
        ).search(text, opening.end())
        end = closing.end() if closing else len(text)
        yield True, text[opening.end() : closing.start() if closing else end]
        position = end


def _line_kind(line: str, run_kind: str | None) -> str | None:
    if _TRACE_LINE.match(line):
        return TRACE
    # Source lines of a traceback are indented; its last line names the exception.
    if run_kind == TRACE and line.strip() and (line[0] in " \t" or _EXCEPTION.search(line)):
        return TRACE
    if _LOG_LINE.match(line):
        return LOG
    if _INDENTED_CODE.match(line):
        return CODE
    return None


def _collapse_lines(text: str, phrases: tuple[str, ...]) -> str:
    """Replace runs of traceback, log and indented-code lines by one marker each."""
    out: list[str] = []
    run_kind: str | None = None
    run: list[str] = []
    for line in [*text.split("\n"), ""]:
        kind = _line_kind(line, run_kind)
        if kind != run_kind and run_kind is not None:
            out.append(_block(run_kind, "\n".join(run), phrases).strip())
            run = []
        run_kind = kind
        if kind is None:
            out.append(line)
        else:
            run.append(line)
    return "\n".join(out)


def clean_markdown(text: str | None, max_chars: int | None = None, signals: str = "basic") -> str:
    """Issue Markdown to prose: code, traces, logs and template prompts become marker lines.

    URLs, paths, versions and numbers are left in place; `normalize_token` maps them. '' for
    None or empty text; at most `max_chars` characters (cut at a space) when given. `signals`
    names the set of failure phrases kept from dropped blocks (see SIGNAL_SETS).
    """
    phrases = SIGNAL_SETS[signals]
    if not text:
        return ""
    text = _HTML_COMMENT.sub(" ", text[:RAW_CHARS].replace("\r\n", "\n"))
    text = "".join(
        _block(CODE, part, phrases) if is_code else part for is_code, part in _fence_blocks(text)
    )
    text = _collapse_lines(_HTML_TAG.sub(" ", text), phrases)
    lower = text.lower()
    if any(hint in lower for hint in _TEMPLATE_HINTS):
        text = _BOILERPLATE.sub(" ", text)
    text = _INLINE_CODE.sub(r" \1 ", text)
    text = _URL.sub(f" {URL} ", text)
    text = _BLANK_LINES.sub("\n", _SPACES.sub(" ", text)).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0]
    return text


# Separators become spaces before tokenizing; characters that occur inside URLs, paths,
# versions and identifiers (/ \ : . - _ ' + # @ ~ %) stay and are handled per token.
_SEPARATORS = str.maketrans({ch: " " for ch in '()[]{}<>"`*=|,;!?$&^\u201c\u201d\u2018\u2019'})
_EDGE = ".:'-/\\~@%#"
_INNER_SPLIT = re.compile(r"[/\\:]+")


def normalize_token(word: str) -> str:
    """One whitespace token to zero or more lowercase words (markers for URLs, paths, numbers)."""
    if _URL.fullmatch(word) or "://" in word:
        return URL
    if _HEX.fullmatch(word):
        return HEX
    stripped = word.strip(_EDGE)
    if not stripped:
        return ""
    if _VERSION.fullmatch(stripped):
        return VERSION
    if _NUMBER.fullmatch(stripped):
        return NUMBER
    if _PATH.fullmatch(word) or word.count("/") >= 2 or word.count("\\") >= 2:
        return PATH
    lower = stripped.lower()
    parts = [part.strip(_EDGE) for part in _INNER_SPLIT.split(lower)]
    return " ".join(part for part in parts if any(ch.isalnum() for ch in part))


@lru_cache(maxsize=4)
def load_nlp(model: str = "blank:en", rules: bool = False):
    """A spaCy pipeline that only tokenizes: 'blank:en', or an installed package name.

    rules=False swaps spaCy's English affix rules for a whitespace tokenizer over the same
    vocabulary: `normalize_token` does the splitting that matters here, ten times faster.
    """
    import spacy
    from spacy.tokenizer import Tokenizer

    if model.startswith("blank:"):
        nlp = spacy.blank(model.split(":", 1)[1])
    else:
        nlp = spacy.load(model, exclude=["parser", "ner", "textcat", "tagger", "lemmatizer"])
    if not rules:
        nlp.tokenizer = Tokenizer(nlp.vocab)
        # Lexical attributes (shape, like_num, ...) are computed for every new word and unused.
        nlp.vocab.lex_attr_getters = {}
    return nlp


@lru_cache(maxsize=4)
def _lemma_table(lang: str = "en") -> dict:
    """spaCy's lookup lemma table (spacy-lookups-data) as a plain dict; {} when unavailable."""
    try:
        from spacy.lookups import load_lookups

        table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    except (ImportError, ValueError, OSError):
        return {}
    return dict(table.items())


class _Lemmatizer:
    """Normalized, lemmatized words of a token, cached by the token's string hash.

    Working on `doc.to_array(ORTH)` avoids a Python Token object per token, and the cache
    means the regular expressions of `normalize_token` run once per distinct token.
    """

    def __init__(self, nlp, lemmatize: bool):
        from spacy.strings import hash_string

        self._hash = hash_string
        self._strings = nlp.vocab.strings
        self._table = _lemma_table(nlp.lang) if lemmatize else {}
        self._cache: dict[int, str] = {}

    def _lemma(self, word: str) -> str:
        lemma = self._table.get(self._hash(word), word)
        return lemma if isinstance(lemma, str) else word

    def _words(self, key: int) -> str:
        words = normalize_token(self._strings[key])
        if not words or words in MARKERS:
            return words
        return " ".join(self._lemma(word) for word in words.split())

    def words(self, doc) -> list[str]:
        from spacy.attrs import ORTH

        cache = self._cache
        out = []
        for key in doc.to_array(ORTH).tolist():
            words = cache.get(key)
            if words is None:
                words = self._words(key)
                if len(cache) < 1_000_000:
                    cache[key] = words
            if words:
                out.append(words)
        return out


_MEMO: dict[tuple, str] = {}
_MEMO_SIZE = 50_000


def clear_memo() -> None:
    """Forget memoized normalizations (benchmarks time cold runs)."""
    _MEMO.clear()


@lru_cache(maxsize=8)
def _lemmatizer(spacy_model: str, rules: bool, lemmatize: bool) -> _Lemmatizer:
    """One lemmatizer (and its cache) per pipeline, kept across calls such as classify batches."""
    return _Lemmatizer(load_nlp(spacy_model, rules), lemmatize)


def _as_texts(X) -> list[str]:
    if isinstance(X, str):
        raise ValueError("TextNormalizer expects a sequence of texts, not one string")
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"TextNormalizer expects a 1-D sequence of texts, got shape {array.shape}")
    return ["" if value is None or value != value else str(value) for value in array]


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Turn raw issue texts into normalized, lemmatized, lowercased token strings.

    Parameters
    ----------
    spacy_model : "blank:en" (works offline) or the name of an installed spaCy pipeline.
    rules : tokenize with spaCy's language rules instead of whitespace after `clean_markdown`
        (slower; the default splits punctuation itself).
    lemmatize : map words to their lookup lemma (spacy-lookups-data).
    max_chars : cap of each cleaned text before tokenizing; long logs add little, cost much.
    batch_size : texts per nlp.pipe batch.
    memoize : remember normalized texts across calls (for cross-validation; see clear_memo).
    signals : which failure phrases survive from dropped code and log blocks: "basic" or
        "extended" (adds glibc, CUDA, NCCL, linker and socket cues; see SIGNAL_SETS).
    """

    def __init__(
        self,
        spacy_model: str = "blank:en",
        rules: bool = False,
        lemmatize: bool = True,
        max_chars: int | None = 3000,
        batch_size: int = 256,
        memoize: bool = False,
        signals: str = "basic",
    ):
        self.spacy_model = spacy_model
        self.rules = rules
        self.lemmatize = lemmatize
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.memoize = memoize
        self.signals = signals

    def fit(self, X, y=None):
        _as_texts(X)
        import spacy

        # Nothing is learned; the spaCy version records which tokenizer the model was fit with.
        self.spacy_version_ = spacy.__version__
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "spacy_version_")
        texts = _as_texts(X)
        if self.memoize:
            return np.array(self.normalize_cached(texts), dtype=object)
        return np.array(list(self.normalize(texts)), dtype=object)

    def normalize(self, texts: Iterable[str]) -> Iterator[str]:
        """Normalized text of each raw text, lazily, in batches through nlp.pipe."""
        nlp = load_nlp(self.spacy_model, self.rules)
        lemmatizer = _lemmatizer(self.spacy_model, self.rules, self.lemmatize)
        cleaned = (
            clean_markdown(text, self.max_chars, self.signals).translate(_SEPARATORS)
            for text in texts
        )
        for doc in nlp.pipe(cleaned, batch_size=self.batch_size):
            yield " ".join(lemmatizer.words(doc))

    def normalize_cached(self, texts: list[str]) -> list[str]:
        """Like normalize, remembering results: cross-validation folds repeat the same texts.

        Normalization is a pure function of the text and the parameters (nothing is learned),
        so a shared memo cannot leak labels between folds.
        """
        params = (self.spacy_model, self.rules, self.lemmatize, self.max_chars, self.signals)
        keys = [(params, hashlib.blake2b(t.encode(), digest_size=16).digest()) for t in texts]
        missing = {key: text for key, text in zip(keys, texts, strict=True) if key not in _MEMO}
        if len(_MEMO) + len(missing) > _MEMO_SIZE:
            _MEMO.clear()
        _MEMO.update(zip(missing, self.normalize(missing.values()), strict=True))
        return [_MEMO[key] for key in keys]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(["text"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags
