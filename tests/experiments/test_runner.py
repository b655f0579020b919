from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simplechrome.errors import ConfigError
from simplechrome.experiments import load_spec, plan, run_experiment
from simplechrome.train import RUN_FILES
from tests.conftest import require, write_spec

# wall time, and the resources an executor gave each task (Ray names them; local runs do not),
# are the only columns allowed to differ between two runs
VOLATILE = ["seconds", "resources"]


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=VOLATILE).sort_values("run_id").reset_index(drop=True)


def test_grid_runs_and_resume_skips_finished(tmp_path, three_cells):
    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells))
    first = run_experiment(spec, tmp_path / "out", workers=1)
    assert first.ran == 12 and len(first.table) == 12
    assert {"test_auroc", "test_auprc", "n_parameters", "seconds", "model", "seed"} <= set(
        first.table.columns
    )
    assert (first.table["test_auroc"] > 0.7).all()
    assert (tmp_path / "out" / "table.parquet").exists() and (
        tmp_path / "out" / "table.csv"
    ).exists()
    with pytest.raises(ConfigError, match="--resume"):
        run_experiment(spec, tmp_path / "out", workers=1)
    again = run_experiment(spec, tmp_path / "out", workers=1, resume=True)
    assert again.ran == 0 and again.skipped == 12
    pd.testing.assert_frame_equal(comparable(again.table), comparable(first.table))


def test_resume_redoes_runs_whose_spec_or_data_changed(tmp_path, three_cells):
    """Records carry a fingerprint of what determined them; a resume after the spec or a data
    file changed redoes exactly the runs concerned, and says so, instead of keeping stale
    records."""
    import shutil

    cells = {k: shutil.copytree(v, tmp_path / "cells" / k) for k, v in three_cells.items()}
    spec_path = write_spec(tmp_path / "s.yaml", cells, models=["logreg", "linear"], seeds=[0])
    first = run_experiment(load_spec(spec_path), tmp_path / "out", workers=1)
    assert first.ran == 6 and first.table["fingerprint"].str.len().eq(64).all()
    # the linear model's settings change: its 3 runs are redone, logreg's are kept
    write_spec(
        tmp_path / "s.yaml", cells, models=["logreg", {"name": "linear", "train": {"lr": 0.05}}],
        seeds=[0],
    )  # fmt: skip
    heard: list[list[str]] = []
    again = run_experiment(
        load_spec(spec_path), tmp_path / "out", workers=1, resume=True, on_changed=heard.append
    )
    assert again.ran == 3 and sorted(again.changed) == sorted(heard[0])
    assert all(r.startswith("linear__") for r in again.changed)
    # one cell's test labels change on disk: every run that reads that cell is redone
    test_file = cells["E012-syn"] / "classification" / "test.csv"
    lines = test_file.read_text().splitlines()
    flipped = [ln[:-1] + ("0" if ln.endswith("1") else "1") for ln in lines]
    test_file.write_text("\n".join(flipped) + "\n")
    third = run_experiment(load_spec(spec_path), tmp_path / "out", workers=1, resume=True)
    assert (
        sorted(third.changed) == sorted(r for r in third.table["run_id"] if "E012-syn" in r)
        and third.ran == 2
    )
    new = third.table.set_index("run_id")
    old = first.table.set_index("run_id")
    changed_run = next(r for r in third.changed if r.startswith("logreg__"))
    assert new.loc[changed_run, "test_auroc"] != old.loc[changed_run, "test_auroc"]


def test_cross_cell_runs(tmp_path, three_cells):
    spec = load_spec(
        write_spec(
            tmp_path / "s.yaml",
            three_cells,
            kind="cross_cell",
            sources=["same", "each"],
            seeds=[0],
            models=["logreg"],
        )
    )
    table = run_experiment(spec, tmp_path / "out", workers=1).table
    assert len(table) == 3 * 3  # each target: itself and two others
    assert set(table["source"]) == {"same", "each"}


