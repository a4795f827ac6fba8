"""Stage `ppo`: reinforcement learning of the SFT model with separate explanation and code
rewards (paper 2.3, 3 and appendix A.3), with the PPO of `ledex.training.ppo_trainer`.

The prompts are the wrong solutions (`ppo.prompts`: all, or those with verified refinements),
asked to refine and to explain then refine (`ledex.training.online_rewards`). Each step takes the
next `batch_size` of them (a fresh seeded shuffle per pass), generates, scores the answers online
in the sandbox (plus the learned reward model when `reward-fit` trained one), and updates the
policy. Per-step statistics, by prompt kind too, and reward histograms go to MLflow by step.
Every `checkpoint_every` steps the trainable weights, value head, optimizer, RNG and step are
saved to `data/.checkpoints/ppo/`; a killed run resumes from there when its inputs and settings
are unchanged, and starts over otherwise.
Outputs: `models/ppo/` (a plain Hugging Face checkpoint with its tokenizer), `metrics/ppo.json`.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import time
from statistics import fmean

import torch

from ledex.execution.severity import SeverityWeights
from ledex.generation import GenerationRequest, encode_request
from ledex.pipeline.checkpoint import directory_digest, fingerprint, guarded_folder
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.paths import (
    CHECKPOINTS,
    PPO_MODEL,
    PROBLEMS,
    PROJECTION,
    REVIEWED_SEVERITY,
    REWARD_MODEL,
    SFT_MODEL,
    VERIFIED,
    WRONG,
)
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.pipeline.stage_io import progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run
from ledex.training.embeddings import SentenceEncoder
from ledex.training.learned_reward import load_learned_reward
from ledex.training.online_rewards import BatchScorer, OnlineRewarder, read_projection, rl_prompts, select_prompts
from ledex.training.ppo_metrics import coverage, kind_stats, mix_of_prompts
from ledex.training.ppo_trainer import PPOTrainer
from ledex.training.references import References
from ledex.training.reward_plots import plot_step_rewards
from sandbox import Sandbox

TRAINER_CHECKPOINTS = CHECKPOINTS / "ppo"
CHECKPOINT = TRAINER_CHECKPOINTS / "state.pt"
log = logging.getLogger("ledex.ppo")


def step_prompts(count: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Indices of step `step`'s prompts: consecutive slices of pass after pass over all `count`
    prompts, pass p in the order of a shuffle seeded with `seed + p`."""
    positions = range(step * batch_size, (step + 1) * batch_size)
    orders: dict[int, list[int]] = {}
    chosen = []
    for position in positions:
        epoch, offset = divmod(position, count)
        if epoch not in orders:
            orders[epoch] = list(range(count))
            random.Random(seed + epoch).shuffle(orders[epoch])
        chosen.append(orders[epoch][offset])
    return chosen


