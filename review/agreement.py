"""Agreement between reviewers (Krippendorff's alpha) and the outliers among them, per batch.

Grades are ordinal: each (item, grade dimension) is a unit rated 1-5 by every reviewer of the
item. Votes (-1, 0, 1) and hallucination flags (none or one of the kinds) are nominal, one unit
per item. Alpha is 1 for perfect agreement, 0 for agreement by chance; it is None when no unit
has two ratings or the ratings do not vary at all (nothing to agree or disagree on).

An outlier is a reviewer without whom the batch's grade alpha rises by more than a threshold:
their grades disagree with everyone else's. Telling who disagrees takes at least three reviewers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import krippendorff
import numpy as np

from review.db import GRADES, HALLUCINATIONS, Judgment

GRADE_DOMAIN = (1, 2, 3, 4, 5)
VOTE_DOMAIN = (-1, 0, 1)
HALLUCINATION_CODES = {"": 0, **{kind: code for code, kind in enumerate(HALLUCINATIONS, start=1)}}
MIN_REVIEWERS_FOR_OUTLIERS = 3

Ratings = dict[str, dict[Hashable, int]]  # reviewer -> unit -> value


@dataclass(frozen=True)
class Agreement:
    items: int
    reviewers: int
    grades_alpha: float | None
    vote_alpha: float | None
    hallucination_alpha: float | None
    outliers: tuple[str, ...]  # reviewer names

    def to_dict(self) -> dict:
        return {
            "items": self.items,
            "reviewers": self.reviewers,
            "alpha": {"grades": self.grades_alpha, "vote": self.vote_alpha, "hallucination": self.hallucination_alpha},
            "outliers": list(self.outliers),
        }


def alpha(ratings: Ratings, level: str, domain: tuple[int, ...]) -> float | None:
    """Krippendorff's alpha of reviewers' ratings of shared units, rounded; None when undefined."""
    units = sorted({unit for values in ratings.values() for unit in values}, key=repr)
    matrix = np.full((len(ratings), len(units)), np.nan)
    for row, values in enumerate(ratings.values()):
        for column, unit in enumerate(units):
            matrix[row, column] = values.get(unit, np.nan)
    rated_twice = (~np.isnan(matrix)).sum(axis=0) >= 2
    if not rated_twice.any() or len(np.unique(matrix[:, rated_twice][~np.isnan(matrix[:, rated_twice])])) < 2:
        return None
    return round(float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level, value_domain=domain)), 4)


def agreement(judgments: Iterable[Judgment], outlier_alpha_gain: float) -> Agreement:
    """Alpha of grades, votes and hallucination flags over these judgments, and the outlier reviewers."""
    grades: Ratings = {}
    votes: Ratings = {}
    flags: Ratings = {}
    items = set()
    for judgment in judgments:
        name = judgment.reviewer.name
        items.add(judgment.item_id)
        for dimension in GRADES:
            grades.setdefault(name, {})[judgment.item_id, dimension] = getattr(judgment, dimension)
        votes.setdefault(name, {})[judgment.item_id] = judgment.vote
        flags.setdefault(name, {})[judgment.item_id] = HALLUCINATION_CODES[judgment.hallucination]
    grades_alpha = alpha(grades, "ordinal", GRADE_DOMAIN)
    return Agreement(
        items=len(items),
        reviewers=len(grades),
        grades_alpha=grades_alpha,
        vote_alpha=alpha(votes, "nominal", VOTE_DOMAIN),
        hallucination_alpha=alpha(flags, "nominal", tuple(HALLUCINATION_CODES.values())),
        outliers=outliers(grades, grades_alpha, outlier_alpha_gain),
    )


def outliers(grades: Ratings, grades_alpha: float | None, gain: float) -> tuple[str, ...]:
    """Reviewers whose removal raises the grade alpha by more than `gain`, by name."""
    if grades_alpha is None or len(grades) < MIN_REVIEWERS_FOR_OUTLIERS:
        return ()
    found = []
    for name in sorted(grades):
        without = alpha({other: values for other, values in grades.items() if other != name}, "ordinal", GRADE_DOMAIN)
        if without is not None and without - grades_alpha > gain:
            found.append(name)
    return tuple(found)
