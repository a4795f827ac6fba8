"""PPO with separate explanation and code rewards (paper appendix A.3), written out plainly.

One step: generate a response per prompt with the policy (sampling, KV cache); score the
responses (the caller's function, run in a thread while the old and reference log-probabilities
and values are computed); build per-token rewards

    R_t = -kl_coef * KL_t                 every token, KL_t = log pi(y_t) - log pi_ref(y_t)
        + R(e)   on the explanation's last token t = |e|
        + R(r)   on the generation's last token t = T
        + w_rm * RM(x, y)  also on t = T (ours: the learned reward model, when there is one)

then GAE advantages (gamma, lambda; whitened) and returns; then `ppo_epochs` passes of
mini-batch updates of the clipped policy loss plus alpha times the clipped value loss.
The reference is the SFT model: a frozen copy (full fine-tuning) or the policy with its LoRA
adapters switched off. The log-prob passes and updates run under bf16 autocast where
`ppo.precision` says so (`ledex.training.mixed_precision`); weights, the value head, log-ratios,
KL and losses stay fp32, and the saved checkpoint is fp32.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

from ledex.generation.models import load_model_and_tokenizer, save_checkpoint
from ledex.pipeline.config import PpoParams
from ledex.training.mixed_precision import autocast, trains_in_bf16
from ledex.training.value_head import PolicyWithValue, response_outputs


@dataclass(frozen=True)
class ResponseReward:
    """The task rewards of one response."""

    code: float  # R(r), placed on the response's last token
    explanation: float | None = None  # R(e); None: no explanation reward (refine-only prompt)
    explanation_end: int = 0  # characters of the response text up to the end of the explanation
    learned: float = 0.0  # the learned reward model's weighted score, also on the last token
    group: str = ""  # the prompt kind, for statistics by kind
    scores: dict[str, float] = field(default_factory=dict)  # components (S_cb, S_ut, ...), logged as means


@dataclass(frozen=True)
class Rollout:
    """Prompts (left-padded) followed by the sampled responses, and which response tokens count."""

    sequences: torch.Tensor  # (B, P + R) token ids
    attention_mask: torch.Tensor  # (B, P + R)
    response_start: int  # P
    response_mask: torch.Tensor  # (B, R) bool: up to and including the first end token
    texts: list[str]  # each response decoded, special tokens left out

    @property
    def lengths(self) -> torch.Tensor:
        return self.response_mask.sum(1)


# ---------------------------------------------------------------- the maths, on plain tensors


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / mask.sum()


def whiten(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance over the masked entries (unbiased variance, as TRL)."""
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask) * mask.sum() / (mask.sum() - 1).clamp(min=1)
    return (values - mean) * torch.rsqrt(variance + 1e-8) * mask


def token_rewards(
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    kl_coef: float,
    placed: Sequence[Sequence[tuple[int, float]]],
) -> tuple[torch.Tensor, torch.Tensor]:
    """R_t of every response token and the per-token KL: -kl_coef * KL_t everywhere, plus each
    row's (position, reward) pairs; zero past a response's end."""
    kl = (logprobs - ref_logprobs) * mask
    rewards = -kl_coef * kl
    for row, pairs in enumerate(placed):
        for position, reward in pairs:
            rewards[row, position] += reward
    return rewards, kl


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages A_t = sum_k (gamma * lam)^k delta_{t+k}, delta_t = R_t + gamma V_{t+1} - V_t
    (V = 0 past the end), and returns A_t + V_t."""
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
    return advantages * mask, (advantages + values) * mask


def ppo_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip_range: float,
    clip_range_value: float,
    vf_coef: float,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped policy loss + vf_coef * clipped value loss, means over the masked tokens."""
    ratio = torch.exp(logprobs - old_logprobs)
    policy_losses = torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - clip_range, 1 + clip_range))
    policy_loss = masked_mean(policy_losses, mask)
    clipped_values = old_values + (values - old_values).clamp(-clip_range_value, clip_range_value)
    value_losses = torch.max((values - returns) ** 2, (clipped_values - returns) ** 2)
    value_loss = 0.5 * masked_mean(value_losses, mask)
    stats = {
        "policy_loss": policy_loss.detach(),
        "value_loss": value_loss.detach(),
        "clip_fraction": masked_mean((ratio - 1).abs().gt(clip_range).float(), mask),
        "value_clip_fraction": masked_mean(((values - returns) ** 2).lt((clipped_values - returns) ** 2).float(), mask),
        "approx_kl": 0.5 * masked_mean((logprobs - old_logprobs).detach() ** 2, mask),
    }
    return policy_loss + vf_coef * value_loss, stats


