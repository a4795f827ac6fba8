"""The learned reward model in the PPO loop (seed 000: "the reward model in a Proximal Policy
Optimization loop").

`reward-fit` trains a one-logit sequence classifier on expert preferences
(`ledex.training.reward_model`) into `models/reward_model`, whose `status.json` says whether it
did. Here an answer is scored as TRL's RewardTrainer saw a pair's side: the prompt text (as
`review-export` wrote it) and the answer, as a chat when the tokenizer has a template, else
concatenated and ended with EOS; the score is the logit at the answer's last token. Too long an
input keeps its end (the answer), not its start.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("ledex.ppo")


def prompt_text(messages: list[dict]) -> str:
    """The chat before the answer as one text (the reward model's prompt): task, wrong code, request."""
    return "\n\n".join(message["content"] for message in messages if message["role"] != "system")


def reward_model_status(directory: Path) -> dict:
    """What `reward-fit` wrote in `directory/status.json`, or why there is nothing to read."""
    status = directory / "status.json"
    if not status.exists():
        return {"status": "absent", "reason": f"no {status}"}
    return json.loads(status.read_text())


class LearnedReward:
    """Scores (prompt messages, answer) pairs with the trained reward model in `directory`."""

    def __init__(self, directory: Path, max_length: int):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(directory)
        self.model = AutoModelForSequenceClassification.from_pretrained(directory, dtype=torch.float32).eval()
        self.max_length = max_length

    def input_ids(self, messages: list[dict], answer: str) -> list[int]:
        prompt = prompt_text(messages)
        if self.tokenizer.chat_template is not None:
            chat = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
            ids = self.tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"]
        else:
            text = prompt + answer
            eos = self.tokenizer.eos_token or ""
            ids = self.tokenizer(text if text.endswith(eos) else text + eos)["input_ids"]
        return list(ids)[-self.max_length :]

    def __call__(self, prompts: Sequence[list[dict]], answers: Sequence[str]) -> list[float]:
        import torch

        scores = []
        with torch.no_grad():
            for messages, answer in zip(prompts, answers):
                ids = torch.tensor([self.input_ids(messages, answer)], device=self.model.device)
                scores.append(float(self.model(input_ids=ids).logits[0, 0]))
        return scores


def load_learned_reward(directory: Path, weight: float, max_length: int) -> tuple[LearnedReward | None, dict]:
    """The reward model and what the metrics say of it: its term weight 0 when there is none, saying why."""
    status = reward_model_status(directory)
    if status.get("status") != "trained":
        reason = status.get("reason", f"status {status.get('status')!r}")
        log.info("ppo: no learned reward model (%s); its reward term has weight 0", reason)
        return None, {"used": False, "weight": 0.0, "reason": reason}
    if weight == 0:
        log.info("ppo: ppo.reward_model_weight is 0; the learned reward model is not scored")
        return None, {"used": False, "weight": 0.0, "reason": "ppo.reward_model_weight is 0"}
    log.info("ppo: learned reward model %s in the loop, weight %s", directory, weight)
    return LearnedReward(directory, max_length), {"used": True, "weight": weight, "base": status.get("base")}
