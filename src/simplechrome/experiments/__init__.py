"""Experiments: the demo job (grids, cross-cell and learning curves come with the runner)."""

from __future__ import annotations

from .demo import DEMO_MODELS, DemoResult, run_demo

__all__ = ["DEMO_MODELS", "DemoResult", "run_demo"]
