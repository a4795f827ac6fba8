import ast
from pathlib import Path

import pytest

from ledex.pipeline.config import ConfigError, OpenAIOptions, TransformersOptions, VLLMOptions, load_params

REPO = Path(__file__).resolve().parents[3]


def test_the_repo_params_file_loads():
    params = load_params(REPO / "params.yaml")
    assert params.sandbox.isolation == "bwrap"
    assert params.data.dir == REPO / "../shared/data"


def test_data_dir_resolves_against_the_params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  dir: shared/data\n")
    assert load_params(path).data.dir == tmp_path / "shared/data"


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("sandbox:\n  timeout: 3\n")
    with pytest.raises(ConfigError, match=r"params.yaml: sandbox.timeout: unknown key"):
        load_params(path)


def test_unknown_section_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("sampel:\n  n: 3\n")
    with pytest.raises(ConfigError, match="sampel: unknown key"):
        load_params(path)


def test_bad_value_is_named(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  source: ftp\n")
    with pytest.raises(ConfigError, match=r"data.source: .*'ftp'"):
        load_params(path)


def test_training_precision_defaults_to_auto_and_rejects_float16(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("ppo:\n  precision: bfloat16\n")
    params = load_params(path)
    assert (params.sft.precision, params.ppo.precision, params.reward_fit.reward_model_precision) == (
        "auto",
        "bfloat16",
        "auto",
    )
    path.write_text("sft:\n  precision: float16\n")
    with pytest.raises(ConfigError, match=r"sft.precision: .*'float16'"):
        load_params(path)


def test_malformed_yaml_and_missing_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(path)
    with pytest.raises(ConfigError, match="no such params file"):
        load_params(tmp_path / "absent.yaml")


def test_profile_overlays_its_file_section_by_section(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/big.yaml").write_text("sample:\n  n: 20\n")
    path = tmp_path / "params.yaml"
    path.write_text("profile: big\nsample:\n  n: 4\n  temperature: 0.5\n")
    params = load_params(path)
    assert (params.sample.n, params.sample.temperature) == (20, 0.5)


def test_unknown_profile_lists_the_known_ones(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/paper.yaml").write_text("{}\n")
    path = tmp_path / "params.yaml"
    path.write_text("profile: papr\n")
    with pytest.raises(ConfigError, match="unknown profile 'papr'; known: paper"):
        load_params(path)


def test_the_paper_profile_carries_the_papers_values(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/paper.yaml").write_text((REPO / "profiles/paper.yaml").read_text())
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text().replace('profile: ""', "profile: paper"))
    params = load_params(tmp_path / "params.yaml")
    # 2.1: MBPP train, APPS train and CodeContests (the last two when their files are there)
    assert [(s.name, s.problems, s.if_present) for s in params.data.train] == [
        ("mbpp/train", ":", False),
        ("apps/train", ":", True),
        ("code-contests/train", ":", True),
    ]
    # 4: the four benchmarks, every problem, n=100 at T=0.8, pass@1 and pass@10, three rounds
    assert [s.name for s in params.data.evaluate] == ["humaneval", "mbpp/test", "humaneval-plus", "mbpp-plus/test"]
    assert all(s.problems == ":" for s in params.data.evaluate)
    evaluate = params.evaluate
    assert (evaluate.n, evaluate.temperature, evaluate.top_p, evaluate.ks) == (100, 0.8, 1.0, (1, 10))
    assert (evaluate.max_problems, evaluate.rounds) == (0, 3)
    # 2.1 and A.2: 3-shot n=20 at T=1.0; the teacher's 10 explanations + refinements at T=0.8, every wrong one
    assert (params.sample.shots, params.sample.n, params.sample.temperature) == (3, 20, 1.0)
    refine = params.explain_refine
    assert (refine.explain_refine_samples, refine.temperature, refine.max_wrong_per_problem) == (10, 0.8, 0)
    # the strongest preset as teacher (the paper's is GPT-3.5-Turbo)
    assert params.generation_for("explain_refine").model == "qwen2.5-coder-1.5b-instruct"
    # 2.3: RoBERTa sentence embeddings for S_ex ([21] all-roberta-large-v1)
    assert params.reward_fit.embedding_model == "sentence-transformers/all-roberta-large-v1"
    assert params.reward_fit.projection == "paper"
    assert (params.ppo.prompts, params.ppo.severity_weighting, params.ppo.reward_model_weight) == (
        "with_references",
        False,
        0.0,
    )
    # 3.1: SFT 2 epochs, batch 128, lr 2e-5, 500 warmup, cosine; PPO lr 2e-6, batch 64
    sft = params.sft
    assert (sft.method, sft.epochs, sft.batch_size, sft.learning_rate) == ("full", 2.0, 128, 2e-5)
    assert (sft.warmup_steps, sft.lr_scheduler) == (500, "cosine")
    assert (params.ppo.method, params.ppo.learning_rate, params.ppo.batch_size) == ("full", 2e-6, 64)


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_an_option_of_another_backend_is_named_with_its_backend(tmp_path):
    path = write(tmp_path, "generation:\n  backend: openai\n  options:\n    batch_size: 64\n")
    with pytest.raises(
        ConfigError, match=r"generation.options.batch_size: unknown key for backend openai \(its options: base_url"
    ):
        load_params(path)


def test_a_stage_option_is_checked_against_the_stage_backend(tmp_path):
    path = write(
        tmp_path, "explain_refine:\n  generation:\n    backend: vllm\n    options:\n      max_concurrency: 4\n"
    )
    with pytest.raises(
        ConfigError, match=r"explain_refine.generation.options.max_concurrency: unknown key for backend vllm"
    ):
        load_params(path)


def test_bad_option_values_are_named(tmp_path):
    path = write(tmp_path, "generation:\n  options:\n    batch_size: 0\n")
    with pytest.raises(ConfigError, match=r"generation.options.batch_size: .*greater than or equal to 1"):
        load_params(path)
    path = write(tmp_path, "generation:\n  backend: tgi\n")
    with pytest.raises(ConfigError, match=r"generation: .*'tgi'.*'transformers', 'openvino', 'openai', 'vllm'"):
        load_params(path)


def test_the_top_level_names_no_model(tmp_path):
    with pytest.raises(ConfigError, match=r"generation: the top level serves models.policy"):
        load_params(write(tmp_path, "generation:\n  model: gpt-4o\n"))


def test_a_stage_without_its_own_section_inherits_the_top_level(tmp_path):
    params = load_params(
        write(
            tmp_path,
            "models: {policy: tiny-policy, teacher: tiny-teacher}\n"
            "generation:\n  backend: transformers\n  options: {batch_size: 8, device: cpu}\n"
            "sample:\n  generation:\n    options: {batch_size: 2}\n"  # same backend: merged over the top level's
            "explain_refine:\n  generation:\n"
            "    backend: openai\n    model: served-teacher\n    options: {base_url: 'http://teacher:8000/v1'}\n",
        )
    )
    sample, teacher, evaluate = (params.generation_for(s) for s in ("sample", "explain_refine", "evaluate"))
    assert (sample.backend, sample.model, sample.arguments) == (
        "transformers",
        "tiny-policy",
        {"batch_size": 2, "device": "cpu", "dtype": "auto"},
    )
    assert (teacher.backend, teacher.model, teacher.arguments["base_url"]) == (
        "openai",
        "served-teacher",
        "http://teacher:8000/v1",
    )
    assert (evaluate.backend, evaluate.model, evaluate.arguments["batch_size"]) == ("transformers", "tiny-policy", 8)
    with pytest.raises(ValueError, match="'ppo' has no generation settings"):
        params.generation_for("ppo")


def test_the_teacher_defaults_to_models_teacher(tmp_path):
    params = load_params(write(tmp_path, "models: {policy: p, teacher: t}\n"))
    assert (params.generation_for("explain_refine").model, params.generation_for("sample").model) == ("t", "p")


def test_a_profile_deletes_a_key_with_null(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/remote.yaml").write_text(
        "generation:\n  backend: openai\n  options:\n    batch_size: null\n    max_retries: 1\n"
        "sample:\n  temperature: null\n"
    )
    path = write(
        tmp_path, "profile: remote\ngeneration:\n  options:\n    batch_size: 64\nsample:\n  temperature: 0.2\n"
    )
    params = load_params(path)
    assert params.generation.backend == "openai" and params.generation.arguments["max_retries"] == 1
    assert params.sample.temperature == 1.0  # back to the default


def test_a_profile_switching_backend_brings_its_own_options(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/gpu.yaml").write_text("generation:\n  backend: transformers\n  options:\n    batch_size: 8\n")
    path = write(tmp_path, "profile: gpu\ngeneration:\n  backend: openvino\n  options:\n    weight_format: fp16\n")
    params = load_params(path)
    assert params.generation.backend == "transformers" and params.generation.arguments["batch_size"] == 8


@pytest.mark.parametrize(
    ("module", "cls", "options"),
    [
        ("transformers_backend", "TransformersGenerator", TransformersOptions),
        ("openai_backend", "OpenAIGenerator", OpenAIOptions),
        ("vllm_backend", "VLLMGenerator", VLLMOptions),
    ],
)
def test_backend_options_match_the_constructor(module, cls, options):
    """Read from the source, so vllm need not be installed: same names, same defaults, in order."""
    tree = ast.parse((REPO / "ledex/generation" / f"{module}.py").read_text())
    init = next(
        node
        for klass in tree.body
        if isinstance(klass, ast.ClassDef) and klass.name == cls
        for node in klass.body
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    names = [arg.arg for arg in init.args.args[2:]]  # after self, model
    defaults = [ast.literal_eval(default) for default in init.args.defaults]
    constructor = dict(zip(names, defaults))
    fields = {name: field.default for name, field in options.model_fields.items()}
    if "engine_options" in fields:  # a dict field defaults to {}, its argument to None
        assert constructor.pop("engine_options") is None
        fields.pop("engine_options")
    assert fields == constructor


def test_the_base_policy_cannot_itself_wait_for_an_alias(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("models:\n  policy: models:/ledex-debugger@champion\n  base: models:/ledex-debugger@champion\n")
    with pytest.raises(ConfigError, match=r"models.base: must not depend on an alias"):
        load_params(params)
    params.write_text("models:\n  policy: models:/ledex-debugger@champion\n  base: models:/ledex-debugger/2\n")
    assert load_params(params).models.base == "models:/ledex-debugger/2"