def run(params: Params) -> dict:
    import mlflow

    cfg = params.ppo
    started = time.perf_counter()
    if not SFT_MODEL.is_dir():
        raise FileNotFoundError(f"{SFT_MODEL}: no SFT checkpoint; run the sft stage first")
    problems = read_problems()
    references = References(read_records(VERIFIED, VerifiedRefinement), problems)
    every = rl_prompts(problems, read_records(WRONG, Execution), WRONG)
    prompts = select_prompts(every, references, cfg.prompts)
    if not prompts:
        raise ValueError(f"ppo.prompts={cfg.prompts}: none of the {len(every)} prompts from {WRONG} qualifies")
    projection, projection_info = read_projection(PROJECTION)
    severity = SeverityWeights.from_params(params.reward_fit, REVIEWED_SEVERITY) if cfg.severity_weighting else None
    learned, learned_info = load_learned_reward(
        REWARD_MODEL, cfg.reward_model_weight, params.reward_fit.reward_model_max_length
    )

    trainer = PPOTrainer(SFT_MODEL, cfg)
    encoded = [encode_request(trainer.tokenizer, GenerationRequest(messages=p.messages)) for p in prompts]
    usable = [i for i, ids in enumerate(encoded) if len(ids) <= cfg.max_prompt_tokens]
    if not usable:
        raise ValueError(
            f"ppo: none of the {len(prompts)} prompts from {WRONG} fits max_prompt_tokens={cfg.max_prompt_tokens}"
        )
    total_steps = cfg.steps or math.ceil(len(usable) / cfg.batch_size)
    prompt_mix = mix_of_prompts([prompts[i] for i in usable], references, severity)
    log.info("ppo: training on %s", prompt_mix)

    inputs = fingerprint(
        PROBLEMS,
        WRONG,
        VERIFIED,
        projection_info,
        learned_info,
        directory_digest(REWARD_MODEL) if learned else None,
        cfg.model_dump(),
        params.sandbox.fingerprint(),
        params.reward_fit.severity_weights,
        params.reward_fit.severity_tiers,
        dict(severity.reviewed) if severity else None,
        directory_digest(SFT_MODEL),
    )
    encoder = SentenceEncoder(projection_info["embedding_model"])
    first_step, history = resume(trainer, inputs, cfg.seed)  # last: nothing draws random numbers before
    with Sandbox(params.sandbox) as sandbox:
        rewarder = OnlineRewarder(
            sandbox, references, projection, encoder, cfg.timeout_s, severity, learned, cfg.reward_model_weight
        )
        for step in progress(range(first_step, total_steps), total_steps, "ppo", initial=first_step):
            batch = [usable[i] for i in step_prompts(len(usable), cfg.batch_size, step, cfg.seed)]
            scorer = BatchScorer(rewarder, [prompts[i] for i in batch])
            stats = trainer.step([encoded[i] for i in batch], scorer) | kind_stats(scorer.rewards)
            mlflow.log_metrics(stats, step=step)
            mlflow.log_figure(plot_step_rewards(scorer.rewards, step), f"ppo/rewards/step_{step:04d}.png")
            history.append(stats)
            done = step + 1
            if done % cfg.checkpoint_every == 0 and done < total_steps:
                trainer.save_state(CHECKPOINT, {"step": done, "history": history})
    trainer.save_pretrained(PPO_MODEL)
    shutil.rmtree(TRAINER_CHECKPOINTS)
    responses = coverage(history)
    log.info("ppo: answers with a non-zero S_cb term and with R(e), by kind: %s", responses)
    return {
        "method": cfg.method,
        "precision": str(trainer.compute_dtype).removeprefix("torch."),
        "prompts": len(usable),
        "prompts_too_long": len(prompts) - len(usable),
        "prompts_left_out_by_selection": len(every) - len(prompts),
        "prompt_mix": prompt_mix,
        "wrong_solutions": len({p.wrong.sample_id for p in prompts}),
        "wrong_solutions_with_verified_refinement": sum(
            references.has_verified(w) for w in {p.wrong.sample_id for p in prompts}
        ),
        "steps": total_steps,
        "resumed_from_step": first_step,
        "projection": projection_info,
        "reward_model": learned_info,
        "responses": responses,  # fractions with a non-zero S_cb term and with R(e)
        "final": {name: round(value, 4) for name, value in history[-1].items()},
        "mean": _means(history),
        "seconds": round(time.perf_counter() - started, 1),
    }


def resume(trainer: PPOTrainer, inputs: str, seed: int) -> tuple[int, list[dict]]:
    """The first step to run and the statistics of the steps before it: from the checkpoint when
    it was made with these inputs and settings; else from scratch, seeded."""
    if guarded_folder(TRAINER_CHECKPOINTS, inputs) and CHECKPOINT.exists():
        saved = trainer.load_state(CHECKPOINT)
        return saved["step"], saved["history"]
    torch.manual_seed(seed)
    return 0, []


def _means(history: list[dict]) -> dict[str, float]:
    """Each statistic's mean over the steps that logged it (R(e) needs an explain+refine prompt)."""
    names = sorted({name for stats in history for name in stats})
    return {name: round(fmean(stats[name] for stats in history if name in stats), 4) for name in names}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params()
    with stage_run("ppo", {"ppo": params.ppo.model_dump()}, params.tracking.uri):
        publish_metrics("ppo", run(params))


if __name__ == "__main__":
    main()
