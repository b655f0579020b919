from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simplechrome.cli import main
from simplechrome.experiments import load_spec, run_experiment
from simplechrome.report import build_report
from tests.conftest import write_spec

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory, three_cells) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    spec = load_spec(write_spec(tmp / "grid.yaml", three_cells, sizes=[100, "all"]))
    run_experiment(spec, tmp / "grid", workers=1)
    cross = load_spec(
        write_spec(
            tmp / "cross.yaml",
            three_cells,
            kind="cross_cell",
            sources=["same", "each"],
            seeds=[0, 1],
            models=["logreg"],
        )
    )
    run_experiment(cross, tmp / "cross", workers=1)
    return tmp


def section(page: str, title: str) -> str:
    """The HTML of the section whose heading starts with ``title``."""
    for part in page.split("<section>")[1:]:
        if part.startswith(f"<h2>{title}") or f": {title}" in part.split("</h2>")[0]:
            return part.split("</section>")[0]
    raise AssertionError(f"no section {title!r}")


def test_report_sections(results, tmp_path):
    page = build_report(results / "grid", tmp_path / "grid.html").read_text()
    for title in ("Per cell", "Paired comparisons", "ROC curves", "Learning curves", "Parameters"):
        assert title in page
    assert page.count("<img") >= 1 + 3 + 3 + 3
    assert "src='http" not in page and 'src="http' not in page  # self-contained
    assert re.search(r"0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]", page)  # means with intervals
    cross = build_report(results / "cross", tmp_path / "cross.html").read_text()
    assert "Cross-cell prediction" in cross and "trained elsewhere vs trained here" in cross


def test_report_numbers_are_the_stored_ones(results, tmp_path):
    """One number per section, recomputed from the stored records and predictions."""
    from simplechrome.experiments import Results
    from simplechrome.experiments.stats import paired_auroc_difference

    page = build_report(results / "grid", tmp_path / "grid.html").read_text()
    found = Results(results / "grid")
    t = found.table
    home = t[(t["test_cell"] == "E003-syn") & (t["size"] == -1)]
    cnn = home[home["model"] == "deepchrome"]
    # per cell: the mean over seeds of the recorded test AUROCs
    assert f"{cnn['test_auroc'].mean():.4f}" in section(page, "Per cell")
    # paired: logreg minus deepchrome on the stored test predictions
    preds = {m: [found.test_predictions(r) for r in home[home["model"] == m]["run_id"]]
             for m in ("logreg", "deepchrome")}  # fmt: skip
    d = paired_auroc_difference(
        preds["logreg"][0]["label"].to_numpy(),
        [p["score"].to_numpy() for p in preds["logreg"]],
        [p["score"].to_numpy() for p in preds["deepchrome"]],
    )
    assert f"{d['difference']:+.4f}" in section(page, "Paired comparisons")
    # ROC: the first seed's recorded AUROC
    first = cnn[cnn["seed"] == cnn["seed"].min()]["test_auroc"].iloc[0]
    assert f"{first:.4f}" in section(page, "ROC curves")
    # learning curves: the smaller budget's mean over seeds
    small = t[(t["test_cell"] == "E003-syn") & (t["size"] == 100) & (t["model"] == "deepchrome")]
    assert small["n_labelled"].iloc[0] == 100
    assert f"{small['test_auroc'].mean():.4f}" in section(page, "Learning curves")
    # parameters: the recorded count
    assert f">{int(cnn['n_parameters'].iloc[0])}<" in section(page, "Parameters")
    # cross-cell: trained on E012-syn, tested on E003-syn, mean over seeds
    cross = build_report(results / "cross", tmp_path / "cross.html").read_text()
    c = Results(results / "cross").table
    pair = c[(c["train_cells"] == "E012-syn") & (c["test_cell"] == "E003-syn")]
    assert f"{pair['test_auroc'].mean():.4f}" in section(cross, "Cross-cell prediction")


def test_report_is_built_without_training_anything(results, ac_results, gan_results, tmp_path):
    """The report only reads stored tables: with gradients off, and with loading a model,
    backpropagating or fitting a scikit-learn estimator made to fail, every section builds."""
    from unittest import mock

    import sklearn.base
    import torch

    def refuse(*args, **kwargs):
        raise AssertionError("the report must not load, train or fit anything")

    fitted = [
        (cls, name)
        for cls in _estimators(sklearn.base.BaseEstimator)
        for name in ("fit", "fit_transform", "partial_fit")
        if name in vars(cls)
    ]
    with (
        torch.no_grad(),
        mock.patch("torch.load", refuse),
        mock.patch("torch.autograd.backward", refuse),
        mock.patch("simplechrome.train.TrainedModel.load", refuse),
        contextlib.ExitStack() as stack,
    ):
        for cls, name in fitted:
            stack.enter_context(mock.patch.object(cls, name, refuse))
        page = build_report(
            [results / "grid", ac_results, gan_results], tmp_path / "all.html"
        ).read_text()
    for title in ("Per cell", "AttentiveChrome: attention", "GAN: how close", "GAN: what"):
        assert title in page


