"""The self-debugging evaluation of paper section 4: initial samples, then rounds of refinement.

A model samples `n` solutions per problem; each runs in the sandbox. Every wrong one starts two
chains, one refined by the refine-only prompt ("Refine"), one by the explain-then-refine prompt
("Expl. + Refine"). Round r refines round r-1's still-wrong code, shown with its own feedback;
an answer with no parsable code is asked again in the next round. As in the paper's Table 2, a
sample counts as correct after round r of an approach when it or one of its refinements up to r
passes. Scores per benchmark: unbiased pass@k of Init and, per round, of Refine and
Expl. + Refine; the success refinement rate (wrong samples fixed / wrong samples); the
hallucination rate (refinements failing on a name, attribute or module that does not exist /
all refinements). Per language: pass@1 after one round, and the gap between languages.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ledex.evaluation.passk import mean_pass_at_k
from ledex.execution.feedback import feedback_text
from ledex.execution.hallucination import CATEGORIES, classify
from ledex.execution.jobs import model_job
from ledex.generation import GenerationRequest, Generator, SamplingParams
from ledex.generation.prompts import SOLUTION_STOP, refine_messages, solve_messages
from ledex.generation.response_parsing import extract_code, parse_answer
from ledex.pipeline.config import EvaluateParams
from ledex.pipeline.records import UNPARSED, Kind, Record
from ledex.problems import Problem
from sandbox import Sandbox, Verdict

INIT = "init"  # an attempt's kind before any refinement; then a `Kind`


@dataclass(frozen=True)
class Attempt(Record):
    """`data/evaluate/attempts.jsonl`: one initial solution or one refinement, with its verdict."""

    model: str
    benchmark: str  # the evaluation set's name
    problem_id: str
    language: str
    sample: int  # which of the n initial samples this attempt descends from
    kind: str  # INIT, or a Kind
    round: int  # 0 for the initial solution
    explanation: str
    code: str | None  # None: no code could be parsed out of the answer
    passed: bool
    status: str  # the sandbox's status, or UNPARSED
    pass_rate: float
    feedback: str  # what the next round is shown ("" when passed or unparsed)
    hallucination: str  # name | attribute | module, or ""


@dataclass(frozen=True)
class _Chain:
    benchmark: str
    problem: Problem
    sample: int
    kind: str
    code: str
    feedback: str


def self_debug_batch(
    generator: Generator,
    sandbox: Sandbox,
    problems: Sequence[tuple[str, Problem]],
    cfg: EvaluateParams,
    *,
    model: str,
    seed: int,
) -> list[Attempt]:
    """Every attempt on `problems`, (evaluation set, problem) pairs that may mix sets and languages:
    the initial samples, then each round of both refinement chains. Each phase is one generation
    call and one sandbox batch over all of them, so the engine's batch stays full."""
    sampling = SamplingParams(
        n=cfg.n,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=seed,
        stop=SOLUTION_STOP,
    )
    requests = [
        GenerationRequest(messages=solve_messages(p, cfg.shots if p.language == "python" else 0)) for _, p in problems
    ]
    initial = [
        (benchmark, problem, sample, extract_code(text, problem.language))
        for (benchmark, problem), texts in zip(problems, generator.generate(requests, sampling))
        for sample, text in enumerate(texts)
    ]
    verdicts = _run(sandbox, [(problem, code) for _, problem, _, code in initial], cfg.timeout_s)
    attempts = [
        _attempt(model, benchmark, problem, sample, INIT, 0, "", code, verdict)
        for (benchmark, problem, sample, code), verdict in zip(initial, verdicts)
    ]
    chains = [
        _Chain(benchmark, problem, sample, kind, code, attempt.feedback)
        for (benchmark, problem, sample, code), attempt in zip(initial, attempts)
        if not attempt.passed
        for kind in Kind
    ]
    refined = _refinement_rounds(generator, sandbox, chains, sampling, cfg.rounds, cfg.timeout_s, model)
    return attempts + refined


