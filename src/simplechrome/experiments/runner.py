"""Run an experiment: plan, skip what is finished, execute, collect one tidy table.

Results folder::

    OUT/spec.yaml              the spec as written (spec.resolved.yaml: with absolute paths)
    OUT/runs/<run_id>/         one run directory per run (written atomically)
    OUT/records/<run_id>.json  one result record per finished run (written atomically, last)
    OUT/table.csv, table.parquet   one row per run, rebuilt from the records

A run counts as finished only when its record exists, and the record is written after its
run directory is complete; ``resume`` redoes everything else. A SIGKILL at any moment leaves
at most temporary ``.*.tmp`` entries, which the next start removes. Each record carries the
run's fingerprint (a hash of its model, parameters, training settings, budget, seed and the
content of every file it reads); ``resume`` also redoes a finished run whose fingerprint no
longer matches, and says so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .._io import atomic_write
from .._version import __version__, code_version
from ..config import RunConfig, RunData
from ..data.cache import file_hash
from ..data.cell import find_split_files
from ..data.histone import HistoneData
from ..data.run_splits import RunSplits, load_run_splits, nearest_relative_r
from ..errors import ConfigError, InputError
from ..ids import is_eid
from ..train import TrainedModel, load_run, resolve_config, save_run
from .executors import make_executor, parent_alive
from .plan import plan
from .report_tables import store as store_report_tables
from .runs import make_run
from .spec import ExperimentSpec, RunSpec

log = logging.getLogger(__name__)


def run_data(run: RunSpec) -> RunData:
    """The data block of one experiment run."""
    return RunData(
        cells=dict(run.cell_paths),
        train_cells=run.train_cells,
        test_cell=run.test_cell,
        task=run.train.task,
        expression=run.expression,
        gtf=run.gtf,
        size=run.size,
        budget_seed=run.seed,
        transductive=run.transductive,
        marks=run.marks,
        compendium=run.compendium,
        epigenomes=run.epigenomes,
        normalize=run.normalize,
        relatives_above=run.relatives_above,
    )


def execute_run(run: RunSpec, out: str, *, show_progress: bool = False) -> dict[str, Any]:
    """Train and score one run; write its run directory, then its record. Returns the record.

    A pure function of ``run`` (seeded, fixed thread count): any executor gives the same record.
    ``show_progress`` draws the per-epoch bar (when the run happens in this process).
    """
    return execute_group([run], out, show_progress=show_progress)[0]


def execute_group(
    runs: list[RunSpec], out: str, *, show_progress: bool = False
) -> list[dict[str, Any]]:
    """Runs that share one trained model (``RunSpec.training_key``): train it once, in the run
    that tests on one of its own training cells if there is one, and score it on every other
    run's test cell. Each run still gets its run directory (the others' share the trainer's
    ``model.pt`` by a hard link) and its record. Finished runs are skipped; a finished trainer
    is loaded, not retrained. Returns the records written now."""
    import torch

    torch.set_num_threads(runs[0].train.threads or 1)
    root = Path(out)
    trainer = next((r for r in runs if r.test_cell in r.train_cells), runs[0])
    todo = [r for r in runs if not (root / "records" / f"{r.run_id}.json").exists()]
    if not todo:
        return []
    records = []
    start = time.perf_counter()
    trainer_dir = root / "runs" / trainer.run_id
    if trainer in todo:
        config = RunConfig(
            trainer.model.name,
            trainer.model.params,
            dataclasses.replace(trainer.train, progress=show_progress),
        )
        made = make_run(config, run_data(trainer), out=trainer_dir, overwrite=True)
        model, splits, metrics = made.model, made.splits, made.metrics
        records.append(_write_record(root, trainer, metrics, splits, model, start, trainer))
    else:
        model, metrics = _load_trained(trainer_dir)
        splits = load_run_splits(run_data(trainer))
    for run in todo:
        if run is trainer:
            continue
        start = time.perf_counter()
        data = run_data(run)
        test = scored_split(data, model)
        scored = {**{k: metrics[k] for k in ("train", "valid")}, "test": model.evaluate(test)}
        save_run(
            root / "runs" / run.run_id,
            model,
            {"test": test},
            config=_used_config(run, model),
            data=data,
            metrics=scored,
            model_file=trainer_dir / "model.pt",
            overwrite=True,
        )
        sibling = dataclasses.replace(splits, test=test)
        records.append(_write_record(root, run, scored, sibling, model, start, trainer))
    return records


def scored_split(data: RunData, model: TrainedModel) -> HistoneData:
    """The test split of a run that reuses another run's ``model``: built by the function that
    builds every run's inputs (``load_run_splits``: marks, normalisation, the target's column,
    compendium), on the marks the model was trained on, so that it equals the test split of
    the same run trained alone."""
    return load_run_splits(dataclasses.replace(data, marks=model.marks)).test


def _load_trained(run_dir: Path) -> tuple[TrainedModel, dict[str, Any]]:
    model, _ = load_run(run_dir)
    model.history = pd.read_csv(run_dir / "history.csv")
    return model, json.loads((run_dir / "metrics.json").read_text())


def _used_config(run: RunSpec, model: TrainedModel) -> RunConfig:
    train = dataclasses.replace(resolve_config(run.train, run.model.name), progress=False)
    return RunConfig(run.model.name, model.hparams, train)


def _write_record(
    root: Path,
    run: RunSpec,
    metrics: dict[str, dict[str, Any]],
    splits: RunSplits,
    model: TrainedModel,
    start: float,
    trainer: RunSpec,
) -> dict[str, Any]:
    record = run.to_record()
    for split in ("test", "valid"):
        record.update(
            {f"{split}_{k}": v for k, v in metrics.get(split, {}).items() if k != "n_genes"}
        )
    record.update(
        n_labelled=splits.train.n_genes + splits.valid.n_genes,
        n_train=splits.train.n_genes,
        n_valid=splits.valid.n_genes,
        n_unlabelled=splits.n_unlabelled if model.family == "latent" else 0,
        n_test=splits.test.n_genes,
        n_parameters=model.n_parameters(),
        epochs=len(model.history),
        seconds=round(time.perf_counter() - start, 3),
        threads=run.train.threads,
        trained_in=trainer.run_id,
        nearest_relative_r=nearest_relative_r(run_data(run)),
        code_version=code_version(),
        resources=_assigned_resources(),
        # bare EIDs resolve to cells fetched by `download`: the published Zenodo files
        data_source="zenodo" if all(is_eid(p) for _, p in run.cell_paths) else "files",
    )
    if not parent_alive():  # the experiment was killed: its workers write nothing more
        os._exit(3)
    with atomic_write(root / "records" / f"{run.run_id}.json") as fh:
        json.dump(record, fh, indent=1)
    return record


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _content_hash(path: str | None) -> str | None:
    """SHA-256 of a file, or of a cell's split files (and manifest), memoised per file state."""
    if path is None:
        return None
    p = Path(path)
    if p.is_dir() or not p.exists():
        try:
            _, files = find_split_files(p)
        except InputError:
            return f"missing:{path}"
        parts = [*files.values(), *(f for f in [p / "manifest.json"] if f.exists())]
        return "+".join(_content_hash(str(f)) or "" for f in parts)
    stat = p.stat()
    key = (str(p.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FILE_HASHES:
        _FILE_HASHES[key] = file_hash(p)
    return _FILE_HASHES[key]


def fingerprint(run: RunSpec) -> str:
    """A hash of everything that determines a run's result: model, parameters, training
    settings, labelled budget, seed, marks, compendium, the content of every file read, and
    the package version. The commit is not in it (a resume would redo every finished run after
    any commit, a typo fix included): each record stores ``code_version`` beside it, and the
    tables say when their records mix code versions."""
    parts = json.loads(run.training_key)
    parts += [
        __version__,
        run.test_cell,
        {name: _content_hash(path) for name, path in run.cell_paths},
        _content_hash(run.expression),
        _content_hash(run.gtf),
        _content_hash(run.epigenomes),
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _assigned_resources() -> str:
    """The CPUs and GPUs a Ray task was given (empty outside Ray), as JSON."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return ""
    try:
        assigned = ray.get_runtime_context().get_assigned_resources()
    except Exception:  # not inside a task
        return ""
    return json.dumps({k: v for k, v in sorted(assigned.items()) if k in ("CPU", "GPU")})


def group_runs(runs: list[RunSpec]) -> list[list[RunSpec]]:
    """Runs grouped by the model they train (``RunSpec.training_key``), in plan order."""
    groups: dict[str, list[RunSpec]] = {}
    for run in runs:
        groups.setdefault(run.training_key, []).append(run)
    return list(groups.values())


@dataclasses.dataclass
class ExperimentResult:
    table: pd.DataFrame
    out: Path
    ran: int
    skipped: int
    changed: list[str] = dataclasses.field(default_factory=list)  # redone: spec or data changed


def run_experiment(
    spec: ExperimentSpec,
    out: str | Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    progress: bool = False,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    on_changed: Callable[[list[str]], None] | None = None,
    spec_text: str | None = None,
) -> ExperimentResult:
    """Run (or resume) ``spec`` into the results folder ``out``; return the tidy table.

    With ``resume``, finished runs are skipped unless their fingerprint changed (the spec or a
    file they read is not what it was): those are run again, and ``on_changed`` hears of them
    first.
    """
    out = Path(out)
    runs = [dataclasses.replace(r, fingerprint=fingerprint(r)) for r in plan(spec)]
    if not runs:
        raise ConfigError(
            f"{spec.name}: the spec plans no run (its sources give no training set for any "
            "target: e.g. `each` or `all_others` with one cell); add cells or sources"
        )
    records_dir = out / "records"
    if out.exists() and any(records_dir.glob("*.json")) and not resume:
        raise ConfigError(f"{out} already holds results: pass --resume to continue, or another -o")
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out)
    # the spec as written, and with every path resolved (what the report reads)
    with atomic_write(out / "spec.yaml") as fh:
        fh.write(spec_text if spec_text is not None else yaml.safe_dump(_spec_dict(spec)))
    with atomic_write(out / "spec.resolved.yaml") as fh:
        fh.write(yaml.safe_dump(_spec_dict(spec), sort_keys=False))
    recorded = {p.stem: json.loads(p.read_text()).get("fingerprint") for p in
                records_dir.glob("*.json")}  # fmt: skip
    changed = [r.run_id for r in runs if r.run_id in recorded and
               recorded[r.run_id] != r.fingerprint]  # fmt: skip
    if changed:
        log.warning("%d finished run(s) changed since they were recorded: redone", len(changed))
        if on_changed:
            on_changed(changed)
        for run_id in changed:  # no longer finished: redone below (or at the next resume)
            (records_dir / f"{run_id}.json").unlink()
    done = set(recorded) - set(changed)
    todo = [r for r in runs if r.run_id not in done]
    # a group with anything left to do goes whole: its finished trainer is loaded, not redone
    tasks = [g for g in group_runs(runs) if any(r.run_id not in done for r in g)]
    log.info(
        "%d runs planned, %d finished before, %d to run",
        len(runs),
        len(runs) - len(todo),
        len(todo),
    )
    if todo:
        execute = make_executor(
            executor,
            workers=workers,
            address=address,
            threads=spec.threads_per_run,
            gpus=spec.gpus_per_run,
        )
        for record in execute(execute_group, tasks, str(out), progress=progress):
            if on_run:
                on_run(record)
    table = collect(out, runs)
    if todo:  # the report's statistics, computed once now (the report only reads them)
        store_report_tables(out)
    return ExperimentResult(
        table=table, out=out, ran=len(todo), skipped=len(runs) - len(todo), changed=changed
    )


def table_of_finished(spec: ExperimentSpec, out: str | Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """The table of an interrupted experiment: the planned runs already finished in ``out``,
    nothing run. Counts: ``planned``, ``finished``, ``unchecked`` (finished runs recorded before
    records carried fingerprints, which cannot be checked against the current spec) and
    ``changed`` (finished runs whose spec or input files changed since: left out)."""
    out = Path(out)
    if not (out / "records").is_dir():
        raise ConfigError(f"{out}: no records of finished runs")
    runs = [dataclasses.replace(r, fingerprint=fingerprint(r)) for r in plan(spec)]
    recorded = {p.stem: json.loads(p.read_text()).get("fingerprint") for p in
                (out / "records").glob("*.json")}  # fmt: skip
    kept = [r for r in runs if r.run_id in recorded and recorded[r.run_id] in (None, r.fingerprint)]
    counts = {
        "planned": len(runs),
        "finished": len(kept),
        "unchecked": sum(recorded[r.run_id] is None for r in kept),
        "changed": sum(r.run_id in recorded for r in runs) - len(kept),
    }
    return collect(out, kept), counts


def collect(out: Path, runs: list[RunSpec] | None = None) -> pd.DataFrame:
    """The tidy table from the records (of ``runs``, or all), written as CSV and Parquet."""
    files = sorted((out / "records").glob("*.json"))
    if runs is not None:
        wanted = {r.run_id for r in runs}
        files = [f for f in files if f.stem in wanted]
    table = pd.DataFrame([json.loads(f.read_text()) for f in files])
    if not table.empty:
        order = {r.run_id: i for i, r in enumerate(runs)} if runs else {}
        table = table.sort_values("run_id", key=lambda s: s.map(order) if order else s)
        table = table.reset_index(drop=True)
    with atomic_write(out / "table.csv") as fh:
        table.to_csv(fh, index=False)
    with atomic_write(out / "table.parquet", "wb") as fh:
        table.to_parquet(fh, index=False)
    return table


def _remove_stale_temporaries(out: Path) -> None:
    for folder in (out, out / "runs", out / "records"):
        if folder.is_dir():
            for entry in folder.glob(".*.tmp"):
                log.info("removing unfinished %s", entry)
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def _spec_dict(spec: ExperimentSpec) -> dict[str, Any]:
    d = dataclasses.asdict(spec)
    d["models"] = [dataclasses.asdict(m) for m in spec.models]
    return json.loads(json.dumps(d, default=list))
