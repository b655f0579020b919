"""Every verb in tmp_path; every bad-input class answered with one line and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from simplechrome.cli import main
from tests.conftest import write_expression
from tests.data.test_readers import gene_rows
from tests.tool_modules import load_tool

FAST = ["--set", "train.max_epochs=2", "--set", "train.patience=1"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_models(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "644177" in out and "linear" in out and "logreg" in out


def test_demo(tmp_path, capsys):
    code, out, _ = run(
        capsys, "-q", "demo", "--synthetic", "--out", tmp_path / "d", "--genes", "600"
    )
    assert code == 0
    for model in ("deepchrome", "linear", "logreg"):
        assert model in out
    assert "test AUROC" in out
    summary = pd.read_csv(tmp_path / "d" / "summary.tsv", sep="\t")
    assert set(summary["model"]) >= {"deepchrome", "linear", "logreg"}
    assert (tmp_path / "d" / "roc.png").stat().st_size > 1000
    assert (tmp_path / "d" / "runs" / "deepchrome" / "model.pt").exists()


def test_train_evaluate_predict_info(tmp_path, capsys, cell_dir):
    run_dir = tmp_path / "run"
    code, out, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--model", "deepchrome", *FAST, "--out", run_dir
    )
    assert code == 0, err
    assert "auroc" in out and (run_dir / "metrics.json").exists()

    code, out, _ = run(capsys, "evaluate", run_dir, "-o", tmp_path / "m.json")
    saved = json.loads((run_dir / "metrics.json").read_text())
    again = json.loads((tmp_path / "m.json").read_text())
    assert code == 0 and again == saved  # rebuilt from the run directory alone

    code, out, _ = run(
        capsys,
        "predict",
        run_dir,
        cell_dir / "classification" / "test.csv",
        "-o",
        tmp_path / "p.tsv",
    )
    preds = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert code == 0 and list(preds.columns) == ["gene_id", "score", "label"] and len(preds) == 300

    code, out, _ = run(capsys, "info", run_dir)
    assert code == 0 and "deepchrome" in out and "644,177" in out
    code, out, _ = run(capsys, "info", cell_dir)
    assert code == 0 and "300 genes x 5 marks" in out


def test_train_with_config_file(tmp_path, capsys, cell_dir):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: linear\nmodel_params: {pooling: max}\ntrain: {max_epochs: 2}\n")
    code, _, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--config", cfg, "--out", tmp_path / "r"
    )
    assert code == 0, err
    cfg.write_text("model: linear\ntrain: {epochs: 2}\n")
    code, _, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--config", cfg, "--out", tmp_path / "r2"
    )
    assert code == 2 and "unknown key(s) epochs" in err and not (tmp_path / "r2").exists()


def test_train_keeps_the_model_when_its_analyses_fail(tmp_path, capsys, cell_dir, monkeypatch):
    # e.g. an analysis dependency missing where the package was copied, not installed: the
    # minutes of training are kept, and the user is told in one line how to finish the run
    import simplechrome.experiments.runs as runs

    def broken(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'captum'")

    monkeypatch.setattr(runs, "analyse", broken)
    run_dir = tmp_path / "run"
    code, out, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--model", "logreg", "--out", run_dir
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "analyses failed" in err and "captum" in err and f"analyse {run_dir}" in err
    assert (run_dir / "model.pt").exists() and (run_dir / "metrics.json").exists()
    monkeypatch.undo()
    code, out, err = run(capsys, "evaluate", run_dir)
    assert code == 0 and "auroc" in out, err


def test_evaluate_on_another_cell_checks_marks(tmp_path, capsys, cell_dir, synthetic):
    from simplechrome.data import write_cell

    run_dir = tmp_path / "run"
    assert (
        run(capsys, "-q", "train", "--data", cell_dir, "--model", "logreg", "--out", run_dir)[0]
        == 0
    )
    import dataclasses

    # copies: the session's synthetic cell must keep its mark names for later tests
    renamed = {
        k: dataclasses.replace(v, marks=("A", "B", "C", "D", "E"))
        for k, v in synthetic.splits.items()
    }
    other = write_cell(renamed, tmp_path / "other")
    (other / "classification" / "train.csv").write_text(
        "gene_id,bin,A,B,C,D,E,label\n" + (other / "classification" / "train.csv").read_text()
    )
    for split in ("valid", "test"):
        f = other / "classification" / f"{split}.csv"
        f.write_text("gene_id,bin,A,B,C,D,E,label\n" + f.read_text())
    code, _, err = run(capsys, "evaluate", run_dir, "--data", other)
    assert code == 2 and "trained on" in err and len(err.strip().splitlines()) == 1


BAD = {
    "column-count": gene_rows("3") + ["3,5,1,2,3,4,1\n"],
    "non-numeric": gene_rows("3")[:2] + ["3,3,1,x,3,4,5,1\n"],
    "negative": gene_rows("3")[:3] + ["3,4,1,2,-3,4,5,1\n"],
    "nan": ["3,1,1,2,NaN,4,5,1\n"] + gene_rows("3")[1:],
    "wrong-bins": gene_rows("3") + gene_rows("5", n_bins=3),
    "bins-out-of-order": gene_rows("3")[::-1],
    "label-changes": gene_rows("3", label=1)[:2] + gene_rows("3", label=0)[2:],
    "duplicate": gene_rows("3") + gene_rows("5") + gene_rows("3"),
    "empty": [],
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_one_line_exit_2(tmp_path, capsys, kind):
    path = tmp_path / "bad.csv"
    path.write_text("".join(BAD[kind]))
    code, out, err = run(capsys, "info", path)
    assert code == 2
    lines = err.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("simplechrome: error: ") and str(path) in lines[0]
    )
    assert "Traceback" not in err


def test_bad_cell_folder_split_file(tmp_path, capsys, cell_dir):
    (cell_dir / "classification" / "valid.csv").write_text("")
    code, _, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--model", "linear", "--out", tmp_path / "r"
    )
    assert code == 2 and "valid.csv: empty split file" in err
    code, _, err = run(
        capsys,
        "-q",
        "train",
        "--data",
        tmp_path / "nothing",
        "--model",
        "linear",
        "--out",
        tmp_path / "r",
    )
    assert code == 2 and "not a cell folder" in err
    code, _, err = run(
        capsys, "-q", "train", "--data", cell_dir, "--model", "resnet", "--out", tmp_path / "r"
    )
    # the model name is checked before the (broken) data is read
    assert code == 2 and "unknown model" in err


def test_evaluate_and_predict_bad_run(tmp_path, capsys):
    code, _, err = run(capsys, "evaluate", tmp_path / "nope")
    assert code == 2 and "not a run directory" in err
    code, _, err = run(capsys, "predict", tmp_path / "nope", tmp_path, "-o", tmp_path / "p.tsv")
    assert code == 2


def test_download_bad_cell(capsys):
    code, _, err = run(capsys, "download", "E999")
    assert code == 2 and "not one of the 56 Roadmap cells" in err


def test_console_entry_point_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(BAD["label-changes"]))
    proc = subprocess.run(
        [sys.executable, "-m", "simplechrome", "info", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "label changes within the gene" in proc.stderr


def test_gan_train_sample_plot(tmp_path, capsys, cell_dir):
    import numpy as np

    run_dir = tmp_path / "gan"
    code, out, err = run(
        capsys, "-q", "gan", "train", "--generator", "gan", "--data", cell_dir, "--epochs", "2",
        "--out", run_dir,
    )  # fmt: skip
    assert code == 0, err
    assert "sliced_wasserstein" in out and (run_dir / "model.pt").exists()
    # the test genes' figures are not printed as the run ends (a design is chosen on the rest)
    splits = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert "valid" in splits and "test" not in splits and "gan quality" in out
    config = (run_dir / "config.yaml").read_text()
    assert "batch_size: 64" in config and "max_epochs: 2" in config

    code, out, err = run(
        capsys, "gan", "sample", run_dir, "-n", "7", "--class", "high", "-o", tmp_path / "s.npz"
    )
    assert code == 0, err
    with np.load(tmp_path / "s.npz") as s:
        assert s["signals"].shape == (7, 5, 100) and s["counts"].shape == (7, 5, 100)
        assert (s["counts"] >= 0).all() and set(s["condition"]) == {1}
        assert list(s["marks"]) == ["H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3"]

    code, out, err = run(capsys, "gan", "plot", run_dir, "-o", tmp_path / "gan.html")
    assert code == 0, err
    page = (tmp_path / "gan.html").read_text()
    assert "two-sample AUROC" in page and page.count("<img") >= 4
    # drawing fits nothing: without its stored analyses the run is refused with the command
    import shutil

    shutil.rmtree(run_dir / "analysis")
    code, _, err = run(capsys, "gan", "plot", run_dir, "-o", tmp_path / "again.html")
    assert code == 2 and "simplechrome analyse" in err and not (tmp_path / "again.html").exists()

    # a GAN samples classes, not levels; a classifier run is not a GAN
    code, _, err = run(capsys, "gan", "sample", run_dir, "--level", "3", "-o", tmp_path / "x.npz")
    assert code == 2 and "--level" in err and "Traceback" not in err
    clf = tmp_path / "clf"
    run(capsys, "-q", "train", "--data", cell_dir, "--model", "logreg", "--out", clf)
    code, _, err = run(capsys, "gan", "sample", clf, "-o", tmp_path / "y.npz")
    assert code == 2 and "not a GAN" in err
    assert not (tmp_path / "x.npz").exists() and not (tmp_path / "y.npz").exists()


def test_gan_train_by_default_trains_the_autoregressive_generator(
    tmp_path, capsys, cell_dir, synthetic
):
    import numpy as np

    run_dir = tmp_path / "ar"
    code, out, err = run(
        capsys, "-q", "gan", "train", "--data", cell_dir, "--epochs", "2",
        "--set", "model_params.hidden=16", "--set", "model_params.emb=4", "--out", run_dir,
    )  # fmt: skip
    assert code == 0, err
    config = (run_dir / "config.yaml").read_text()
    assert "model: autoregressive" in config and "batch_size: 128" in config
    assert "val_log_likelihood" in (run_dir / "history.csv").read_text()
    code, out, err = run(capsys, "gan", "sample", run_dir, "-n", "4", "-o", tmp_path / "s.npz")
    assert code == 0, err
    with np.load(tmp_path / "s.npz") as s:
        assert s["signals"].shape == (8, 5, 100) and (s["counts"] >= 0).all()
        counts = s["counts"]
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)  # real reads
    # measured on the validation genes (to choose a design on), and the table refuses that file
    q_file = tmp_path / "q.json"
    code, out, err = run(capsys, "gan", "quality", run_dir, "--genes", "valid", "-o", q_file)
    assert code == 0, err
    q = json.loads(q_file.read_text())
    assert q["genes"] == "valid" and q["n_test_genes"] == synthetic.splits["valid"].n_genes
    table = load_tool("generator_table")
    (tmp_path / "t").mkdir()
    q_file.rename(tmp_path / "t" / "autoregressive__SYN01__s0.json")
    with pytest.raises(SystemExit, match="validation|valid genes"):
        table.read(tmp_path / "t")


def test_evaluate_without_data_on_runs_of_every_verb(tmp_path, capsys, cell_dir):
    """``evaluate RUN`` rebuilds the run's own splits from its directory, whichever verb made
    it: train, experiment (with a labelled budget) or demo."""
    from simplechrome.experiments import load_spec, run_experiment
    from tests.conftest import write_spec

    spec = write_spec(
        tmp_path / "s.yaml", {"SYN01": cell_dir}, models=["logreg"], seeds=[0], sizes=[60]
    )
    result = run_experiment(load_spec(spec), tmp_path / "exp", workers=1)
    exp_run = tmp_path / "exp" / "runs" / result.table["run_id"].iloc[0]
    assert (
        run(capsys, "-q", "demo", "--synthetic", "--out", tmp_path / "demo", "--genes", "600")[0]
        == 0
    )
    for run_dir in (exp_run, tmp_path / "demo" / "runs" / "logreg"):
        code, _, err = run(capsys, "evaluate", run_dir, "-o", tmp_path / "m.json")
        assert code == 0, err
        again = json.loads((tmp_path / "m.json").read_text())
        assert again == json.loads((run_dir / "metrics.json").read_text())
    # the budget's 60 genes: 48 to train, 12 to stop early
    metrics = json.loads((exp_run / "metrics.json").read_text())
    assert metrics["train"]["n_genes"] == 48 and metrics["valid"]["n_genes"] == 12


def test_a_configs_task_is_honoured_and_an_explicit_task_overrides_it(
    tmp_path, capsys, cell_dir, synthetic
):
    write_expression(tmp_path / "rpkm.pc", synthetic.expression)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: logreg\ntrain: {task: regression}\n")
    common = ["-q", "train", "--data", cell_dir, "--config", cfg, "--expression",
              tmp_path / "rpkm.pc"]  # fmt: skip
    code, _, err = run(capsys, *common, "--out", tmp_path / "reg")
    assert code == 0, err
    assert "pearson" in json.loads((tmp_path / "reg" / "metrics.json").read_text())["test"]
    code, _, err = run(capsys, *common, "--task", "classification", "--out", tmp_path / "clf")
    assert code == 0, err
    assert "auroc" in json.loads((tmp_path / "clf" / "metrics.json").read_text())["test"]


def test_gan_train_honours_a_task_the_config_names(tmp_path, monkeypatch):
    """With --expression, gan train conditions on levels (regression) unless the config file
    or a --set names a task: then that task stands (the overrides gan train hands to the
    training, captured before any training)."""
    import yaml

    from simplechrome.cli import verbs
    from simplechrome.cli.parser import build_parser

    seen = []
    monkeypatch.setattr(verbs, "_train", lambda args, overrides, **_: seen.append(overrides) or 0)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"model": "gan", "train": {"task": "classification"}}))
    base = ["gan", "train", "--data", "d", "--expression", "m.pc", "--out", "o"]
    for extra in ([], ["--config", str(cfg)], ["--set", "train.task=classification"]):
        args = build_parser().parse_args([*base, *extra])
        assert verbs.cmd_gan_train(args) == 0
    assert ["train.task=regression" in o for o in seen] == [True, False, False]
    # the generator: the config's model where it names one, else the default
    assert [o[0] for o in seen] == ["model=autoregressive", "model=gan", "model=autoregressive"]
    args = build_parser().parse_args([*base, "--config", str(cfg), "--generator", "gan"])
    verbs.cmd_gan_train(args)
    assert seen[-1][0] == "model=gan"
