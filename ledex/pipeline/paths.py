"""Every artifact path of the pipeline, declared once, relative to the project root.

Stages, the review app and the flows import these names; `dvc.yaml` lists the same paths as
deps and outs, and `tests/stages/test_dvc_graph.py` checks that the two agree.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PARAMS = Path("params.yaml")
METRICS = Path("metrics")  # `metrics/<stage>.json`
CHECKPOINTS = Path("data/.checkpoints")  # not a DVC output: survives `dvc repro` clearing outputs
EVALUATION_CACHE = Path("data/.cache/evaluations")  # not a DVC output either: attempts by checkpoint and protocol
KPI_HISTORY = Path("data/.cache/kpi_history.jsonl")  # one row per cycle, kept across cycles (evaluation/kpi_trend)

TASK_INBOX = Path("data/tasks/inbox.jsonl")  # debugging tasks for the next cycle (`data.tasks`; docs/tasks.md)
POLICY = METRICS / "resolve_policy.json"  # resolve-policy's metrics: the pinned policy (ledex.pipeline.policy)
TASK_KPIS = METRICS / "answer_tasks.json"  # answer-tasks' metrics: the week's task KPIs, read by evaluate
REVIEW_KPIS = METRICS / "review_export.json"  # review-export's metrics: the reviewers' flags, read by evaluate

ANSWER_TASKS = Path("data/answer_tasks")  # the pinned policy's answers to the week's tasks: the review items
ANSWERS = ANSWER_TASKS / "answers.jsonl"
ANSWER_PROBLEMS = ANSWER_TASKS / "problems.jsonl"
ANSWER_EXECUTIONS = ANSWER_TASKS / "executions.jsonl"  # each task's buggy code with its verdict

SAMPLE = Path("data/sample")
PROBLEMS = SAMPLE / "problems.jsonl"
SAMPLES = SAMPLE / "samples.jsonl"

EXECUTE_FILTER = Path("data/execute_filter")
EXECUTIONS = EXECUTE_FILTER / "executions.jsonl"
CORRECT = EXECUTE_FILTER / "correct.jsonl"
WRONG = EXECUTE_FILTER / "wrong.jsonl"

EXPLAIN_REFINE = Path("data/explain_refine")
REFINEMENTS = EXPLAIN_REFINE / "refinements.jsonl"

VERIFY = Path("data/verify")
TRAJECTORIES = VERIFY / "trajectories.jsonl"
VERIFIED = VERIFY / "verified.jsonl"

FEEDBACK = Path("data/feedback")  # review-export
PREFERENCES = FEEDBACK / "preferences.jsonl"
DEMONSTRATIONS = FEEDBACK / "demonstrations.jsonl"
REVIEWED_SEVERITY = FEEDBACK / "severity.jsonl"  # the reviewers' tier of each reviewed wrong solution

SFT_MODEL = Path("models/sft")

REWARD_FIT = Path("data/reward_fit")
REWARDS = REWARD_FIT / "rewards.jsonl"
PROJECTION = REWARD_FIT / "projection.json"
REWARD_PLOTS = REWARD_FIT / "plots"
REWARD_MODEL = Path("models/reward_model")

PPO_MODEL = Path("models/ppo")

EVALUATE = Path("data/evaluate")
ATTEMPTS = EVALUATE / "attempts.jsonl"
REPORT = EVALUATE / "report.md"
ROUNDS_PLOT = EVALUATE / "pass_at_k_rounds.png"
DECISION_CARD = EVALUATE / "decision_card.md"  # also the top of REPORT
KPI_TREND_PLOT = EVALUATE / "kpi_trend.png"
INTERVALS = EVALUATE / "intervals.json"  # every score's 95% CI per model, and the candidate's paired deltas
