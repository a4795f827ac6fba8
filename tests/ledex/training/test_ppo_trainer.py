"""The PPO maths against hand computations, and rewards placed on the right tokens."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from ledex.generation.prompts import explain_refine_answer, fenced
from ledex.generation.response_parsing import parse_answer
from ledex.training.online_rewards import explanation_end
from ledex.training.ppo_trainer import (
    ResponseReward,
    Rollout,
    gae,
    place_rewards,
    ppo_loss,
    token_index,
    token_rewards,
    whiten,
)
from tests.conftest import build_tiny_tokenizer
from tests.ledex.training.test_sft_data import FIXED_CODE

EXPLANATION = "It subtracts instead of adding."


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


def test_gae_matches_a_hand_computation():
    gamma, lam = 0.9, 0.5
    rewards = torch.tensor([[1.0, 0.0, 2.0], [1.0, 2.0, 99.0]])
    values = torch.tensor([[0.5, 1.0, -1.0], [0.5, 1.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # row 2 ends after two tokens
    advantages, returns = gae(rewards, values, mask, gamma, lam)
    # row 1: delta_2 = 2 - (-1) = 3; delta_1 = 0 + 0.9 * -1 - 1 = -1.9; delta_0 = 1 + 0.9 * 1 - 0.5 = 1.4
    #        A_2 = 3; A_1 = -1.9 + 0.45 * 3 = -0.55; A_0 = 1.4 + 0.45 * -0.55 = 1.1525
    # row 2: V = 0 past the end: delta_1 = 2 - 1 = 1; delta_0 = 1.4; A_1 = 1; A_0 = 1.4 + 0.45 = 1.85
    torch.testing.assert_close(advantages, torch.tensor([[1.1525, -0.55, 3.0], [1.85, 1.0, 0.0]]))
    torch.testing.assert_close(returns, torch.tensor([[1.6525, 0.45, 2.0], [2.35, 2.0, 0.0]]))


def test_paper_advantage_is_gae_with_lambda_one():
    """A_t = delta_t + gamma delta_{t+1} + ... (appendix A.3) is GAE with lambda = 1."""
    rewards, values, mask = torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.2, 0.3, 0.4]]), torch.ones(1, 3)
    advantages, _ = gae(rewards, values, mask, gamma=0.99, lam=1.0)
    deltas = [0.0 + 0.99 * 0.3 - 0.2, 0.0 + 0.99 * 0.4 - 0.3, 1.0 - 0.4]
    assert advantages[0, 0].item() == pytest.approx(deltas[0] + 0.99 * deltas[1] + 0.99**2 * deltas[2])


def test_whiten_normalises_only_the_masked_entries():
    values = torch.tensor([[1.0, 2.0, 3.0, 50.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    whitened = whiten(values, mask)
    assert whitened[0, :3].tolist() == pytest.approx([-1.0, 0.0, 1.0], abs=1e-6)  # std of 1, 2, 3 (unbiased) is 1
    assert whitened[0, 3].item() == 0.0


def test_clipped_loss_matches_a_hand_computation():
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    loss, stats = ppo_loss(
        logprobs=torch.tensor([[0.0, -1.0, 5.0]]),
        old_logprobs=torch.tensor([[-0.5, -0.5, -9.0]]),  # ratios e^0.5 = 1.649 and e^-0.5 = 0.607
        advantages=torch.tensor([[1.0, -2.0, 4.0]]),
        values=torch.tensor([[1.0, 0.0, 3.0]]),
        old_values=torch.tensor([[0.5, 0.5, 0.0]]),
        returns=torch.tensor([[2.0, -1.0, 8.0]]),
        mask=mask,
        clip_range=0.2,
        clip_range_value=0.2,
        vf_coef=0.1,
    )
    # policy: max(-1 * 1.649, -1 * 1.2) = -1.2 and max(2 * 0.607, 2 * 0.8) = 1.6 -> mean 0.2
    # value: clipped values 0.7 and 0.3; max((1-2)^2, (0.7-2)^2) = 1.69, max((0+1)^2, (0.3+1)^2) = 1.69 -> 0.5 * 1.69
    assert stats["policy_loss"].item() == pytest.approx(0.2)
    assert stats["value_loss"].item() == pytest.approx(0.845)
    assert loss.item() == pytest.approx(0.2 + 0.1 * 0.845)
    assert stats["clip_fraction"].item() == 1.0 and stats["value_clip_fraction"].item() == 1.0


def test_loss_gradient_vanishes_where_the_ratio_is_clipped():
    logprobs = torch.tensor([[0.0, -0.5]], requires_grad=True)
    loss, _ = ppo_loss(
        logprobs,
        torch.tensor([[-0.5, -0.5]]),
        torch.tensor([[1.0, 1.0]]),
        torch.zeros(1, 2),
        torch.zeros(1, 2),
        torch.zeros(1, 2),
        torch.ones(1, 2),
        clip_range=0.2,
        clip_range_value=0.2,
        vf_coef=0.1,
    )
    loss.backward()
    assert logprobs.grad[0, 0].item() == 0.0  # ratio 1.65 > 1.2 with A > 0: clipped, no push
    assert logprobs.grad[0, 1].item() == pytest.approx(-0.5)  # ratio 1: d(-A r / 2)/d logprob = -0.5


def test_explanation_end_counts_characters_through_the_explanation():
    answer = explain_refine_answer("x", FIXED_CODE, "python")  # "x" also occurs in "Explanation:"
    assert answer[: explanation_end(answer, parse_answer(answer))] == "Explanation: x"
    prose = "The loop stops one short.  "
    assert explanation_end(prose, parse_answer(prose)) == len(prose.rstrip())
    assert explanation_end(fenced(FIXED_CODE, "python"), parse_answer(fenced(FIXED_CODE, "python"))) == 0


def test_explanation_end_maps_to_the_token_that_completes_it(tokenizer):
    answer = explain_refine_answer(EXPLANATION, FIXED_CODE, "python")
    ids = tokenizer(answer).input_ids
    index = token_index(tokenizer, ids, explanation_end(answer, parse_answer(answer)))
    assert EXPLANATION in tokenizer.decode(ids[: index + 1])
    assert EXPLANATION not in tokenizer.decode(ids[:index])
    assert "```" not in tokenizer.decode(ids[: index + 1])


def test_rewards_land_on_the_explanation_end_and_the_last_token_with_kl_elsewhere(tokenizer):
    explained = tokenizer(explain_refine_answer(EXPLANATION, FIXED_CODE, "python")).input_ids + [tokenizer.eos_token_id]
    refined = tokenizer(fenced(FIXED_CODE, "python")).input_ids + [tokenizer.eos_token_id]
    prompt = tokenizer("Fix it.").input_ids
    width = len(explained)
    pad = tokenizer.pad_token_id
    sequences = torch.tensor([prompt + explained, prompt + refined + [pad] * (width - len(refined))])
    response_mask = torch.tensor([[True] * width, [True] * len(refined) + [False] * (width - len(refined))])
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in (explained, refined)]
    rollout = Rollout(sequences, torch.ones_like(sequences), len(prompt), response_mask, texts)
    explanation_token = token_index(tokenizer, explained, explanation_end(texts[0], parse_answer(texts[0])))
    rewards = [
        ResponseReward(code=4.0, explanation=-2.0, explanation_end=explanation_end(texts[0], parse_answer(texts[0]))),
        ResponseReward(code=1.5),
    ]

    placed = place_rewards(tokenizer, rollout, rewards)
    assert placed == [[(width - 1, 4.0), (explanation_token, -2.0)], [(len(refined) - 1, 1.5)]]
    with_model = place_rewards(tokenizer, rollout, [replace(r, learned=0.25) for r in rewards])
    assert with_model == [[(width - 1, 4.25), (explanation_token, -2.0)], [(len(refined) - 1, 1.75)]]

    torch.manual_seed(0)
    logprobs, ref_logprobs = -torch.rand(2, width), -torch.rand(2, width)
    mask = response_mask.float()
    per_token, kl = token_rewards(logprobs, ref_logprobs, mask, kl_coef=0.1, placed=placed)
    expected = -0.1 * (logprobs - ref_logprobs) * mask
    expected[0, explanation_token] += -2.0
    expected[0, width - 1] += 4.0
    expected[1, len(refined) - 1] += 1.5
    assert torch.allclose(per_token, expected)
    assert torch.allclose(kl, (logprobs - ref_logprobs) * mask)
    assert per_token[1, len(refined) :].abs().sum() == 0  # nothing past a response's end
    assert 0 < explanation_token < width - 1
