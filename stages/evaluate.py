"""Stage `evaluate`: how well each model explains and fixes its own code (paper section 4), how
sure we are, and which trained model becomes the registry's champion.

Every model of `evaluate.models` (the prompted policy, SFT, PPO) runs the self-debugging loop
of `ledex.evaluation.self_debug` on every held-out evaluation set, a batch of problems at a time
(the sets' problems in order, so a batch may mix languages and keeps the engine full; checkpointed:
a killed run resumes). A model whose checkpoint was evaluated before under the same
protocol takes its attempts from `ledex.evaluation.attempt_cache` instead. Every score gets a 95%
CI by bootstrap over problems, and the best candidate (by pass@1, Expl. + Refine, one round, on
the promotion benchmark) paired deltas against the champion (when its attempts are cached) and the
prompted base. It is registered in MLflow, once per checkpoint, and passes through the promotion
gate (`ledex.evaluation.registry`, `promotion_gate`).
Outputs: `data/evaluate/attempts.jsonl` (`self_debug.Attempt`), `data/evaluate/decision_card.md`
(also the top of `report.md` and the registered version's description), `data/evaluate/report.md`,
`data/evaluate/intervals.json`, `data/evaluate/pass_at_k_rounds.png`, `metrics/evaluate.json`; in
MLflow, one child run per model with the same metric names, and the headline on the cycle's run.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import mlflow

from ledex.evaluation.attempt_cache import AttemptCache, batch_layout, checkpoint_digest, evaluation_protocol
from ledex.evaluation.decision_card import Decision, Outcome, headline_metrics, render_card
from ledex.evaluation.kpi_trend import benchmark_kpis, cycle_metrics, plot_trend, record_cycle, stage_kpis
from ledex.evaluation.per_problem import as_metrics, metric_name, paired_deltas, per_problem_scores, score_intervals
from ledex.evaluation.promotion_gate import Evidence
from ledex.evaluation.registry import (
    CHAMPION,
    CHECKPOINT_TAG,
    current_champion,
    describe_version,
    find_version,
    promote,
    register,
)
from ledex.evaluation.report import plot_rounds, render
from ledex.evaluation.self_debug import Attempt, score, self_debug_batch
from ledex.generation import make_generator
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.config import EvaluateParams, Params, load_params
from ledex.pipeline.paths import (
    ATTEMPTS,
    CHECKPOINTS,
    DECISION_CARD,
    EVALUATION_CACHE,
    INTERVALS,
    KPI_HISTORY,
    KPI_TREND_PLOT,
    REPORT,
    REVIEW_KPIS,
    ROUNDS_PLOT,
    TASK_KPIS,
)
from ledex.pipeline.policy import pinned_policy, use_policy
from ledex.pipeline.records import Kind
from ledex.pipeline.stage_io import batches, progress, publish_metrics
from ledex.pipeline.tracking import cycle_run_id, log_child_run, log_to_pipeline_run, run_links, stage_run
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
    digests = {label: checkpoint_digest(checkpoint, spec.backend) for label, checkpoint in models.items()}
    generation = spec.model_dump(exclude={"model"})
    cache = AttemptCache(EVALUATION_CACHE, evaluation_protocol(cfg, generation, params.sandbox.fingerprint(), sets))
    inputs = fingerprint(
        cfg.model_dump(exclude={"generation"}),
        models,
        digests,
        generation,
        params.sandbox.fingerprint(),
        batch_layout(sets),  # ordered: a resumed run's batches hold the same problems
    )
    started = time.perf_counter()
    rows, cached = evaluate_models(params, models, digests, sets, cache, inputs)
    attempts = [Attempt.from_dict(row) for row in rows]
    own = {label: [a for a in attempts if a.model == label] for label in models}
    scores = {label: score(own[label], cfg.ks, cfg.rounds) for label in models}
    parts = {label: per_problem_scores(own[label], cfg.ks) for label in models}
    intervals = {label: score_intervals(parts[label], **_bootstrap(cfg)) for label in models}
    decision, promotion = decide(cfg, scores, parts, models, digests, cache, sets, promotion_set)
    policy_label = _base(cfg, models)  # the prompted pinned policy: the model that served this week
    history = record_kpis(intervals[policy_label], decision, models[policy_label]) if policy_label else []
    decision = replace(decision, kpi_history=history)

    card = render_card(decision)
    DECISION_CARD.write_text(card)
    REPORT.write_text(card + "\n" + render(scores, intervals, cfg.ks, cfg.rounds))
    INTERVALS.write_text(json.dumps({"intervals": intervals, "deltas": decision.deltas}, default=_plain, indent=1))
    plot_rounds(scores, cfg.ks, cfg.rounds, ROUNDS_PLOT)
    if history:
        plot_trend(history, KPI_TREND_PLOT)
    if "version" in promotion:
        describe_version(promotion["version"], card, name=cfg.registered_model)
    for label in models:
        log_child_run(label, as_metrics(intervals[label]), model_tags(label, models[label], digests[label], cached))
    headline = headline_metrics(decision)
    log_to_pipeline_run({f"evaluate.{name}": value for name, value in headline.items()})
    return {
        "models": scores,
        "headline": headline,
        "promotion": promotion,
        "cache": {"hits": len(cached), "misses": len(models) - len(cached), "cached": sorted(cached)},
        "attempts": len(attempts),
        "seconds": round(time.perf_counter() - started, 1),
    }


def decide(
    cfg: EvaluateParams, scores: dict, parts: dict, models: dict, digests: dict, cache: AttemptCache, sets, benchmark
) -> tuple[Decision, dict]:
    """Compare the best candidate with the champion and the base, promote it or not: the decision
    card's contents, and the promotion's metrics."""
    best = best_candidate(cfg, scores, benchmark)
    champion = current_champion(cfg.registered_model)
    references = reference_scores(cfg, parts, digests.get(best), champion, cache) if best else {}
    deltas = {name: paired_deltas(parts[best], found, **_bootstrap(cfg)) for name, found in references.items()}
    promotion, outcome = promote_best(
        cfg,
        best,
        scores,
        models,
        digests,
        champion=champion,
        deltas=deltas,
        benchmark=benchmark,
        problems=sets[benchmark],
    )
    columns = {f"{best} (candidate)": parts[best]} if best else {}
    columns |= references
    decision = Decision(
        outcome=outcome,
        candidate=f"{best} (candidate)" if best else "",
        scores={name: score_intervals(found, **_bootstrap(cfg)) for name, found in columns.items()},
        deltas=deltas,
        benchmarks=list(sets),
        languages=sorted({p.language for problems in sets.values() for p in problems}),
        promotion_benchmark=benchmark,
        promotion=promotion.pop("line"),
        links=run_links(),
    )
    return decision, promotion


def evaluate_models(
    params: Params, models: dict, digests: dict, sets: dict, cache: AttemptCache, inputs: str
) -> tuple[list[dict], set[str]]:
    """Every model's attempt rows (a batch of problems at a time, resumable), and the labels whose
    attempts came from the cache; the others' attempts go into it."""
    cfg, spec = params.evaluate, params.generation_for("evaluate")
    held_out = [(name, problem) for name, problems in sets.items() for problem in problems]
    units = [
        (f"{label}/batch-{number}", label, number, group)
        for label in models
        for number, group in enumerate(batches(held_out, cfg.problems_per_batch))
    ]
    with ResumableOutput(ATTEMPTS, inputs, CHECKPOINTS) as output:
        cached = set()
        for label, digest in digests.items():
            entry = cache.load(digest, label) if digest else None
            if entry is not None:
                cached.add(label)
                for key, *_ in units:
                    if key.startswith(f"{label}/") and key not in output:
                        output.add(key, entry[key.removeprefix(f"{label}/")])
        todo = [unit for unit in units if unit[0] not in output]
        if todo:
            with Sandbox(params.sandbox) as sandbox:
                generator, loaded = None, None
                for key, label, number, group in progress(todo, len(units), "evaluate", initial=len(output)):
                    if loaded != label:
                        generator = None  # free the previous model first
                        generator = make_generator(spec.backend, models[label], **spec.arguments)
                        loaded = label
                    attempts = self_debug_batch(generator, sandbox, group, cfg, model=label, seed=cfg.seed + number)
                    output.add(key, [attempt.to_dict() for attempt in attempts])
        for label, digest in digests.items():
            if digest and label not in cached:
                own = [key for key, *_ in units if key.startswith(f"{label}/")]
                cache.store(digest, {key.removeprefix(f"{label}/"): output[key] for key in own})
        return output.publish(unit[0] for unit in units), cached


