from pathlib import Path

import pytest

from stages.config import ConfigError, load_params

REPO = Path(__file__).resolve().parents[2]


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
