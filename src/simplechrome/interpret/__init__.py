"""Interpretation: attention export, class-optimisation maps, attributions."""

from __future__ import annotations

from .attention import attention_table, bedgraph_lines, write_attention
from .saliency import class_optimisation_maps, integrated_gradients

__all__ = [
    "attention_table",
    "bedgraph_lines",
    "class_optimisation_maps",
    "integrated_gradients",
    "write_attention",
]
