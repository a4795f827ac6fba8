"""A model's evaluation attempts, kept by its checkpoint's digest and the evaluation protocol.

The cache lives outside `data/evaluate` (DVC deletes a stage's outputs before running it), so an
unchanged model (the prompted base, week after week) is not evaluated again, and a champion whose
registered checkpoint digest matches an entry has its per-problem results at hand for a paired
comparison. An entry is one JSON file: the attempts of each unit (`batch-<i>`, problems of every
set in order).

Two evaluations share an entry only when everything that shapes their attempts is equal: the
checkpoint's files, the problems, the sampling settings, the batch layout (each batch's seed
follows from its number), the generation backend and its options, and the sandbox. Entries are
never evicted: the folder grows by one entry per new checkpoint or protocol.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ledex.pipeline.checkpoint import directory_digest, fingerprint
from ledex.pipeline.config import EvaluateParams
from ledex.problems import Problem


def evaluation_protocol(
    cfg: EvaluateParams, generation: dict, sandbox_fingerprint: str, sets: Mapping[str, Sequence[Problem]]
) -> str:
    """The fingerprint of everything but the checkpoint that decides a model's attempts; `generation`
    is the backend's settings without the model."""
    sampling = cfg.model_dump(
        include={"n", "temperature", "top_p", "max_new_tokens", "shots", "rounds", "timeout_s", "seed"}
    )
    return fingerprint(sampling, cfg.problems_per_batch, batch_layout(sets), generation, sandbox_fingerprint)


def batch_layout(sets: Mapping[str, Sequence[Problem]]) -> list[tuple[str, str]]:
    """(set name, problem id) in the order evaluate batches them: set by set, so reordering the sets
    changes which problems share a batch (and its seed)."""
    return [(name, p.id) for name, problems in sets.items() for p in problems]


def checkpoint_digest(checkpoint: str, backend: str) -> str | None:
    """The digest of the files a model generates from: a checkpoint directory, or a preset's converted
    checkpoint; None (not cacheable) for a Hub id, or a preset served by an OpenAI-compatible server."""
    from ledex.generation.models import PRESETS, resolve_model

    if Path(checkpoint).is_dir():
        return directory_digest(checkpoint)
    if checkpoint in PRESETS and backend != "openai":
        return directory_digest(resolve_model(checkpoint))
    return None


class AttemptCache:
    """Entries of one evaluation protocol in `folder`."""

    def __init__(self, folder: Path, protocol: str):
        self.folder = folder
        self.protocol = protocol

    def load(self, digest: str, label: str) -> dict[str, list[dict]] | None:
        """{unit: attempt rows} of the checkpoint, labelled `label`, or None when it was not evaluated."""
        path = self._entry(digest)
        if not path.exists():
            return None
        units = json.loads(path.read_text())
        return {unit: [row | {"model": label} for row in rows] for unit, rows in units.items()}

    def store(self, digest: str, units: Mapping[str, list[dict]]) -> None:
        """Keep the checkpoint's attempts, replacing the file in one step (a kill leaves no torn entry)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._entry(digest)
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(units))
        os.replace(partial, path)

    def _entry(self, digest: str) -> Path:
        return self.folder / f"{fingerprint(digest, self.protocol)[:32]}.json"
