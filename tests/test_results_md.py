"""RESULTS.md's verdict tables are the output of ``simplechrome verdicts`` (stored under
``docs/verdicts/``), rendered by ``claims.as_markdown``: a hand edit of a verdict fails here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.tool_modules import load_tool

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    return load_tool("verdict_block")


def test_every_verdict_block_is_its_verdicts_file_rendered():
    tool = _tool()
    text = (ROOT / "RESULTS.md").read_text()
    blocks = tool.BLOCK.findall(text)
    assert blocks, "RESULTS.md holds no generated verdict block"
    for _, csv, body, _ in blocks:
        assert body == tool.render(csv), f"RESULTS.md's block for {csv} is not that file's verdicts"
    used = {csv for _, csv, _, _ in blocks}
    stored = {str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "verdicts").glob("*.csv")}
    assert stored <= used, f"verdicts files that RESULTS.md does not show: {stored - used}"


def test_a_hand_edited_verdict_is_caught():
    tool = _tool()
    text = (ROOT / "RESULTS.md").read_text()
    edited = text.replace("**holds partly**", "**holds**", 1)
    assert edited != text
    assert tool.refreshed(edited) != edited


def test_model_card_shows_the_stored_leave_one_cell_out_table():
    """MODEL_CARD.md's table is what tools/roadmap_loco.py renders from its loco.csv."""
    loco = load_tool("roadmap_loco")
    rendered = loco.card_block(pd.read_csv(ROOT / "docs" / "model_card" / "loco.csv"))
    card = (ROOT / "MODEL_CARD.md").read_text()
    block = card.split("<!-- loco docs/model_card/loco.md -->\n", 1)[1].split("<!-- end loco -->")[
        0
    ]
    assert block == rendered


def test_section_4_is_its_quality_files_judged_by_the_claims_rule():
    """RESULTS.md section 4's table and verdict are tools/generator_table.py's rendering of the
    stored quality files by ``claims.GENERATOR_LINES``: the rule and the text say the same."""
    tool = load_tool("generator_table")
    text = (ROOT / "RESULTS.md").read_text()
    blocks = tool.BLOCK.findall(text)
    assert blocks, "RESULTS.md holds no generated generator block"
    for _, folder, body, _ in blocks:
        assert body == tool.render(ROOT / folder)
    edited = text.replace("**does not hold**. two-sample", "**holds**. two-sample", 1)
    assert edited != text and tool.refreshed(edited) != edited


def test_section_4_spread_is_its_quality_files_margins():
    """RESULTS.md section 4's margins over training seeds are tools/generator_spread.py's
    rendering of the stored quality files."""
    tool = load_tool("generator_spread")
    text = (ROOT / "RESULTS.md").read_text()
    blocks = tool.BLOCK.findall(text)
    assert blocks, "RESULTS.md holds no generator-spread block"
    for _, folder, generator, body, _ in blocks:
        assert body == tool.render(tool.spread(tool.read(ROOT / folder), generator), generator)
    assert tool.refreshed(text) == text


def test_a_generator_with_part_of_the_judged_runs_is_not_yet_judged(tmp_path):
    """Two runs that meet every line are not the claim: the table says so until every judged
    cell has its three seeds; with all nine it holds, and one miss among two decides."""
    import json

    from tests.experiments.test_claims import QUALITY as LINES

    QUALITY = {**LINES, "two_sample_reference": 0.58}
    tool = load_tool("generator_table")

    def write(name, q):
        (tmp_path / name).write_text(json.dumps(q))

    write("good__E012__s0.json", {**QUALITY, "cell": "E012"})
    write("good__E027__s0.json", {**QUALITY, "cell": "E027"})
    assert "**good**, 2 runs on the judged cells (E012, E027): **not yet judged**" in tool.render(
        tmp_path
    )
    for cell in ("E012", "E027", "E100"):
        for seed in range(3):
            write(f"good__{cell}__s{seed}.json", {**QUALITY, "cell": cell})
    assert "**good**, 9 runs on the judged cells (E012, E027, E100): **holds**" in tool.render(
        tmp_path
    )
    for f in tmp_path.glob("*.json"):
        f.unlink()
    write("bad__E012__s0.json", {**QUALITY, "cell": "E012"})
    write("bad__E100__s1.json", {**QUALITY, "cell": "E100", "two_sample_auroc": 0.9})
    assert "**bad**, 2 runs on the judged cells (E012, E100): **does not hold**" in tool.render(
        tmp_path
    )
