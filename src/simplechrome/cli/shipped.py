"""The verbs of what ships built: ``models --pretrained``, ``pretrained build`` and
``build-kernels``."""

from __future__ import annotations

import argparse

from .output import print_table


def list_pretrained() -> int:
    from .. import pretrained

    rows = []
    for name in pretrained.names():
        m = pretrained.manifest(name)
        rows.append(
            {
                "model": name,
                "marks": "+".join(m["marks"]),
                "trained on": f"{len(m['training_cells'])} Roadmap cells",
                "compendium": f"{len(m['compendium_columns'])} cells",
                "outputs": "P(above median), log2(RPKM + 1)",
            }
        )
    print("shipped models: `simplechrome predict NAME CELL_FOLDER -o predictions.tsv`")
    print_table(rows, ["model", "marks", "trained on", "compendium", "outputs"])
    return 0


def cmd_pretrained_build(args: argparse.Namespace) -> int:
    from .. import pretrained

    recipe = pretrained.load_recipe(args.recipe)
    out = pretrained.build(recipe, args.output, leave_out=args.leave_out)
    print(f"shipped model {recipe.name} written to {out}")
    return 0


def cmd_build_kernels(args: argparse.Namespace) -> int:
    from .. import api

    for variant, reason in api.build_kernels().items():
        if reason is None:
            print(f"fused AttentiveChrome kernel ({variant}): built")
        else:
            print(
                f"fused AttentiveChrome kernel ({variant}): not built ({reason}); AttentiveChrome "
                "runs on torch.nn.LSTM, correct but slower"
            )
    return 0
