"""``load_cell``: one cell folder (or DeepDiff prefix) -> its three splits as ``HistoneData``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..ids import eid_in, is_eid, isin
from .annotation import read_expression, read_gtf_tss, regression_targets
from .cache import cached_read, file_hash
from .histone import DEEPCHROME_MARKS, HistoneData, concat
from .readers import (
    DEEPDIFF_MARKS,
    PARSER_VERSION,
    first_line,
    header_names,
    read_deepchrome_csv,
    read_deepdiff_csv,
)
from .splits import SPLITS, split_by_chromosome, split_random

log = logging.getLogger(__name__)


def find_split_files(path: str | Path) -> tuple[str, dict[str, Path]]:
    """Locate the split files of a cell: ``(format, {split: file})``.

    Accepts ``<cell>/``, ``<cell>/classification/``, a DeepDiff prefix (``.../Cell1`` with
    ``Cell1.train.csv`` beside it), or a bare EID (``E003``) fetched by ``download``.
    """
    path = Path(path)
    if not path.exists() and is_eid(path):
        from .download import data_dir  # a bare EID: the downloaded copy

        if not (data_dir() / str(path)).is_dir():
            raise InputError(
                f"cell {path} is not downloaded: run `simplechrome download {path}`", path=path
            )
        path = data_dir() / str(path)
    if path.is_dir():
        folder = path / "classification" if (path / "classification").is_dir() else path
        files = {}
        for split in SPLITS:
            found = [folder / f"{split}.csv", folder / f"{split}.csv.gz"]
            present = [f for f in found if f.exists()]
            if not present:
                raise InputError(f"no {split}.csv or {split}.csv.gz in {folder}", path=path)
            files[split] = present[0]
        return "deepchrome", files
    prefix = path.parent / path.name
    files = {s: prefix.parent / f"{prefix.name}.{s}.csv" for s in SPLITS}
    if all(f.exists() for f in files.values()):
        return "deepdiff", files
    raise InputError(
        "not a cell folder (expected train/valid/test CSV files) or a DeepDiff prefix", path=path
    )


def marks_of(path: str | Path) -> tuple[str, ...]:
    """A cell's mark names without parsing its signals: the manifest's, the header line's, the
    DeepChrome five for a headerless file with five mark columns, or the DeepDiff five."""
    fmt, files = find_split_files(path)
    if fmt == "deepdiff":
        return DEEPDIFF_MARKS
    manifest, _ = _manifest(files["train"])
    if manifest is not None:
        return tuple(manifest["marks"])
    first = first_line(files["train"])
    header = header_names(first)
    if header is not None:
        return tuple(header[2:-1])
    n = len(first.split(",")) - 3
    if n == len(DEEPCHROME_MARKS):
        return DEEPCHROME_MARKS
    return tuple(f"mark{i + 1}" for i in range(n))


def load_cell(
    path: str | Path,
    *,
    task: Literal["classification", "regression"] = "classification",
    cell: str | None = None,
    expression: str | Path | pd.DataFrame | None = None,
    gtf: str | Path | pd.DataFrame | None = None,
    split: Literal["files", "chromosome", "random"] = "files",
    seed: int = 0,
    cache: bool = True,
) -> dict[str, HistoneData]:
    """Load a cell's ``train``/``valid``/``test`` splits.

    Args:
        path: a DeepChrome cell folder or a DeepDiff prefix (see ``find_split_files``).
        task: ``classification`` uses the files' labels; ``regression`` sets ``y`` to
            ``log2(RPKM + 1)`` of ``cell`` from ``expression`` (genes absent there are dropped).
        cell: the cell's name (default: the manifest's, else the folder name). Its Roadmap EID
            (``cell`` itself, the manifest's expression column, or the EID the folder name
            carries: ``E012-mine`` -> ``E012``) is the expression column that is its label.
        expression: Roadmap expression matrix (path or DataFrame): regression targets and
            co-expression neighbours.
        gtf: GENCODE GTF (path) or TSS table: genomic neighbours and the chromosome split.
        split: the files' own split, a chromosome hold-out, or a seeded random split.
        cache: memoise parsed files as ``.npz`` under ``$SIMPLECHROME_HOME/cache``.
    """
    fmt, files = find_split_files(path)
    manifest, home = _manifest(files["train"]) if fmt == "deepchrome" else (None, None)
    if manifest is not None:  # a folder made by `prepare`: its marks and bin size
        marks, bin_size = tuple(manifest["marks"]), int(manifest["bin_size"])

        def reader(p: Path) -> HistoneData:
            return read_deepchrome_csv(p, marks=marks, bin_size=bin_size)

        key = f"deepchrome-v{PARSER_VERSION}-{'-'.join(marks)}-bin{bin_size}"
    elif fmt == "deepchrome":
        reader, key = read_deepchrome_csv, f"deepchrome-v{PARSER_VERSION}"
    else:
        expr_file = Path(str(files["train"]).replace(".train.csv", ".expr.csv"))
        if expr_file.exists():

            def reader(p: Path) -> HistoneData:
                return read_deepdiff_csv(p, expression=expr_file)

            key = f"deepdiff-v{PARSER_VERSION}-labels-{file_hash(expr_file)}"
        else:
            reader, key = read_deepdiff_csv, f"deepdiff-v{PARSER_VERSION}"
    splits = {
        name: cached_read(f, reader, key=key) if cache else reader(f) for name, f in files.items()
    }
    name = cell or (manifest["cell"] if manifest else splits["train"].cell)
    eid = _eid(name, manifest, explicit=cell is not None)
    expr = read_expression(expression) if isinstance(expression, (str, Path)) else expression
    tss = read_gtf_tss(gtf) if isinstance(gtf, (str, Path)) else gtf
    unlabelled = manifest is not None and manifest.get("labels") == "none"
    splits = {
        k: s.replace(
            cell=name,
            eid=eid,
            tss=tss,
            expression=expr,
            # prepared without expression: the files' zeros are no labels
            y=None if unlabelled else s.y,
        )
        for k, s in splits.items()
    }
    if task == "regression":
        if expr is None and manifest is not None and manifest.get("labels") != "none":
            targets = _prepared_targets(home)
        elif expr is None:
            raise InputError("regression needs an expression matrix (expression=...)")
        else:
            targets = regression_targets(expr, eid or name)
        splits = {k: _with_targets(v, targets) for k, v in splits.items()}
    if split == "chromosome":
        splits = split_by_chromosome(concat(list(splits.values())))
    elif split == "random":
        splits = split_random(concat(list(splits.values())), seed=seed)
    elif split != "files":
        raise InputError(f"unknown split {split!r}: use files, chromosome or random")
    # neighbours of any gene are drawn from the whole cell (signals; their labels are never read)
    whole = concat(list(splits.values()))
    return {k: s.replace(pool=whole) for k, s in splits.items()}


def _eid(name: str, manifest: dict | None, *, explicit: bool) -> str | None:
    """The Roadmap EID (expression column) of a cell: its explicit name when that is an EID,
    the column ``prepare`` labelled it with, else the EID its name carries."""
    if explicit and is_eid(name):
        return name
    if manifest is not None and manifest.get("expression"):
        return str(manifest["expression"]["column"])
    return eid_in(name)


def _manifest(split_file: Path) -> tuple[dict | None, Path | None]:
    """The ``prepare`` manifest beside or above the split files, and its folder."""
    from .prepared_folder import read_manifest

    for folder in (split_file.parent, split_file.parent.parent):
        manifest = read_manifest(folder)
        if manifest is not None:
            return manifest, folder
    return None, None


def _prepared_targets(folder: Path) -> pd.Series:
    """``log2(value + 1)`` of the expression column ``prepare`` kept in ``genes.tsv``."""
    path = folder / "genes.tsv"
    try:
        table = pd.read_csv(path, sep="\t", index_col="gene_id", usecols=["gene_id", "expression"])
    except (OSError, ValueError) as exc:
        raise InputError(f"no expression values for regression ({exc})", path=path) from None
    return np.log2(table["expression"] + 1.0)


def _with_targets(data: HistoneData, targets: pd.Series) -> HistoneData:
    present = isin(data.gene_ids, targets.index)
    if not present.all():
        log.warning(
            "%s: %d gene(s) without expression dropped (e.g. %s)",
            data.cell,
            int((~present).sum()),
            data.gene_ids[~present][0],
        )
    kept = data.subset(present)
    return kept.replace(y=targets.loc[kept.gene_ids].to_numpy(np.float32), task="regression")
