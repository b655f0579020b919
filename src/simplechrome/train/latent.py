"""Models on a VAE's latent space (the ``latent`` family): a VAE is fitted first, without labels,
and its encoder initialises theirs; neighbour models read the latents of neighbour genes too."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from .._io import atomic_write, caching, home
from ..config import TrainConfig
from ..data.histone import HistoneData, neighbor_indices
from .fit import fit
from .supervised import Predictor
from .trained import TrainedModel

log = logging.getLogger(__name__)


@dataclasses.dataclass
class LatentPredictor(Predictor):
    """A head on a pretrained VAE encoder (frozen or fine-tuned, as the registry entry says).

    ``prepare`` fits the VAE on the signals of ``unlabelled`` (default: the training split),
    early-stopped on the signals of ``unlabelled_valid`` (default: the validation split), with
    the run's settings and the VAE's own learning rate; only the training split's labels are
    read later.
    """

    families: ClassVar[tuple[str, ...]] = ("latent",)
    # (pool, its latents): a frozen encoder gives a pool the same latents on every call, and
    # training asks for train's and valid's inputs from one pool
    _pool_latents: tuple[HistoneData, np.ndarray] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    def prepare(
        self,
        train: HistoneData,
        valid: HistoneData,
        config: TrainConfig,
        unlabelled: HistoneData | None,
        unlabelled_valid: HistoneData | None = None,
    ) -> None:
        signals = train if unlabelled is None else unlabelled.with_marks(train.marks)
        # the VAE trains with the run's settings but its own learning rate (a head's, such as
        # vae_logreg's 1e-2, suits 10 features, not a convolutional VAE)
        own = dataclasses.replace(config, lr=None)
        stop_on = valid if unlabelled_valid is None else unlabelled_valid.with_marks(train.marks)
        vae = pretrained_vae(signals, stop_on, own, self.hparams.get("vae") or {})
        self.module.load_encoder(vae.module, freeze=self.entry.freeze_encoder)
        self.pretrained = vae

    def embed(self, data: HistoneData) -> np.ndarray:
        """Latent means ``(genes, latent)`` of the model's encoder (deterministic)."""
        return self._outputs(data, lambda m, xb: m.encoder(xb)[0])

    def inputs(self, data: HistoneData) -> np.ndarray:
        """The transformed signals, or for a neighbour model ``(genes, latent, 1 + k)`` latent
        means of each gene and of its k neighbours (drawn from the cell's whole pool)."""
        if self.entry.inputs != "neighbor_latents":
            return self.transformed(data)
        m = self.module
        z = self.embed(data)  # (genes, latent)
        if m.k == 0:
            return z[:, :, None]
        pool = data.pool if data.pool is not None else data
        idx = neighbor_indices(data, m.k, by=m.by, pool=pool, seed=m.neighbor_seed)  # (genes, k)
        if self._pool_latents is None or self._pool_latents[0] is not pool:
            self._pool_latents = (pool, self.embed(pool))
        z_pool = self._pool_latents[1]
        # (genes, latent, 1) + (genes, k, latent) -> (genes, latent, 1 + k)
        slots = np.concatenate([z[:, :, None], z_pool[idx].transpose(0, 2, 1)], axis=2)
        return np.ascontiguousarray(slots, dtype=np.float32)

    def neighbor_attention(self, data: HistoneData) -> np.ndarray:
        """A neighbour model's attention ``(genes, k)`` over each gene's neighbours."""
        self.require("neighbor_attention")
        return self._batched(self.inputs(data), lambda m, xb: m(xb).attention)


def pretrained_vae(
    signals: HistoneData, valid: HistoneData, config: TrainConfig, vae_params: dict[str, Any]
) -> TrainedModel:
    """``fit("vae", ...)`` memoised on disk: a study fits many heads on one unlabelled set.

    The key holds everything the fit depends on (the signals, the validation signals, the VAE
    parameters, the training settings including seed and threads), so a cached VAE is the one a
    new fit would produce. Labels are not in the key because the VAE reads none; with
    ``SIMPLECHROME_CACHE=off`` it is always fitted.
    """
    h = hashlib.sha256()
    for arr in (signals.x, valid.x):
        h.update(np.ascontiguousarray(arr).data)
    settings = dataclasses.asdict(
        dataclasses.replace(config, progress=False, task="classification")
    )
    h.update(
        json.dumps(
            [
                sorted(vae_params.items()),
                settings,
                list(signals.marks),
                torch.get_num_threads() if config.threads == 0 else config.threads,
            ],
            sort_keys=True,
            default=str,
        ).encode()
    )
    path = home() / "cache" / f"vae-{h.hexdigest()[:32]}.pt"
    if caching() and path.exists():
        try:
            cached = TrainedModel.load(path)
            history = path.with_suffix(".history.csv")
            cached.history = pd.read_csv(history) if history.exists() else pd.DataFrame()
            return cached
        except Exception as exc:  # a damaged entry is refitted, never trusted
            log.warning("ignoring cached VAE %s (%s)", path, exc)
    vae = fit("vae", signals, valid, config=config, model_params=vae_params)
    if caching():
        vae.save(path)
        with atomic_write(path.with_suffix(".history.csv")) as fh:
            vae.history.to_csv(fh, index=False)
    return vae
