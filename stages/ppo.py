"""Stage `ppo`: reinforcement learning of the SFT_MODEL model with separate explanation and code
rewards (paper 2.3, 3 and appendix A.3), with the PPO of `ledex.training.ppo_trainer`.

The prompts are every wrong solution, asked to refine and to explain then refine
(`ledex.training.online_rewards`). Each step takes the next `batch_size` of them (a fresh seeded
shuffle per pass), generates, scores the answers online in the sandbox, and updates the policy.
Per-step statistics go to MLflow by step. Every `checkpoint_every` steps the trainable weights,
value head, optimizer, RNG and step are saved to `data/.checkpoints/ppo/`; a killed run resumes
from there when its inputs and settings are unchanged, and starts over otherwise.
Outputs: `models/ppo/` (a plain Hugging Face checkpoint with its tokenizer), `metrics/ppo.json`.
"""

from __future__ import annotations

import math
import random
import shutil
import time
from functools import partial
from statistics import fmean

import torch

from ledex.execution.severity import SeverityWeights
from ledex.generation import GenerationRequest, encode_request
from ledex.pipeline.checkpoint import directory_digest, fingerprint, guarded_folder
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.paths import CHECKPOINTS, PPO_MODEL, PROBLEMS, PROJECTION, SFT_MODEL, VERIFIED, WRONG
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.pipeline.stage_io import progress, publish_metrics, read_problems, read_records
from ledex.pipeline.tracking import stage_run
from ledex.training.embeddings import SentenceEncoder
from ledex.training.online_rewards import OnlineRewarder, References, read_projection, rl_prompts
from ledex.training.ppo_trainer import PPOTrainer
from sandbox import Sandbox

TRAINER_CHECKPOINTS = CHECKPOINTS / "ppo"
CHECKPOINT = TRAINER_CHECKPOINTS / "state.pt"


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
        raise FileNotFoundError(f"{SFT_MODEL}: no SFT_MODEL checkpoint; run the sft stage first")
    problems = read_problems()
    prompts = rl_prompts(problems, read_records(WRONG, Execution), WRONG)
    verified = read_records(VERIFIED, VerifiedRefinement)
    projection, projection_info = read_projection(PROJECTION)
    severity = SeverityWeights.from_params(params.reward_fit) if cfg.severity_weighting else None

    trainer = PPOTrainer(SFT_MODEL, cfg)
    encoded = [encode_request(trainer.tokenizer, GenerationRequest(messages=p.messages)) for p in prompts]
    usable = [i for i, ids in enumerate(encoded) if len(ids) <= cfg.max_prompt_tokens]
    if not usable:
        raise ValueError(
            f"ppo: none of the {len(prompts)} prompts from {WRONG} fits max_prompt_tokens={cfg.max_prompt_tokens}"
        )
    total_steps = cfg.steps or math.ceil(len(usable) / cfg.batch_size)

    inputs = fingerprint(
        PROBLEMS,
        WRONG,
        VERIFIED,
        projection_info,
        cfg.model_dump(),
        params.sandbox,
        params.reward_fit.severity_weights,
        params.reward_fit.severity_tiers,
        directory_digest(SFT_MODEL),
    )
    encoder = SentenceEncoder(projection_info["embedding_model"])
    references = References(verified, encoder)
    first_step, history = resume(trainer, inputs, cfg.seed)  # last: nothing draws random numbers before
    with Sandbox(params.sandbox) as sandbox:
        rewarder = OnlineRewarder(sandbox, references, projection, encoder, cfg.timeout_s, severity)
        for step in progress(range(first_step, total_steps), total_steps, "ppo", initial=first_step):
            batch = [usable[i] for i in step_prompts(len(usable), cfg.batch_size, step, cfg.seed)]
            stats = trainer.step([encoded[i] for i in batch], partial(rewarder, [prompts[i] for i in batch]))
            mlflow.log_metrics(stats, step=step)
            history.append(stats)
            done = step + 1
            if done % cfg.checkpoint_every == 0 and done < total_steps:
                trainer.save_state(CHECKPOINT, {"step": done, "history": history})
    trainer.save_pretrained(PPO_MODEL)
    shutil.rmtree(TRAINER_CHECKPOINTS)
    return {
        "method": cfg.method,
        "prompts": len(usable),
        "prompts_too_long": len(prompts) - len(usable),
        "wrong_solutions": len({p.wrong.sample_id for p in prompts}),
        "wrong_solutions_with_verified_refinement": len({p.wrong.sample_id for p in prompts} & references.codes.keys()),
        "steps": total_steps,
        "resumed_from_step": first_step,
        "projection": projection_info,
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
    params = load_params()
    with stage_run("ppo", {"ppo": params.ppo.model_dump()}, params.tracking.uri):
        publish_metrics("ppo", run(params))


if __name__ == "__main__":
    main()
