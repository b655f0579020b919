"""A conditional Wasserstein GAN that generates histone signals (DeepChrome 2.0's visualisation).

Signals are generated in the package's transformed space (log1p, then per-mark
standardisation: what every classifier reads), conditioned on the expression class or, for a
regression run, on the standardised ``log2(RPKM + 1)`` level (what the walk from low to high
expression then follows).

Objective: WGAN with gradient penalty (Gulrajani et al. 2017): the critic's estimate of the
Wasserstein distance falls as the samples improve, and it trains on 6,500 genes without mode
collapse. The critic has no batch normalisation (the penalty is per sample), conditions
through a projection (Miyato and Koyama 2018: ``score = w . h + <embed(condition), h>``) and
sees, as one more feature, how much the batch's genes differ from each other (a minibatch
standard deviation, Karras et al. 2018), which makes a generator that gives every gene the same
signal easy to tell apart.

What makes generated genes look like real ones, beyond the objective:

- **Counts, not a continuum.** Real signals sit on a grid (E012's coverage-derived values are
  multiples of 0.02; published files hold integer reads) with a point mass at zero (about 55% of
  E012's bins). The generator's output is mapped back to the signal's scale, rounded to the
  grid (``quantum``, per mark, learnt from the training genes: their smallest non-zero value)
  and transformed again, so generated bins take exactly the values real bins can take.
  Rounding passes gradients straight through.
- **Zeros as their own decision (a hurdle).** For every bin the generator also gives the
  probability that it reads exactly zero; a uniform draw from the gene's noise decides, with
  the probability's gradient passed straight through the draw. The critic sees, beside the
  signals, which bins are exactly zero (real genes: their own zeros; generated: the decisions),
  so a wrong share of empty bins, invisible on the transformed scale where zero and the first
  grid value are close, is plain to it.
- **Whole reads (atoms).** Coverage-derived signals pile up on one value: a bin that one read
  covers from end to end reads the read's full weight (on E012, E066 and E119 exactly 0.74, 37
  grid steps; 12% of all bins, against about 0.4% for each value around it), two reads twice
  that, and so on, while partly covered bins spread over the values between. ``set_scale`` finds
  that value per mark (``unit``: the training bins' most common non-zero value, when it stands
  out of its neighbours; none for integer counts, where every value is whole reads). The
  generator then also decides, per bin, whether a non-zero bin is whole reads (a multiple of
  ``unit``), drawn like the zero decision, and the critic sees those decisions beside the zero
  ones. Without it a classifier tells every generated gene from a real one by the missing
  pile-ups alone (RESULTS.md, section 4).
- **Placed reads (``reads``, off by default).** Whole-read decisions still draw each bin's
  partial value on its own, while on a coverage track a read that straddles two bins splits
  its unit between them (E119: 44% of adjacent partly covered bins sum to a multiple of
  0.74, against 2.7% by chance). With ``reads`` the generator instead decides, per bin, how
  many reads start in it and whether they start on its left edge (else where is drawn on the
  grid), and a bin's signal is the coverage those reads leave in it (``Generator.placed``),
  so generated partial values come in the pairs real ones do.
- **Shot noise.** Beside the gene's latent vector, the generator reads two noise maps over the
  bins (one per upsampling stage, each scaled per channel by a learnt weight, as StyleGAN
  injects noise), so neighbouring bins can vary as reads do, independently of the gene's shape.

``noise(n)`` draws all of the noise (the latent vector and the maps) in one tensor, so the same
seed gives the same genes.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .registry import TrainDefaults, register
from .signal_grid import Condition, GridModel, SignalGrid


class Generator(SignalGrid):
    """Noise and condition -> ``(batch, marks, bins)``: a linear layer, then two upsampling
    convolution stages (bins / 4 -> bins / 2 -> bins), each with injected per-bin noise, and a
    convolution to the marks; then the output is put on the signal's grid (see the module
    docstring). Until ``set_scale`` gives the input transform and the grid, outputs are left as
    they are.
    """

    def __init__(
        self,
        n_marks: int,
        n_bins: int,
        n_outputs: int,
        latent: int,
        channels: int,
        zero_smoothing: float = 0.0,
        atoms: bool = False,
        reads: bool = False,
    ) -> None:
        super().__init__(n_marks)
        self.latent, self.n_bins = latent, n_bins
        self.atoms, self.reads = bool(atoms), bool(reads)
        # with reads, one more position on the left: the bin whose reads spill into the first
        self.length = n_bins + 1 if self.reads else n_bins
        self.zero_smoothing = float(zero_smoothing)
        self.condition = Condition(n_outputs, 16)
        self.start = (channels, max(1, math.ceil(n_bins / 4)))
        self.inp = nn.Linear(latent + 16, channels * self.start[1])
        self.act = nn.LeakyReLU(0.2)
        self.up1 = nn.Upsample(size=max(1, math.ceil(n_bins / 2)))
        self.conv1 = nn.Conv1d(channels, channels, 5, padding=2)
        self.up2 = nn.Upsample(size=self.length)
        self.conv2 = nn.Conv1d(channels, channels // 2, 5, padding=2)
        # per-channel weights of the injected noise maps (zero at first: learnt as needed)
        self.noise_weight1 = nn.Parameter(torch.zeros(channels))
        self.noise_weight2 = nn.Parameter(torch.zeros(channels // 2))
        self.n_marks = n_marks
        # per mark: the signal, the logit that the bin reads exactly zero and, with atoms, the
        # logit that a non-zero bin is whole reads; with reads: the number of reads that start
        # in the bin, the logit that none does and the logit that they start on its left edge
        n_heads = 3 if self.atoms or self.reads else 2
        self.out = nn.Conv1d(channels // 2, n_heads * n_marks, 5, padding=2)

    @property
    def n_draws(self) -> int:
        """Uniform draws per mark and position: the zero decisions, with atoms also the
        whole-read ones; with reads the empty, left-edge and offset draws."""
        return 3 if self.reads else 2 if self.atoms else 1

    @property
    def noise_size(self) -> int:
        """Numbers of noise per gene: the latent vector, two noise maps over the bins and
        ``n_draws`` draws per mark and position."""
        draws = self.n_draws * self.n_marks * self.length
        return self.latent + math.ceil(self.n_bins / 2) + self.length + draws

    @property
    def n_indicators(self) -> int:
        """Indicator channels per mark the critic reads: zeros, and with atoms or reads whole
        reads."""
        return 2 if self.atoms or self.reads else 1

    def forward(
        self,
        noise: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        embedded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``noise`` (``noise_size`` per gene) and either conditions ``c`` or their embeddings
        ``embedded`` (a walk between classes interpolates embeddings) -> ``(batch, marks,
        bins)`` generated signals."""
        return self.with_zeros(noise, c, embedded=embedded)[0]

    def with_zeros(
        self,
        noise: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        embedded: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The generated signals and which of their bins read exactly zero (``(batch, marks,
        bins)`` each; the second carries the zero probabilities' straight-through gradient)."""
        x, zero, _ = self.with_zero_probabilities(noise, c, embedded=embedded)
        return x, zero

    def with_zero_probabilities(
        self,
        noise: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        embedded: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``with_zeros`` and, third, each bin's probability of reading zero (what the
        decisions were drawn from; zeros where the output is not yet on the signal's scale).

        With ``atoms`` the second and third have twice the channels: the zero indicators
        (probabilities) of every mark, then the whole-read ones (the probability that a bin is
        non-zero and whole reads)."""
        half = math.ceil(self.n_bins / 2)
        a, b = self.latent, self.latent + half
        z = noise[:, :a]
        map1 = noise[:, None, a:b]  # (batch, 1, half)
        map2 = noise[:, None, b : b + self.length]  # (batch, 1, positions)
        n_draws = self.n_draws * self.n_marks
        draws = noise[:, b + self.length :].view(len(z), n_draws, self.length)
        decisions = self.n_indicators * self.n_marks  # (the reads' offsets are not smoothed)
        draws = torch.cat([self.smoothed(draws[:, :decisions]), draws[:, decisions:]], dim=1)
        cond = self.condition(c) if embedded is None else embedded.expand(len(z), -1)
        h = self.act(self.inp(torch.cat([z, cond], dim=1))).view(len(z), *self.start)
        h = self.conv1(self.up1(h)) + self.noise_weight1[None, :, None] * map1
        h = self.act(h)  # (batch, channels, bins / 2)
        h = self.conv2(self.up2(h)) + self.noise_weight2[None, :, None] * map2
        h = self.act(h)  # (batch, channels / 2, bins)
        v, logit, *atom_logit = self.out(h).split(self.n_marks, dim=1)  # (batch, marks, bins)
        if not self.scaled:
            v = v[:, :, -self.n_bins :]
            empty = v.new_zeros(len(v), self.n_indicators * self.n_marks, self.n_bins)
            return v, empty, empty
        uniform = 0.5 * (1.0 + torch.erf(draws / math.sqrt(2.0)))  # the draws as uniforms
        if self.reads:
            return self.placed(v, logit, atom_logit[0], uniform)
        p = torch.sigmoid(logit)
        hard = (uniform[:, : self.n_marks] < p).to(v.dtype)
        through = p - p.detach()  # zero-valued, carries p's gradient (straight through)
        zero = hard + through
        floor = self.zero_level().expand_as(v)  # the transformed value of zero
        value = self.on_grid(v)
        if self.atoms:
            # whole reads for marks that have a read unit, decided like the zeros
            has_unit = (self.unit > 0).to(v.dtype)[None, :, None]
            pa = torch.sigmoid(atom_logit[0]) * has_unit
            hard_a = (uniform[:, self.n_marks :] < pa).to(v.dtype)
            whole = self.on_reads(v)
            through_a = pa - pa.detach()
            value = torch.where(hard_a.bool(), whole, value) + through_a * (whole - value)
            # a bin is whole reads only if it is not empty
            atom_p = (1 - p) * pa
            atom = hard_a * (1 - hard) + (atom_p - atom_p.detach())
            zero, p = torch.cat([zero, atom], dim=1), torch.cat([p, atom_p], dim=1)
        # exactly the floor where the decision is zero (mixing by ``zero`` would leave a
        # rounding error that reads as a tiny positive signal), with the mixture's gradient
        x = torch.where(hard.bool(), floor, value) + through * (floor - value)
        return x, zero, p

    def placed(
        self, v: torch.Tensor, logit: torch.Tensor, edge_logit: torch.Tensor, uniform: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reads placed, then their coverage summed per bin (``reads``): the outputs over the
        ``bins + 1`` positions (the first one is the bin left of the window) -> what
        ``with_zero_probabilities`` returns.

        In every position some whole number of reads starts (none with the probability from
        ``logit``, drawn like the zeros; else the count ``v`` gives, rounded, straight through).
        A read one bin long that starts ``o`` of the way into a bin covers ``1 - o`` of it and
        ``o`` of the next: a bin's signal is ``unit`` times (the reads that start in it, minus
        their offsets, plus the offsets of the reads of the bin before). The offsets are 0 (the
        reads start on the bin's left edge: whole reads, with the probability from
        ``edge_logit``) or drawn uniformly on the grid between. So a partly covered bin's
        neighbour holds the rest of its read, as on real coverage tracks (E119: 44% of real
        adjacent partly covered bins sum to a multiple of 0.74, 2.7% by chance). Marks without
        a unit (integer counts) have no offsets: a bin's count is the reads that start in it.
        """
        m = self.n_marks
        has_unit = self.unit > 0
        unit = torch.where(has_unit, self.unit, self.quantum)[None, :, None]
        # grid steps per read (37 for 0.74 on a 0.02 grid; 1 for integer counts)
        steps = torch.round(unit / self.quantum[None, :, None]).clamp(min=1)
        p = torch.sigmoid(logit)  # no read starts here
        pe = torch.where(has_unit[None, :, None], torch.sigmoid(edge_logit), 1.0)
        empty = uniform[:, :m] < p
        edge = uniform[:, m : 2 * m] < pe
        rate = self.signal(v) / unit
        full = rate + (torch.round(rate).clamp(min=1) - rate).detach()  # straight through
        through = p - p.detach()
        n = torch.where(empty, 0.0, full) - through * full
        count = n.detach() * steps  # whole grid steps the position's reads hold
        # the sum of the reads' offsets, in grid steps: 0 on the edge, else 1 .. count - 1
        drawn = torch.round(uniform[:, 2 * m :] * count).clamp(min=1.0)
        drawn = torch.minimum(drawn, (count - 1).clamp(min=0.0))
        offset = torch.where(edge | (count == 0), 0.0, drawn)
        through_e = pe - pe.detach()
        offset = offset - through_e * offset
        # per bin: its own reads' part, plus the part spilling in from the position before
        covered = n[:, :, 1:] * steps - offset[:, :, 1:] + offset[:, :, :-1]  # grid steps
        # (an empty bin's value is exactly the transformed zero: covered is exactly 0)
        x = self.transformed(covered * self.quantum[None, :, None])
        spill_free = (offset[:, :, :-1].detach() == 0).to(x.dtype)
        zero = (covered.detach() == 0).to(x.dtype)
        p_zero = p[:, :, 1:] * spill_free
        whole = (covered.detach() > 0) & (torch.remainder(covered.detach(), steps) == 0)
        whole = (whole & has_unit[None, :, None]).to(x.dtype)
        edge_free = (torch.remainder(offset[:, :, :-1].detach(), steps) == 0).to(x.dtype)
        p_whole = (1 - p[:, :, 1:]) * pe[:, :, 1:] * edge_free * has_unit[None, :, None]
        indicators = torch.cat(
            [zero + (p_zero - p_zero.detach()), whole + (p_whole - p_whole.detach())], dim=1
        )
        return x, indicators, torch.cat([p_zero, p_whole], dim=1)

    def smoothed(self, draws: torch.Tensor) -> torch.Tensor:
        """The zero decisions' standard normal draws ``(batch, marks, bins)``, correlated along
        the bins by a Gaussian kernel of ``zero_smoothing`` bins (0: independent), rescaled to
        unit variance so that each bin still reads zero with its own probability ``p``. Real
        empty bins come in runs (on E012 a zero bin's neighbour is zero 75-78% of the time at
        about 50% zeros); independent draws scatter them."""
        sigma = self.zero_smoothing
        if sigma <= 0:
            return draws
        half = max(1, math.ceil(3 * sigma))
        offsets = torch.arange(-half, half + 1, dtype=draws.dtype, device=draws.device)
        kernel = torch.exp(-0.5 * (offsets / sigma) ** 2).view(1, 1, -1)
        n, m, bins = draws.shape
        out = nn.functional.conv1d(draws.reshape(n * m, 1, bins), kernel, padding=half)
        # each bin's variance is the sum of its squared weights inside the window (fewer at
        # the edges): dividing by its root gives every bin a standard normal draw
        ones = torch.ones(1, 1, bins, dtype=draws.dtype, device=draws.device)
        variance = nn.functional.conv1d(ones, kernel.square(), padding=half)
        return (out / variance.sqrt()).view(n, m, bins)

    def on_grid(self, v: torch.Tensor) -> torch.Tensor:
        """Transformed values -> the transformed values of the nearest positive signal on the
        grid (at least one grid step: zeros are the hurdle's); gradients pass straight
        through the rounding."""
        return self._rounded(v, self.quantum)

    def on_reads(self, v: torch.Tensor) -> torch.Tensor:
        """Transformed values -> those of the nearest whole number of reads (at least one
        ``unit``), gradients straight through; marks without a unit: ``on_grid``."""
        return self._rounded(v, torch.where(self.unit > 0, self.unit, self.quantum))

    def _rounded(self, v: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        q = step[None, :, None]
        raw = self.signal(v)
        counts = torch.maximum(torch.round(raw / q), torch.ones_like(raw)) * q
        return v + (self.transformed(counts) - v).detach()


class Critic(nn.Module):
    """``(batch, marks, bins)`` signals, which bins are exactly zero, and the condition -> one
    unbounded score per gene (projection), with the batch's spread (minibatch standard
    deviation) as one more input channel."""

    def __init__(
        self, n_marks: int, n_bins: int, n_outputs: int, channels: int, n_indicators: int = 1
    ) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        n_in = (1 + n_indicators) * n_marks + 1
        self.features = nn.Sequential(
            nn.Conv1d(n_in, channels // 2, 5, padding=2),
            act,
            nn.Conv1d(channels // 2, channels, 5, stride=2, padding=2),
            act,
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            act,
            nn.Flatten(),
        )
        with torch.no_grad():
            n_features = self.features(torch.zeros(1, n_in, n_bins)).shape[1]
        self.hidden = nn.Sequential(nn.Linear(n_features, 128), act)
        self.out = nn.Linear(128, 1)
        self.condition = Condition(n_outputs, 128)

    def forward(self, x: torch.Tensor, c: torch.Tensor, zero: torch.Tensor) -> torch.Tensor:
        """Signals ``x`` ``(batch, marks, bins)``, their indicators ``zero`` (zeros, and with
        atoms whole reads: ``(batch, n_indicators * marks, bins)``) and the conditions ``c`` ->
        scores ``(batch,)``."""
        # the batch's spread, averaged to one number and given to every gene as a channel
        spread = x.std(dim=0, unbiased=False).mean() if len(x) > 1 else x.new_zeros(())
        x = torch.cat([x, zero, spread.expand(len(x), 1, x.shape[2])], dim=1)
        h = self.hidden(self.features(x))
        return self.out(h).squeeze(1) + (self.condition(c) * h).sum(1)


# WGAN-GP takes many small steps: 64-gene batches, up to 300 epochs, patience 30; 2 critic
# steps per generator step at 5e-4
@register(
    "gan",
    family="generator",
    task="wgan_gp",
    score_name="critic",
    outputs=("samples",),
    defaults=TrainDefaults(lr=5e-4, batch_size=64, patience=30, max_epochs=300),
    task_params={
        "n_critic": 2,
        "gp_weight": 10.0,
        "mean_matching": 0.0,
        "zero_matching": 0.0,
        "corr_matching": 0.0,
        "value_matching": 0.0,
        "matching_batch": 0,
        "matching_groups": 4,
    },
)
class ConditionalGAN(GridModel):
    """Conditional WGAN-GP over ``(marks, bins)`` signals; conditions on class or level.

    The module holds the generator and the critic; the objective (critic steps per generator
    step, gradient penalty, mean matching) belongs to the GAN task (``train.gan``), whose
    parameters ``n_critic``, ``gp_weight``, ``mean_matching``, ``zero_matching``,
    ``corr_matching``, ``value_matching``, ``matching_batch`` and ``matching_groups`` are given
    with the model's.
    ``quantize`` (default on) puts generated signals on the real signals' grid;
    ``zero_smoothing`` (bins) correlates the zero decisions along the window
    (``Generator.smoothed``); ``atoms`` (default on) decides whole-read bins apart and
    ``reads`` places reads and sums their coverage instead (the module docstring).
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        latent: int = 32,
        channels: int = 64,
        quantize: bool = True,
        zero_smoothing: float = 0.0,
        atoms: bool = True,
        reads: bool = False,
    ) -> None:
        super().__init__(n_marks, n_bins, n_outputs, quantize=quantize)
        self.generator = Generator(
            n_marks, n_bins, n_outputs, latent, channels, zero_smoothing, atoms=atoms, reads=reads
        )
        self.critic = Critic(
            n_marks, n_bins, n_outputs, channels, n_indicators=self.generator.n_indicators
        )

    def zeros_of(self, x: torch.Tensor) -> torch.Tensor:
        """Which bins of (real) signals ``x`` read exactly zero and, with atoms, which are
        whole reads (a non-zero multiple of the mark's ``unit``): the critic's indicators."""
        g = self.generator
        if not g.scaled:
            return x.new_zeros(len(x), g.n_indicators * self.n_marks, x.shape[2])
        zero = x <= g.zero_level() + 1e-6
        if g.n_indicators == 1:
            return zero.to(x.dtype)
        return torch.cat([zero, g.whole_reads(x)], dim=1).to(x.dtype)

    def score(self, x: torch.Tensor, c: torch.Tensor, zero: torch.Tensor | None = None):
        """The critic's score of signals ``x`` (their zero indicators computed if not given)."""
        return self.critic(x, c, self.zeros_of(x) if zero is None else zero)