def debug_given_code(
    generator: Generator,
    sandbox: Sandbox,
    given: Sequence[tuple[Problem, str]],
    sampling: SamplingParams,
    *,
    kinds: Sequence[Kind],
    rounds: int,
    timeout_s: float,
    model: str,
    benchmark: str,
) -> list[Attempt]:
    """Refinement chains started from given wrong code (a bug from real work) instead of sampled code.

    Each program runs in the sandbox first: its attempt (round 0, `INIT`, once per sample) carries
    the feedback the first refinement is shown. A program that fails starts `sampling.n` chains per
    kind of `kinds` (samples 0..n-1), refined for up to `rounds` rounds as in `self_debug_batch`;
    one that passes starts none.
    """
    verdicts = _run(sandbox, list(given), timeout_s)
    starts = [
        (problem, code, _attempt(model, benchmark, problem, sample, INIT, 0, "", code, verdict))
        for (problem, code), verdict in zip(given, verdicts)
        for sample in range(sampling.n)
    ]
    chains = [
        _Chain(benchmark, problem, start.sample, kind, code, start.feedback)
        for problem, code, start in starts
        if not start.passed
        for kind in kinds
    ]
    attempts = [start for *_, start in starts]
    return attempts + _refinement_rounds(generator, sandbox, chains, sampling, rounds, timeout_s, model)


def _refinement_rounds(
    generator: Generator,
    sandbox: Sandbox,
    chains: list[_Chain],
    sampling: SamplingParams,
    rounds: int,
    timeout_s: float,
    model: str,
) -> list[Attempt]:
    """Up to `rounds` refinements of every chain, each answer sampled once (seed + round); a chain
    stops when its code passes."""
    attempts = []
    for round_number in range(1, rounds + 1):
        if not chains:
            break
        refinement_sampling = replace(sampling, n=1, seed=sampling.seed + round_number, stop=())  # may quote code
        refined, chains = _refine_round(generator, sandbox, chains, refinement_sampling, timeout_s, model, round_number)
        attempts += refined
    return attempts


def _refine_round(
    generator: Generator,
    sandbox: Sandbox,
    chains: list[_Chain],
    sampling: SamplingParams,
    timeout_s: float,
    model: str,
    round_number: int,
) -> tuple[list[Attempt], list[_Chain]]:
    """One refinement of every chain: the attempts, and the chains still wrong (an unparsed answer
    leaves its chain as it was)."""
    requests = [
        GenerationRequest(
            messages=refine_messages(c.problem, c.code, c.feedback, explain=c.kind == Kind.EXPLAIN_REFINE)
        )
        for c in chains
    ]
    answers = [
        parse_answer(texts[0], c.problem.language) for c, texts in zip(chains, generator.generate(requests, sampling))
    ]
    verdicts = iter(
        _run(sandbox, [(c.problem, a.code) for c, a in zip(chains, answers) if a.code is not None], timeout_s)
    )
    attempts, still_wrong = [], []
    for chain, answer in zip(chains, answers):
        explanation = answer.explanation if chain.kind == Kind.EXPLAIN_REFINE else ""
        verdict = None if answer.code is None else next(verdicts)
        attempt = _attempt(
            model,
            chain.benchmark,
            chain.problem,
            chain.sample,
            chain.kind,
            round_number,
            explanation,
            answer.code,
            verdict,
        )
        attempts.append(attempt)
        if verdict is None:
            still_wrong.append(chain)
        elif not attempt.passed:
            still_wrong.append(replace(chain, code=answer.code, feedback=attempt.feedback))
    return attempts, still_wrong


def _run(sandbox: Sandbox, programs: list[tuple[Problem, str]], timeout_s: float) -> list[Verdict]:
    jobs = [model_job(problem, code, timeout_s=timeout_s) for problem, code in programs]
    return sandbox.run_many(jobs) if jobs else []


def _attempt(
    model: str,
    benchmark: str,
    problem: Problem,
    sample: int,
    kind: str,
    round_number: int,
    explanation: str,
    code: str | None,
    verdict: Verdict | None,
) -> Attempt:
    """The attempt `code` made, judged by `verdict`; no code (and no verdict): UNPARSED."""
    if verdict is None:
        outcome = {"passed": False, "status": UNPARSED, "pass_rate": 0.0, "feedback": "", "hallucination": ""}
    else:
        outcome = {
            "passed": verdict.passed,
            "status": verdict.status.value,
            "pass_rate": verdict.pass_rate,
            "feedback": "" if verdict.passed else feedback_text(verdict),
            "hallucination": classify(verdict, problem.language, problem.entry_point),
        }
    return Attempt(
        model=model,
        benchmark=benchmark,
        problem_id=problem.id,
        language=problem.language,
        sample=sample,
        kind=kind,
        round=round_number,
        explanation=explanation,
        code=code,
        **outcome,
    )