def _unfinished_entries(out: Path) -> list[Path]:
    bad = [p for p in out.rglob("*.tmp")]
    for run_dir in (out / "runs").iterdir() if (out / "runs").exists() else []:
        if not run_dir.name.startswith(".") and sorted(p.name for p in run_dir.iterdir()) != sorted(
            RUN_FILES
        ):
            bad.append(run_dir)
    return bad


@pytest.mark.slow
def test_sigkill_mid_grid_then_resume_gives_the_same_table(tmp_path, three_cells):
    spec_path = write_spec(
        tmp_path / "s.yaml", three_cells, seeds=[0, 1, 2], train={"max_epochs": 6, "patience": 6}
    )
    spec = load_spec(spec_path)
    reference = run_experiment(spec, tmp_path / "ref", workers=2).table

    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "simplechrome",
        "-q",
        "experiment",
        str(spec_path),
        "-o",
        str(out),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "records").glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, mid-grid
    proc.wait()
    finished = len(list((out / "records").glob("*.json")))
    assert 3 <= finished < len(plan(spec)), "the kill must land in the middle of the grid"

    code = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert code.returncode == 0, code.stderr
    resumed = pd.read_parquet(out / "table.parquet")
    pd.testing.assert_frame_equal(comparable(resumed), comparable(reference))
    assert _unfinished_entries(out) == []


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_ray_executor_gives_the_local_table(tmp_path, three_cells):
    ray = require("ray")
    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells))
    local = run_experiment(spec, tmp_path / "local", workers=2).table
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_experiment(spec, tmp_path / "ray", executor="ray").table
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(comparable(remote), comparable(local))


@pytest.mark.slow
@pytest.mark.xdist_group("ray")
def test_ray_tasks_ask_the_cluster_for_the_gpus_the_spec_says(tmp_path, three_cells):
    """A local Ray declared to hold 2 GPUs (none is needed): each task asks for the spec's
    gpus_per_run, whatever the driver machine has, and a spec asking for more than the
    cluster holds is refused."""
    ray = require("ray")
    cells = {"E003-syn": three_cells["E003-syn"]}
    spec_path = write_spec(
        tmp_path / "s.yaml", cells, models=["logreg"], seeds=[0, 1], gpus_per_run=1
    )
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    try:
        table = run_experiment(load_spec(spec_path), tmp_path / "ray", executor="ray").table
        assigned = [json.loads(r) for r in table["resources"]]
        assert assigned == [{"CPU": 1.0, "GPU": 1.0}] * 2
        greedy = write_spec(tmp_path / "g.yaml", cells, models=["logreg"], gpus_per_run=3)
        with pytest.raises(ConfigError, match="asks for 3 GPU"):
            run_experiment(load_spec(greedy), tmp_path / "greedy", executor="ray")
    finally:
        ray.shutdown()


def test_resume_cleans_temporaries_and_redoes_runs_without_record(tmp_path, three_cells):
    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells, models=["logreg"], seeds=[0]))
    out = tmp_path / "out"
    first = run_experiment(spec, out, workers=1).table
    # what a kill can leave: a half-built run directory, and a finished one whose record is lost
    stale = out / "runs" / ".logreg__x.abc.tmp"
    stale.mkdir()
    (stale / "model.pt").write_bytes(b"half")
    victim = first["run_id"].iloc[0]
    (out / "records" / f"{victim}.json").unlink()
    again = run_experiment(spec, out, workers=1, resume=True)
    assert again.ran == 1 and not stale.exists()
    pd.testing.assert_frame_equal(comparable(again.table), comparable(first))


