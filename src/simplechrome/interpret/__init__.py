"""Interpretation: attention export, class-optimisation maps, attributions."""

from __future__ import annotations

from .attention import attention_table, bedgraph_lines, write_attention

__all__ = ["attention_table", "bedgraph_lines", "write_attention"]
