"""Plant each fault the safety tests guard against, run the tests that must catch it, restore.

    .venv/bin/python tools/plant_faults.py

Each line says which fault was planted and what pytest answered (a caught fault: "failed").
The source files are restored with ``git checkout`` after each plant.
"""

import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
R = ROOT / "src" / "simplechrome"
plants = {
    "label column: only an exact match is dropped, nothing refused": (
        "data/neighbors.py",
        """    if eid is None and cell in expression.columns:""",
        """    return cell if cell in expression.columns else None
    if eid is None and cell in expression.columns:""",
        "tests/test_leaks.py -k 'neighbours'",
    ),
    "parse cache returns the cached cell name": (
        "data/cache.py",
        """                    cell=infer_cell_name(path),""",
        """                    cell=str(z["cell"]),""",
        "tests/test_leaks.py -k copied",
    ),
    "VAE pretraining reads the labels": (
        "train/vae.py",
        """            no_labels = torch.zeros(len(x), dtype=torch.long)  # a VAE reads none""",
        """            no_labels = torch.zeros(len(x), dtype=torch.long)  # a VAE reads none
            x = x + 0.05 * torch.as_tensor(np.asarray(data.y), dtype=torch.float32)[:, None, None]""",  # noqa: E501
        "tests/test_leaks.py -k vae",
    ),
    "budget: every validation gene stops early": (
        "data/splits.py",
        """    return np.sort(train_order[:n_t]), np.sort(valid_order[:n_v])""",
        """    return np.sort(train_order[:n_t]), np.arange(n_valid)""",
        "tests/test_leaks.py -k budget",
    ),
    "new cell type: the target's column stays in the compendium": (
        "data/run_splits.py",
        """    held_out = {target_column} - {None}""",
        """    held_out = set()""",
        "tests/test_leaks.py -k new_cell",
    ),
    "a cell's own column stays in its compendium": (
        "data/run_splits.py",
        """            own=own_column[name],
            exclude=held_out,""",
        """            own=None,
            exclude=set(),""",
        "tests/test_leaks.py -k within_cell",
    ),
    "siblings scored on the training cell's own test split": (
        "experiments/runner.py",
        """        test = scored_split(data, model)""",
        """        test = splits.test""",
        "tests/experiments/test_run_inputs.py -k trained_alone",
    ),
    "siblings scored on their target's raw test split (no normalisation)": (
        "experiments/runner.py",
        """    return load_run_splits(dataclasses.replace(data, marks=model.marks)).test""",
        """    from ..data.run_splits import load_source

    return load_source(data.cells[data.test_cell], data)["test"].select_marks(model.marks)""",
        "tests/experiments/test_run_inputs.py -k trained_alone",
    ),
    "a model trained beside the target's RNA-seq column serves that target": (
        "experiments/spec.py",
        """                self.test_cell if self.compendium or self.expression or self.transductive else None,""",  # noqa: E501
        """                self.test_cell if self.compendium or self.transductive else None,""",
        "tests/experiments/test_run_inputs.py -k scrambled",
    ),
    "cross-cell runs without marks share a model whatever their target's marks": (
        "experiments/plan.py",
        """            run_marks = _common_marks([paths[c] for c in (test, *train_cells)], known)""",  # noqa: E501
        """            run_marks = None""",
        "tests/experiments/test_run_inputs.py -k reads_its_target_marks",
    ),
    "seed-and-gene intervals without the seed draw": (
        "experiments/stats.py",
        """    picks = rng.integers(0, len(runs), size=(n_boot, len(runs)))""",
        """    picks = np.tile(np.arange(len(runs)), (n_boot, 1))""",
        "tests/experiments/test_stats.py -k brute",
    ),
    "evaluate on another cell reads it raw": (
        "data/run_splits.py",
        """    if data.normalize == "depth":
        cells = {n: depth_normalised(c) for n, c in cells.items()}""",
        """    if data.normalize == "depth":
        cells = {n: depth_normalised(c) if n in data.train_cells else c for n, c in cells.items()}""",  # noqa: E501
        "tests/experiments/test_run_inputs.py -k another_cell",
    ),
}
for name, (f, old, new, tests) in plants.items():
    p = R / f
    s = p.read_text()
    assert old in s, name
    s = s.replace(old, new)
    if f == "data/cache.py":
        s = s.replace(
            "                bin_size=data.bin_size,\n            )",
            "                bin_size=data.bin_size,\n                cell=data.cell,\n            )",  # noqa: E501
        )
    p.write_text(s)
    r = subprocess.run(
        f"cd {ROOT} && timeout 600 .venv/bin/python -m pytest -q -p no:cacheprovider {tests} 2>&1 | tail -1",  # noqa: E501
        shell=True,
        capture_output=True,
        text=True,
    )
    print(f"PLANTED: {name}\n   -> {r.stdout.strip()}")
    subprocess.run(["git", "-C", str(ROOT), "checkout", "--", str(p)])
r = subprocess.run(
    f"cd {ROOT} && timeout 600 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_leaks.py 2>&1 | tail -1",  # noqa: E501
    shell=True,
    capture_output=True,
    text=True,
)
print("RESTORED ->", r.stdout.strip())
