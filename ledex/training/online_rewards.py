"""The RL prompts and the rewards of fresh answers to them, computed online (paper 2.3, A.3).

Every wrong solution w is asked both ways: refine, and explain then refine (`ppo.prompts:
with_references` keeps only the w with verified refinements). An answer's code is run in the
sandbox (S_ut) and compared with w's references (S_cb; `ledex.training.references`: R_c^w, else
the canonical solution), giving R(r) = 5 (S_cb + S_ut) - 5, or 10 S_ut - 5 with no reference at
all; its explanation is embedded and compared with E_c^w (S_ex), giving R(e) through the
projection `reward-fit` chose, wherever E_c^w is non-empty. A fresh answer is never one of its own
references. Ours, not the paper's: an explain+refine answer that gives no explanation at all gets
the lowest R(e), -5, on its first token (the policy must not learn to skip it); an answer without
code gets R(r) = -5; with severity weighting a positive R(r) or R(e) is scaled by the weight of
w's bug tier (`ledex.execution.severity.weighted`); the learned reward model's score, times
`ppo.reward_model_weight`, is added on the last token (unweighted by severity: it learned severity
through its margins).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ledex.execution.jobs import model_job
from ledex.execution.severity import SeverityWeights, weighted
from ledex.generation.prompts import refine_messages
from ledex.generation.response_parsing import ParsedAnswer, parse_answer
from ledex.pipeline.records import Execution, Kind
from ledex.problems import Problem
from ledex.training.embeddings import MINILM, SentenceEncoder
from ledex.training.learned_reward import LearnedReward
from ledex.training.ppo_trainer import ResponseReward
from ledex.training.references import References
from ledex.training.rewards import REWARD_SCALE, ExplanationProjection, code_reward, s_cb, s_ex
from sandbox import Sandbox


@dataclass(frozen=True)
class RLPrompt:
    """A wrong solution w and how it is asked to be fixed."""

    wrong: Execution
    problem: Problem
    kind: Kind

    @property
    def messages(self) -> list[dict]:
        return refine_messages(self.problem, self.wrong.code, self.wrong.feedback, explain=self.kind.explains)


def rl_prompts(problems: dict[str, Problem], wrong: Sequence[Execution], source: Path) -> list[RLPrompt]:
    """Both prompt kinds for every wrong solution, in file order."""
    prompts = []
    for line, execution in enumerate(wrong, start=1):
        if execution.problem_id not in problems:
            raise ValueError(f"{source}: row {line}: problem {execution.problem_id} is not in the problems file")
        prompts += [RLPrompt(execution, problems[execution.problem_id], kind) for kind in Kind]
    return prompts


def read_projection(path: Path) -> tuple[ExplanationProjection, dict]:
    """R(e)'s projection and embedding model as `reward-fit` wrote them, or the paper's, saying so."""
    if not path.exists():
        projection = ExplanationProjection()
        info = {"source": f"paper default: no {path}", "embedding_model": MINILM}
    else:
        info = json.loads(path.read_text())
        missing = [key for key in ("lo", "hi", "border") if key not in info]
        if missing:
            raise ValueError(f"{path}: lacks {', '.join(missing)}")
        projection = ExplanationProjection(info["lo"], info["hi"], info["border"])
        info = {"source": info.get("source", "fitted"), "embedding_model": info.get("embedding_model", MINILM)}
    return projection, {"lo": projection.lo, "hi": projection.hi, "border": projection.border, **info}


def explanation_end(answer: str, parsed: ParsedAnswer) -> int:
    """How many characters of `answer` run through the end of its parsed explanation (0: none)."""
    if not parsed.explanation:
        return 0
    code_start = len(answer) if parsed.code is None else answer.rfind(parsed.code)
    return answer.rfind(parsed.explanation, 0, code_start) + len(parsed.explanation)


def select_prompts(prompts: Sequence[RLPrompt], references: References, which: str) -> list[RLPrompt]:
    """`ppo.prompts`: all prompts, or those of wrong solutions with verified refinements."""
    if which == "all":
        return list(prompts)
    return [p for p in prompts if references.has_verified(p.wrong.sample_id)]


class ExplanationReferences:
    """E_c^w of every wrong solution w, embedded once."""

    def __init__(self, references: References, encoder: SentenceEncoder):
        groups = {w: references.explanations(w) for w in references.verified}
        texts = sorted({text for group in groups.values() for text in group})
        vectors = dict(zip(texts, encoder.encode(texts))) if texts else {}
        self.vectors = {w: np.stack([vectors[text] for text in group]) for w, group in groups.items() if group}


class OnlineRewarder:
    """Scores a batch of answers: the sandbox runs their code while CodeBLEU, embeddings and the
    learned reward model's scores are computed."""

    def __init__(
        self,
        sandbox: Sandbox,
        references: References,
        projection: ExplanationProjection,
        encoder: SentenceEncoder,
        timeout_s: float,
        severity: SeverityWeights | None = None,
        learned: LearnedReward | None = None,
        learned_weight: float = 0.0,
    ):
        self.sandbox = sandbox
        self.references = references
        self.explanations = ExplanationReferences(references, encoder)
        self.projection = projection
        self.encoder = encoder
        self.timeout_s = timeout_s
        self.severity = severity
        self.learned = learned
        self.learned_weight = learned_weight

    def __call__(self, prompts: Sequence[RLPrompt], answers: Sequence[str]) -> list[ResponseReward]:
        parsed = [parse_answer(answer, prompt.problem.language) for prompt, answer in zip(prompts, answers)]
        coded = [i for i, p in enumerate(parsed) if p.code is not None]
        jobs = [model_job(prompts[i].problem, parsed[i].code, timeout_s=self.timeout_s) for i in coded]
        with ThreadPoolExecutor(1, thread_name_prefix="sandbox") as pool:
            running = pool.submit(self.sandbox.run_many, jobs)
            similarity = {}
            for i in coded:
                refs = self.references.code(prompts[i].wrong.sample_id, prompts[i].problem.id).codes
                if refs:
                    similarity[i] = s_cb(parsed[i].code, refs, prompts[i].problem.language)
            explanation_scores = self._explanation_scores(prompts, parsed)
            learned = self.learned([p.messages for p in prompts], answers) if self.learned else None
            pass_rates = {i: verdict.pass_rate for i, verdict in zip(coded, running.result())}
        rewards = []
        for i, (prompt, answer) in enumerate(zip(prompts, answers)):
            weight = self._weight(prompt.wrong)
            scores = {"S_ut": pass_rates.get(i, 0.0)}
            if i in similarity:
                scores["S_cb"] = similarity[i]
            scores["passed"] = float(scores["S_ut"] == 1.0)
            # R(r) = 5 (S_cb + S_ut) - 5; no reference: 10 S_ut - 5; no code: -5
            scores["R_r"] = code_reward(scores.get("S_cb"), scores["S_ut"]) if i in pass_rates else -REWARD_SCALE
            explanation = None
            if prompt.kind.explains:
                if not parsed[i].explanation:
                    explanation = -REWARD_SCALE  # ours: no explanation at all
                elif i in explanation_scores:
                    scores["S_ex"] = explanation_scores[i]
                    explanation = self.projection(scores["S_ex"])  # R(e)
                if explanation is not None:
                    scores["R_e"] = explanation
            if learned is not None:
                scores["RM"] = learned[i]
            rewards.append(
                ResponseReward(
                    code=weighted(scores["R_r"], weight),
                    explanation=None if explanation is None else weighted(explanation, weight),
                    explanation_end=explanation_end(answer, parsed[i]),
                    learned=self.learned_weight * learned[i] if learned is not None else 0.0,
                    group=prompt.kind.value,
                    scores=scores,
                )
            )
        return rewards

    def _explanation_scores(self, prompts: Sequence[RLPrompt], parsed: Sequence[ParsedAnswer]) -> dict[int, float]:
        """S_ex of every explained answer whose wrong solution has verified explanations."""
        scored = [
            i
            for i, (prompt, answer) in enumerate(zip(prompts, parsed))
            if prompt.kind.explains and answer.explanation and prompt.wrong.sample_id in self.explanations.vectors
        ]
        if not scored:
            return {}
        vectors = self.encoder.encode([parsed[i].explanation for i in scored])
        return {
            i: s_ex(vector, self.explanations.vectors[prompts[i].wrong.sample_id]) for i, vector in zip(scored, vectors)
        }

    def _weight(self, wrong: Execution) -> float:
        return 1.0 if self.severity is None else self.severity.weight(self.severity.tier_of(wrong))


@dataclass
class BatchScorer:
    """The trainer's score function for one step's prompts; keeps the rewards for metrics and plots."""

    rewarder: OnlineRewarder
    prompts: list[RLPrompt]
    rewards: list[ResponseReward] = field(default_factory=list)

    def __call__(self, answers: list[str]) -> list[ResponseReward]:
        self.rewards = self.rewarder(self.prompts, answers)
        return self.rewards
