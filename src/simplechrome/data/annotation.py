"""Gene-level side data: Roadmap expression matrices, GENCODE GTF, the epigenome table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

#: The 56 Roadmap epigenomes with RNA-seq (the columns of ``57epigenomes.*.pc`` after E000):
#: the cells of the DeepChrome paper and of Zenodo record 2652278.
ROADMAP_CELLS: tuple[str, ...] = tuple(
    "E003 E004 E005 E006 E007 E011 E012 E013 E016 E024 E027 E028 E037 E038 E047 E050 E053 E054 "
    "E055 E056 E057 E058 E059 E061 E062 E065 E066 E070 E071 E079 E082 E084 E085 E087 E094 E095 "
    "E096 E097 E098 E100 E104 E105 E106 E109 E112 E113 E114 E116 E117 E118 E119 E120 E122 E123 "
    "E127 E128".split()
)


def read_expression(path: str | Path) -> pd.DataFrame:
    """Read a Roadmap ``57epigenomes.{RPKM,N}.pc[.gz]`` matrix: genes x epigenomes, float.

    The header names ``gene_id`` and the epigenomes; data rows carry one more, empty, field (a
    trailing tab), which is dropped. Values must be finite and non-negative; genes unique.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        header = pd.read_csv(path, sep="\t", nrows=0).columns.tolist()
        body = pd.read_csv(path, sep="\t", header=None, skiprows=1, dtype={0: str}, engine="c")
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot parse expression matrix ({exc})", path=path) from None
    if not header or header[0] != "gene_id":
        raise InputError("expected a header starting with 'gene_id'", path=path, line=1)
    n = len(header)
    extra = body.iloc[:, n:]
    if extra.shape[1] and extra.notna().to_numpy().any():
        row = int(np.flatnonzero(extra.notna().any(axis=1).to_numpy())[0])
        raise InputError(f"more than {n} columns", path=path, line=row + 2)
    body = body.iloc[:, :n]
    body.columns = header
    values = body.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raw = body.iloc[row, col + 1]
        raise InputError(
            f"column {header[col + 1]}: value {raw} is not a non-negative number",
            path=path,
            line=int(row) + 2,
            gene=str(body.iloc[row, 0]),
        )
    genes = body["gene_id"].astype(str).str.split(".", n=1).str[0]
    dup = genes.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("duplicate gene", path=path, line=row + 2, gene=genes.iloc[row])
    return pd.DataFrame(values, index=pd.Index(genes, name="gene_id"), columns=header[1:])


def regression_targets(expression: pd.DataFrame, cell: str) -> pd.Series:
    """``log2(RPKM + 1)`` of one cell, indexed by gene."""
    if cell not in expression.columns:
        raise InputError(f"cell {cell!r} is not a column of the expression matrix")
    return np.log2(expression[cell] + 1.0)


def median_labels(expression: pd.DataFrame, cell: str) -> pd.Series:
    """DeepChrome's labels: 1 where the gene's RPKM is above the cell's median."""
    if cell not in expression.columns:
        raise InputError(f"cell {cell!r} is not a column of the expression matrix")
    col = expression[cell]
    return (col > col.median()).astype(np.int64)


_GTF_COLUMNS = ["chrom", "source", "feature", "start", "end", "score", "strand", "frame", "attrs"]


def read_gtf_tss(path: str | Path, *, gene_types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """GENCODE GTF -> one row per gene: ``gene_id`` (no version), chrom, tss, strand, name, type.

    The TSS is the gene start on the + strand and the gene end on the - strand (1-based).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        table = pd.read_csv(
            path,
            sep="\t",
            comment="#",
            header=None,
            names=_GTF_COLUMNS,
            usecols=["chrom", "feature", "start", "end", "strand", "attrs"],
            dtype={"chrom": str, "feature": str, "strand": str, "attrs": str},
            engine="c",
        )
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot parse GTF ({exc})", path=path) from None
    genes = table[table["feature"] == "gene"]
    if genes.empty:
        raise InputError("no 'gene' records", path=path)
    attrs = genes["attrs"].str
    out = pd.DataFrame(
        {
            "gene_id": attrs.extract(r'gene_id "([^".]+)', expand=False),
            "chrom": genes["chrom"].to_numpy(),
            "start": pd.to_numeric(genes["start"], errors="coerce"),
            "end": pd.to_numeric(genes["end"], errors="coerce"),
            "strand": genes["strand"].to_numpy(),
            "gene_name": attrs.extract(r'gene_name "([^"]+)"', expand=False),
            # GENCODE says gene_type, Ensembl gene_biotype
            "gene_type": attrs.extract(r'gene_(?:bio)?type "([^"]+)"', expand=False),
        }
    )
    if out["gene_id"].isna().any() or out[["start", "end"]].isna().any().any():
        row = int(np.flatnonzero((out["gene_id"].isna() | out["start"].isna()).to_numpy())[0])
        raise InputError("gene record without gene_id or coordinates", path=path, gene=str(row))
    bad_strand = ~out["strand"].isin(["+", "-"])
    if bad_strand.any():
        g = out["gene_id"][bad_strand].iloc[0]
        raise InputError("strand is neither + nor -", path=path, gene=g)
    out["tss"] = np.where(out["strand"] == "+", out["start"], out["end"]).astype(np.int64)
    if gene_types is not None:
        out = out[out["gene_type"].isin(gene_types)]
    out = out.drop_duplicates("gene_id").set_index("gene_id")
    return out[["chrom", "tss", "strand", "start", "end", "gene_name", "gene_type"]]


def read_epigenome_table(
    path: str | Path, *, cells: tuple[str, ...] = ROADMAP_CELLS
) -> pd.DataFrame:
    """Roadmap's ``Consolidated_EpigenomeIDs_summary_Table.tsv`` -> catalogue of ``cells``.

    Columns: ``eid``, ``name`` (standardized epigenome name), ``group``, ``mnemonic``, ``anatomy``.
    The table has a multi-row header; rows are found by their EID column.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        table = pd.read_csv(path, sep="\t", header=0, dtype=str, engine="c")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot parse epigenome table ({exc})", path=path) from None
    need = {
        "Epigenome ID (EID)": "eid",
        "Standardized Epigenome name": "name",
        "GROUP": "group",
        "Epigenome Mnemonic": "mnemonic",
        "ANATOMY": "anatomy",
    }
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", path=path, line=1)
    table = table[list(need)].rename(columns=need)
    table = table[table["eid"].fillna("").str.fullmatch(r"E\d{3}")]
    catalogue = table[table["eid"].isin(cells)].drop_duplicates("eid")
    absent = sorted(set(cells) - set(catalogue["eid"]))
    if absent:
        raise InputError(f"no row for epigenome(s) {', '.join(absent)}", path=path)
    order = {c: i for i, c in enumerate(cells)}
    catalogue = catalogue.sort_values("eid", key=lambda s: s.map(order))
    return catalogue.reset_index(drop=True)
