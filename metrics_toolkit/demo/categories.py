"""What the synthetic enterprise's sessions were for: a small fixed vocabulary of categories.

Each session has one category ("Bug fix", "Feature", ...) and, within it, one subcategory with
an id and a display name. Every category also has a subcategory without an id (``None``, shown
as `UNSORTED_SUBCATEGORY`): sessions of that category that fit none of the others. Larger
sessions lean towards features and investigations, smaller ones towards fixes, tests and docs.

The vocabulary is the demo's own (the API documents none). Pure: numpy in, numpy out.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from metrics_toolkit.demo.rhythm import CodeArray, FloatArray, IntArray, draw_categories

__all__ = ["category_names", "draw_session_categories", "subcategories"]

UNSORTED_SUBCATEGORY: Final = "Other"
"""Display name of each category's subcategory without an id."""

# Category, its weight for each size (xs, s, m, l, xl), and its subcategories: (id, display
# name, weight). The subcategory without an id is added to each, with `UNSORTED_WEIGHT`.
CATEGORIES: Final = (
    (
        "Bug fix",
        (0.34, 0.32, 0.26, 0.20, 0.16),
        (
            ("bug-fix.crash", "Crash or exception", 0.40),
            ("bug-fix.regression", "Regression", 0.35),
            ("bug-fix.flaky-test", "Flaky test", 0.25),
        ),
    ),
    (
        "Feature",
        (0.14, 0.20, 0.28, 0.34, 0.36),
        (
            ("feature.endpoint", "API endpoint", 0.40),
            ("feature.ui", "User interface", 0.35),
            ("feature.flag", "Feature flag", 0.25),
        ),
    ),
    (
        "Refactor",
        (0.10, 0.12, 0.14, 0.16, 0.16),
        (
            ("refactor.dependency-upgrade", "Dependency upgrade", 0.45),
            ("refactor.migration", "Migration", 0.35),
            ("refactor.cleanup", "Clean-up", 0.20),
        ),
    ),
    (
        "Tests",
        (0.18, 0.16, 0.12, 0.08, 0.06),
        (
            ("tests.unit", "Unit tests", 0.60),
            ("tests.integration", "Integration tests", 0.40),
        ),
    ),
    (
        "Docs",
        (0.14, 0.10, 0.06, 0.04, 0.02),
        (
            ("docs.readme", "README", 0.50),
            ("docs.api-reference", "API reference", 0.50),
        ),
    ),
    (
        "Investigation",
        (0.10, 0.10, 0.14, 0.18, 0.24),
        (
            ("investigation.incident", "Incident", 0.50),
            ("investigation.performance", "Performance", 0.50),
        ),
    ),
)
UNSORTED_WEIGHT: Final = 0.15
"""Weight of each category's subcategory without an id, next to the others' (which sum to 1)."""


def category_names() -> tuple[str, ...]:
    """The categories, in the order of their codes."""
    return tuple(name for name, _, _ in CATEGORIES)


def subcategories() -> tuple[tuple[int, str | None, str], ...]:
    """Every subcategory as (category code, id or None, display name), in code order.

    A category's subcategories are contiguous, the one without an id last.
    """
    listing: list[tuple[int, str | None, str]] = []
    for code, (_, _, listed) in enumerate(CATEGORIES):
        listing.extend((code, subcategory_id, name) for subcategory_id, name, _ in listed)
        listing.append((code, None, UNSORTED_SUBCATEGORY))
    return tuple(listing)


def draw_session_categories(
    category_uniform: FloatArray, subcategory_uniform: FloatArray, size_code: CodeArray | IntArray
) -> tuple[IntArray, IntArray]:
    """The category and the subcategory of each session.

    Parameters
    ----------
    category_uniform, subcategory_uniform : float64 arrays of shape (n,)
        Uniform numbers in [0, 1), one of each per session.
    size_code : int array of shape (n,)
        Index of each session's size (xs=0 .. xl=4).

    Returns
    -------
    category_code, subcategory_code : int64 arrays
        Indices into `category_names()` and `subcategories()`; each subcategory belongs to its
        session's category.
    """
    by_size = np.array([weights for _, weights, _ in CATEGORIES]).T  # (sizes, categories)
    category_code = draw_categories(category_uniform, by_size[size_code])
    sizes = [len(listed) + 1 for _, _, listed in CATEGORIES]
    weights = np.zeros((len(CATEGORIES), max(sizes)))
    for code, (_, _, listed) in enumerate(CATEGORIES):
        weights[code, : sizes[code]] = [*(weight for _, _, weight in listed), UNSORTED_WEIGHT]
    first_code = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    within = draw_categories(subcategory_uniform, weights[category_code])
    subcategory_code: IntArray = first_code[category_code] + within
    return category_code, subcategory_code
