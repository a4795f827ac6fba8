"""The evaluation's decision card ("is this week's model better?") as a Prefect markdown artifact
of the cycle's flow run, under the key `decision-card`; `stages/evaluate.py` writes the card."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from ledex.pipeline.paths import DECISION_CARD

EVALUATE_STAGE = "evaluate"  # the stage after which the card is published
KEY = "decision-card"


def publish_decision_card(root: Path) -> UUID | None:
    """The artifact's id, or None when the project has no decision card (yet)."""
    from prefect.artifacts import create_markdown_artifact

    card = root / DECISION_CARD
    if not card.exists():
        return None
    return create_markdown_artifact(markdown=card.read_text(), key=KEY, description="is this week's model better?")
