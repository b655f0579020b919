"""Identifiers: Ensembl gene IDs and Roadmap epigenome IDs (EIDs), in one leaf module.

Every other module asks here how a gene ID is normalised and what an EID looks like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: A Roadmap epigenome ID: ``E`` and three digits (``E003`` ... ``E129``).
EID_PATTERN = re.compile(r"E\d{3}")


def normalise_gene_id(gene_id: object) -> str:
    """``'3'``, ``'000003'``, ``'ENSG00000000003.5'`` -> ``'ENSG00000000003'``."""
    g = str(gene_id).strip()
    if g.isdigit():
        return "ENSG" + g.zfill(11)
    return g.split(".", 1)[0] if g.startswith("ENS") else g


def is_eid(text: object) -> bool:
    """Whether ``text`` is exactly an EID (``E012``; not ``E012-sample``)."""
    return EID_PATTERN.fullmatch(str(text)) is not None


def eid_in(name: object) -> str | None:
    """The EID a cell name carries, if exactly one: ``E003-sample`` -> ``E003``,
    ``E012_mine`` -> ``E012``; ``mycell`` or ``E003+E012`` -> ``None``."""
    found = set(re.findall(r"(?<![A-Za-z0-9])E\d{3}(?![0-9])", str(name)))
    return found.pop() if len(found) == 1 else None


def isin(values: Iterable[object], members: object) -> np.ndarray:
    """Boolean mask of ``values`` found in ``members``, hash-based (numpy's is slow on strings)."""
    return np.asarray(pd.Index(values).isin(members))