@dataclass
class SampleOutcome:
    language: str
    passed: bool  # the initial solution
    fixed_in: dict[str, int]  # refinement kind -> the round whose refinement passed

    def correct_after(self, kind: str, round_number: int) -> bool:
        """Right initially, or fixed by `kind` within `round_number` rounds (INIT: round 0)."""
        return self.passed or self.fixed_in.get(kind, round_number + 1) <= round_number


def sample_outcomes(
    attempts: Sequence[Attempt],
) -> tuple[dict[tuple[str, str, int], SampleOutcome], dict[tuple[str, str], list[Attempt]]]:
    """Each initial sample's outcome by (benchmark, problem id, sample), and the refinements by
    (benchmark, kind)."""
    outcomes: dict[tuple[str, str, int], SampleOutcome] = {}
    refinements: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for a in attempts:
        key = (a.benchmark, a.problem_id, a.sample)
        if a.kind == INIT:
            outcomes[key] = SampleOutcome(a.language, a.passed, {})
        else:
            refinements[(a.benchmark, a.kind)].append(a)
            if a.passed:
                outcomes[key].fixed_in[a.kind] = a.round
    return outcomes, refinements


def score(attempts: Sequence[Attempt], ks: Sequence[int], rounds: int) -> dict:
    """The scores of one model: per benchmark, per language, and the cross-language gap."""
    outcomes, refinements = sample_outcomes(attempts)
    by_benchmark: dict[str, list[tuple[str, SampleOutcome]]] = defaultdict(list)
    by_language: dict[str, list[tuple[str, SampleOutcome]]] = defaultdict(list)
    for (benchmark, problem_id, _), outcome in outcomes.items():
        by_benchmark[benchmark].append((problem_id, outcome))
        by_language[outcome.language].append((f"{benchmark}:{problem_id}", outcome))

    scores = {
        benchmark: _benchmark_scores(samples, {kind: refinements[(benchmark, kind)] for kind in Kind}, ks, rounds)
        for benchmark, samples in by_benchmark.items()
    }
    languages = {
        language: {
            INIT: _pass_at_k(samples, INIT, 0, [1])["pass_at_1"],
            **{kind: _pass_at_k(samples, kind, 1, [1])["pass_at_1"] for kind in Kind},
        }
        for language, samples in sorted(by_language.items())
    }
    result = {"benchmarks": scores, "languages": languages}
    if len(languages) > 1:
        result["cross_language_gap"] = {
            approach: round(
                max(row[approach] for row in languages.values()) - min(row[approach] for row in languages.values()), 6
            )
            for approach in (INIT, *Kind)
        }
    return result


def _benchmark_scores(samples, refinements: dict[str, list[Attempt]], ks, rounds: int) -> dict:
    wrong = [outcome for _, outcome in samples if not outcome.passed]
    scores = {
        "problems": len({problem_id for problem_id, _ in samples}),
        "samples": len(samples),
        "wrong": len(wrong),
        INIT: _pass_at_k(samples, INIT, 0, ks),
    }
    for kind in Kind:
        attempts = refinements[kind]
        hallucinated = Counter(a.hallucination for a in attempts if a.hallucination)
        scores[kind] = {
            **{
                f"round_{r}": {
                    **_pass_at_k(samples, kind, r, ks),
                    "refinement_rate": _rate(sum(o.fixed_in.get(kind, rounds + 1) <= r for o in wrong), len(wrong)),
                }
                for r in range(1, rounds + 1)
            },
            "refinements": len(attempts),
            "hallucination_rate": _rate(sum(hallucinated.values()), len(attempts)),
            "hallucinations": {category: hallucinated[category] for category in CATEGORIES},
        }
    return scores


def _pass_at_k(samples, kind: str, round_number: int, ks) -> dict[str, float]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for problem_id, outcome in samples:
        counts[problem_id][0] += 1
        counts[problem_id][1] += outcome.correct_after(kind, round_number)
    estimates = mean_pass_at_k({p: (n, c) for p, (n, c) in counts.items()}, ks)
    return {key.replace("@", "_at_"): round(value, 6) for key, value in estimates.items()}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