def best_candidate(cfg: EvaluateParams, scores: dict, benchmark: str) -> str | None:
    """The evaluated candidate with the best pass@1 (Expl. + Refine, one round) on `benchmark`; the
    first of `evaluate.candidates` on a tie."""
    evaluated = [label for label in cfg.candidates if label in scores]
    return max(evaluated, key=lambda label: _promotion_score(scores[label], benchmark), default=None)


def reference_scores(
    cfg: EvaluateParams, parts: dict, candidate_digest: str | None, champion, cache: AttemptCache
) -> dict[str, dict]:
    """What the candidate is compared with, by name: the champion (when its checkpoint's attempts
    under this protocol are cached and it is another checkpoint) and the prompted base."""
    references = {}
    digest = champion.tags.get(CHECKPOINT_TAG) if champion else None
    if digest and digest != candidate_digest and (entry := cache.load(digest, "champion")) is not None:
        rows = [Attempt.from_dict(row) for unit in entry.values() for row in unit]
        references[f"champion v{champion.version}"] = per_problem_scores(rows, cfg.ks)
    base = _base(cfg, parts)
    if base:
        references[f"base {base}"] = parts[base]
    return references


def promote_best(
    cfg: EvaluateParams,
    best: str | None,
    scores: dict,
    models: dict,
    digests: dict,
    *,
    champion,
    deltas: dict,
    benchmark: str,
    problems: list,
) -> tuple[dict, Outcome]:
    """Register the best candidate (once per checkpoint) and pass it through the promotion gate."""
    if best is None:
        return {"line": "No trained candidate was evaluated; the registry is unchanged."}, Outcome.NO_CANDIDATE
    candidate_score = _promotion_score(scores[best], benchmark)
    version = find_version(models[best], name=cfg.registered_model, digest=digests[best]) or register(
        models[best], best, mlflow.active_run().info.run_id, name=cfg.registered_model
    )
    evidence, base = None, _base(cfg, scores)
    if cfg.promotion_requires_ci:
        reference = f"champion v{champion.version}" if champion else f"base {base}" if base else "a base model"
        evidence = Evidence(reference, deltas.get(reference, {}).get(_promotion_metric(benchmark)))
    decision = promote(
        version,
        candidate_score,
        f"{benchmark}#{_comparable_scores(cfg, problems)[:12]}",
        cfg.promotion_margin,
        name=cfg.registered_model,
        evidence=evidence,
        base_score=_promotion_score(scores[base], benchmark) if base else None,
    )
    mlflow.set_tag("ledex.promotion", decision.reason)
    if decision.alias != CHAMPION:
        outcome = Outcome.NOT_PROMOTED
    elif champion is None:
        outcome = Outcome.FIRST_CHAMPION
    else:
        outcome = Outcome.ALREADY_CHAMPION if str(champion.version) == version else Outcome.PROMOTED
    return {
        "candidate": best,
        "version": version,
        "alias": decision.alias,
        "pass_at_1_explain_refine": candidate_score,
        "reason": decision.reason,
        "line": f"Candidate **{best}** ({cfg.registered_model} v{version}) → **{decision.alias}**: {decision.reason}.",
    }, outcome


