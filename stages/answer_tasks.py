"""Stage `answer-tasks`: the cycle's pinned policy answers the week's debugging tasks, as the live
assistant would (`ledex.evaluation.task_answers`).

The policy is this week's champion (the base preset on the first cycle, said so); the week's
tasks are the inbox tasks it was not trained on. Each task's buggy code runs in the sandbox, and
the policy explains and fixes it shown that feedback (`self_debug.debug_given_code`,
`answer_tasks.samples` answers, up to `answer_tasks.rounds` rounds); the sandbox judges each fix.
Outputs: `data/answer_tasks/answers.jsonl` (the week's review items: `ledex review load` reads it),
`data/answer_tasks/problems.jsonl` and `executions.jsonl` (the tasks and their buggy code's
verdicts, which the items show), `metrics/answer_tasks.json` (the task KPIs with n and 95% CIs).
"""

from __future__ import annotations

import time

from ledex.evaluation.self_debug import debug_given_code
from ledex.evaluation.task_answers import (
    answer_row,
    bug_executions,
    final_answers,
    fresh_tasks,
    task_kpis,
    trained_until,
)
from ledex.generation import SamplingParams, make_generator
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import ANSWER_EXECUTIONS, ANSWER_PROBLEMS, ANSWER_TASKS, ANSWERS
from ledex.pipeline.policy import current_policy, use_policy
from ledex.pipeline.records import Kind
from ledex.pipeline.stage_io import publish_metrics, write_problems
from ledex.pipeline.tracking import stage_run, tracking_uri
from ledex.problems.tasks import load_tasks
from sandbox import Sandbox


def run(params: Params) -> dict:
    cfg = params.answer_tasks
    policy = current_policy(params)
    params = use_policy(params, "answer-tasks")  # models.policy: the pinned policy's local checkpoint
    tasks = fresh_tasks(load_tasks(params.data.tasks), trained_until(policy.model, tracking_uri(params.tracking.uri)))
    started = time.perf_counter()
    attempts = []
    if tasks:
        spec = params.generation_for("answer_tasks")
        sampling = SamplingParams(
            n=cfg.samples,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_new_tokens=cfg.max_new_tokens,
            seed=cfg.seed,
        )
        with Sandbox(params.sandbox) as sandbox:
            attempts = debug_given_code(
                make_generator(spec.backend, spec.model, **spec.arguments),
                sandbox,
                [(task.problem, task.buggy_code) for task in tasks],
                sampling,
                kinds=(Kind.EXPLAIN_REFINE,),
                rounds=cfg.rounds,
                timeout_s=cfg.timeout_s,
                model=policy.parent,
                benchmark="tasks",
            )
    answers = final_answers(attempts)
    ANSWER_TASKS.mkdir(parents=True, exist_ok=True)
    write_problems([task.problem for task in tasks], ANSWER_PROBLEMS)
    write_jsonl(ANSWER_EXECUTIONS, [execution.to_dict() for execution in bug_executions(tasks, attempts)])
    write_jsonl(ANSWERS, [answer_row(answer) for answer in answers])
    kpis = task_kpis(attempts, resamples=cfg.bootstrap_samples, seed=cfg.seed)
    return {
        "policy": policy.parent,
        "fallback": policy.fallback,
        "tasks": len(tasks),
        "answers": len(answers),
        "fixed": sum(answer.passed for answer in answers),
        "kpis": {name: estimate.to_dict() for name, estimate in kpis.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    params = load_params()
    tracked = {
        "answer_tasks": params.answer_tasks.model_dump(exclude={"generation"}),
        "generation": params.generation_for("answer_tasks").model_dump(),
    }
    with stage_run("answer-tasks", tracked, params.tracking.uri):
        publish_metrics("answer_tasks", run(params))


if __name__ == "__main__":
    main()