def _estimators(base: type) -> list[type]:
    import sklearn.decomposition  # noqa: F401  (the estimators a report could reach for)
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    out, todo = [], [base]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def test_report_verb_and_published_labels(results, tmp_path, capsys, shared):
    code = main(
        [
            "report",
            str(results / "grid"),
            "-o",
            str(tmp_path / "r.html"),
            "--published",
            str(shared / "published"),
        ]
    )
    assert code == 0
    page = (tmp_path / "r.html").read_text()
    assert "DeepChrome paper (published, different preprocessing)" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(results, tmp_path):
    page = build_report(results / "grid", tmp_path / "report.html").read_text()
    images, undecoded, tables = _render(page, tmp_path)
    assert images >= 10 and undecoded == 0  # every image decoded
    assert tables >= 3
    browser, profile = _chromium(), tmp_path / "profile"
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            (tmp_path / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def ac_results(tmp_path_factory, three_cells) -> Path:
    tmp = tmp_path_factory.mktemp("ac")
    cells = {"E003-syn": three_cells["E003-syn"]}
    spec = load_spec(
        write_spec(
            tmp / "ac.yaml",
            cells,
            models=["attentivechrome"],
            seeds=[0],
            train={"max_epochs": 2, "patience": 2},
        )
    )
    run_experiment(spec, tmp / "ac", workers=1)
    return tmp / "ac"


@pytest.fixture(scope="module")
def gan_results(tmp_path_factory, three_cells) -> Path:
    tmp = tmp_path_factory.mktemp("gan")
    cells = {"E003-syn": three_cells["E003-syn"]}
    gan = {"name": "gan", "train": {"max_epochs": 2, "batch_size": 64, "patience": 2}}
    spec = load_spec(write_spec(tmp / "gan.yaml", cells, models=["logreg", gan], seeds=[0]))
    assert spec.models[1].train["batch_size"] == 64
    run_experiment(spec, tmp / "gan", workers=1)
    return tmp / "gan"


def test_report_interprets_attention_models(tmp_path, ac_results):
    import json

    page = build_report(ac_results, tmp_path / "ac.html").read_text()
    assert "AttentiveChrome: attention, class-optimisation maps and attributions" in page
    for alt in (
        "mean bin attention, high vs low",
        "mark attention distribution",
        "class-optimisation maps",
        "attributions",
    ):
        assert f"alt='{alt}'" in page
    # the summary's numbers are the stored ones
    (run,) = (ac_results / "runs").iterdir()
    stored = json.loads((run / "analysis" / "interpretation.json").read_text())
    high = stored["mean_mark_attention"]["high"]
    part = section(page, "AttentiveChrome")
    assert f"H3K4me3 {high['H3K4me3']:.2f}" in part
    gap = stored["h3k4me3_tss_map_high_minus_low"]
    assert f"{gap:+.3f}" in part


def test_one_page_for_several_results_folders(results, tmp_path, capsys):
    code = main(
        ["report", str(results / "grid"), str(results / "cross"), "-o", str(tmp_path / "both.html")]
    )
    assert code == 0
    page = (tmp_path / "both.html").read_text()
    assert "simplechrome report: t + t" in page
    assert "t: Per cell" in page and "t: Cross-cell prediction" in page


def test_report_shows_a_gan_beside_the_classifiers(tmp_path, gan_results):
    import json

    from simplechrome.experiments import read_table

    table = read_table(gan_results)
    row = table[table["model"] == "gan"].iloc[0]
    assert row["epochs"] == 2 and row["test_sliced_wasserstein"] > 0
    assert "test_profile_r_min" in table
    page = build_report(gan_results, tmp_path / "gan.html").read_text()
    stored = json.loads(
        (gan_results / "runs" / row["run_id"] / "analysis" / "gan_quality.json").read_text()
    )
    assert f"{round(stored['two_sample_auroc'], 4)}" in section(page, "GAN: how close")
    assert "GAN: how close are generated genes to real ones?" in page
    assert "GAN: what combinations of marks go with expression?" in page
    for alt in ("mean profiles, real vs generated", "walk from low to high expression"):
        assert alt in page
    per_cell = page.split("Per cell")[1].split("</table>")[0]
    assert "logreg" in per_cell and ">gan<" not in per_cell  # no AUROC row for a generator


def test_experiment_verb_announces_gan_runs(tmp_path, three_cells, capsys):
    cells = {"E003-syn": three_cells["E003-syn"]}
    gan = {"name": "gan", "train": {"max_epochs": 1, "batch_size": 64}}
    spec = write_spec(tmp_path / "g.yaml", cells, models=["logreg", gan], seeds=[0])
    code = main(["experiment", str(spec), "-o", str(tmp_path / "g")])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"\] gan__\S+: sliced_wasserstein \d\.\d{4} \(", out)
    assert re.search(r"\] logreg__\S+: auroc 0\.\d{4} \(", out)
    assert "logreg" in out.split("table:")[1] and " gan " not in out.split("table:")[1]


