from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from simplechrome import models
from simplechrome.config import RunConfig, RunData, TrainConfig
from simplechrome.data import compendium, make_synthetic
from simplechrome.errors import InputError, ModelMismatchError, RunError
from simplechrome.train import (
    TrainedModel,
    fit,
    load_run,
    read_run_config,
    resolve_config,
    save_run,
)
from simplechrome.train.transform import InputTransform

FAST = TrainConfig(max_epochs=4, patience=2, progress=False)


SUPERVISED = [n for n in models.names() if models.get(n).predicts]  # not the generators


def splits_for(name: str, synthetic) -> dict:
    """The synthetic splits, with compendium profile channels for models that read them: 20
    other "cells" whose log2(RPKM + 1) follows this cell's labels, with noise."""
    if models.get(name).inputs != "compendium":
        return synthetic.splits
    rng = np.random.default_rng(0)
    out = {}
    for part, d in synthetic.splits.items():
        noisy = 2.0 * np.asarray(d.y)[:, None] + rng.normal(0, 1.5, (d.n_genes, 20))
        other = np.log2(1.0 + np.exp(noisy))
        feats = np.column_stack([other.mean(1), other.std(1), np.median(other, 1)])
        out[part] = compendium.with_channels(d, feats, compendium.PROFILE)
    return out


@pytest.mark.parametrize("name", SUPERVISED)
def test_every_model_trains_and_beats_chance(synthetic, name):
    s = splits_for(name, synthetic)
    trained = fit(name, s["train"], s["valid"], config=FAST)
    assert trained.evaluate(s["test"])["auroc"] > 0.8


def test_a_compendium_model_refuses_a_cell_without_the_compendium(synthetic):
    s = synthetic.splits
    with pytest.raises(InputError, match="reads the compendium"):
        fit("prior", s["train"], s["valid"], config=FAST)


@pytest.mark.parametrize("name", SUPERVISED)
def test_save_load_round_trip(tmp_path, synthetic, name):
    s = splits_for(name, synthetic)
    trained = fit(name, s["train"], s["valid"], config=FAST)
    trained.save(tmp_path / "model.pt")
    back = TrainedModel.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(back.predict_scores(s["test"]), trained.predict_scores(s["test"]))
    assert back.marks == trained.marks and back.hparams == trained.hparams


def test_same_seed_same_metrics_bit_for_bit(synthetic):
    s = synthetic.splits
    a = fit("deepchrome", s["train"], s["valid"], config=FAST).evaluate(s["test"])
    b = fit("deepchrome", s["train"], s["valid"], config=FAST).evaluate(s["test"])
    assert a == b
    c = fit("deepchrome", s["train"], s["valid"], config=dataclasses.replace(FAST, seed=1))
    assert c.evaluate(s["test"]) != a


def test_best_epoch_is_restored(synthetic):
    s = synthetic.splits
    trained = fit(
        "mlp", s["train"], s["valid"], config=TrainConfig(max_epochs=12, patience=3, progress=False)
    )
    h = trained.history
    best = h.loc[h["val_auroc"].idxmax()]
    assert bool(best["best"])
    assert trained.evaluate(s["valid"])["auroc"] == pytest.approx(best["val_auroc"], abs=1e-9)


def test_regression(tmp_path):
    cell = make_synthetic(900, task="regression", seed=3)
    s = cell.splits
    cfg = dataclasses.replace(FAST, task="regression")
    for name in ("deepchrome", "logreg"):
        trained = fit(name, s["train"], s["valid"], config=cfg)
        m = trained.evaluate(s["test"])
        assert m["pearson"] > 0.5 and set(m) == {"pearson", "spearman", "mse", "n_genes"}
    # predictions are on the target's scale, not the standardised one
    pred = trained.predict_scores(s["test"])
    assert abs(pred.mean() - s["test"].y.mean()) < 1.0


def test_marks_are_matched_by_name(synthetic):
    s = synthetic.splits
    trained = fit("logreg", s["train"], s["valid"], config=FAST)
    shuffled = s["test"].with_marks(tuple(reversed(s["test"].marks)))
    np.testing.assert_array_equal(
        trained.predict_scores(shuffled), trained.predict_scores(s["test"])
    )
    fewer = dataclasses.replace(s["test"], x=s["test"].x[:, :4], marks=s["test"].marks[:4])
    with pytest.raises(ModelMismatchError, match="trained on"):
        trained.predict_scores(fewer)
    shorter = dataclasses.replace(s["test"], x=s["test"].x[:, :, :50])
    with pytest.raises(ModelMismatchError, match="50 bins"):
        trained.predict_scores(shorter)


def test_refuses_unlabelled_or_single_class(synthetic):
    s = synthetic.splits
    with pytest.raises(InputError, match="no labels"):
        fit("linear", dataclasses.replace(s["train"], y=None), s["valid"], config=FAST)
    one = dataclasses.replace(s["train"], y=np.zeros(s["train"].n_genes, dtype=int))
    with pytest.raises(InputError, match="one class"):
        fit("linear", one, s["valid"], config=FAST)


