from __future__ import annotations

import pytest

from simplechrome.config import RunConfig, TrainConfig, load_run_config
from simplechrome.errors import ConfigError


def test_strict_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: mlp\nmodel_params: {hidden: [32]}\ntrain: {max_epochs: 3, lr: 0.01}\n")
    cfg = load_run_config(path)
    assert cfg == RunConfig("mlp", {"hidden": [32]}, TrainConfig(max_epochs=3, lr=0.01))
    path.write_text("model: mlp\ntrain: {max_epoch: 3}\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) max_epoch"):
        load_run_config(path)
    path.write_text("modle: mlp\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_run_config(path)


def test_overrides_and_types():
    cfg = load_run_config(None, ["train.batch_size=64", "model=linear", "model_params.pooling=max"])
    assert cfg.train.batch_size == 64 and cfg.model_params == {"pooling": "max"}
    with pytest.raises(ConfigError, match="expected an integer"):
        load_run_config(None, ["train.batch_size=many"])
    with pytest.raises(ConfigError, match="task must be"):
        load_run_config(None, ["train.task=ranking"])
    with pytest.raises(ConfigError, match="key=value"):
        load_run_config(None, ["train.lr"])