@pytest.mark.slow
def test_the_demo_runs_on_real_data_and_its_report_renders(tmp_path, capsys):
    """``simplechrome demo``: real E012 genes carried by the package, four models, a report
    whose images all decode in headless Chromium, with the real-data AUROCs on the page."""
    from simplechrome.experiments import read_table

    code = main(["-q", "demo", "--out", str(tmp_path / "demo")])
    out = capsys.readouterr().out
    assert code == 0
    report = tmp_path / "demo" / "report.html"
    assert f"open the report: {report.resolve()}" in out
    table = read_table(tmp_path / "demo")
    assert set(table["model"]) == {"deepchrome", "linear", "logreg", "attentivechrome"}
    assert (table["test_auroc"] > 0.85).all() and (table["n_test"] == 750).all()
    page = report.read_text()
    cnn = table[table["model"] == "deepchrome"]["test_auroc"].mean()
    assert f"{cnn:.4f}" in section(page, "Per cell")
    for title in ("ROC curves", "AttentiveChrome: attention, class-optimisation maps"):
        assert title in page
    images, bad, _ = _render(page, tmp_path)
    assert images >= 8 and bad == 0


def _render(page: str, tmp_path) -> tuple[int, int, int]:
    """Load ``page`` in headless Chromium, a probe appended to a copy that records, after load,
    each image's decoded size in the DOM: (images, images not decoded, tables)."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("SIMPLECHROME_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (SIMPLECHROME_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (make test installs it where it can)")
    probe = """<script>window.addEventListener('load', () => {
      const imgs = [...document.images];
      const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
      document.body.setAttribute('data-images', imgs.length + ':' + bad);
      document.body.setAttribute('data-tables', document.querySelectorAll('table').length);
    });</script></body>"""
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", probe))
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    images = re.search(r'data-images="(\d+):(\d+)"', dom)
    tables = re.search(r'data-tables="(\d+)"', dom)
    assert images and tables, dom[:500]
    return int(images.group(1)), int(images.group(2)), int(tables.group(1))


def test_verdicts_follow_their_rule_on_the_stored_predictions(results, tmp_path, capsys):
    """The CNN-vs-linear claim, recomputed per cell from the stored predictions: the verdict is
    what the rule says for those intervals, and the report opens with it."""
    from simplechrome.experiments import Results
    from simplechrome.experiments.stats import paired_auroc_difference

    found = Results(results / "grid")
    t = found.table
    home = t[t["size"] == -1]
    lows, diffs = [], []
    for _cell, part in home.groupby("test_cell"):
        preds = {m: [found.test_predictions(r) for r in part[part["model"] == m]["run_id"]]
                 for m in ("deepchrome", "logreg")}  # fmt: skip
        d = paired_auroc_difference(
            preds["deepchrome"][0]["label"].to_numpy(),
            [p["score"].to_numpy() for p in preds["deepchrome"]],
            [p["score"].to_numpy() for p in preds["logreg"]],
        )
        lows.append(d["low"])
        diffs.append(d["difference"])
    wins = sum(low > 0 for low in lows)
    expected = "holds" if wins == len(lows) else "holds partly" if wins else "does not hold"
    assert main(["verdicts", str(results / "grid"), "-o", str(tmp_path / "v.csv")]) == 0
    table = pd.read_csv(tmp_path / "v.csv")
    row = table[table["claim"].str.contains("better than a linear baseline")].iloc[0]
    assert row["verdict"] == expected
    assert f"mean {np.mean(diffs):+.4f} over {len(diffs)} cells" in row["numbers"]
    assert f"[{expected}] DeepChrome (2016)" in capsys.readouterr().out
    page = build_report(results / "grid", tmp_path / "grid.html").read_text()
    first = page.split("<section>")[1]
    assert first.startswith("<h2>Verdicts on the published claims") and expected in first


def test_the_report_only_reads_what_the_study_stored(tmp_path, three_cells, monkeypatch):
    """`experiment` stores every statistic the page shows; with the statistics functions
    patched to raise, the report and the verdicts are still built (from the stored tables),
    and a folder whose table changed since is not served its old tables."""
    from simplechrome.experiments import comparisons, results, stored

    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells))
    run_experiment(spec, tmp_path / "out", workers=1)
    assert list((tmp_path / "out" / stored.FOLDER).glob("*/*.json"))
    before = build_report(tmp_path / "out", tmp_path / "before.html")

    def boom(*args, **kwargs):
        raise AssertionError("the report computed a statistic")

    for module, name in ((results, "seed_gene_interval"), (results, "paired_auroc_difference"),
                         (results, "summarise"), (results, "roc_table"),
                         (comparisons, "paired_auroc_difference")):  # fmt: skip
        monkeypatch.setattr(module, name, boom)
    after = build_report(tmp_path / "out", tmp_path / "after.html")
    assert after.read_text().count("<table") == before.read_text().count("<table")
    # the stored tables belong to the table they were computed from
    table = tmp_path / "out" / "table.parquet"
    pd.read_parquet(table).iloc[:-1].to_parquet(table)
    with pytest.raises(AssertionError, match="computed a statistic"):
        build_report(tmp_path / "out", tmp_path / "stale.html")
