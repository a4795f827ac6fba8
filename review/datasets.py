"""Training data from expert judgments: preference pairs for the reward model, demonstrations for SFT.

Pairs compare answers to the same prompt (one wrong solution, asked the same way): a reviewer's
corrected answer beats the answer it corrects, and a good answer beats a bad one by the
reviewers' consensus (`ledex.pipeline.config.ReviewParams` defines good and bad). Every corrected
answer is also a demonstration in the chat form of `ledex.training.sft_data`. A corrected answer
counts only when its code passes its tests (the reviewer's code, run by `review.corrections`, else
the model's verdict): a failing one stays on record and trains nothing. Each carries the bug's
severity as the reviewers set it (the most common tier among them; a tie goes to the heavier tier).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

from ledex.pipeline.config import ReviewParams
from ledex.pipeline.records import Demonstration, Preference
from ledex.training.learned_reward import prompt_text
from review.corrections import correction_passed
from review.db import Item, Judgment
from review.items import answer_text


@dataclass(frozen=True)
class Consensus:
    """What the reviewers of one item concluded together."""

    grade: float  # mean of every reviewer's mean grade
    votes: int  # up-votes minus down-votes
    hallucinated: bool  # a majority flagged a hallucination

    @classmethod
    def of(cls, judgments: list[Judgment]) -> Consensus:
        flagged = sum(bool(j.hallucination) for j in judgments)
        return cls(
            sum(j.grade for j in judgments) / len(judgments),
            sum(j.vote for j in judgments),
            2 * flagged > len(judgments),
        )

    def good(self, settings: ReviewParams) -> bool:
        return (
            not self.hallucinated
            and self.votes >= 0
            and self.grade > settings.bad_grade
            and (self.votes > 0 or self.grade >= settings.good_grade)
        )

    def bad(self, settings: ReviewParams) -> bool:
        return self.hallucinated or self.votes < 0 or self.grade <= settings.bad_grade


def corrected_answer(item: Item, judgment: Judgment) -> str | None:
    """The answer with the reviewer's corrections (an empty field keeps the model's text); None if
    there are none or its code fails its tests (the corrected code's verdict, else the model's)."""
    if not judgment.corrects:
        return None
    if not (correction_passed(judgment) if judgment.corrected_code.strip() else item.passed):
        return None
    explanation = judgment.corrected_explanation.strip() or item.explanation
    code = judgment.corrected_code.strip() or item.code
    return answer_text(item.kind, explanation, code, item.language) if code else None


def severity(judgments: list[Judgment], weights: Mapping[str, float]) -> str:
    counts = Counter(j.severity for j in judgments)
    return max(counts, key=lambda tier: (counts[tier], weights.get(tier, 0.0), tier))


def reviewed_tiers(items: Mapping[str, Item], judgments: list[Judgment], weights: Mapping[str, float]) -> list[dict]:
    """`data/feedback/severity.jsonl` rows: each reviewed wrong solution's tier by its reviewers,
    which overrides the pipeline's in `reward-fit` and `ppo`."""
    by_wrong: dict[str, list[Judgment]] = {}
    for judgment in judgments:
        by_wrong.setdefault(items[judgment.item_id].sample_id, []).append(judgment)
    return [{"sample_id": wrong, "severity": severity(by_wrong[wrong], weights)} for wrong in sorted(by_wrong)]


def build(
    items: Mapping[str, Item],
    judgments: list[Judgment],
    batches: Mapping[int, int],
    settings: ReviewParams,
    weights: Mapping[str, float],
) -> tuple[list[dict], list[dict]]:
    """(preference rows, demonstration rows) from the current judgments, each with its batch."""
    by_item: dict[str, list[Judgment]] = {}
    for judgment in judgments:
        by_item.setdefault(judgment.item_id, []).append(judgment)
    by_prompt: dict[tuple[str, str], list[str]] = {}
    for item_id in sorted(by_item):
        by_prompt.setdefault((items[item_id].sample_id, items[item_id].kind), []).append(item_id)

    preferences, demonstrations = [], []
    for item_ids in by_prompt.values():
        reviewed = [j for item_id in item_ids for j in by_item[item_id]]
        tier = severity(reviewed, weights)
        prompt = items[item_ids[0]].messages
        for judgment in reviewed:
            item = items[judgment.item_id]
            answer = corrected_answer(item, judgment)
            if answer is None:
                continue
            source = f"{item.id}/review{judgment.id}"
            demonstrations.append(
                Demonstration(source, item.kind, prompt, answer, tier, batches[judgment.id]).to_dict()
            )
            if answer != item.answer:
                preferences.append(
                    Preference(
                        f"{source}>{item.id}",
                        prompt_text(prompt),
                        answer,
                        item.answer,
                        tier,
                        "correction",
                        batches[judgment.id],
                    ).to_dict()
                )
        consensus = {item_id: Consensus.of(by_item[item_id]) for item_id in item_ids}
        good = [i for i in item_ids if consensus[i].good(settings)]
        bad = [i for i in item_ids if consensus[i].bad(settings)]
        for chosen, rejected in product(good, bad):
            if items[chosen].answer != items[rejected].answer:
                batch = max(batches[j.id] for j in by_item[chosen] + by_item[rejected])
                preferences.append(
                    Preference(
                        f"{chosen}>{rejected}",
                        prompt_text(prompt),
                        items[chosen].answer,
                        items[rejected].answer,
                        tier,
                        "judgments",
                        batch,
                    ).to_dict()
                )
    return preferences, demonstrations
