"""Fit the autoregressive generator's level tilt (``level_tilt``) on a trained run's network,
frozen, and write the result as a new run (issue 39): the stage ``gan train`` runs after
training with ``--set model_params.level_tilt=true``, applied to a run trained without it, so
that the same networks can be compared with and without the stage. Training and validation
genes only (the run's own splits); the new run holds the run's files but its model, and not
the old model's predictions, metrics or analysis.

    python tools/add_level_tilt.py runs/arlbsfe-e100-s0 --out runs/tilt-e100-s0
    python tools/add_level_tilt.py runs/arlbsfe-e100-s0 --drawn --out runs/dtilt-e100-s0
    python tools/add_level_tilt.py runs/dtilt-e100-s0 --offset --out runs/doff-e100-s0

``--drawn``: with ``drawn_tilt`` as well (the tilt then moved to the sampler's own errors);
``--offset``: with ``drawn_offset`` too (offsets per level bucket, bin and mark after it; a
run that has the drawn tilt keeps it, and only the offsets are fitted).

Prints JSON: the ridge kept, the validation log-likelihood without and with the tilt, and the
stage's seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from simplechrome import models
from simplechrome.api import _model, run_splits

STALE = {"model.pt", "metrics.json", "predictions.tsv", "analysis"}


def add_tilt(run: Path, out: Path, *, drawn: bool = False, offset: bool = False) -> dict:
    trained, splits = _model(run), run_splits(run)
    if trained.name != "autoregressive" or trained.task != "regression":
        sys.exit(f"{run}: the tilt needs a level-conditioned autoregressive generator")
    hparams = dict(trained.hparams, level_tilt=True, drawn_tilt=drawn or offset,
                   drawn_offset=offset)  # fmt: skip
    module = models.create(trained.name, n_marks=len(trained.marks), n_bins=trained.n_bins,
                           n_outputs=1, **hparams)  # fmt: skip
    missing, unexpected = module.load_state_dict(trained.module.state_dict(), strict=False)
    # a run with the drawn tilt already keeps it, and only the offsets are fitted
    only_offset = offset and bool(trained.hparams.get("drawn_tilt"))
    fitted_here = set() if only_offset else {"generator.tilt", "generator.tilt_value"}
    fitted_here |= {"generator.offset"} if offset else set()
    assert set(missing) == fitted_here and not unexpected
    module.eval()
    trained.module, trained.hparams = module, hparams

    def inputs(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        data = splits[name]
        return torch.as_tensor(trained.transformed(data)), trained._conditions(data.y)

    start = time.perf_counter()
    stage = module.generator.fit_drawn_offset if only_offset else module.after_training
    fitted = stage(*inputs("train"), *inputs("valid"))
    fitted["seconds"] = round(time.perf_counter() - start, 1)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    for item in run.iterdir():
        if item.name not in STALE:
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, tmp / item.name)
    trained.save(tmp / "model.pt")
    (tmp / "level_tilt.json").write_text(json.dumps(fitted, indent=1) + "\n")
    tmp.rename(out)
    return fitted


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--drawn", action="store_true", help="with drawn_tilt as well")
    ap.add_argument("--offset", action="store_true", help="with drawn_tilt and drawn_offset")
    args = ap.parse_args(argv)
    if args.out.exists():
        sys.exit(f"{args.out}: already exists")
    print(json.dumps(add_tilt(args.run, args.out, drawn=args.drawn, offset=args.offset)))


if __name__ == "__main__":
    main()
