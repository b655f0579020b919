"""One run: train a model, evaluate it on every split, compute its analyses, and store all of it
in a run directory. ``simplechrome train``, ``experiment`` and ``demo`` all make runs this way.
"""

from __future__ import annotations

import dataclasses
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

    splits = splits or load_run_splits(data)
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
