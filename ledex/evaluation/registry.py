"""The MLflow model registry: trained debuggers as versions of one registered model, and promotion.

A version is an MLflow pyfunc model: the Hugging Face checkpoint as an artifact and
`DebuggerModel`, which answers debugging requests (problem, wrong code, execution feedback,
language) with an explanation and fixed code, prompted as in training (explain, then refine).
`mlflow.pyfunc.load_model("models:/ledex-debugger@champion")` and `mlflow models serve` both
work on it; the `ledex` package travels with the model, so serving needs only the libraries:

    export MLFLOW_TRACKING_URI=sqlite:///mlflow.db PATH=.venv/bin:$PATH  # MLflow runs uvicorn by name
    mlflow models serve -m models:/ledex-debugger@champion --env-manager local -p 5001
    curl localhost:5001/invocations -H 'Content-Type: application/json' -d '{"dataframe_records":
        [{"problem": "...", "code": "...", "feedback": "..."}], "params": {"max_new_tokens": 512}}'

Versions registered before the helpers moved from `stages/` to `ledex/` carry that old `stages`
package as their code and still load in a fresh process (serving, `load_model`; checked by hand
on a version registered with the old layout). A process that already imported today's `stages`
cannot unpickle them: register the version's checkpoint artifact again with `register`.

Promotion: the candidate takes the alias `champion` only when its pass@1 (Expl. + Refine) beats
the champion's, measured on the same benchmark, by more than a margin (the margin rule) and, when
asked, when the 95% CI of its paired delta excludes zero (the CI rule, `promotion_gate`);
otherwise it is the `challenger`. The reason, naming the rule that decided, is kept as a tag on
the version.

Lineage: a version also records the policy it was trained from and its cycle, as tags
(`ledex.pipeline.lineage`).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

from ledex.evaluation.promotion_gate import Evidence, confidence_rule
from ledex.generation.registered_models import CHECKPOINT_ARTIFACT
from ledex.pipeline.checkpoint import directory_digest
from ledex.pipeline.lineage import version_lineage

DEFAULT_REGISTERED_MODEL = "ledex-debugger"
CHAMPION, CHALLENGER = "champion", "challenger"
STAGE_TAG = "ledex.stage"
CHECKPOINT_TAG = "ledex.checkpoint_sha256"
BENCHMARK_TAG = "ledex.benchmark"
SCORE_TAG = "ledex.pass_at_1_explain_refine"
PROMOTION_TAG = "ledex.promotion"

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # `ledex`, shipped with every version
LANGUAGES = ("python", "java", "cpp", "js")
SIGNATURE = ModelSignature(
    inputs=Schema(
        [
            ColSpec("string", "problem"),
            ColSpec("string", "code"),
            ColSpec("string", "feedback"),  # the error message, or the failed test with expected vs actual
            ColSpec("string", "language", required=False),  # python (default), java, cpp, js
        ]
    ),
    outputs=Schema([ColSpec("string", "explanation"), ColSpec("string", "code"), ColSpec("string", "answer")]),
    params=ParamSchema(
        [
            ParamSpec("max_new_tokens", "long", 512),
            ParamSpec("temperature", "double", 0.0),  # 0: greedy
            ParamSpec("seed", "long", 0),
        ]
    ),
)


class DebuggerModel(mlflow.pyfunc.PythonModel):
    """Explains and fixes wrong code with the checkpoint in the `checkpoint` artifact."""

    def load_context(self, context) -> None:
        from ledex.generation.transformers_backend import TransformersGenerator

        self.generator = TransformersGenerator(context.artifacts[CHECKPOINT_ARTIFACT])

    def predict(self, context, model_input, params=None) -> pd.DataFrame:
        from ledex.generation import GenerationRequest, SamplingParams
        from ledex.generation.prompts import refine_messages
        from ledex.generation.response_parsing import parse_answer

        settings = {spec.name: spec.default for spec in SIGNATURE.params.params} | (params or {})
        rows = pd.DataFrame(model_input).to_dict("records")
        problems = [_request_problem(row, number) for number, row in enumerate(rows)]
        requests = [
            GenerationRequest(messages=refine_messages(problem, row["code"], row["feedback"], explain=True))
            for problem, row in zip(problems, rows)
        ]
        sampling = SamplingParams(
            n=1,
            temperature=float(settings["temperature"]),
            max_new_tokens=int(settings["max_new_tokens"]),
            seed=int(settings["seed"]),
        )
        answers = [texts[0] for texts in self.generator.generate(requests, sampling)]
        parsed = [parse_answer(answer, problem.language) for answer, problem in zip(answers, problems)]
        return pd.DataFrame(
            [{"explanation": p.explanation, "code": p.code or "", "answer": a} for p, a in zip(parsed, answers)],
            columns=["explanation", "code", "answer"],
        )


def _request_problem(row: dict, number: int):
    from ledex.problems import Problem

    language = row.get("language")
    language = "python" if language is None or language != language else language  # absent or NaN
    if language not in LANGUAGES:
        raise ValueError(f"request {number}: language {language!r} is not one of {', '.join(LANGUAGES)}")
    for field in ("problem", "code", "feedback"):
        if not isinstance(row.get(field), str):
            raise ValueError(f"request {number}: {field!r} must be a string")
    return Problem(
        id=f"request-{number}",
        benchmark="request",
        language=language,
        prompt=row["problem"],
        entry_point=None,
        test_program="",
        completion_style=False,
    )


def register(model_dir: Path | str, stage_name: str, run_id: str, *, name: str = DEFAULT_REGISTERED_MODEL) -> str:
    """Log the checkpoint as a pyfunc model in run `run_id` and register it as a new version of
    `name`, tagged with its lineage (`ledex.pipeline.lineage`); returns the version."""
    digest = directory_digest(model_dir)
    active = mlflow.active_run()
    with nullcontext() if active and active.info.run_id == run_id else mlflow.start_run(run_id=run_id):
        info = mlflow.pyfunc.log_model(
            name=f"{stage_name}-debugger",
            python_model=DebuggerModel(),
            artifacts={CHECKPOINT_ARTIFACT: str(model_dir)},
            code_paths=[str(PACKAGE_DIR)],
            signature=SIGNATURE,
            pip_requirements=[
                f"{package}=={metadata.version(package)}" for package in ("mlflow", "torch", "transformers", "pandas")
            ],
            registered_model_name=name,
        )
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_model_version_tag(name, version, STAGE_TAG, stage_name)
    client.set_model_version_tag(name, version, CHECKPOINT_TAG, digest)
    for key, value in version_lineage(client, run_id).items():
        client.set_model_version_tag(name, version, key, value)
    return version


def find_version(
    model_dir: Path | str, *, name: str = DEFAULT_REGISTERED_MODEL, digest: str | None = None
) -> str | None:
    """The version of `name` holding exactly this checkpoint, if one was registered."""
    digest = digest or directory_digest(model_dir)
    versions = MlflowClient().search_model_versions(f"name = '{name}'")
    matching = [int(v.version) for v in versions if v.tags.get(CHECKPOINT_TAG) == digest]
    return str(max(matching)) if matching else None


@dataclass(frozen=True)
class Promotion:
    version: str
    alias: str  # champion | challenger
    reason: str


def promote(
    version: str,
    score: float,
    benchmark: str,
    margin: float,
    *,
    name: str = DEFAULT_REGISTERED_MODEL,
    evidence: Evidence | None = None,
    base_score: float | None = None,
) -> Promotion:
    """Give `version` the alias champion when its `score` on `benchmark` beats the champion's by
    more than `margin` (and, given `evidence`, the confidence rule of `promotion_gate` agrees), else
    challenger. With no champion yet, the first one must score at least `base_score` (the prompted
    base's, when it was evaluated): a trained model worse than the base it came from is never served.
    The scores and the reason, naming the rule that decided, become tags of the version."""
    client = MlflowClient()
    client.set_model_version_tag(name, version, BENCHMARK_TAG, benchmark)
    client.set_model_version_tag(name, version, SCORE_TAG, f"{score:.4f}")
    champion = _aliased(client, name, CHAMPION)
    if champion is None and base_score is not None and score < base_score:
        alias = CHALLENGER
        reason = (
            f"base rule: v{version}'s pass@1 Expl.+Refine {score:.4f} on {benchmark} is below the prompted "
            f"base's {base_score:.4f}; no champion yet, the base stays the policy"
        )
    elif champion is None:
        alias, reason = CHAMPION, f"v{version} is the first champion (pass@1 Expl.+Refine {score:.4f} on {benchmark})"
    elif str(champion.version) == version:
        alias, reason = CHAMPION, f"v{version} is the champion already (pass@1 Expl.+Refine {score:.4f} on {benchmark})"
    elif champion.tags.get(BENCHMARK_TAG) != benchmark or SCORE_TAG not in champion.tags:
        alias = CHALLENGER
        reason = (
            f"v{version} cannot be compared with champion v{champion.version}: the champion was scored on "
            f"{champion.tags.get(BENCHMARK_TAG, 'no benchmark')}, the candidate on {benchmark}"
        )
    else:
        best = float(champion.tags[SCORE_TAG])
        beats = score > best + margin
        alias = CHAMPION if beats else CHALLENGER
        reason = (
            f"margin rule: v{version}'s pass@1 Expl.+Refine {score:.4f} on {benchmark} "
            f"{'beats' if beats else 'does not beat'} champion v{champion.version}'s {best:.4f} "
            f"by more than the margin {margin}"
        )
    already = champion is not None and str(champion.version) == version
    if evidence is not None and alias == CHAMPION and not already:
        promoted, reason = confidence_rule(evidence, reason)
        alias = CHAMPION if promoted else CHALLENGER
    if alias == CHAMPION:
        challenger = _aliased(client, name, CHALLENGER)
        if challenger is not None and str(challenger.version) == version:
            client.delete_registered_model_alias(name, CHALLENGER)
    client.set_registered_model_alias(name, alias, version)
    client.set_model_version_tag(name, version, PROMOTION_TAG, reason)
    return Promotion(version, alias, reason)


def current_champion(name: str = DEFAULT_REGISTERED_MODEL):
    """The version holding the alias champion (with its tags, `CHECKPOINT_TAG` among them), or None."""
    return _aliased(MlflowClient(), name, CHAMPION)


def describe_version(version: str, description: str, *, name: str = DEFAULT_REGISTERED_MODEL) -> None:
    """Set the version's description, shown on its page in the registry (e.g. the decision card)."""
    MlflowClient().update_model_version(name, version, description=description)


def _aliased(client: MlflowClient, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
