"""Interpretation: analyses a run stores (attention, class-optimisation maps, attributions,
latent views, generator quality) and the attention export."""

from __future__ import annotations

from .analyses import analyse
from .attention import attention_table, bedgraph_lines, write_attention
from .saliency import class_optimisation_maps, integrated_gradients

__all__ = [
    "analyse",
    "attention_table",
    "bedgraph_lines",
    "class_optimisation_maps",
    "integrated_gradients",
    "write_attention",
]