def test_run_directory(tmp_path, synthetic):
    s = synthetic.splits
    trained = fit("linear", s["train"], s["valid"], config=FAST)
    metrics = save_run(
        tmp_path / "run",
        trained,
        s,
        config=RunConfig("linear", {}, FAST),
        data=RunData.one_cell("x"),
    )
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == sorted(
        ["config.yaml", "model.pt", "metrics.json", "history.csv", "predictions.tsv", "VERSION"]
    )
    assert set(metrics) == {"train", "valid", "test"}
    assert set(metrics["test"]) == {"auroc", "auprc", "accuracy", "n_genes"}
    preds = pd.read_csv(tmp_path / "run" / "predictions.tsv", sep="\t")
    assert list(preds.columns) == ["gene_id", "label", "score", "split"]
    assert len(preds) == sum(d.n_genes for d in s.values())
    model, config = load_run(tmp_path / "run")
    assert config["model"] == "linear" and config["data"]["cells"] == {"x": "x"}
    assert read_run_config(tmp_path / "run")[1] == RunData.one_cell("x")  # the one schema
    assert model.evaluate(s["test"]) == metrics["test"]
    with pytest.raises(RunError, match="already exists"):
        save_run(tmp_path / "run", trained, s, config=RunConfig("linear", {}, FAST))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_load_run_errors(tmp_path):
    with pytest.raises(RunError, match="not a run directory"):
        load_run(tmp_path / "none")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.yaml").write_text("model: linear\n")
    (tmp_path / "r" / "model.pt").write_bytes(b"garbage")
    with pytest.raises(RunError, match="not a readable simplechrome model"):
        load_run(tmp_path / "r")


def test_learning_rate_decays_on_a_validation_plateau(synthetic):
    s = synthetic.splits
    # a learning rate this small moves the validation AUROC by less than the plateau's 1e-4
    # relative threshold: every epoch after the first is a plateau
    config = dataclasses.replace(FAST, lr=1e-7, lr_decay=0.5, lr_patience=0, patience=5)
    h = fit("linear", s["train"], s["valid"], config=config).history
    assert h["lr"].tolist() == pytest.approx([1e-7, 1e-7, 5e-8, 2.5e-8], rel=1e-6)
    constant = fit("linear", s["train"], s["valid"], config=dataclasses.replace(FAST, lr=1e-3))
    assert set(constant.history["lr"]) == {1e-3}
    with pytest.raises(Exception, match="lr_decay"):
        TrainConfig(lr_decay=1.5)


