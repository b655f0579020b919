"""Class-optimisation maps and attributions find the known biology: H3K4me3 at the TSS."""

from __future__ import annotations

import pytest

from simplechrome.config import TrainConfig
from simplechrome.interpret import class_optimisation_maps, integrated_gradients
from simplechrome.train import fit

CENTRE = slice(40, 60)  # bins within 2 kb of the TSS


def central_h3k4me3(arrays: dict, marks) -> tuple[float, float]:
    k4 = list(marks).index("H3K4me3")
    return float(arrays[1][k4, CENTRE].mean()), float(arrays[0][k4, CENTRE].mean())


def check(model, test) -> None:
    high, low = central_h3k4me3(class_optimisation_maps(model, steps=150, starts=4), model.marks)
    assert high > low
    high, low = central_h3k4me3(integrated_gradients(model, test, max_genes=300), model.marks)
    assert high > low


def test_on_planted_synthetic_truth(synthetic):
    s = synthetic.splits
    check(
        fit("deepchrome", s["train"], s["valid"], config=TrainConfig(max_epochs=5, progress=False)),
        s["test"],
    )


@pytest.mark.real_data
@pytest.mark.slow
def test_on_e012_high_expression_has_more_h3k4me3_at_the_tss(shared):
    from simplechrome.data import load_cell

    s = load_cell(shared / "E012")
    model = fit(
        "deepchrome", s["train"], s["valid"], config=TrainConfig(max_epochs=8, progress=False)
    )
    check(model, s["test"])


def test_refused_for_models_that_do_not_read_signals(synthetic):
    from simplechrome.errors import ModelMismatchError

    s = synthetic.splits
    logreg = fit("logreg", s["train"], s["valid"], config=TrainConfig(progress=False))
    with pytest.raises(ModelMismatchError):
        class_optimisation_maps(logreg)
