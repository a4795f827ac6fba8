"""The policy with its value head: V(y_<t, x) is a linear layer on the policy's last hidden state
(paper appendix A.3), so the value shares the policy's trunk, as in TRL.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel


def response_outputs(lm: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_start: int):
    """Logits predicting each response token, and the last hidden state it is predicted from.

    Row i holds a left-padded prompt then the response from column `response_start`. Token t of
    the response is predicted at position t - 1, which is also where the state y_<t ends; the
    position ids count only real tokens, as generation did.
    """
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    kept = input_ids.shape[1] - response_start + 1
    output = lm(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        output_hidden_states=True,
        logits_to_keep=kept,
        use_cache=False,
    )
    return output.logits[:, :-1], output.hidden_states[-1][:, -kept:-1]


class PolicyWithValue(nn.Module):
    """A causal LM (plain or with LoRA adapters) and its value head, trained together."""

    def __init__(self, lm: PreTrainedModel):
        super().__init__()
        self.lm = lm
        self.value_head = nn.Linear(lm.config.hidden_size, 1)
        nn.init.zeros_(self.value_head.weight)  # V = 0 everywhere until the value loss teaches it
        nn.init.zeros_(self.value_head.bias)
        self.value_head.to(device=lm.device, dtype=torch.float32)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_start: int):
        """(logits, values) at the response positions: shapes (B, R, vocab) and (B, R)."""
        logits, hidden = response_outputs(self.lm, input_ids, attention_mask, response_start)
        with torch.autocast(hidden.device.type, enabled=False):  # V in fp32 even under bf16 autocast
            values = self.value_head(hidden.float()).squeeze(-1)
        return logits, values
