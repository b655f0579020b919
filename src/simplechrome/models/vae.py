"""SimpleChrome's variational autoencoder and the models built on its latent space."""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
from torch import nn

from .registry import TrainDefaults, register


class ConvEncoder(nn.Module):
    """``(batch, marks, bins)`` -> latent mean and log-variance ``(batch, latent)`` each."""

    def __init__(
        self, n_marks: int, n_bins: int, latent: int, channels: tuple[int, ...], kernel_size: int
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in, length = n_marks, n_bins
        self.lengths = [n_bins]
        for c in channels:
            layers += [
                nn.Conv1d(c_in, c, kernel_size, padding=kernel_size // 2),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
            c_in, length = c, length // 2
            self.lengths.append(length)
        if length < 1:
            raise ValueError(f"{n_bins} bins are too few for {len(channels)} pooling stages")
        self.features = nn.Sequential(*layers)
        self.out_shape = (c_in, length)
        self.mu = nn.Linear(c_in * length, latent)
        self.logvar = nn.Linear(c_in * length, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x).flatten(1)  # (batch, channels * pooled bins)
        return self.mu(h), self.logvar(h)


class ConvDecoder(nn.Module):
    """Latent ``(batch, latent)`` -> ``(batch, marks, bins)``, mirroring ``ConvEncoder``."""

    def __init__(self, encoder: ConvEncoder, n_marks: int, latent: int, kernel_size: int) -> None:
        super().__init__()
        c, length = encoder.out_shape
        self.shape = (c, length)
        self.inp = nn.Linear(latent, c * length)
        channels = [m.out_channels for m in encoder.features if isinstance(m, nn.Conv1d)]
        targets = encoder.lengths[:-1][::-1]  # the lengths before each pooling, innermost first
        outs = channels[::-1][1:] + [n_marks]
        layers: list[nn.Module] = []
        c_in = c
        for i, (size, c_out) in enumerate(zip(targets, outs, strict=True)):
            layers += [
                nn.Upsample(size=size),
                nn.Conv1d(c_in, c_out, kernel_size, padding=kernel_size // 2),
            ]
            if i < len(outs) - 1:
                layers.append(nn.ReLU())
            c_in = c_out
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.inp(z).view(-1, *self.shape)  # (batch, channels, pooled bins)
        return self.net(h)


class VAEOutput(NamedTuple):
    recon: torch.Tensor  # (batch, marks, bins)
    mu: torch.Tensor  # (batch, latent)
    logvar: torch.Tensor  # (batch, latent)


@register("vae", family="vae", outputs=("latent", "reconstruction"))
class VAE(nn.Module):
    """SimpleChrome VAE: conv encoder -> latent (mean, log-variance) -> conv decoder.

    Trained without labels (task ``vae``). The reconstruction term is a Gaussian log-likelihood
    with unit variance, i.e. half the squared error summed over marks and bins, on the
    transformed signal: after log1p and per-mark standardisation the values are continuous,
    roughly symmetric and of unit scale, which a Gaussian suits; a count likelihood (Poisson,
    negative binomial) would need raw integer counts, which E012's coverage-derived floats are
    not. The KL weight and its warm-up are training settings (``TrainConfig.kl_weight``,
    ``kl_warmup_epochs``). In eval mode the latent is the mean: reconstructions and embeddings
    are deterministic.
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,  # unused: a VAE has no label head (kept for the registry's call)
        latent: int = 10,
        channels: tuple[int, ...] = (32, 64),
        kernel_size: int = 5,
    ) -> None:
        super().__init__()
        self.encoder = ConvEncoder(n_marks, n_bins, latent, tuple(channels), kernel_size)
        self.decoder = ConvDecoder(self.encoder, n_marks, latent, kernel_size)

    def forward(self, x: torch.Tensor) -> VAEOutput:
        """``x``: ``(batch, marks, bins)`` -> reconstruction, latent mean and log-variance."""
        mu, logvar = self.encoder(x)
        if self.training:  # reparameterisation: a sample while training, the mean otherwise
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        else:
            z = mu
        return VAEOutput(self.decoder(z), mu, logvar)


class LatentOutput(NamedTuple):
    logits: torch.Tensor  # (batch, n_outputs)
    attention: torch.Tensor  # (batch, k) neighbour attention; (batch, 0) without neighbours


class _LatentModel(nn.Module):
    """Shared part of the models on the VAE latent: an encoder initialised from a fitted VAE."""

    def _build_encoder(self, n_marks: int, n_bins: int, vae: dict | None) -> None:
        defaults = {"latent": 10, "channels": [32, 64], "kernel_size": 5}
        unknown = sorted(set(vae or {}) - set(defaults))
        if unknown:
            raise ValueError(f"vae has no parameter(s) {', '.join(unknown)}")
        self.vae_params = {**defaults, **(vae or {})}
        self.vae_params["channels"] = list(self.vae_params["channels"])
        v = self.vae_params
        self.encoder = ConvEncoder(
            n_marks, n_bins, v["latent"], tuple(v["channels"]), v["kernel_size"]
        )

    def load_encoder(self, vae: VAE, *, freeze: bool) -> None:
        """Copy a fitted VAE's encoder weights; ``freeze`` keeps them fixed in training."""
        self.encoder.load_state_dict(vae.encoder.state_dict())
        for p in self.encoder.parameters():
            p.requires_grad_(not freeze)

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)[0]  # the mean: deterministic


def _head(latent: int, n_outputs: int, head: str, hidden: int, dropout: float) -> nn.Module:
    if head == "linear":
        return nn.Linear(latent, n_outputs)
    if head == "mlp":
        return nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_outputs)
        )
    raise ValueError(f"head must be linear or mlp, not {head!r}")


class LatentClassifier(_LatentModel):
    """A head on the latent mean of a VAE encoder (fitted on unlabelled genes first)."""

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        head: Literal["linear", "mlp"] = "linear",
        hidden: int = 32,
        dropout: float = 0.2,
        vae: dict | None = None,
    ) -> None:
        super().__init__()
        self._build_encoder(n_marks, n_bins, vae)
        self.head = _head(self.vae_params["latent"], n_outputs, head, hidden, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, marks, bins)`` -> logits ``(batch, n_outputs)``."""
        return self.head(self.latent(x))


LATENT_OUTPUTS = ("scores", "latent")


# a linear head on 10 features, like linear-12, moves faster at 1e-2
@register("vae_logreg", family="latent", outputs=LATENT_OUTPUTS, defaults=TrainDefaults(lr=1e-2))
class VAELogistic(LatentClassifier):
    """Logistic regression on the frozen VAE latent mean (a linear head, cross-entropy)."""

    def __init__(
        self, *, n_marks: int = 5, n_bins: int = 100, n_outputs: int = 2, vae: dict | None = None
    ) -> None:
        super().__init__(
            n_marks=n_marks, n_bins=n_bins, n_outputs=n_outputs, head="linear", vae=vae
        )


@register("vae_mlp", family="latent", outputs=LATENT_OUTPUTS)
class VAEMLP(LatentClassifier):
    """An MLP on the frozen VAE latent mean."""

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        hidden: int = 32,
        dropout: float = 0.2,
        vae: dict | None = None,
    ) -> None:
        super().__init__(
            n_marks=n_marks,
            n_bins=n_bins,
            n_outputs=n_outputs,
            head="mlp",
            hidden=hidden,
            dropout=dropout,
            vae=vae,
        )


@register("vae_finetune", family="latent", outputs=LATENT_OUTPUTS, freeze_encoder=False)
class VAEFinetune(VAEMLP):
    """End to end: the VAE's encoder as initialisation, fine-tuned with an MLP head."""