def test_table_only_collects_the_finished_runs_of_an_interrupted_study(
    tmp_path, three_cells, capsys
):
    """``experiment --table-only`` runs nothing: the table holds the finished runs, a run whose
    spec changed is left out, and records from before fingerprints are counted as unchecked."""
    import json

    from simplechrome.cli import main

    spec_path = write_spec(tmp_path / "s.yaml", three_cells, models=["logreg", "linear"], seeds=[0])
    run_experiment(load_spec(spec_path), tmp_path / "out", workers=1)
    records = sorted((tmp_path / "out" / "records").glob("*.json"))
    records[0].unlink()  # interrupted before this run finished
    old = json.loads(records[1].read_text())
    del old["fingerprint"]  # recorded by an older simplechrome
    records[1].write_text(json.dumps(old))
    stale = json.loads(records[2].read_text())
    stale["fingerprint"] = "0" * 64  # its spec or data changed since
    records[2].write_text(json.dumps(stale))
    (tmp_path / "out" / "table.csv").unlink()
    args = ["experiment", str(spec_path), "-o", str(tmp_path / "out"), "--table-only"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 of 6 planned runs finished" in out and "1 of them were recorded without" in out
    assert "1 finished run(s) changed" in out
    table = pd.read_csv(tmp_path / "out" / "table.csv")
    assert sorted(table["run_id"]) == sorted(r.stem for r in records[1:] if r != records[2])
    assert len(list((tmp_path / "out" / "runs").iterdir())) >= 5  # nothing run, nothing removed


def test_a_spec_that_plans_no_run_is_an_error(tmp_path, three_cells):
    one = {"E012-syn": three_cells["E012-syn"]}
    spec = load_spec(write_spec(tmp_path / "s.yaml", one, kind="cross_cell", sources=["each"]))
    with pytest.raises(ConfigError, match="plans no run"):
        run_experiment(spec, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def _children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_killing_the_experiment_ends_its_workers(tmp_path, three_cells):
    """SIGKILL to the experiment process alone (not its group): its pool workers end too, and
    no record is written after the kill (before, they finished their runs and wrote them)."""
    spec_path = write_spec(
        tmp_path / "s.yaml",
        three_cells,
        models=["deepchrome"],
        seeds=[0, 1, 2, 3],
        train={"max_epochs": 25, "patience": 25},
    )
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "simplechrome", "-q", "experiment", str(spec_path), "-o",
           str(out), "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and not list((out / "records").glob("*.json")):
        time.sleep(0.05)
    workers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)  # the experiment process only
    proc.wait()
    at_kill = sorted(p.name for p in (out / "records").glob("*.json"))
    assert at_kill and len(workers) >= 2, "the kill must land while workers are running"
    time.sleep(15)  # longer than a run takes: a surviving worker would have written by now
    assert sorted(p.name for p in (out / "records").glob("*.json")) == at_kill
    alive = [w for w in workers if _is_running(w)]
    assert alive == [], f"pool workers still running after the experiment was killed: {alive}"


_BUSY_POOL = """
import concurrent.futures as cf, multiprocessing, os, sys
from simplechrome.experiments.executors import _die_with_parent

def busy(path):
    with open(path + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(path + ".tmp", path)
    return sum(range(3 * 10**9))  # one C call: holds the GIL, so no watch thread can run

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx, initializer=_die_with_parent,
                                initargs=(os.getpid(),)) as pool:
        pool.submit(busy, sys.argv[1]).result()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
def test_a_worker_busy_in_one_long_step_dies_with_its_experiment(tmp_path):
    """The watch thread cannot end a worker that holds the GIL (or is fsyncing a record); the
    kernel's parent-death signal does, at once. Without it this worker lives for its whole
    sum (tens of seconds), which is the window CI once caught a record written in."""
    script = tmp_path / "pool.py"
    script.write_text(_BUSY_POOL)
    pid_file = tmp_path / "worker.pid"
    proc = subprocess.Popen([sys.executable, str(script), str(pid_file)])
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not pid_file.exists():
            time.sleep(0.05)
        worker = int(pid_file.read_text())
        time.sleep(0.5)  # well inside the sum
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gone_by = time.time() + 3
        while time.time() < gone_by and _is_running(worker):
            time.sleep(0.05)
        still = _is_running(worker)
    finally:
        proc.kill()
        if pid_file.exists() and _is_running(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert not still, "the pool worker outlived its killed experiment by more than 3 s"


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray_node(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A Ray node as its own `ray start --block` process group (killed as a whole)."""
    exe = str(Path(sys.executable).with_name("ray"))
    return subprocess.Popen([exe, "start", *args, "--block"], env=env, start_new_session=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)  # fmt: skip


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # a `ray start` cluster is where a concurrent ray.init() looks
def test_a_ray_cluster_that_loses_a_worker_node_finishes_the_study(tmp_path, three_cells):
    """A head and a worker node as separate `ray start` processes; the worker node is killed
    (SIGKILL to its whole process group) while it runs the study's tasks: Ray retries them on
    the head, the study completes, its table equals a local run's, and no record or run
    directory is half-written."""
    require("ray")
    spec_path = write_spec(
        tmp_path / "s.yaml",
        three_cells,
        models=["deepchrome"],
        seeds=[0, 1, 2],
        train={"max_epochs": 12, "patience": 12},
    )
    reference = run_experiment(load_spec(spec_path), tmp_path / "local", workers=2).table
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    port = _free_port()
    address = f"127.0.0.1:{port}"
    head = _ray_node(["--head", "--port", str(port), "--num-cpus", "1",
                      "--include-dashboard", "false"], env, tmp_path / "head.log")  # fmt: skip
    worker = None
    try:
        time.sleep(10)
        worker = _ray_node(["--address", address, "--num-cpus", "2"], env, tmp_path / "w.log")
        time.sleep(8)
        out = tmp_path / "ray"
        study = subprocess.Popen(
            [sys.executable, "-m", "simplechrome", "-q", "experiment", str(spec_path), "-o",
             str(out), "--executor", "ray", "--address", address],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.time() + 240
        while time.time() < deadline and not list((out / "records").glob("*.json")):
            time.sleep(0.1)
        assert list((out / "records").glob("*.json")), "the study never got going"
        os.killpg(worker.pid, signal.SIGKILL)  # the worker node, mid-study
        worker.wait()
        stdout, stderr = study.communicate(timeout=400)
        assert study.returncode == 0, stderr[-2000:]
        table = pd.read_parquet(out / "table.parquet")
        assert len(table) == len(plan(load_spec(spec_path)))
        pd.testing.assert_frame_equal(comparable(table), comparable(reference))
        assert _unfinished_entries(out) == []
    finally:
        for node in (worker, head):
            if node is not None and node.poll() is None:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait()
        # `ray start --head` leaves its address where a later `ray.init()` looks first: a dead
        # cluster's address there would break every Ray test after this one
        import tempfile

        current = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()


def _report_device(task, out, show_progress=False):
    return [{"task": task, "device": os.environ.get("CUDA_VISIBLE_DEVICES")}]


def test_local_runs_are_packed_onto_gpus():
    """``gpus_per_run: 0.25`` gives four local workers per GPU, dealt round-robin; each worker
    sees only its device; a machine without CUDA says what to do."""
    from simplechrome.experiments import executors

    assert executors.gpu_slots(2, 0.25) == [0, 1] * 4
    assert executors.gpu_slots(1, 0.5) == [0, 0] and executors.gpu_slots(3, 2) == [0, 1, 2]
    with pytest.raises(ConfigError, match="shows no CUDA device"):
        executors.gpu_slots(0, 0.25)
    records = list(executors._local(_report_device, [[1], [2], [3], [4]], "x", 2, False, [0, 1]))
    assert sorted(r["task"][0] for r in records) == [1, 2, 3, 4]
    assert {r["device"] for r in records} <= {"0", "1"}
