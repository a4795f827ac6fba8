"""Label Studio's JSON task format, both ways, for teams that already label there.

A task's `data` holds the item (the refinement and its context, `ledex_id` its id); each
annotation's `result` holds one reviewer's judgment as Label Studio controls name them in
`labeling_config`: Rating `correctness`, `clarity`, `usefulness` (1-5); Choices `vote` (up, none,
down), `hallucination` and `severity`; TextArea `corrected_explanation`, `corrected_code`.
`completed_by.email` names the reviewer. Imported reviewers get accounts without a password:
their judgments count, but they cannot sign in until `ledex review add-reviewer` sets one.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from review.db import GRADES, HALLUCINATIONS, VOTES, Item, Judgment, Reviewer

ITEM_FIELDS = (
    "problem_id",
    "sample_id",
    "kind",
    "language",
    "task",
    "wrong_code",
    "feedback",
    "severity",
    "explanation",
    "code",
    "answer",
    "passed",
    "status",
    "pass_rate",
    "messages",
)
TEXTS = ("corrected_explanation", "corrected_code")
VOTE_BY_LABEL = {label: value for value, label in VOTES.items()}
TO_NAME = "answer"


class LabelStudioError(ValueError):
    """A task or annotation that does not follow the format, named by its position in the file."""


def labeling_config(tiers: list[str]) -> str:
    """The Label Studio labeling interface whose results this module reads and writes."""

    def choices(name: str, values) -> str:
        options = "".join(f"<Choice value={quoteattr(value)}/>" for value in values)
        return f'  <Choices name="{name}" toName="{TO_NAME}" choice="single">{options}</Choices>\n'

    ratings = "".join(
        f'  <Rating name="{grade}" toName="{TO_NAME}" maxRating="5" required="true"/>\n' for grade in GRADES
    )
    texts = "".join(f'  <TextArea name="{name}" toName="{TO_NAME}" maxSubmissions="1"/>\n' for name in TEXTS)
    return (
        '<View>\n  <Header value="$problem_id"/>\n  <Text name="task" value="$task"/>\n'
        '  <Text name="wrong_code" value="$wrong_code"/>\n  <Text name="feedback" value="$feedback"/>\n'
        f'  <Text name="{TO_NAME}" value="$answer"/>\n  <Text name="status" value="$status"/>\n'
        + ratings
        + choices("vote", VOTE_BY_LABEL)
        + choices("hallucination", HALLUCINATIONS)
        + choices("severity", tiers)
        + texts
        + "</View>\n"
    )


def export_tasks(session: Session) -> list[dict]:
    """Every item as a task, with each reviewer's current judgment as an annotation."""
    items = session.scalars(
        select(Item).options(selectinload(Item.judgments).selectinload(Judgment.reviewer)).order_by(Item.id)
    )
    tasks = []
    for number, item in enumerate(items, start=1):
        current: dict[int, Judgment] = {}
        for judgment in item.judgments:  # ordered by id: the newest wins
            current[judgment.reviewer_id] = judgment
        data = {"ledex_id": item.id, **{field: getattr(item, field) for field in ITEM_FIELDS}}
        tasks.append({"id": number, "data": data, "annotations": [_annotation(j) for j in current.values()]})
    return tasks


def _annotation(judgment: Judgment) -> dict:
    result = [_result(grade, "rating", {"rating": getattr(judgment, grade)}) for grade in GRADES]
    result.append(_result("vote", "choices", {"choices": [VOTES[judgment.vote]]}))
    result.append(_result("severity", "choices", {"choices": [judgment.severity]}))
    if judgment.hallucination:
        result.append(_result("hallucination", "choices", {"choices": [judgment.hallucination]}))
    for name in TEXTS:
        if getattr(judgment, name):
            result.append(_result(name, "textarea", {"text": [getattr(judgment, name)]}))
    return {
        "id": judgment.id,
        "completed_by": {"email": judgment.reviewer.name},
        "created_at": judgment.created_at.isoformat() + "Z",
        "result": result,
    }


def _result(name: str, kind: str, value: dict) -> dict:
    return {"from_name": name, "to_name": TO_NAME, "type": kind, "value": value}