def selected_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float) -> torch.Tensor:
    return torch.log_softmax(logits.float() / temperature, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    logits = logits.float()
    return torch.logsumexp(logits, -1) - (torch.softmax(logits, -1) * logits).sum(-1)


def token_index(tokenizer, token_ids: Sequence[int], end_char: int) -> int:
    """The token whose decoding completes the first `end_char` characters of the response text
    (decoded incrementally, so the sampled tokens themselves are mapped, not a re-tokenization)."""
    prefix_length = lambda index: len(_decode(tokenizer, token_ids[: index + 1]))  # noqa: E731
    return min(bisect.bisect_left(range(len(token_ids)), end_char, key=prefix_length), len(token_ids) - 1)


def place_rewards(tokenizer, rollout: Rollout, rewards: Sequence[ResponseReward]) -> list[list[tuple[int, float]]]:
    """Each row's task rewards in token space: R(e) on the explanation's last token, R(r) and the
    learned reward on the last."""
    placed = []
    for row, (reward, length) in enumerate(zip(rewards, rollout.lengths.tolist())):
        pairs = [(length - 1, reward.code + reward.learned)]
        if reward.explanation is not None:
            token_ids = rollout.sequences[row, rollout.response_start : rollout.response_start + length].tolist()
            pairs.append((token_index(tokenizer, token_ids, reward.explanation_end), reward.explanation))
        placed.append(pairs)
    return placed


def _decode(tokenizer, token_ids) -> str:
    return tokenizer.decode(token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)


# ---------------------------------------------------------------- the trainer


class PPOTrainer:
    """Policy (+ value head), reference and optimizer for one PPO run from checkpoint `model`."""

    def __init__(self, model: str | Path, cfg: PpoParams):
        self.cfg = cfg
        lm, self.tokenizer = load_model_and_tokenizer(model, dtype=torch.float32)
        self.device = lm.device
        ends = lm.generation_config.eos_token_id
        ends = [ends] if isinstance(ends, int) else list(ends or [])
        self.end_ids = sorted(set(ends) | {self.tokenizer.eos_token_id})
        if cfg.method == "lora":
            lora = LoraConfig(
                r=cfg.lora_r,
                lora_alpha=cfg.lora_alpha,
                lora_dropout=0.0,
                target_modules=cfg.lora_target_modules,
                task_type="CAUSAL_LM",
            )
            lm = get_peft_model(lm, lora)
            self.reference = None  # the policy with its adapters switched off
        else:
            self.reference, _ = load_model_and_tokenizer(model, dtype=torch.float32)
            self.reference.requires_grad_(False)
        self.policy = PolicyWithValue(lm).eval()  # eval: no dropout, so old and new log-probs agree
        self.trainable = [p for p in self.policy.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.trainable, lr=cfg.learning_rate, eps=1e-5)
        self.compute_dtype = torch.bfloat16 if trains_in_bf16(cfg.precision, self.device) else torch.float32

    def _autocast(self):
        return autocast(self.device, self.cfg.precision)

    def _decoding_autocast(self):
        """Autocast for sampling on a GPU only: decoding on a CPU is memory-bound, and autocast there
        would re-cast every fp32 weight to bf16 at each new token."""
        return self._autocast() if self.device.type == "cuda" else nullcontext()

    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]]) -> Rollout:
        batch = self.tokenizer.pad({"input_ids": list(prompts)}, return_tensors="pt").to(self.device)
        with self._decoding_autocast():
            sequences = self.policy.lm.generate(
                **batch,
                do_sample=True,
                temperature=self.cfg.temperature,
                top_k=0,
                top_p=1.0,
                repetition_penalty=1.0,
                max_new_tokens=self.cfg.max_new_tokens,
                eos_token_id=self.end_ids,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        start = batch["input_ids"].shape[1]
        responses = sequences[:, start:]
        is_end = torch.isin(responses, torch.tensor(self.end_ids, device=self.device))
        response_mask = (is_end.cumsum(1) - is_end.long()) == 0  # through the first end token
        lengths = response_mask.sum(1).tolist()
        texts = [_decode(self.tokenizer, row[:n].tolist()) for row, n in zip(responses, lengths)]
        attention_mask = torch.cat([batch["attention_mask"], response_mask.long()], dim=1)
        return Rollout(sequences, attention_mask, start, response_mask, texts)

    def _rows(self, rollout: Rollout, rows) -> tuple[torch.Tensor, torch.Tensor, int, torch.Tensor]:
        """Rows of the rollout without the columns that are padding in all of them."""
        mask = rollout.attention_mask[rows]
        first = int(mask[:, : rollout.response_start].argmax(1).min())
        length = int(rollout.lengths[rows].max())
        end = rollout.response_start + length
        return (
            rollout.sequences[rows, first:end],
            mask[:, first:end],
            rollout.response_start - first,
            rollout.response_mask[rows, :length],
        )

    @torch.no_grad()
    def score_tokens(self, rollout: Rollout) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probs of the sampled tokens under the policy and the reference, and the values."""
        shape = rollout.response_mask.shape
        logprobs, ref_logprobs, values = (torch.zeros(shape, device=self.device) for _ in range(3))
        for start in range(0, shape[0], self.cfg.mini_batch_size):
            rows = torch.arange(start, min(start + self.cfg.mini_batch_size, shape[0]))
            sequences, mask, response_start, _ = self._rows(rollout, rows)
            tokens = sequences[:, response_start:]
            width = tokens.shape[1]
            with self._autocast():
                logits, row_values = self.policy(sequences, mask, response_start)
                logprobs[rows, :width] = selected_logprobs(logits, tokens, self.cfg.temperature)
                values[rows, :width] = row_values.float()
                if self.reference is None:
                    with self.policy.lm.disable_adapter():
                        ref_logits, _ = response_outputs(self.policy.lm, sequences, mask, response_start)
                else:
                    ref_logits, _ = response_outputs(self.reference, sequences, mask, response_start)
                ref_logprobs[rows, :width] = selected_logprobs(ref_logits, tokens, self.cfg.temperature)
        mask = rollout.response_mask.float()
        return logprobs * mask, ref_logprobs * mask, values * mask

    def step(
        self, prompts: Sequence[Sequence[int]], score: Callable[[list[str]], list[ResponseReward]]
    ) -> dict[str, float]:
        """One PPO step on a batch of tokenized prompts; `score` gives each response's task rewards."""
        started = time.perf_counter()
        rollout = self.generate(prompts)
        generated = time.perf_counter()
        with ThreadPoolExecutor(1, thread_name_prefix="rewards") as pool:
            scoring = pool.submit(_timed, score, rollout.texts)
            logprobs, ref_logprobs, values = self.score_tokens(rollout)
            waiting = time.perf_counter()
            rewards, reward_seconds = scoring.result()
            waited = time.perf_counter() - waiting
        mask = rollout.response_mask.float()
        placed = place_rewards(self.tokenizer, rollout, rewards)
        per_token, kl = token_rewards(logprobs, ref_logprobs, mask, self.cfg.kl_coef, placed)
        advantages, returns = gae(per_token, values, mask, self.cfg.gamma, self.cfg.lam)
        advantages = whiten(advantages, mask)
        updating = time.perf_counter()
        update_stats = self.optimize(rollout, logprobs, values, advantages, returns)
        finished = time.perf_counter()
        step_seconds = finished - started
        return {
            **_reward_stats(rewards),
            "kl": float(kl.sum(1).mean()),  # summed over each response, mean over the batch
            "response_tokens": float(rollout.lengths.float().mean()),
            **update_stats,
            "generation_seconds": generated - started,
            "reward_seconds": reward_seconds,
            "reward_wait_seconds": waited,  # how long the scoring outlasted the log-prob passes
            "update_seconds": finished - updating,
            "step_seconds": step_seconds,
            "reward_fraction": reward_seconds / step_seconds,
        }

    def optimize(self, rollout, old_logprobs, old_values, advantages, returns) -> dict[str, float]:
        """`ppo_epochs` shuffled passes of mini-batch updates; the means of their statistics."""
        stats = defaultdict(list)
        count = rollout.sequences.shape[0]
        for _ in range(self.cfg.ppo_epochs):
            order = torch.randperm(count)
            for start in range(0, count, self.cfg.mini_batch_size):
                rows = order[start : start + self.cfg.mini_batch_size]
                sequences, mask, response_start, response_mask = self._rows(rollout, rows)
                tokens = sequences[:, response_start:]
                width = tokens.shape[1]
                with self._autocast():
                    logits, values = self.policy(sequences, mask, response_start)
                    logprobs = selected_logprobs(logits, tokens, self.cfg.temperature)
                loss, step_stats = ppo_loss(
                    logprobs,
                    old_logprobs[rows, :width],
                    advantages[rows, :width],
                    values.float(),
                    old_values[rows, :width],
                    returns[rows, :width],
                    response_mask.float(),
                    self.cfg.clip_range,
                    self.cfg.clip_range_value,
                    self.cfg.vf_coef,
                )
                self.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.trainable, self.cfg.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    step_stats["entropy"] = masked_mean(entropy(logits / self.cfg.temperature), response_mask.float())
                for name, value in step_stats.items():
                    stats[name].append(float(value))
        return {name: sum(values) / len(values) for name, values in stats.items()}

    # ------------------------------------------------------------ checkpoints and output

    def save_state(self, path: Path, extra: dict) -> None:
        """Trainable weights (policy or adapters, value head), optimizer, RNG states and `extra`,
        written to a scratch file and renamed, so a kill never leaves half a checkpoint."""
        state = {
            "trainable": {name: p.detach().cpu() for name, p in self.policy.named_parameters() if p.requires_grad},
            "optimizer": self.optimizer.state_dict(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            "extra": extra,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".partial")
        torch.save(state, scratch)
        scratch.replace(path)

    def load_state(self, path: Path) -> dict:
        """Restore what `save_state` wrote; returns its `extra`."""
        state = torch.load(path, map_location=self.device, weights_only=False)
        result = self.policy.load_state_dict(state["trainable"], strict=False)
        trainable = {name for name, p in self.policy.named_parameters() if p.requires_grad}
        if result.unexpected_keys or trainable - state["trainable"].keys():
            raise ValueError(
                f"{path}: checkpoint does not match the model ({result.unexpected_keys or 'missing weights'})"
            )
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return state["extra"]

    def save_pretrained(self, out: Path) -> None:
        """The policy as a plain checkpoint (LoRA merged in) with its tokenizer, renamed into place."""
        save_checkpoint(self.policy.lm, self.tokenizer, out)


def _timed(function, *args):
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


def _reward_stats(rewards: Sequence[ResponseReward]) -> dict[str, float]:
    """Mean R(r), mean R(e) over the responses that have one, and the mean of each score."""
    explained = [r.explanation for r in rewards if r.explanation is not None]
    stats = {"reward_code": sum(r.code for r in rewards) / len(rewards)}
    if explained:
        stats["reward_explanation"] = sum(explained) / len(explained)
    scores = defaultdict(list)
    for reward in rewards:
        for name, value in reward.scores.items():
            scores[name].append(value)
    return stats | {name: sum(values) / len(values) for name, values in scores.items()}
