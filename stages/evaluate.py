"""Stage `evaluate`: how well each model explains and fixes its own code (paper section 4), and
which trained model becomes the registry's champion.

Every model of `evaluate.models` (the prompted policy, SFT, PPO) runs the self-debugging loop
of `ledex.evaluation.self_debug` on every held-out evaluation set, a batch of problems at a time
(checkpointed: a killed run resumes). The best candidate by pass@1 (Expl. + Refine, one round)
on the promotion benchmark is registered in MLflow, once per checkpoint, and promoted
(`ledex.evaluation.registry`).
Outputs: `data/evaluate/attempts.jsonl` (`self_debug.Attempt`), `data/evaluate/report.md`,
`data/evaluate/pass_at_k_rounds.png`, `metrics/evaluate.json`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import mlflow

from ledex.evaluation.registry import find_version, promote, register
from ledex.evaluation.report import plot_rounds, render
from ledex.evaluation.self_debug import Attempt, score, self_debug_batch
from ledex.generation import make_generator
from ledex.pipeline.checkpoint import ResumableOutput, directory_digest, fingerprint
from ledex.pipeline.config import EvaluateParams, Params, load_params
from ledex.pipeline.paths import ATTEMPTS, CHECKPOINTS, REPORT, ROUNDS_PLOT
from ledex.pipeline.policy import use_policy
from ledex.pipeline.records import Kind
from ledex.pipeline.stage_io import batches, progress, publish_metrics
from ledex.pipeline.tracking import stage_run
from ledex.problems.problem_sets import evaluation_sets
from sandbox import Sandbox


def models_to_evaluate(cfg: EvaluateParams, policy: str) -> dict[str, str]:
    """{label: checkpoint}; a trained candidate whose directory is absent is skipped only when configured."""
    chosen = {}
    for label, checkpoint in cfg.models.items():
        checkpoint = checkpoint or policy
        if label in cfg.candidates and not Path(checkpoint).is_dir():
            if not cfg.skip_missing:
                raise FileNotFoundError(
                    f"evaluate.models.{label}: no checkpoint directory {checkpoint}; train it first "
                    "or set evaluate.skip_missing: true"
                )
            print(f"evaluate: skipping {label}, {checkpoint} does not exist", file=sys.stderr)
            continue
        chosen[label] = checkpoint
    if not chosen:
        raise ValueError("evaluate.models: no model left to evaluate")
    return chosen


def run(params: Params) -> dict:
    cfg = params.evaluate
    sets = {name: problems[: cfg.max_problems or None] for name, problems in evaluation_sets(params.data).items()}
    if not sets:
        raise ValueError("data.evaluate: no evaluation set")
    promotion_set = cfg.promotion_benchmark or next(iter(sets))
    if promotion_set not in sets:
        raise ValueError(
            f"evaluate.promotion_benchmark: {promotion_set!r} is not one of data.evaluate's sets {list(sets)}"
        )
    spec = params.generation_for("evaluate")
    models = models_to_evaluate(cfg, spec.model)
    digests = {label: directory_digest(models[label]) for label in cfg.candidates if label in models}
    units = [
        (f"{label}/{name}/batch-{number}", label, name, number, group)
        for label in models
        for name, problems in sets.items()
        for number, group in enumerate(batches(problems, cfg.problems_per_batch))
    ]
    inputs = fingerprint(
        cfg.model_dump(exclude={"generation"}),
        models,
        digests,
        spec.model_dump(exclude={"model"}),
        params.sandbox.fingerprint(),
        {name: [p.id for p in problems] for name, problems in sets.items()},
    )
    started = time.perf_counter()
    with ResumableOutput(ATTEMPTS, inputs, CHECKPOINTS) as output, Sandbox(params.sandbox) as sandbox:
        generator, loaded = None, None
        todo = [unit for unit in units if unit[0] not in output]
        for key, label, name, number, group in progress(todo, len(units), "evaluate", initial=len(output)):
            if loaded != label:
                generator = None  # free the previous model first
                generator = make_generator(spec.backend, models[label], **spec.arguments)
                loaded = label
            attempts = self_debug_batch(
                generator, sandbox, group, cfg, model=label, benchmark=name, seed=cfg.seed + number
            )
            output.add(key, [attempt.to_dict() for attempt in attempts])
        rows = output.publish(unit[0] for unit in units)
    attempts = [Attempt.from_dict(row) for row in rows]
    scores = {label: score([a for a in attempts if a.model == label], cfg.ks, cfg.rounds) for label in models}
    promotion = promote_best(cfg, scores, models, digests, promotion_set, sets[promotion_set])
    REPORT.write_text(render(scores, cfg.ks, cfg.rounds, promotion["line"]))
    plot_rounds(scores, cfg.ks, cfg.rounds, ROUNDS_PLOT)
    return {
        "models": scores,
        "promotion": {key: value for key, value in promotion.items() if key != "line"},
        "attempts": len(attempts),
        "seconds": round(time.perf_counter() - started, 1),
    }


def promote_best(cfg: EvaluateParams, scores: dict, models: dict, digests: dict, benchmark: str, problems) -> dict:
    """Register the best evaluated candidate (once per checkpoint) and give it its alias."""
    evaluated = [label for label in cfg.candidates if label in models]
    if not evaluated:
        return {"line": "No trained candidate was evaluated; the registry is unchanged."}
    pass_at_1 = {
        label: scores[label]["benchmarks"][benchmark][Kind.EXPLAIN_REFINE]["round_1"]["pass_at_1"]
        for label in evaluated
    }
    best = max(evaluated, key=pass_at_1.__getitem__)
    version = find_version(models[best], name=cfg.registered_model, digest=digests[best]) or register(
        models[best], best, mlflow.active_run().info.run_id, name=cfg.registered_model
    )
    # scores are comparable only under the same problems and sampling protocol
    protocol = fingerprint(
        [p.id for p in problems], cfg.n, cfg.temperature, cfg.top_p, cfg.max_new_tokens, cfg.shots, cfg.timeout_s
    )
    decision = promote(
        version, pass_at_1[best], f"{benchmark}#{protocol[:12]}", cfg.promotion_margin, name=cfg.registered_model
    )
    mlflow.set_tag("ledex.promotion", decision.reason)
    return {
        "candidate": best,
        "version": version,
        "alias": decision.alias,
        "pass_at_1_explain_refine": pass_at_1[best],
        "reason": decision.reason,
        "line": f"Candidate **{best}** ({cfg.registered_model} v{version}) → **{decision.alias}**: {decision.reason}.",
    }


def main() -> None:
    params = load_params()
    tracked = {"evaluate": params.evaluate.model_dump(), "generation": params.generation_for("evaluate").model_dump()}
    with stage_run("evaluate", tracked, params.tracking.uri):
        metrics = run(use_policy(params, "evaluate"))
        publish_metrics("evaluate", metrics)
        mlflow.log_artifact(str(REPORT))
        mlflow.log_artifact(str(ROUNDS_PLOT))


if __name__ == "__main__":
    main()
