from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from simplechrome.data import (
    HistoneData,
    load_cell,
    read_deepchrome_csv,
    read_deepdiff_csv,
    write_deepchrome_csv,
)
from simplechrome.errors import InputError

ROW = "{g},{b},1,2,3,4,5,{y}\n"


def gene_rows(gene: str, n_bins: int = 4, label: int = 1) -> list[str]:
    return [ROW.format(g=gene, b=b, y=label) for b in range(1, n_bins + 1)]


def write(tmp_path: Path, lines: list[str], name: str = "train.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def test_round_trip_of_written_split(tmp_path, synthetic):
    data = synthetic.splits["train"]
    path = write_deepchrome_csv(data, tmp_path / "train.csv")
    back = read_deepchrome_csv(path)
    np.testing.assert_array_equal(back.x, data.x)
    np.testing.assert_array_equal(back.y, data.y)
    np.testing.assert_array_equal(back.gene_ids, data.gene_ids)
    assert back.marks == data.marks
    assert back.x.dtype == np.float32 and back.x.shape == (data.n_genes, 5, 100)


def test_gzip_and_float_values(tmp_path):
    lines = [r.replace(",1,2,", ",1.5,0.25,") for r in gene_rows("000003") + gene_rows("000005")]
    path = tmp_path / "valid.csv.gz"
    path.write_bytes(gzip.compress("".join(lines).encode()))
    data = read_deepchrome_csv(path)
    assert data.n_genes == 2
    assert data.x[0, 0, 0] == pytest.approx(1.5) and data.x[0, 1, 0] == pytest.approx(0.25)


def test_zero_padded_and_bare_ids_map_to_ensembl(tmp_path):
    a = read_deepchrome_csv(write(tmp_path, gene_rows("000003"), "a.csv"))
    b = read_deepchrome_csv(write(tmp_path, gene_rows("3"), "b.csv"))
    assert a.gene_ids.tolist() == b.gene_ids.tolist() == ["ENSG00000000003"]
    np.testing.assert_array_equal(a.get_gene_data("3")[0], b.get_gene_data("ENSG00000000003.7")[0])


def test_channels_first_layout(tmp_path):
    # marks in columns 3..7 must become channels; bins become the last axis
    lines = [f"000003,{b},{b},{10 * b},0,0,0,1\n" for b in range(1, 5)]
    data = read_deepchrome_csv(write(tmp_path, lines))
    np.testing.assert_array_equal(data.x[0, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(data.x[0, 1], [10, 20, 30, 40])


def test_header_names_marks(tmp_path):
    header = "gene_id,bin,A,B,C,label\n"
    lines = [header] + [f"7,{b},1,2,3,0\n" for b in range(1, 4)]
    data = read_deepchrome_csv(write(tmp_path, lines))
    assert data.marks == ("A", "B", "C") and data.n_bins == 3


@pytest.mark.parametrize(
    ("lines", "expect"),
    [
        (gene_rows("3") + ["3,5,1,2,3,4,1\n"], "train.csv:5: expected 8 columns, found 7"),
        (
            gene_rows("3")[:2] + ["3,3,1,x,3,4,5,1\n", "3,4,1,2,3,4,5,1\n"],
            "train.csv:3: column 4: 'x' is not a number",
        ),
        (
            gene_rows("3")[:3] + ["3,4,1,2,-3,4,5,1\n"],
            "train.csv:4: mark H3K4me1: negative value -3",
        ),
        (
            gene_rows("3")[:1] + ["3,2,1,2,nan,4,5,1\n"] + gene_rows("3")[2:],
            "train.csv:2: mark H3K4me1: value nan",
        ),
        (
            gene_rows("3") + gene_rows("5", n_bins=3),
            "train.csv:5: gene ENSG00000000005: has 3 bins, expected 4",
        ),
        (
            gene_rows("3")[:1] + gene_rows("3")[2:3] + gene_rows("3")[1:2] + gene_rows("3")[3:],
            "train.csv:2: gene ENSG00000000003: bins out of order: expected bin 2, found 3",
        ),
        (
            gene_rows("3", label=1)[:2] + gene_rows("3", label=0)[2:],
            "train.csv:3: gene ENSG00000000003: label changes within the gene (1 then 0)",
        ),
        (
            gene_rows("3") + gene_rows("5") + gene_rows("3"),
            "train.csv:9: gene ENSG00000000003: duplicate gene",
        ),
        (gene_rows("000003") + gene_rows("3"), "train.csv:5: gene ENSG00000000003: duplicate gene"),
        ([], "train.csv: empty split file: no genes"),
        (gene_rows("3", label=2), "label 2 is not 0 or 1"),
    ],
    ids=[
        "column-count",
        "non-numeric",
        "negative",
        "nan",
        "wrong-bin-count",
        "bins-out-of-order",
        "label-changes",
        "duplicate-gene",
        "duplicate-written-two-ways",
        "empty-file",
        "bad-label",
    ],
)
def test_bad_input_names_file_line_gene(tmp_path, lines, expect):
    path = write(tmp_path, lines)
    with pytest.raises(InputError) as err:
        read_deepchrome_csv(path)
    assert expect in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_deepchrome_csv(tmp_path / "nope.csv")


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "train.csv.gz"
    path.write_bytes(gzip.compress("".join(gene_rows("3")).encode())[:20])
    with pytest.raises(InputError, match="train.csv.gz"):
        read_deepchrome_csv(path)


def test_deepdiff_reader_with_labels(tmp_path):
    rows = []
    for gene, scale in (
        ("ENSG00000000003_TSPAN6", 1),
        ("ENSG00000000005_TNMD", 2),
        ("ENSG00000000419_DPM1", 3),
    ):
        rows += [f"{gene}_{b},{scale},{b},0,1,2\n" for b in range(1, 201)]
    (tmp_path / "C.train.csv").write_text("".join(rows))
    (tmp_path / "C.expr.csv").write_text(
        "ENSG00000000003,5\nENSG00000000005,100\nENSG00000000419,7\n"
    )
    data = read_deepdiff_csv(tmp_path / "C.train.csv", expression=tmp_path / "C.expr.csv")
    assert data.x.shape == (3, 5, 200)
    assert data.marks[0] == "H3K4me1"
    np.testing.assert_array_equal(data.x[1, 1], np.arange(1, 201))
    assert data.y.tolist() == [0, 1, 0]  # median of 5, 100, 7 is 7: only 100 is above it


def test_deepdiff_bad_bin(tmp_path):
    (tmp_path / "C.train.csv").write_text("ENSG00000000003_TSPAN6_x,1,2,3,4,5\n")
    with pytest.raises(InputError, match="C.train.csv:1: bin 'x' is not a number"):
        read_deepdiff_csv(tmp_path / "C.train.csv")


def test_load_cell_uses_cache(cell_dir, _isolated_home):
    first = load_cell(cell_dir)
    entries = sorted((_isolated_home / "cache").glob("*.npz"))
    assert len(entries) == 3
    again = load_cell(cell_dir)
    for split in first:
        np.testing.assert_array_equal(first[split].x, again[split].x)
        np.testing.assert_array_equal(first[split].gene_ids, again[split].gene_ids)
    # a changed file gets a new entry (content hash), never the stale one
    train = cell_dir / "classification" / "train.csv"
    train.write_text(train.read_text().replace(",1\n", ",0\n", 100))
    changed = load_cell(cell_dir)
    assert len(list((_isolated_home / "cache").glob("*.npz"))) == 4
    assert not np.array_equal(changed["train"].y, first["train"].y)


def test_corrupt_cache_entry_is_rewritten(cell_dir, _isolated_home):
    load_cell(cell_dir)
    for entry in (_isolated_home / "cache").glob("*.npz"):
        entry.write_bytes(b"not a zip")
    data = load_cell(cell_dir)
    assert data["train"].n_genes == 300


def test_histone_data_mark_order(synthetic):
    data = synthetic.splits["test"]
    rev = data.with_marks(tuple(reversed(data.marks)))
    np.testing.assert_array_equal(rev.x[:, 0], data.x[:, -1])
    assert isinstance(rev, HistoneData)
