"""Stage `explain-refine`: the teacher explains each wrong solution, then refines it (paper 2.1, A.2).

For every wrong solution the teacher sees the problem, the wrong code as its own earlier turn
and the execution feedback, and samples `explain_refine_samples` answers (explanation, then the
refined code) and `refine_samples` refine-only answers. Answers whose code cannot be parsed are
kept, with `code: null`, and counted.
Outputs: `data/explain_refine/refinements.jsonl` (`records.Refinement`),
`metrics/explain_refine.json`.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ledex.generation import GenerationRequest, Generator, SamplingParams, make_generator
from ledex.generation.prompts import refine_messages
from ledex.generation.response_parsing import parse_answer
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.paths import CHECKPOINTS, PROBLEMS, REFINEMENTS, WRONG
from ledex.pipeline.records import Execution, Kind, Refinement
from ledex.pipeline.stage_io import batches, progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run


def selected_wrong(wrong: list[Execution], per_problem: int) -> list[Execution]:
    """The first `per_problem` wrong solutions of each problem (all of them when 0)."""
    if not per_problem:
        return wrong
    taken: dict[str, int] = defaultdict(int)
    chosen = []
    for execution in wrong:
        if taken[execution.problem_id] < per_problem:
            taken[execution.problem_id] += 1
            chosen.append(execution)
    return chosen


def refine_batch(teacher: Generator, problems: dict, group, kind: Kind, sampling: SamplingParams) -> list[Refinement]:
    requests = [
        GenerationRequest(messages=refine_messages(problems[w.problem_id], w.code, w.feedback, explain=kind.explains))
        for w in group
    ]
    refinements = []
    for wrong, answers in zip(group, teacher.generate(requests, sampling)):
        language = problems[wrong.problem_id].language
        for j, answer in enumerate(answers):
            parsed = parse_answer(answer, language)
            refinements.append(
                Refinement(
                    id=f"{wrong.sample_id}#{kind.tag}{j}",
                    sample_id=wrong.sample_id,
                    problem_id=wrong.problem_id,
                    kind=kind,
                    answer=answer,
                    explanation=parsed.explanation if kind.explains else "",
                    code=parsed.code,
                )
            )
    return refinements


def run(params: Params) -> dict:
    cfg = params.explain_refine
    problems = read_problems()
    wrong = selected_wrong(read_records(WRONG, Execution), cfg.max_wrong_per_problem)
    samples_per_kind = {Kind.EXPLAIN_REFINE: cfg.explain_refine_samples, Kind.REFINE: cfg.refine_samples}
    groups = batches(wrong, cfg.wrong_per_batch)
    keys = [f"batch-{number}" for number in range(len(groups))]
    started = time.perf_counter()
    spec = params.generation_for("explain_refine")
    inputs = fingerprint(PROBLEMS, WRONG, cfg.model_dump(exclude={"generation"}), spec.model_dump())
    with ResumableOutput(REFINEMENTS, inputs, CHECKPOINTS) as output:
        teacher = None
        for number, (key, group) in progress(enumerate(zip(keys, groups)), len(groups), "explain-refine"):
            if key in output:
                continue
            teacher = teacher or make_generator(spec.backend, spec.model, **spec.arguments)
            rows = []
            for kind, n in samples_per_kind.items():
                if n:
                    sampling = SamplingParams(
                        n=n,
                        temperature=cfg.temperature,
                        top_p=cfg.top_p,
                        max_new_tokens=cfg.max_new_tokens,
                        seed=cfg.seed + number,
                    )
                    rows += [r.to_dict() for r in refine_batch(teacher, problems, group, kind, sampling)]
            output.add(key, rows)
        refinements = output.publish(keys)
    unparsed = sum(row["code"] is None for row in refinements)
    return {
        "wrong_explained": len(wrong),
        "refinements": len(refinements),
        "unparsed": unparsed,
        "unparsed_rate": round(unparsed / len(refinements), 4) if refinements else 0.0,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    params = load_params()
    tracked = {
        "explain_refine": params.explain_refine.model_dump(),
        "generation": params.generation_for("explain_refine").model_dump(),
    }
    with stage_run("explain-refine", tracked, params.tracking.uri):
        publish_metrics("explain_refine", run(params))


if __name__ == "__main__":
    main()
