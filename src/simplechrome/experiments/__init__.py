"""Experiments: specs, planning, executors (local, Ray), a results store, statistics, the demo."""

from __future__ import annotations

from .demo import DEMO_MODELS, DemoResult, run_demo
from .plan import plan
from .runner import ExperimentResult, collect, execute_run, read_table, run_experiment
from .spec import ExperimentSpec, ModelSpec, RunSpec, load_spec, parse_spec

__all__ = [
    "DEMO_MODELS",
    "DemoResult",
    "ExperimentResult",
    "ExperimentSpec",
    "ModelSpec",
    "RunSpec",
    "collect",
    "execute_run",
    "load_spec",
    "parse_spec",
    "plan",
    "read_table",
    "run_demo",
    "run_experiment",
]
