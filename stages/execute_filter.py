"""Stage `execute-filter`: run every sample's tests in the sandbox, split correct from wrong.

Each wrong solution keeps its execution feedback (the error, or the failed test with expected
vs actual) and the bug's severity tier.
Outputs: `data/execute_filter/{executions,correct,wrong}.jsonl` (`records.Execution`),
`metrics/execute_filter.json`.
"""

from __future__ import annotations

import time
from collections import Counter

from ledex.execution.feedback import feedback_text, severity
from ledex.execution.jobs import model_job
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import CHECKPOINTS, CORRECT, EXECUTIONS, PROBLEMS, SAMPLES, WRONG
from ledex.pipeline.records import Execution, Sample
from ledex.pipeline.stage_io import progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run
from sandbox import Sandbox


def run(params: Params) -> dict:
    problems = read_problems()
    samples = read_records(SAMPLES, Sample)
    started = time.perf_counter()
    inputs = fingerprint(PROBLEMS, SAMPLES, params.execute_filter.model_dump(), params.sandbox.fingerprint())
    with ResumableOutput(EXECUTIONS, inputs, CHECKPOINTS) as output, Sandbox(params.sandbox) as sandbox:
        todo = [sample for sample in samples if sample.id not in output]
        jobs = [model_job(problems[s.problem_id], s.code, timeout_s=params.execute_filter.timeout_s) for s in todo]
        for index, verdict in progress(sandbox.imap(jobs), len(samples), "execute-filter", initial=output.resumed):
            sample = todo[index]
            execution = Execution(
                sample_id=sample.id,
                problem_id=sample.problem_id,
                code=sample.code,
                passed=verdict.passed,
                status=verdict.status.value,
                pass_rate=verdict.pass_rate,
                feedback="" if verdict.passed else feedback_text(verdict),
                severity="" if verdict.passed else severity(verdict),
            )
            output.add(sample.id, [execution.to_dict()])
        executions = output.publish(sample.id for sample in samples)
    write_jsonl(CORRECT, (row for row in executions if row["passed"]))
    write_jsonl(WRONG, (row for row in executions if not row["passed"]))
    correct = sum(row["passed"] for row in executions)
    return {
        "unique": len(executions),
        "correct": correct,
        "wrong": len(executions) - correct,
        "status": dict(Counter(row["status"] for row in executions)),
        "severity": dict(Counter(row["severity"] for row in executions if row["severity"])),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    params = load_params()
    with stage_run("execute-filter", {"execute_filter": params.execute_filter.model_dump()}, params.tracking.uri):
        publish_metrics("execute_filter", run(params))


if __name__ == "__main__":
    main()
