from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from simplechrome.cli import main
from simplechrome.experiments import load_spec, run_experiment
from simplechrome.experiments.report import build_report

from .conftest import write_spec

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


def test_report_sections(results, tmp_path):
    page = build_report(results / "grid", tmp_path / "grid.html").read_text()
    for title in ("Per cell", "Paired comparisons", "ROC curves", "Learning curves", "Parameters"):
        assert title in page
    assert page.count("<img") >= 1 + 3 + 3 + 3
    assert "src='http" not in page and 'src="http' not in page  # self-contained
    assert re.search(r"0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]", page)  # means with intervals
    cross = build_report(results / "cross", tmp_path / "cross.html").read_text()
    assert "Cross-cell prediction" in cross and "trained elsewhere vs trained here" in cross


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
    browser = _chromium()
    if browser is None:
        if os.environ.get("SIMPLECHROME_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (SIMPLECHROME_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (make test installs it where it can)")
    page = build_report(results / "grid", tmp_path / "report.html").read_text()
    # a probe appended to a copy: after load, record each image's decoded size in the DOM
    probe = """<script>window.addEventListener('load', () => {
      const imgs = [...document.images];
      const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
      document.body.setAttribute('data-images', imgs.length + ':' + bad);
      document.body.setAttribute('data-tables', document.querySelectorAll('table').length);
    });</script></body>"""
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", probe))
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    images = re.search(r'data-images="(\d+):(\d+)"', dom)
    tables = re.search(r'data-tables="(\d+)"', dom)
    assert images and tables, dom[:500]
    assert int(images.group(1)) >= 10 and int(images.group(2)) == 0  # every image decoded
    assert int(tables.group(1)) >= 3
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


def test_report_interprets_attention_models(tmp_path, three_cells):
    cells = {"E003-syn": three_cells["E003-syn"]}
    spec = load_spec(
        write_spec(
            tmp_path / "ac.yaml",
            cells,
            models=["attentivechrome"],
            seeds=[0],
            train={"max_epochs": 2, "patience": 2},
        )
    )
    run_experiment(spec, tmp_path / "ac", workers=1)
    page = build_report(tmp_path / "ac", tmp_path / "ac.html").read_text()
    assert "AttentiveChrome: attention, class-optimisation maps and attributions" in page
    for alt in (
        "mean bin attention, high vs low",
        "mark attention distribution",
        "class-optimisation maps",
        "attributions",
    ):
        assert f"alt='{alt}'" in page


def test_one_page_for_several_results_folders(results, tmp_path, capsys):
    code = main(
        ["report", str(results / "grid"), str(results / "cross"), "-o", str(tmp_path / "both.html")]
    )
    assert code == 0
    page = (tmp_path / "both.html").read_text()
    assert "simplechrome report: t + t" in page
    assert "t: Per cell" in page and "t: Cross-cell prediction" in page


def test_report_shows_a_gan_beside_the_classifiers(tmp_path, three_cells):
    cells = {"E003-syn": three_cells["E003-syn"]}
    gan = {"name": "gan", "train": {"max_epochs": 2, "batch_size": 64, "patience": 2}}
    spec = load_spec(write_spec(tmp_path / "gan.yaml", cells, models=["logreg", gan], seeds=[0]))
    assert spec.models[1].train["batch_size"] == 64
    table = run_experiment(spec, tmp_path / "gan", workers=1).table
    row = table[table["model"] == "gan"].iloc[0]
    assert row["epochs"] == 2 and row["test_sliced_wasserstein"] > 0
    assert "test_profile_r_min" in table
    page = build_report(tmp_path / "gan", tmp_path / "gan.html").read_text()
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
