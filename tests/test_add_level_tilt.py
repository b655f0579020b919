"""tools/add_level_tilt.py: a trained run's network, frozen, with the tilt stages fitted after."""

from __future__ import annotations

import json

import pytest
import torch

from simplechrome.api import _model
from simplechrome.config import RunConfig, RunData, TrainConfig
from simplechrome.experiments.runs import make_run
from tests.conftest import write_expression
from tests.tool_modules import load_tool


@pytest.mark.slow
def test_the_offsets_are_fitted_on_a_run_with_the_drawn_tilt_and_its_tilt_and_network_kept(
    tmp_path, cell_dir, synthetic
):
    """``--offset`` on a run trained with today's default (the drawn tilt): the new run's
    network and tilt are the old run's to the bit, only the offsets are fitted (and written
    in ``level_tilt.json``); the old run's predictions and metrics do not follow it; the old
    run is untouched; an existing output is refused. Copying the old model's predictions (which
    the new model did not make) fails it, and so does running the whole stage again, tilt and
    all (the same tilt comes back, deterministic, but twice the time)."""
    run_dir, out = tmp_path / "ar", tmp_path / "ar-off"
    write_expression(tmp_path / "rpkm.pc", synthetic.expression)
    data = RunData.one_cell(str(cell_dir), task="regression", expression=str(tmp_path / "rpkm.pc"))
    config = RunConfig("autoregressive", {"hidden": 16, "emb": 4, "vocab": 10, "pool": 4},
                       TrainConfig(task="regression", max_epochs=1, progress=False))  # fmt: skip
    make_run(config, data, out=run_dir, analyses=False)  # its analyses are not what is tested
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    tool = load_tool("add_level_tilt")
    fitted = tool.add_tilt(run_dir, out, offset=True)
    written = json.loads((out / "level_tilt.json").read_text())
    assert written["offset_ridge"] == fitted["offset_ridge"]
    old, new = _model(run_dir), _model(out)
    assert not old.hparams.get("drawn_offset") and new.hparams["drawn_offset"]
    assert old.hparams["drawn_tilt"] and new.hparams["drawn_tilt"]
    old_state, new_state = old.module.state_dict(), new.module.state_dict()
    assert set(new_state) - set(old_state) == {"generator.offset"}
    for name, value in old_state.items():
        assert torch.equal(new_state[name], value), name
    assert {"offset_width", "offset_ridge", "offset_valid_before"} <= set(fitted)
    assert "drawn_valid_after" not in fitted  # the tilt was not fitted again
    assert not (out / "predictions.tsv").exists() and not (out / "metrics.json").exists()
    assert (out / "config.yaml").read_bytes() == before["config.yaml"]
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == before
    with pytest.raises(SystemExit, match="already exists"):
        tool.main([str(run_dir), "--out", str(out), "--offset"])
