"""Stage `sample`: the policy samples n solutions per training problem (paper section 2.1).

k-shot prompts, temperature T, and de-duplication: each unique program is kept once, with the
count of samples that produced it. The task inbox's debugging tasks (`data.tasks`) join the
problems with their given buggy code as their one sample: nothing is sampled for them.
Outputs: `data/sample/problems.jsonl`, `data/sample/samples.jsonl` (`records.Sample`),
`metrics/sample.json`.
"""

from __future__ import annotations

import time
from dataclasses import replace

from ledex.generation import GenerationRequest, SamplingParams, make_generator
from ledex.generation.prompts import SOLUTION_STOP, solve_messages
from ledex.generation.response_parsing import extract_code
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.paths import CHECKPOINTS, SAMPLES
from ledex.pipeline.policy import use_policy
from ledex.pipeline.records import Sample
from ledex.pipeline.stage_io import batches, progress, publish_metrics, write_problems
from ledex.pipeline.tracking import stage_run
from ledex.problems import Problem
from ledex.problems.problem_sets import training_problems, training_tasks
from ledex.problems.tasks import DebuggingTask


def unique_samples(problem: Problem, answers: list[str]) -> list[Sample]:
    """One `Sample` per distinct program (whitespace-insensitive), in order of first appearance."""
    by_program: dict[str, tuple[str, str, int]] = {}
    for answer in answers:
        code = extract_code(answer, problem.language)
        key = " ".join(code.split())
        first_answer, first_code, count = by_program.get(key, (answer, code, 0))
        by_program[key] = (first_answer, first_code, count + 1)
    return [
        Sample(f"{problem.id}#s{i}", problem.id, answer, code, count)
        for i, (answer, code, count) in enumerate(by_program.values())
    ]


def task_samples(tasks: list[DebuggingTask]) -> list[Sample]:
    """Each task's buggy code as its one sample, `<task id>#bug`."""
    return [
        Sample(id=task.sample_id, problem_id=task.id, completion=task.buggy_code, code=task.buggy_code, duplicates=1)
        for task in tasks
    ]


def run(params: Params) -> dict:
    cfg = params.sample
    problems = training_problems(params.data)
    tasks = training_tasks(params.data)
    write_problems([*problems, *(task.problem for task in tasks)])
    sampling = SamplingParams(
        n=cfg.n,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        stop=SOLUTION_STOP,
    )
    groups = batches(problems, cfg.problems_per_batch)
    keys = [f"batch-{number}" for number in range(len(groups))]
    started = time.perf_counter()
    policy = params.generation_for("sample")
    inputs = fingerprint(cfg.model_dump(exclude={"generation"}), policy.model_dump(), [p.id for p in problems])
    with ResumableOutput(SAMPLES, inputs, CHECKPOINTS) as output:
        generator = None
        for number, (key, group) in progress(enumerate(zip(keys, groups)), len(groups), "sample"):
            if key in output:
                continue
            generator = generator or make_generator(policy.backend, policy.model, **policy.arguments)
            requests = [GenerationRequest(messages=solve_messages(problem, cfg.shots)) for problem in group]
            answers = generator.generate(requests, replace(sampling, seed=cfg.seed + number))
            output.add(
                key, [s.to_dict() for problem, texts in zip(group, answers) for s in unique_samples(problem, texts)]
            )
        tasks_key = f"tasks-{fingerprint([task.to_row() for task in tasks])}"  # outside `inputs`: no resampling
        if tasks_key not in output:
            output.add(tasks_key, [sample.to_dict() for sample in task_samples(tasks)])
        samples = output.publish([*keys, tasks_key])
    return {
        "problems": len(problems),
        "tasks": len(tasks),
        "samples": len(problems) * cfg.n,
        "unique": len(samples),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    params = load_params()
    tracked = {"sample": params.sample.model_dump(), "generation": params.generation_for("sample").model_dump()}
    with stage_run("sample", tracked, params.tracking.uri):
        publish_metrics("sample", run(use_policy(params, "sample")))


if __name__ == "__main__":
    main()