def import_tasks(session: Session, tasks: list, tiers: list[str]) -> dict:
    """Add the tasks' items that are new and their annotations as judgments; counts of each.

    An annotation equal to its reviewer's current judgment of the item is skipped, so importing
    the same file twice adds nothing.
    """
    if not isinstance(tasks, list):
        raise LabelStudioError("expected a JSON list of Label Studio tasks")
    counts = {"items": 0, "judgments": 0, "unchanged": 0}
    for number, task in enumerate(tasks, start=1):
        where = f"task {number}"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("ledex_id"), str):
            raise LabelStudioError(f"{where}: no data.ledex_id")
        item = session.get(Item, data["ledex_id"])
        if item is None:
            missing = [field for field in ITEM_FIELDS if field not in data]
            if missing:
                raise LabelStudioError(f"{where}: new item {data['ledex_id']} lacks data field(s) {', '.join(missing)}")
            item = Item(id=data["ledex_id"], **{field: data[field] for field in ITEM_FIELDS})
            session.add(item)
            counts["items"] += 1
        for index, annotation in enumerate(task.get("annotations") or [], start=1):
            if annotation.get("was_cancelled"):
                continue
            fields = _judgment_fields(annotation, item, tiers, f"{where}, annotation {index}")
            reviewer = _reviewer(session, annotation, f"{where}, annotation {index}")
            latest = session.scalar(
                select(Judgment)
                .where(Judgment.item_id == item.id, Judgment.reviewer_id == reviewer.id)
                .order_by(Judgment.id.desc())
                .limit(1)
            )
            if latest is not None and all(getattr(latest, key) == value for key, value in fields.items()):
                counts["unchanged"] += 1
                continue
            session.add(Judgment(item_id=item.id, reviewer_id=reviewer.id, **fields))
            session.flush()
            counts["judgments"] += 1
    return counts


def _judgment_fields(annotation: dict, item: Item, tiers: list[str], where: str) -> dict:
    values = {}
    for result in annotation.get("result") or []:
        value = result.get("value", {})
        name = result.get("from_name")
        if name in GRADES:
            values[name] = value.get("rating")
        elif name in ("vote", "hallucination", "severity"):
            values[name] = (value.get("choices") or [""])[0]
        elif name in TEXTS:
            values[name] = "\n".join(value.get("text") or [])
    missing = [grade for grade in GRADES if not isinstance(values.get(grade), int) or not 1 <= values[grade] <= 5]
    if missing:
        raise LabelStudioError(f"{where}: no 1-5 rating for {', '.join(missing)}")
    vote = values.get("vote") or "none"
    hallucination = values.get("hallucination", "")
    severity = values.get("severity") or item.severity
    if vote not in VOTE_BY_LABEL:
        raise LabelStudioError(f"{where}: unknown vote {vote!r}; known: {', '.join(VOTE_BY_LABEL)}")
    if hallucination and hallucination not in HALLUCINATIONS:
        raise LabelStudioError(f"{where}: unknown hallucination {hallucination!r}; known: {', '.join(HALLUCINATIONS)}")
    if severity not in tiers:
        raise LabelStudioError(f"{where}: unknown severity {severity!r}; known: {', '.join(tiers)}")
    return {
        **{grade: values[grade] for grade in GRADES},
        "vote": VOTE_BY_LABEL[vote],
        "hallucination": hallucination,
        "severity": severity,
        **{name: values.get(name, "") for name in TEXTS},
    }


def _reviewer(session: Session, annotation: dict, where: str) -> Reviewer:
    author = annotation.get("completed_by")
    name = author.get("email") if isinstance(author, dict) else None
    if isinstance(author, int):
        name = f"label-studio-user-{author}"  # Label Studio's own export names users by id only
    if not name:
        raise LabelStudioError(f"{where}: no completed_by reviewer")
    reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name))
    if reviewer is None:
        reviewer = Reviewer(name=name, password_hash=None)
        session.add(reviewer)
        session.flush()
    return reviewer


def read_tasks(path: Path) -> list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise LabelStudioError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None
