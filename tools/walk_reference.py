"""The walk line's reference for runs measured before ``gan quality`` recorded it.

``walk_trend_r_train`` compares a generator's walk with the training genes' trend at the test
groups' levels. That trend carries the training genes' own sampling noise, which a generator of
their population (rather than of the genes themselves) does not follow; ``walk_reference_train``
(``interpret.gan.walk_reference``) is what such a generator reaches in expectation. New quality
files record it; this prints it for a run's cell (it depends on the cell's splits and transform,
not on the generator's weights):

    python tools/walk_reference.py runs/ar-e012-s0 runs/ar-e027-s0 runs/ar-e100-s0
"""

from __future__ import annotations

import argparse
import json

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import walk_reference


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args(argv)
    out = {}
    for run in args.runs:
        splits = run_splits(run)
        ref = walk_reference(_model(run), splits["train"], splits["test"])
        out[run] = {"cell": splits["train"].cell, **{m: round(r, 3) for m, r in ref.items()}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
