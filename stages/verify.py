"""Stage `verify`: re-run every refinement; those passing all tests are verified (paper 2.1).

Every refinement keeps its verdict and pass rate (success and failure trajectories feed RL);
the passing ones, with their explanations, are the verified data for SFT. Metrics follow the
paper's Table 1, per dataset: #unique, #correct, #wrong, #correct refinement, refinement rate
(over the wrong solutions sent to the teacher; also over all wrong ones, labelled as such).
Outputs: `data/verify/trajectories.jsonl`, `data/verify/verified.jsonl`
(`records.VerifiedRefinement`), `metrics/verify.json`.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ledex.execution.jobs import model_job
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import CHECKPOINTS, EXECUTIONS, PROBLEMS, REFINEMENTS, TRAJECTORIES, VERIFIED
from ledex.pipeline.records import UNPARSED, Execution, Kind, Refinement, VerifiedRefinement
from ledex.pipeline.stage_io import progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run
from sandbox import Sandbox


def table_one(problems: dict, executions: list[Execution], trajectories: list[dict], sent: set[str]) -> dict:
    """Table 1 of the paper, per dataset (benchmark and split of the problem).

    `sent` holds the sample ids of the wrong solutions explain-refine gave the teacher (at most
    `max_wrong_per_problem` per problem). The paper's refinement rate is the share of those with
    at least one correct refinement; `refinement_rate_all_wrong` divides by every wrong solution.
    """
    dataset = {pid: f"{p.benchmark}/{p.split}" for pid, p in problems.items()}
    counts = ("unique", "correct", "wrong", "sent_to_teacher", "correct_refinements")
    rows: dict[str, dict] = defaultdict(lambda: dict.fromkeys(counts, 0))
    for execution in executions:
        row = rows[dataset[execution.problem_id]]
        row["unique"] += 1
        row["correct" if execution.passed else "wrong"] += 1
        row["sent_to_teacher"] += not execution.passed and execution.sample_id in sent
    refined = {(t["sample_id"], t["problem_id"]) for t in trajectories if t["passed"]}
    for _, problem_id in refined:
        rows[dataset[problem_id]]["correct_refinements"] += 1
    for row in rows.values():
        row["refinement_rate"] = _rate(row["correct_refinements"], row["sent_to_teacher"])
        row["refinement_rate_all_wrong"] = _rate(row["correct_refinements"], row["wrong"])
    return dict(rows)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def run(params: Params) -> dict:
    problems = read_problems()
    refinements = read_records(REFINEMENTS, Refinement)
    started = time.perf_counter()
    inputs = fingerprint(PROBLEMS, REFINEMENTS, params.verify.model_dump(), params.sandbox.fingerprint())
    with ResumableOutput(TRAJECTORIES, inputs, CHECKPOINTS) as output, Sandbox(params.sandbox) as sandbox:
        for refinement in refinements:
            if refinement.code is None and refinement.id not in output:
                output.add(refinement.id, [_trajectory(refinement, False, UNPARSED, 0.0)])
        todo = [r for r in refinements if r.id not in output]
        jobs = [model_job(problems[r.problem_id], r.code, timeout_s=params.verify.timeout_s) for r in todo]
        for index, verdict in progress(sandbox.imap(jobs), len(refinements), "verify", initial=len(output)):
            refinement = todo[index]
            output.add(
                refinement.id, [_trajectory(refinement, verdict.passed, verdict.status.value, verdict.pass_rate)]
            )
        trajectories = output.publish(r.id for r in refinements)
    write_jsonl(VERIFIED, (t for t in trajectories if t["passed"]))
    executions = read_records(EXECUTIONS, Execution)
    verified = sum(t["passed"] for t in trajectories)
    return {
        "refinements": len(trajectories),
        "verified": verified,
        "verified_explain_refine": sum(t["passed"] and t["kind"] == Kind.EXPLAIN_REFINE for t in trajectories),
        "table1": table_one(problems, executions, trajectories, sent={r.sample_id for r in refinements}),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _trajectory(refinement: Refinement, passed: bool, status: str, pass_rate: float) -> dict:
    return VerifiedRefinement(
        id=refinement.id,
        sample_id=refinement.sample_id,
        problem_id=refinement.problem_id,
        kind=refinement.kind,
        explanation=refinement.explanation,
        code=refinement.code,
        passed=passed,
        status=status,
        pass_rate=pass_rate,
    ).to_dict()


def main() -> None:
    params = load_params()
    with stage_run("verify", {"verify": params.verify.model_dump()}, params.tracking.uri):
        publish_metrics("verify", run(params))


if __name__ == "__main__":
    main()