@register(
    "vae_neighbors",
    family="latent",
    outputs=(*LATENT_OUTPUTS, "neighbor_attention"),
    inputs="neighbor_latents",
)
class VAENeighbors(_LatentModel):
    """The target gene's VAE latent with its neighbours' latents through attention.

    Input ``(batch, latent, 1 + k)``: slot 0 is the gene itself, slots 1..k its neighbour genes
    (by genome, co-expression or at random; gathered by index from the cell's encoded genes by
    the training path, see ``TrainedModel.inputs``). The target's latent queries the
    neighbours'; their attention-weighted values join the target's latent in an MLP head.
    ``k = 0`` (or ``by: none``) is the same model without neighbours.
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        k: int = 10,
        by: Literal["genome", "coexpression", "random", "none"] = "genome",
        attention_dim: int = 16,
        hidden: int = 32,
        dropout: float = 0.2,
        neighbor_seed: int = 0,
        vae: dict | None = None,
    ) -> None:
        super().__init__()
        if by not in ("genome", "coexpression", "random", "none"):
            raise ValueError(f"by must be genome, coexpression, random or none, not {by!r}")
        k = 0 if by == "none" else k
        if k < 0:
            raise ValueError(f"k must be >= 0, not {k}")
        self._build_encoder(n_marks, n_bins, vae)
        self.k, self.by, self.neighbor_seed = k, by, neighbor_seed
        d = self.vae_params["latent"]
        self.query = nn.Linear(d, attention_dim)
        self.key = nn.Linear(d, attention_dim)
        self.value = nn.Linear(d, attention_dim)
        self.head = nn.Sequential(
            nn.Linear(d + attention_dim, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_outputs),
        )

    def forward(self, slots: torch.Tensor) -> LatentOutput:
        """``slots``: ``(batch, latent, 1 + k)`` -> logits, neighbour attention ``(batch, k)``."""
        z = slots[:, :, 0]  # (batch, latent)
        nb = slots[:, :, 1:].transpose(1, 2)  # (batch, k, latent)
        if nb.shape[1] == 0:
            context = z.new_zeros(z.shape[0], self.value.out_features)
            attention = z.new_zeros(z.shape[0], 0)
        else:
            q = self.query(z).unsqueeze(2)  # (batch, attention_dim, 1)
            scores = (self.key(nb) @ q).squeeze(2) / self.key.out_features**0.5  # (batch, k)
            attention = torch.softmax(scores, dim=1)
            context = (attention.unsqueeze(2) * self.value(nb)).sum(1)  # (batch, attention_dim)
        return LatentOutput(self.head(torch.cat([z, context], dim=1)), attention)
