"""The RL prompts and the rewards of fresh answers to them, computed online (paper 2.3, A.3).

Every wrong solution w is asked both ways: refine, and explain then refine. An answer's code is
run in the sandbox (S_ut) and compared with w's verified refinements (S_cb), giving
R(r) = 5 (S_cb + S_ut) - 5; its explanation is embedded and compared with w's verified
explanations (S_ex), giving R(e) through the projection fitted by `reward-fit`. As there:
S_cb is 0 when w has no verified refinement, and an explanation gets no R(e) when w has no
verified explanation. Unlike there, an explain+refine answer that gives no explanation at all
gets the lowest R(e), -5, on its first token: the policy must not learn to skip it. An answer
without code gets R(r) = -5. With severity weighting, both rewards are scaled by the weight of
w's bug tier.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ledex.execution.jobs import model_job
from ledex.execution.severity import SeverityWeights
from ledex.generation.prompts import refine_messages
from ledex.generation.response_parsing import ParsedAnswer, parse_answer
from ledex.pipeline.records import Execution, Kind, VerifiedRefinement
from ledex.problems import Problem
from ledex.training.embeddings import MINILM, SentenceEncoder
from ledex.training.ppo_trainer import ResponseReward
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


class References:
    """For each wrong solution w: its verified refinements R_c^w and explanation embeddings E_c^w."""

    def __init__(self, verified: Sequence[VerifiedRefinement], encoder: SentenceEncoder):
        self.codes: dict[str, list[str]] = defaultdict(list)
        explanations: dict[str, list[str]] = defaultdict(list)
        for refinement in verified:
            self.codes[refinement.sample_id].append(refinement.code)
            if refinement.kind.explains and refinement.explanation.strip():
                explanations[refinement.sample_id].append(refinement.explanation)
        texts = sorted({text for group in explanations.values() for text in group})
        vectors = dict(zip(texts, encoder.encode(texts))) if texts else {}
        self.explanations = {w: np.stack([vectors[text] for text in group]) for w, group in explanations.items()}


class OnlineRewarder:
    """Scores a batch of answers: the sandbox runs their code while CodeBLEU and embeddings are computed."""

    def __init__(
        self,
        sandbox: Sandbox,
        references: References,
        projection: ExplanationProjection,
        encoder: SentenceEncoder,
        timeout_s: float,
        severity: SeverityWeights | None = None,
    ):
        self.sandbox = sandbox
        self.references = references
        self.projection = projection
        self.encoder = encoder
        self.timeout_s = timeout_s
        self.severity = severity

    def __call__(self, prompts: Sequence[RLPrompt], answers: Sequence[str]) -> list[ResponseReward]:
        parsed = [parse_answer(answer, prompt.problem.language) for prompt, answer in zip(prompts, answers)]
        coded = [i for i, p in enumerate(parsed) if p.code is not None]
        jobs = [model_job(prompts[i].problem, parsed[i].code, timeout_s=self.timeout_s) for i in coded]
        with ThreadPoolExecutor(1, thread_name_prefix="sandbox") as pool:
            running = pool.submit(self.sandbox.run_many, jobs)
            similarity = {
                i: s_cb(
                    parsed[i].code,
                    self.references.codes.get(prompts[i].wrong.sample_id, []),
                    prompts[i].problem.language,
                )
                for i in coded
            }
            explanation_scores = self._explanation_scores(prompts, parsed)
            pass_rates = {i: verdict.pass_rate for i, verdict in zip(coded, running.result())}
        rewards = []
        for i, (prompt, answer) in enumerate(zip(prompts, answers)):
            weight = self._weight(prompt.wrong)
            scores = {"S_cb": similarity.get(i, 0.0), "S_ut": pass_rates.get(i, 0.0)}
            scores["passed"] = float(scores["S_ut"] == 1.0)
            code = weight * code_reward(scores["S_cb"], scores["S_ut"])  # R(r) = 5 (S_cb + S_ut) - 5
            explanation = None
            if prompt.kind.explains:
                if not parsed[i].explanation:
                    explanation = -REWARD_SCALE * weight
                elif i in explanation_scores:
                    scores["S_ex"] = explanation_scores[i]
                    explanation = weight * self.projection(scores["S_ex"])  # R(e)
            rewards.append(ResponseReward(code, explanation, explanation_end(answer, parsed[i]), scores))
        return rewards

    def _explanation_scores(self, prompts: Sequence[RLPrompt], parsed: Sequence[ParsedAnswer]) -> dict[int, float]:
        """S_ex of every explained answer whose wrong solution has verified explanations."""
        scored = [
            i
            for i, (prompt, answer) in enumerate(zip(prompts, parsed))
            if prompt.kind.explains and answer.explanation and prompt.wrong.sample_id in self.references.explanations
        ]
        if not scored:
            return {}
        vectors = self.encoder.encode([parsed[i].explanation for i in scored])
        return {
            i: s_ex(vector, self.references.explanations[prompts[i].wrong.sample_id])
            for i, vector in zip(scored, vectors)
        }

    def _weight(self, wrong: Execution) -> float:
        return 1.0 if self.severity is None else self.severity.weight(self.severity.tier(wrong.status))
