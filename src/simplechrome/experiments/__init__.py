"""Experiments: specs, planning, runs (train + evaluate + analyses, stored), executors (local,
Ray), the results store and its public reader, statistics."""

from __future__ import annotations

from .plan import plan
from .results import Results, experiment_summary, read_table
from .runner import ExperimentResult, collect, execute_run, run_data, run_experiment
from .runs import Run, analyse_run, make_run
from .spec import ExperimentSpec, ModelSpec, RunSpec, load_spec, parse_spec

#: ``simplechrome.experiments.run(spec, out)``: run (or resume) an experiment
run = run_experiment

__all__ = [
    "ExperimentResult",
    "ExperimentSpec",
    "ModelSpec",
    "Results",
    "Run",
    "RunSpec",
    "analyse_run",
    "collect",
    "execute_run",
    "experiment_summary",
    "load_spec",
    "make_run",
    "parse_spec",
    "plan",
    "read_table",
    "run",
    "run_data",
    "run_experiment",
]
