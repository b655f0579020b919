"""One run: train a model, evaluate it on every split, compute its analyses, and store all of it
in a run directory. ``simplechrome train``, ``experiment`` and ``demo`` all make runs this way.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from ..config import RunConfig, RunData
from ..data.run_splits import RunSplits, load_run_splits
from ..errors import RunError
from ..interpret.analyses import analyse
from ..train import TrainedModel, fit, load_run, read_run_config, save_run, write_analyses


@dataclasses.dataclass
class Run:
    """A finished run: the model, its metrics and where it was written (if anywhere)."""

    model: TrainedModel
    metrics: dict[str, dict[str, Any]]
    splits: RunSplits
    out: Path | None


def _claim_checkpoints(folder: Path, config: RunConfig, data: RunData) -> None:
    """Checkpoints left by a killed fit are resumed only by the same run: a folder kept for
    other settings or data (a spec changed between the kill and the resume) is removed."""
    import hashlib
    import json

    text = json.dumps([dataclasses.asdict(config), dataclasses.asdict(data)], sort_keys=True,
                      default=str)  # fmt: skip
    key = hashlib.sha256(text.encode()).hexdigest()
    mark = folder / "run.sha256"
    if folder.exists() and (not mark.is_file() or mark.read_text().strip() != key):
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    mark.write_text(key + "\n")


def make_run(
    config: RunConfig,
    data: RunData,
    *,
    out: str | Path | None = None,
    splits: RunSplits | None = None,
    analyses: bool = True,
    overwrite: bool = False,
) -> Run:
    """Fit ``config.model`` on the genes ``data`` describes (loaded unless ``splits`` are
    given), evaluate it, compute its analyses and, with ``out``, write the run directory.

    The run directory records the training settings actually used (the model's defaults
    filled in), so the run can be repeated and rebuilt from it alone.
    """
    from ..train import resolve_config
    from ..train.lightning_loop import resumable

    splits = splits or load_run_splits(data)
    # with a run directory, the fit keeps a checkpoint beside it every epoch (".RUN.fit"): a
    # killed `train` or experiment run started again continues from it
    checkpoints = None if out is None else Path(out).parent / f".{Path(out).name}.fit"
    if checkpoints is not None:
        _claim_checkpoints(checkpoints, config, data)
    with resumable(checkpoints):
        trained = fit(
            config.model,
            splits.train,
            splits.valid,
            config=config.train,
            model_params=config.model_params,
            unlabelled=splits.unlabelled,
            unlabelled_valid=splits.unlabelled_valid,
        )
    used = dataclasses.replace(
        config,
        model_params=trained.hparams,
        train=dataclasses.replace(resolve_config(config.train, config.model), progress=False),
    )
    results: dict = {}
    failed: Exception | None = None
    if analyses:
        try:
            results = analyse(trained, splits.as_dict(), seed=config.train.seed)
        except Exception as exc:  # noqa: BLE001 - the trained model must not be lost with it
            if out is None:
                raise
            failed = exc
    if out is None:
        from ..train import evaluate_splits

        return Run(trained, evaluate_splits(trained, splits.as_dict()), splits, None)
    metrics = save_run(
        out,
        trained,
        splits.as_dict(),
        config=used,
        data=data,
        analyses=results,
        overwrite=overwrite,
    )
    if checkpoints is not None:
        shutil.rmtree(checkpoints, ignore_errors=True)
    if failed is not None:
        raise RunError(
            f"{out}: the model is trained and saved, but its analyses failed "
            f"({type(failed).__name__}: {failed}); once that is mended, "
            f"`simplechrome analyse {out}` computes them"
        ) from failed
    return Run(trained, metrics, splits, Path(out))


def analyse_run(run: str | Path) -> list[Path]:
    """Compute (again) the analyses of a run made earlier and write them into its directory."""
    config, data = read_run_config(run)
    model, _ = load_run(run)
    vae = Path(run) / "vae.pt"
    if vae.exists():
        model.pretrained = TrainedModel.load(vae)
        history = Path(run) / "vae_history.csv"
        if history.exists():
            import pandas as pd

            model.pretrained.history = pd.read_csv(history)
    splits = load_run_splits(data)
    return write_analyses(run, analyse(model, splits.as_dict(), seed=config.train.seed))
