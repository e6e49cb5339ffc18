"""The system-issue taxonomy: categories as versioned data, and label validation."""

from taxonomy.model import (
    Category,
    Taxonomy,
    TaxonomyError,
    UnknownCategoryError,
    default_taxonomy,
    load_taxonomy,
)

__all__ = [
    "Category",
    "Taxonomy",
    "TaxonomyError",
    "UnknownCategoryError",
    "default_taxonomy",
    "load_taxonomy",
]