def test_a_cosine_schedule_falls_step_by_step_from_lr_to_zero_over_max_epochs(synthetic):
    s = synthetic.splits
    config = dataclasses.replace(FAST, lr=1e-2, lr_schedule="cosine", patience=10)
    h = fit("linear", s["train"], s["valid"], config=config).history
    # the rate after each epoch's last step: half a cosine over the 4 epochs' steps
    expected = [1e-2 * 0.5 * (1 + np.cos(np.pi * (e + 1) / 4)) for e in range(4)]
    assert h["lr"].tolist() == pytest.approx(expected, abs=1e-9)
    assert resolve_config(TrainConfig(), "deepchrome").lr_schedule == "plateau"
    with pytest.raises(Exception, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")


def test_the_learning_rate_schedule_is_a_model_default_that_settings_override():
    ac = resolve_config(TrainConfig(), "attentivechrome")
    assert (ac.lr_decay, ac.lr_patience, ac.batch_size, ac.patience) == (0.5, 2, 64, 10)
    assert resolve_config(TrainConfig(lr_decay=1.0), "attentivechrome").lr_decay == 1.0
    assert resolve_config(TrainConfig(lr_patience=4), "attentivechrome").lr_patience == 4
    cnn = resolve_config(TrainConfig(), "deepchrome")
    assert (cnn.lr_decay, cnn.lr_patience) == (1.0, 2)
    assert (cnn.weight_decay, cnn.average, ac.weight_decay, ac.average) == (0.0, 0.0, 0.0, 0.0)
    assert resolve_config(TrainConfig(weight_decay=1e-4), "attentivechrome").weight_decay == 1e-4
    with pytest.raises(Exception, match="weight_decay"):
        TrainConfig(weight_decay=-1.0)


@pytest.mark.parametrize(("name", "fused"), [("attentivechrome", True), ("deepchrome", None)])
def test_the_registry_entry_chooses_the_fused_adam_kernel(name, fused):
    """AttentiveChrome (44 small parameter tensors) trains with torch's fused Adam; the CNN
    keeps the default one, so its results do not move."""
    entry = models.get(name)
    cls = TrainedModel.family_class(entry.family)
    trained = cls(
        name=name,
        module=models.create(name, n_marks=5, n_bins=100),
        transform=InputTransform(),
        marks=("a", "b", "c", "d", "e"),
        n_bins=100,
        bin_size=100,
        task="classification",
        hparams={},
    )
    task = trained.make_task(resolve_config(TrainConfig(lr_decay=1.0), name))
    optimiser = task.configure_optimizers()
    assert entry.fused_adam is bool(fused)
    assert optimiser.defaults["fused"] is fused


def test_weight_averaging_is_what_validation_scores_and_the_model_keeps(synthetic):
    """With ``average``, validation scores an exponential moving average of the weights, and
    the finished model is the best epoch's average: its validation AUROC is the history's best
    score. The raw weights of the last step are something else."""
    s = synthetic.splits
    config = dataclasses.replace(FAST, average=0.9, patience=4, lr=3e-3)
    trained = fit("linear", s["train"], s["valid"], config=config)
    best = trained.history.loc[trained.history["best"], "val_score"].item()
    assert trained.evaluate(s["valid"])["auroc"] == pytest.approx(best, abs=1e-9)
    plain = fit("linear", s["train"], s["valid"], config=dataclasses.replace(config, average=0.0))
    assert not np.array_equal(trained.predict_scores(s["test"]), plain.predict_scores(s["test"]))
    with pytest.raises(Exception, match="average"):
        TrainConfig(average=1.0)


def test_the_average_follows_the_weights_at_the_warmed_up_rate():
    from simplechrome.train.supervised import SupervisedTask

    module = models.create("linear", n_marks=2, n_bins=4)
    task = SupervisedTask(module, task="classification", lr=1e-3, weight_decay=0.0, average=0.5)
    start = [p.detach().clone() for p in task.averaged.parameters()]
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    task.on_train_batch_end(None, None, 0)  # first step: rate min(0.5, 1 / 10) = 0.1
    for a, s0 in zip(task.averaged.parameters(), start, strict=True):
        torch.testing.assert_close(a, s0 + 0.9)
    task.finish()
    for a, p in zip(task.averaged.parameters(), module.parameters(), strict=True):
        torch.testing.assert_close(a, p)


def test_the_average_takes_the_training_modules_buffers():
    """A batch norm's running statistics are not averaged weights: the average uses the
    training module's own."""
    from simplechrome.train.supervised import SupervisedTask

    module = torch.nn.Sequential(torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    task = SupervisedTask(module, task="classification", lr=1e-3, weight_decay=0.0, average=0.9)
    module.train()
    module(torch.randn(16, 3) + 5.0)  # moves the running mean
    task.on_train_batch_end(None, None, 0)
    torch.testing.assert_close(task.averaged[0].running_mean, module[0].running_mean)


@pytest.mark.slow
def test_a_killed_fit_resumes_where_it_stopped(tmp_path, cell_dir):
    """`train` killed mid-fit and started again continues from the checkpoint it kept (it says
    so), ends with the metrics of a fit never interrupted, and leaves no checkpoint behind."""
    import json
    import signal
    import subprocess
    import sys
    import time

    def command(out, seed=0):
        return [sys.executable, "-m", "simplechrome", "-v", "train", "--data", str(cell_dir),
                "--model", "mlp", "--set", "train.max_epochs=40", "--set", "train.patience=40",
                "--seed", str(seed), "--out", str(out)]  # fmt: skip

    def killed_mid_fit(out):
        checkpoint = out.parent / f".{out.name}.fit" / "fit1" / "last.ckpt"
        proc = subprocess.Popen(command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and not checkpoint.exists():
            time.sleep(0.05)
        time.sleep(1.0)  # a few more epochs
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert checkpoint.exists() and not out.exists(), "the kill must land mid-fit"

    subprocess.run(command(tmp_path / "ref"), check=True, capture_output=True)
    out = tmp_path / "run"
    killed_mid_fit(out)
    again = subprocess.run(command(out), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "resuming an interrupted fit" in again.stderr
    ref = json.loads((tmp_path / "ref" / "metrics.json").read_text())
    got = json.loads((out / "metrics.json").read_text())
    for split in ("train", "valid", "test"):
        assert got[split]["auroc"] == pytest.approx(ref[split]["auroc"], abs=1e-6), split
    assert not (tmp_path / ".run.fit").exists()
    # no stale resume: started again with other settings, the run starts afresh
    other = tmp_path / "other"
    killed_mid_fit(other)
    fresh = subprocess.run(command(other, seed=1), capture_output=True, text=True)
    assert fresh.returncode == 0 and "resuming" not in fresh.stderr, fresh.stderr
    subprocess.run(command(tmp_path / "ref1", seed=1), check=True, capture_output=True)
    ref1 = json.loads((tmp_path / "ref1" / "metrics.json").read_text())
    got1 = json.loads((other / "metrics.json").read_text())
    assert got1["test"]["auroc"] == pytest.approx(ref1["test"]["auroc"], abs=1e-6)
