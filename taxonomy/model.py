"""Load, validate and query a taxonomy file (see system_issues.yaml for the shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_TAXONOMY_PATH = Path(__file__).with_name("system_issues.yaml")


class TaxonomyError(ValueError):
    """A taxonomy file is malformed."""


class UnknownCategoryError(ValueError):
    """A label names a category the taxonomy does not have."""

    def __init__(self, label: str, taxonomy: Taxonomy):
        self.label = label
        known = ", ".join(taxonomy.codes)
        super().__init__(
            f"unknown category {label!r} "
            f"(taxonomy {taxonomy.name} {taxonomy.version} knows: {known})"
        )


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @property
    def is_system_related(self) -> bool:
        return self.code != "NSR"


@dataclass(frozen=True)
class Taxonomy:
    name: str
    version: str
    categories: tuple[Category, ...]
    default_code: str = "NSR"
    rules: tuple[str, ...] = field(default=())

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    @property
    def system_codes(self) -> list[str]:
        return [c.code for c in self.categories if c.code != self.default_code]

    def __contains__(self, code: object) -> bool:
        return code in self._by_code()

    def __getitem__(self, code: str) -> Category:
        return self._by_code()[code]

    def _by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    def normalize(self, label: str) -> str:
        """Map a code or a category name (any case) to its code, or raise UnknownCategoryError."""
        text = label.strip()
        for category in self.categories:
            if text.upper() == category.code or text.lower() == category.name.lower():
                return category.code
        raise UnknownCategoryError(label, self)

    def is_system_related(self, code: str) -> bool:
        return self.normalize(code) != self.default_code


def _category_from_dict(raw: dict) -> Category:
    try:
        return Category(
            code=str(raw["code"]).strip().upper(),
            name=str(raw["name"]).strip(),
            definition=" ".join(str(raw["definition"]).split()),
            include=tuple(raw.get("include") or ()),
            exclude=tuple(raw.get("exclude") or ()),
            keywords=tuple(str(k).lower() for k in raw.get("keywords") or ()),
        )
    except KeyError as missing:
        raise TaxonomyError(f"category {raw!r} lacks the field {missing}") from None


def taxonomy_from_dict(raw: dict) -> Taxonomy:
    """Build and validate a Taxonomy from parsed YAML."""
    if not isinstance(raw, dict) or not raw.get("categories"):
        raise TaxonomyError("a taxonomy needs a 'categories' list")
    categories = tuple(_category_from_dict(c) for c in raw["categories"])
    codes = [c.code for c in categories]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise TaxonomyError(f"duplicate category codes: {', '.join(duplicates)}")
    default_code = str(raw.get("default_code", "NSR")).upper()
    if default_code not in codes:
        raise TaxonomyError(f"default_code {default_code} is not one of the categories")
    rules = tuple(raw.get("rules") or ())
    not_text = [rule for rule in rules if not isinstance(rule, str)]
    if not_text:
        # YAML reads "text: more" as a mapping; a rule must stay one sentence of text.
        raise TaxonomyError(f"rule {not_text[0]!r} is not text (quote it, or drop the ': ')")
    return Taxonomy(
        name=str(raw.get("name", "taxonomy")),
        version=str(raw.get("version", "0")),
        categories=categories,
        default_code=default_code,
        rules=rules,
    )


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load a taxonomy file; without a path, the shipped system-issue taxonomy."""
    if path is None:
        return default_taxonomy()
    return _load(Path(path))


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    return _load(DEFAULT_TAXONOMY_PATH)


def _load(path: Path) -> Taxonomy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TaxonomyError(f"cannot read taxonomy {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise TaxonomyError(
            f"taxonomy {path} is not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())  # YAML's messages span lines
        raise TaxonomyError(f"taxonomy {path} is not valid YAML: {reason}") from None
    return taxonomy_from_dict(raw)
