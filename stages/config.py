"""The typed view of params.yaml: one section per stage, unknown keys and bad values rejected.

Every stage reads its knobs through `load_params()`; an error names the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sandbox import SandboxConfig

DEFAULT_PARAMS = Path("params.yaml")


class ConfigError(ValueError):
    """params.yaml is missing, malformed, or has an unknown key or a bad value."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemSetSpec(Section):
    """Problems of one benchmark: a split, then a Python slice over it ("0:40", "40:")."""

    benchmark: str
    split: str | None = None
    problems: str = ":"

    @field_validator("problems")
    @classmethod
    def _is_slice(cls, text: str) -> str:
        parts = text.split(":")
        if len(parts) != 2 or not all(part.strip().lstrip("-").isdigit() for part in parts if part.strip()):
            raise ValueError(f"expected a slice like '0:40' or '40:', got {text!r}")
        return text

    def slice(self) -> slice:
        start, stop = (int(part) if part.strip() else None for part in self.problems.split(":"))
        return slice(start, stop)

    @property
    def name(self) -> str:
        return f"{self.benchmark}/{self.split}" if self.split else self.benchmark


class DataParams(Section):
    """Where benchmarks come from (a local directory or the Hugging Face Hub) and which
    problems are trained on and evaluated on."""

    dir: Path = Path("../shared/data")
    source: Literal["local", "hub"] = "local"
    train: tuple[ProblemSetSpec, ...] = ()
    evaluate: tuple[ProblemSetSpec, ...] = ()


class ModelsParams(Section):
    """Model presets (see `stages.models.PRESETS`), checkpoint paths or Hub ids."""

    policy: str = "qwen2.5-coder-0.5b-instruct"
    teacher: str = "qwen2.5-coder-0.5b-instruct"


class GenerationParams(Section):
    """The generation backend and its options (e.g. `base_url` for an OpenAI-compatible server)."""

    backend: Literal["transformers", "openai", "vllm"] = "transformers"
    options: dict[str, Any] = {}


class SampleParams(Section):
    """Step 1: the policy samples `n` solutions per training problem (paper: 3-shot, n=20, T=1.0)."""

    shots: int = Field(3, ge=0, le=3)
    n: int = Field(20, ge=1)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(512, ge=1)
    problems_per_batch: int = Field(8, ge=1)
    seed: int = 0


class ExecuteFilterParams(Section):
    """Step 1: run every sample's tests in the sandbox; keep the wrong ones with their feedback."""

    timeout_s: float = Field(10.0, gt=0)


class ExplainRefineParams(Section):
    """Step 2: the teacher explains and refines each wrong solution (paper: 10 samples, T=0.8)."""

    explain_refine_samples: int = Field(10, ge=1)
    refine_samples: int = Field(0, ge=0)
    temperature: float = Field(0.8, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(768, ge=1)
    max_wrong_per_problem: int = Field(0, ge=0)  # 0: every wrong solution
    wrong_per_batch: int = Field(4, ge=1)
    seed: int = 0


class VerifyParams(Section):
    """Step 2: re-run every refinement; those passing all tests are verified."""

    timeout_s: float = Field(10.0, gt=0)


class TrackingParams(Section):
    uri: str = ""  # empty: MLFLOW_TRACKING_URI, else the embedded SQLite store in the repo


class Params(Section):
    data: DataParams = DataParams()
    sandbox: SandboxConfig = SandboxConfig()
    models: ModelsParams = ModelsParams()
    generation: GenerationParams = GenerationParams()
    tracking: TrackingParams = TrackingParams()
    sample: SampleParams = SampleParams()
    execute_filter: ExecuteFilterParams = ExecuteFilterParams()
    explain_refine: ExplainRefineParams = ExplainRefineParams()
    verify: VerifyParams = VerifyParams()


def load_params(path: Path | str = DEFAULT_PARAMS) -> Params:
    """Read and validate a params file; relative data paths resolve against its directory."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such params file") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of stage names to settings")
    try:
        params = Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{path}: " + "; ".join(_describe(e) for e in err.errors())) from None
    data_dir = params.data.dir if params.data.dir.is_absolute() else path.parent / params.data.dir
    return params.model_copy(update={"data": params.data.model_copy(update={"dir": data_dir})})


def _describe(error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{key}: unknown key"
    return f"{key}: {error['msg']} (got {error.get('input')!r})"
