"""The generator family: the WGAN-GP task (critic and generator updates, sliced-Wasserstein
validation), the autoregressive generator's likelihood task, and the trained generator, with
the cheap quality measures a run's metrics hold.

Measures compare genes in the model's transformed space (log1p + per-mark standardisation),
real genes transformed with the generator's own transform. The costlier analyses (two-sample
test, train-on-synthetic, walks) live in ``simplechrome.interpret.gan``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from .. import models
from ..config import TrainConfig
from ..data.histone import HistoneData
from ..errors import ModelMismatchError
from .batches import InMemoryBatches
from .generation_metrics import (
    _mean_gap,
    _structure_gap,
    class_groups,
    generation_metrics,
    sliced_wasserstein,
)
from .lightning_loop import HistoryTask, run_lightning
from .supervised import SupervisedTask
from .trained import TrainedModel

log = logging.getLogger(__name__)


class GANTask(HistoryTask):
    """WGAN-GP: every batch updates the critic, every ``n_critic``-th batch the generator.

    The loss terms: the critic maximises its Wasserstein estimate minus ``gp_weight`` times the
    gradient penalty (Gulrajani et al. 2017); the generator maximises the critic's score of its
    genes, plus, with ``mean_matching`` > 0, that weight times the per-class (or per-level
    group) mean-profile gap, plus, with ``zero_matching`` > 0, that weight times the gap
    between generated zero probabilities and the real share of exact zeros per mark and bin,
    plus, with ``corr_matching`` > 0, that weight times the gap between generated and real
    mark-mark correlations, plus, with ``value_matching`` > 0, that weight times the gap
    between their per-mark value quantiles (see ``_structure_gap``), each over groups of
    ``matching_groups`` levels. The batch's real genes give the targets, or, with
    ``matching_batch`` > 0, that many training genes drawn afresh for each generator step
    (the generator then also generates that many). With a critic alone the mark co-variation
    was off by up to 0.4 in correlation (RESULTS.md, section 4).

    Validation generates, with fixed noise, one gene per validation gene under its condition
    and scores ``-(sliced Wasserstein distance)`` to the real validation genes (per class for a
    class-conditional GAN, averaged), so a higher score is a better generator.
    """

    def __init__(
        self,
        module,
        *,
        lr: float,
        seed: int,
        n_critic: int = 2,
        gp_weight: float = 10.0,
        mean_matching: float = 0.0,
        zero_matching: float = 0.0,
        corr_matching: float = 0.0,
        value_matching: float = 0.0,
        matching_batch: int = 0,
        matching_groups: int = 4,
    ) -> None:
        super().__init__(module)
        if n_critic < 1:
            raise ModelMismatchError(f"n_critic must be at least 1, not {n_critic}")
        self.automatic_optimization = False
        self.lr = lr
        self.seed = seed
        self.n_critic, self.gp_weight, self.mean_matching = n_critic, gp_weight, mean_matching
        self.zero_matching, self.corr_matching = zero_matching, corr_matching
        self.value_matching = value_matching
        self.matching_batch, self.matching_groups = matching_batch, matching_groups
        # the training genes the generator's steps sample from when matching_batch > 0
        self.reference: tuple[torch.Tensor, torch.Tensor] | None = None
        self._reference_rng = torch.Generator().manual_seed(seed)
        self._batches = 0
        self._val_x: list[torch.Tensor] = []
        self._val_c: list[torch.Tensor] = []
        self._critic_sum = 0.0
        self._critic_n = 0

    def configure_optimizers(self):
        # Adam with beta1 = 0.5, beta2 = 0.9: the settings WGAN-GP was published with
        m = self.module
        gen = torch.optim.Adam(m.generator.parameters(), lr=self.lr, betas=(0.5, 0.9))
        critic = torch.optim.Adam(m.critic.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return [gen, critic]

    def gradient_penalty(
        self,
        real: torch.Tensor,
        fake: torch.Tensor,
        c: torch.Tensor,
        real_zero: torch.Tensor | None = None,
        fake_zero: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean of (||grad critic|| - 1)^2 at random points between real and generated genes
        (signals and zero indicators mixed alike)."""
        critic = self.module.critic
        real_zero = self.module.zeros_of(real) if real_zero is None else real_zero
        fake_zero = self.module.zeros_of(fake) if fake_zero is None else fake_zero
        eps = torch.rand(len(real), 1, 1, device=real.device)
        mix = (eps * real + (1 - eps) * fake).requires_grad_(True)
        mix_zero = (eps * real_zero + (1 - eps) * fake_zero).requires_grad_(True)
        grads = torch.autograd.grad(critic(mix, c, mix_zero).sum(), [mix, mix_zero],
                                    create_graph=True)  # fmt: skip
        norm = torch.cat([g.flatten(1) for g in grads], dim=1).norm(dim=1)
        return ((norm - 1) ** 2).mean()

    def training_step(self, batch, batch_idx: int) -> None:
        x, c = batch
        m = self.module
        opt_gen, opt_critic = self.optimizers()
        real_zero = m.zeros_of(x)
        with torch.no_grad():
            fake, fake_zero = m.generator.with_zeros(m.noise(len(x)), c)
        wasserstein = m.critic(x, c, real_zero).mean() - m.critic(fake, c, fake_zero).mean()
        penalty = self.gradient_penalty(x, fake, c, real_zero, fake_zero)
        loss_critic = -wasserstein + self.gp_weight * penalty
        opt_critic.zero_grad()
        self.manual_backward(loss_critic)
        opt_critic.step()
        self._critic_sum += float(wasserstein.detach()) * len(x)
        self._critic_n += len(x)
        self._batches += 1
        if self._batches % self.n_critic == 0:
            x, c, real_zero = self._generator_batch(x, c, real_zero)
            generated, zero, p = m.generator.with_zero_probabilities(m.noise(len(x)), c)
            loss_gen = -m.critic(generated, c, zero).mean()
            groups = self.matching_groups
            if self.mean_matching > 0:
                loss_gen = loss_gen + self.mean_matching * _mean_gap(generated, x, c, groups)
            if self.zero_matching > 0 or self.corr_matching > 0 or self.value_matching > 0:
                zero_gap, corr_gap, value_gap = _structure_gap(
                    generated, p, x, real_zero, c, groups
                )
                loss_gen = (
                    loss_gen
                    + self.zero_matching * zero_gap
                    + self.corr_matching * corr_gap
                    + self.value_matching * value_gap
                )
            opt_gen.zero_grad()
            self.manual_backward(loss_gen)
            opt_gen.step()

    def _generator_batch(
        self, x: torch.Tensor, c: torch.Tensor, real_zero: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The real genes a generator step compares with: the critic's batch, or, with
        ``matching_batch`` > 0 and a ``reference``, that many training genes drawn at random
        (seeded), so the matching terms' targets are estimated from more genes per group."""
        if self.matching_batch <= 0 or self.reference is None:
            return x, c, real_zero
        ref_x, ref_c = self.reference
        pick = torch.randint(len(ref_x), (self.matching_batch,), generator=self._reference_rng)
        x, c = ref_x[pick].to(x.device), ref_c[pick].to(x.device)
        return x, c, self.module.zeros_of(x)

    def validation_step(self, batch, batch_idx: int) -> None:
        x, c = batch
        self._val_x.append(x.cpu())
        self._val_c.append(c.cpu())

    def on_validation_epoch_end(self) -> None:
        x = torch.cat(self._val_x)
        c = torch.cat(self._val_c)
        self._val_x.clear()
        self._val_c.clear()
        noise = self.module.noise(len(x), torch.Generator().manual_seed(self.seed))
        with torch.no_grad():
            fake = self.module(noise, c.to(noise.device)).cpu()
        real, gen = x.numpy(), fake.numpy()
        task = "regression" if self.module.n_outputs == 1 else "classification"
        labels = c.numpy()
        swd = float(
            np.mean(
                [
                    sliced_wasserstein(real[s], gen[s], seed=self.seed)
                    for _, s in class_groups(labels, task)
                ]
            )
        )
        estimate = self._critic_sum / max(self._critic_n, 1)
        self._critic_sum, self._critic_n = 0.0, 0
        self.end_epoch(-swd, {"train_wasserstein": estimate, "val_sliced_wasserstein": swd})


class LikelihoodTask(SupervisedTask):
    """The autoregressive generator's objective (``models.autoregressive``): minus the mean
    log-likelihood of the training genes' tokens, with ``SupervisedTask``'s Adam, schedule and
    optional weight averaging. Validation scores the validation genes' mean log-likelihood
    (higher is better), the same quantity on genes the model was not fitted to."""

    def __init__(self, module, **settings: Any) -> None:
        super().__init__(module, **settings)
        self._val_ll: list[torch.Tensor] = []

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, c = batch
        loss = -self.module.score(x, c).mean()
        self.add_loss(loss, len(x))
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x, c = batch
        self._val_ll.append(self.scored_module().score(x, c).cpu())

    def on_validation_epoch_end(self) -> None:
        ll = float(torch.cat(self._val_ll).mean())
        self._val_ll.clear()
        self.end_epoch(ll, {"val_log_likelihood": ll})


def read_units(x: np.ndarray, quantum: np.ndarray, *, stand_out: float = 5.0) -> np.ndarray:
    """Each mark's whole-read value: the most common non-zero value of its bins ``x`` ``(genes,
    marks, bins)`` (on the grid ``quantum``), where it is held by at least ``stand_out`` times
    as many bins as the typical value below it; else 0 (no such pile-up: integer counts, whose
    most common non-zero value is the first grid step, or a flat spread).

    Coverage-derived signals pile up on the value a bin reads when one read covers it from end
    to end (on E012, E066 and E119: 0.74, held by 12% of all bins against about 0.4% for each
    value around it)."""
    units = np.zeros(x.shape[1])
    for m in range(x.shape[1]):
        if quantum[m] <= 0:
            continue
        steps = np.rint(x[:, m][x[:, m] > 0] / quantum[m]).astype(np.int64)
        if steps.size == 0:
            continue
        counts = np.bincount(steps)
        mode = int(np.argmax(counts[1:])) + 1
        below = counts[1:mode]
        typical = max(float(np.median(below)) if below.size else 0.0, 1.0)
        if mode > 1 and counts[mode] >= stand_out * typical:
            # the pile-up of two reads may outnumber one read's: the smallest that stands out
            unit = min(d for d in range(1, mode + 1)
                       if mode % d == 0 and counts[d] >= stand_out * typical)  # fmt: skip
            units[m] = unit * quantum[m] if unit > 1 else 0.0
    return units


# -- the trained generator ----------------------------------------------------------------------
# each generator entry names its training task (``register(..., task=...)``)
TASKS: dict[str, Any] = {
    "wgan_gp": lambda module, config, params: GANTask(
        module, lr=config.lr, seed=config.seed, **params
    ),
    "likelihood": lambda module, config, params: LikelihoodTask.from_config(module, config),
}


class GANModel(TrainedModel):
    """A fitted conditional GAN: generates genes per class (or level); its critic scores genes."""

    families: ClassVar[tuple[str, ...]] = ("generator",)

    @classmethod
    def saved_params(cls, name: str, hparams: dict[str, Any]) -> dict[str, Any]:
        # GAN files written before whole-read decisions (or placed reads) existed were made
        # without them; autoregressive files before level buckets (the default since
        # 2026-12-05), without those
        params = models.get(name).module_params()
        old = {k: False for k in ("atoms", "reads") if k in params}
        if "level_buckets" in params:
            old["level_buckets"] = 0
        # and files before the summary and feedback (the default since 2026-12-05), without them
        if "summary" in params:
            old["summary"] = 0
        if "feedback" in params:
            old["feedback"] = False
        # and files before the level tilt (the default since 2026-12-06), without it
        if "level_tilt" in params:
            old["level_tilt"] = False
        # and files before the drawn tilt (the default since 2026-12-06, later), without it
        if "drawn_tilt" in params:
            old["drawn_tilt"] = False
        # and files before the drawn offsets, without them
        if "drawn_offset" in params:
            old["drawn_offset"] = False
        return old | hparams

    def _load_state(self, state: dict[str, torch.Tensor]) -> None:
        unit = self.module.generator.unit
        super()._load_state({"generator.unit": torch.zeros_like(unit), **state})

    def prepare(
        self,
        train: HistoneData,
        valid: HistoneData,
        config: TrainConfig,
        unlabelled: HistoneData | None,
        unlabelled_valid: HistoneData | None = None,
    ) -> None:
        # generated genes go on the training signals' grid: each mark's smallest non-zero value
        x = train.x
        positive = np.where(x > 0, x, np.inf).min(axis=(0, 2))
        quantum = np.where(np.isfinite(positive), positive, 0.0)
        t = self.transform
        n = len(self.marks)
        self.module.set_scale(
            t.mean if t.mean is not None else np.zeros(n),
            t.std if t.std is not None else np.ones(n),
            quantum,
            log1p=t.log1p,
            unit=read_units(x, quantum),
        )
        # for a level generator, its training levels too (on the scale it is conditioned on)
        levels = self._conditions(train.y).numpy() if self.task == "regression" else None
        self.module.fit_grid(x, levels)

    def _conditions(self, labels: np.ndarray) -> torch.Tensor:
        c = np.array(labels)  # a copy: labels may be read-only arrays
        if self.task == "regression":
            return torch.as_tensor(self.transform.scale_y(c.astype(np.float64)))
        return torch.as_tensor(c, dtype=torch.long)

    def train_on(self, train: HistoneData, valid: HistoneData, config: TrainConfig) -> pd.DataFrame:
        _, task_params = models.split_params(self.name, self.hparams)
        task = TASKS[self.entry.task](self.module, config, task_params)

        def batches(data: HistoneData, size: int, shuffle: bool) -> InMemoryBatches:
            x = torch.from_numpy(np.array(self.transformed(data)))
            return InMemoryBatches(x, self._conditions(data.y), size, shuffle=shuffle,
                                   seed=config.seed)  # fmt: skip

        train_batches = batches(train, config.batch_size, True)
        task.reference = (train_batches.x, train_batches.y)
        self.module.train()
        # validation batches of 128: the autoregressive generator scores 4,096 genes in 2.3 s
        # in batches of 128 against 3.7 s in one (2 CPU threads, medians of 3, the same scores;
        # benchmarks/generator_scoring.py), its activations kept in cache as predict_scores
        valid_batches = batches(valid, 128, False)
        history = run_lightning(task, train_batches, valid_batches, config)
        # a stage on the restored weights (the autoregressive generator's level tilt)
        self.module.eval()
        start = time.perf_counter()
        fitted = self.module.after_training(
            train_batches.x, train_batches.y, valid_batches.x, valid_batches.y
        )
        if fitted:
            log.info("after training (%.1f s): %s", time.perf_counter() - start, fitted)
        return history

    def generate(self, conditions: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """Generated genes ``(n, marks, bins)``, in the transformed space, one per condition:
        a class (0 low, 1 high) or, for a regression GAN, ``log2(RPKM + 1)``.

        The same conditions and seed give the same genes.
        """
        c = np.asarray(conditions)
        if self.task == "classification" and not np.isin(c, (0, 1)).all():
            raise ModelMismatchError("class conditions must be 0 (low) or 1 (high)")
        cond = self._conditions(c)
        self.module.eval()
        noise = self.module.noise(len(c), torch.Generator().manual_seed(seed))
        if not len(c):
            return np.zeros((0, len(self.marks), self.n_bins), np.float32)
        with torch.inference_mode():
            return torch.cat(
                [
                    self.module(noise[lo : lo + 512], cond[lo : lo + 512].to(noise.device)).cpu()
                    for lo in range(0, len(c), 512)
                ]
            ).numpy()

    def critic_scores(self, data: HistoneData) -> np.ndarray:
        """The critic's realness score of each gene under its own label (higher: more typical
        of the training genes)."""
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: the GAN's critic needs each gene's label")
        cond = self._conditions(data.y)
        x = torch.from_numpy(self.transformed(data))
        device = next(self.module.parameters()).device
        self.module.eval()
        with torch.inference_mode():
            parts = [
                self.module.score(x[lo : lo + 512].to(device), cond[lo : lo + 512].to(device)).cpu()
                for lo in range(0, len(x), 512)
            ]
        return torch.cat(parts).double().numpy() if parts else np.zeros(0)

    def real_and_generated(
        self, data: HistoneData, *, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``data``'s transformed signals, one generated gene per gene under its label, and the
        labels."""
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: comparing with a GAN needs each gene's label")
        return self.transformed(data), self.generate(data.y, seed=seed), np.asarray(data.y)

    def per_gene(self, data: HistoneData) -> dict[str, np.ndarray]:
        # a GAN's per-gene output: how real its critic (or the autoregressive model's likelihood)
        # finds the gene
        return {self.entry.score_name: self.critic_scores(data)}

    def evaluate(self, data: HistoneData) -> dict[str, Any]:
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: the data has no labels to evaluate against")
        return generation_metrics(self, data)
