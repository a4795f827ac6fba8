"""Export a Hugging Face causal LM checkpoint to the OpenVINO IR that OpenVINO GenAI serves, offline.

The model is traced from torch with its KV cache as explicit inputs and outputs, then made
stateful the way `optimum-cli export openvino --task text-generation-with-past` does (a `beam_idx`
reorder and zero-length initial states), which is the form `ContinuousBatchingPipeline` rewrites
into paged attention. We trace ourselves because optimum-intel 2.2 neither installs beside
transformers 5.23 (it caps transformers below 5.6) nor imports with it.

An export is cached under the model cache as `openvino/<checkpoint digest>-<weight format>`,
written in a scratch directory and renamed into place under a file lock, like `convert_preset`.
The tokenizer is converted with openvino_tokenizers (the pipeline's detokenizer finds stop strings).

Supported: decoder-only models whose attention runs through `torch.nn.functional.scaled_dot_product_attention`
with a `DynamicCache` (Qwen2, Llama and their kin); not sliding-window or multimodal models.
"""

from __future__ import annotations

import tempfile
from enum import StrEnum
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import torch
from filelock import FileLock
from openvino._offline_transformations import apply_make_stateful_transformation
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache, PretrainedConfig, PreTrainedModel

from ledex.generation.models import cache_dir
from ledex.pipeline.checkpoint import directory_digest

EXPORT_VERSION = 1  # bump when the exported graph changes, so cached exports are redone
INPUTS = ("input_ids", "attention_mask", "position_ids")


class WeightFormat(StrEnum):
    """How the exported weights are stored: int8 (per-channel asymmetric, via NNCF) is the fastest on CPU."""

    INT8 = "int8"
    FP16 = "fp16"
    FP32 = "fp32"


def openvino_export(checkpoint: Path, weight_format: WeightFormat = WeightFormat.INT8) -> Path:
    """The directory of the OpenVINO export of `checkpoint` in `weight_format`, exported on first use."""
    key = f"{directory_digest(checkpoint)[:32]}-v{EXPORT_VERSION}-{WeightFormat(weight_format)}"
    exported = cache_dir() / "openvino" / key
    exported.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(exported.parent / f".{key}.lock"):
        if not exported.is_dir():
            with tempfile.TemporaryDirectory(prefix=f".{key}.", dir=exported.parent) as scratch:
                staged = Path(scratch) / "export"
                export_checkpoint(checkpoint, staged, WeightFormat(weight_format))
                staged.rename(exported)
    return exported


def export_checkpoint(checkpoint: Path, out: Path, weight_format: WeightFormat) -> None:
    """Write `openvino_model.xml`, the tokenizer and detokenizer IRs and the HF configs to `out`."""
    from openvino_tokenizers import convert_tokenizer

    model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="sdpa").eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    ov_model = stateful(traced(model), model.config)
    if weight_format == WeightFormat.INT8:
        import nncf

        ov_model = nncf.compress_weights(ov_model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    out.mkdir(parents=True)
    ov.save_model(ov_model, out / "openvino_model.xml", compress_to_fp16=weight_format == WeightFormat.FP16)
    ov_tokenizer, ov_detokenizer = convert_tokenizer(tokenizer, with_detokenizer=True)
    ov.save_model(ov_tokenizer, out / "openvino_tokenizer.xml")
    ov.save_model(ov_detokenizer, out / "openvino_detokenizer.xml")
    tokenizer.save_pretrained(out)
    model.config.save_pretrained(out)
    model.generation_config.save_pretrained(out)


def kv_shape(config: PretrainedConfig) -> tuple[int, int]:
    """(KV heads, head size) of one layer's cache."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return config.num_key_value_heads, head_dim


def cache_names(config: PretrainedConfig, prefix: str) -> list[str]:
    return [f"{prefix}.{layer}.{part}" for layer in range(config.num_hidden_layers) for part in ("key", "value")]


class FlatCacheModel(torch.nn.Module):
    """The model with its cache as flat tensors, `(batch, kv_heads, length, head_dim)` per layer's key and value."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past: torch.Tensor) -> tuple[torch.Tensor, ...]:
        cache = DynamicCache(config=self.model.config)
        for index, layer in enumerate(cache.layers):
            layer.lazy_initialization(past[2 * index], past[2 * index + 1])
            layer.keys, layer.values = past[2 * index], past[2 * index + 1]  # not `update`: no concat with empty
        output = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
        )
        present = [tensor for layer in output.past_key_values.layers for tensor in (layer.keys, layer.values)]
        return (output.logits, *present)


@torch.no_grad()
def traced(model: PreTrainedModel) -> ov.Model:
    """The stateless OpenVINO model: inputs `input_ids, attention_mask, position_ids, past_key_values.*`,
    outputs `logits, present.*`. Traced with 3 new tokens after 4 cached ones, so no branch is the one-token path."""
    config = model.config
    kv_heads, head_dim = kv_shape(config)
    batch, new, cached = 2, 3, 4
    example = (
        torch.ones(batch, new, dtype=torch.long),
        torch.ones(batch, cached + new, dtype=torch.long),
        torch.arange(cached, cached + new).repeat(batch, 1),
        *(torch.rand(batch, kv_heads, cached, head_dim) for _ in cache_names(config, "past_key_values")),
    )
    shapes = [ov.PartialShape([-1, -1])] * len(INPUTS)
    shapes += [ov.PartialShape([-1, kv_heads, -1, head_dim])] * (2 * config.num_hidden_layers)
    ov_model = ov.convert_model(FlatCacheModel(model), example_input=example, input=shapes)
    for port, name in zip(ov_model.inputs, [*INPUTS, *cache_names(config, "past_key_values")], strict=True):
        port.get_tensor().set_names({name})
    for port, name in zip(ov_model.outputs, ["logits", *cache_names(config, "present")], strict=True):
        port.get_tensor().set_names({name})
    return ov_model


def stateful(ov_model: ov.Model, config: PretrainedConfig) -> ov.Model:
    """Move the cache into model state: each past tensor is reordered by a new `beam_idx` input, read
    from a variable that starts empty (`(batch, kv_heads, 0, head_dim)`) and written back by its present."""
    beam_idx = ops.parameter([-1], ov.Type.i32, name="beam_idx")
    beam_idx.output(0).get_tensor().set_names({"beam_idx"})
    for name in cache_names(config, "past_key_values"):
        past = ov_model.input(name)
        consumers = list(past.get_target_inputs())
        reordered = ops.gather(past, beam_idx, ops.constant(0))
        for consumer in consumers:
            consumer.replace_source_output(reordered.output(0))
    ov_model.add_parameters([beam_idx])
    pairs = zip(cache_names(config, "past_key_values"), cache_names(config, "present"), strict=True)
    apply_make_stateful_transformation(ov_model, dict(pairs))
    kv_heads, head_dim = kv_shape(config)
    batch = ops.gather(ops.shape_of(ov_model.input("input_ids")), ops.constant([0]), ops.constant(0))
    empty = ops.concat([batch, ops.constant(np.array([kv_heads, 0, head_dim], dtype=np.int64))], 0)
    for op in ov_model.get_ops():
        if op.get_type_name() == "ReadValue":
            op.set_arguments([ops.broadcast(ops.constant(np.float32(0)), empty).output(0)])
    ov_model.validate_nodes_and_infer_types()
    return ov_model
