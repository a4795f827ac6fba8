"""The shipped accelerate configs (configs/accelerate/) parse with accelerate's own loader."""

from pathlib import Path

import pytest
from accelerate.commands.config.config_args import load_config_from_file
from accelerate.utils import DistributedType

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "accelerate"


@pytest.mark.parametrize(
    ("name", "distributed_type", "section", "expected"),
    [
        (
            "deepspeed_zero3.yaml",
            DistributedType.DEEPSPEED,
            "deepspeed_config",
            {"zero_stage": 3, "zero3_init_flag": True},
        ),
        (
            "fsdp.yaml",
            DistributedType.FSDP,
            "fsdp_config",
            {"fsdp_version": 2, "fsdp_state_dict_type": "FULL_STATE_DICT"},
        ),
    ],
)
def test_config_loads_as_accelerate_reads_it(name, distributed_type, section, expected):
    config = load_config_from_file(str(CONFIGS / name))  # unknown keys are an error there
    assert config.distributed_type == distributed_type
    assert (config.num_processes, config.mixed_precision, config.use_cpu) == (8, "bf16", False)
    assert expected.items() <= getattr(config, section).items()