def record_kpis(policy_intervals: dict, decision: Decision, policy_checkpoint: str) -> list[dict]:
    """This cycle's KPIs into the history (the week's tasks and the reviewers' flags from their stages'
    metrics, the pinned policy's benchmark scores from here), logged to the cycle's run at its number."""
    kpis = stage_kpis(TASK_KPIS) | stage_kpis(REVIEW_KPIS)
    kpis |= benchmark_kpis(policy_intervals, decision.promotion_benchmark, decision.languages)
    cycle = cycle_run_id()
    pinned = pinned_policy()
    history = record_cycle(KPI_HISTORY, cycle, kpis, policy=pinned.parent if pinned else policy_checkpoint)
    row = next(row for row in history if row["cycle_run_id"] == cycle)
    log_to_pipeline_run(cycle_metrics(row), step=row["cycle"])
    return history


def model_tags(label: str, checkpoint: str, digest: str | None, cached: set[str]) -> dict[str, str]:
    """Tags of an evaluated model's child run."""
    return {
        "ledex.model": label,
        "ledex.checkpoint": checkpoint,
        CHECKPOINT_TAG: digest or "",
        "ledex.evaluation_cache": "hit" if label in cached else "miss",
    }


def _comparable_scores(cfg: EvaluateParams, problems: list) -> str:
    """The registry's benchmark suffix: scores are comparable only under the same problems and sampling."""
    return fingerprint(
        [p.id for p in problems], cfg.n, cfg.temperature, cfg.top_p, cfg.max_new_tokens, cfg.shots, cfg.timeout_s
    )


def _promotion_score(model_scores: dict, benchmark: str) -> float:
    return model_scores["benchmarks"][benchmark][Kind.EXPLAIN_REFINE]["round_1"]["pass_at_1"]


def _promotion_metric(benchmark: str) -> str:
    return metric_name("pass_at_1", benchmark, Kind.EXPLAIN_REFINE)


def _base(cfg: EvaluateParams, labels) -> str | None:
    """The prompted base: the first evaluated model that is not a candidate."""
    return next((label for label in labels if label not in cfg.candidates), None)


def _bootstrap(cfg: EvaluateParams) -> dict:
    return {"resamples": cfg.bootstrap_samples, "seed": cfg.seed}


def _plain(value: object) -> dict:
    """JSON for an `Interval`."""
    return value.to_dict()


def main() -> None:
    params = load_params()
    tracked = {"evaluate": params.evaluate.model_dump(), "generation": params.generation_for("evaluate").model_dump()}
    with stage_run("evaluate", tracked, params.tracking.uri):
        metrics = run(use_policy(params, "evaluate"))
        publish_metrics("evaluate", metrics)
        for artifact in (REPORT, DECISION_CARD, INTERVALS, ROUNDS_PLOT, KPI_TREND_PLOT):
            if artifact.exists():
                mlflow.log_artifact(str(artifact))


if __name__ == "__main__":
    main()
