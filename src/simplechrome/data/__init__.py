"""Data: readers, validation, cache, download, prepare (raw tracks -> bins), synthetic data,
neighbours and splits."""

from __future__ import annotations

from ..ids import normalise_gene_id
from .annotation import (
    ROADMAP_CELLS,
    median_labels,
    read_epigenome_table,
    read_expression,
    read_gtf_tss,
    regression_targets,
)
from .cell import find_split_files, load_cell
from .histone import DEEPCHROME_MARKS, HistoneData, concat, neighbor_indices
from .preparation import PrepareOptions, prepare
from .readers import read_deepchrome_csv, read_deepdiff_csv
from .run_splits import RunSplits, load_run_splits
from .sample_sheet import read_sheet
from .splits import labelled_budget, split_by_chromosome, split_random
from .synthetic import SyntheticCell, make_synthetic
from .writers import write_cell, write_deepchrome_csv

__all__ = [
    "DEEPCHROME_MARKS",
    "ROADMAP_CELLS",
    "HistoneData",
    "RunSplits",
    "SyntheticCell",
    "concat",
    "find_split_files",
    "labelled_budget",
    "load_cell",
    "load_run_splits",
    "make_synthetic",
    "median_labels",
    "neighbor_indices",
    "PrepareOptions",
    "prepare",
    "read_sheet",
    "normalise_gene_id",
    "read_deepchrome_csv",
    "read_deepdiff_csv",
    "read_epigenome_table",
    "read_expression",
    "read_gtf_tss",
    "regression_targets",
    "split_by_chromosome",
    "split_random",
    "write_cell",
    "write_deepchrome_csv",
]
