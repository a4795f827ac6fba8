from pathlib import Path

import pytest

from ledex.pipeline.config import ConfigError, load_params

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


def test_the_paper_profile_loads(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles/paper.yaml").write_text((REPO / "profiles/paper.yaml").read_text())
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text().replace('profile: ""', "profile: paper"))
    params = load_params(tmp_path / "params.yaml")
    assert [spec.name for spec in params.data.train] == ["mbpp/train"]
    assert (params.sample.n, params.sample.temperature, params.explain_refine.explain_refine_samples) == (20, 1.0, 10)
