import torch

from ledex.generation.precision import compute_dtype, cpu_has_fast_bf16


def test_cpu_bf16_is_detected_from_the_cpuinfo_flags(tmp_path):
    with_bf16 = tmp_path / "zen5"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n")
    without = tmp_path / "old"
    without.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu_has_fast_bf16(with_bf16)
    assert not cpu_has_fast_bf16(without)
    assert not cpu_has_fast_bf16(tmp_path / "absent")


def test_an_explicit_precision_is_kept_whatever_the_hardware():
    assert compute_dtype("cpu", "float32") == torch.float32
    assert compute_dtype("cpu", "bfloat16") == torch.bfloat16
    assert compute_dtype("cpu") in (torch.float32, torch.bfloat16)
