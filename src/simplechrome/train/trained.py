"""``TrainedModel``: a fitted model with everything needed to use it again, and its file form."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import __version__, models
from .._io import atomic_write
from ..data.histone import HistoneData
from ..errors import ModelMismatchError, RunError
from .metrics import compute
from .task import predict_scores
from .transform import InputTransform

FORMAT_VERSION = 1


@dataclasses.dataclass
class TrainedModel:
    """A model, its input transform and the data shape it accepts (sklearn-style use).

    ``predict_scores`` gives P(high expression) for classification, or the predicted
    ``log2(RPKM + 1)`` for regression.
    """

    name: str
    module: Any  # torch.nn.Module or a classical estimator
    transform: InputTransform
    marks: tuple[str, ...]
    n_bins: int
    bin_size: int
    task: str
    hparams: dict[str, Any]
    history: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    pretrained: TrainedModel | None = None  # latent models: the VAE fitted first
    # (pool, its latents): a neighbour model's frozen encoder gives a pool the same latents on
    # every call, and fit() asks for train's and valid's inputs from one pool
    _pool_latents: tuple[HistoneData, np.ndarray] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    @property
    def is_vae(self) -> bool:
        return getattr(self.module, "task_kind", "") == "vae"

    @property
    def is_gan(self) -> bool:
        return getattr(self.module, "task_kind", "") == "gan"

    @property
    def kind(self) -> str:
        return models.get(self.name).kind

    def check(self, data: HistoneData) -> HistoneData:
        """``data`` with its marks in this model's order; refuses other marks or bin counts."""
        if sorted(data.marks) != sorted(self.marks):
            raise ModelMismatchError(
                f"{data.cell}: data has marks {list(data.marks)}, but the model was trained on "
                f"{list(self.marks)}"
            )
        if data.n_bins != self.n_bins:
            raise ModelMismatchError(
                f"{data.cell}: data has {data.n_bins} bins per gene, but the model was trained "
                f"on {self.n_bins}"
            )
        return data.with_marks(self.marks)

    def _outputs(self, data: HistoneData, fn) -> np.ndarray:
        """``fn(module, batch)`` over the transformed data in batches of 512, no gradients."""
        x = self.transform(self.check(data).x)
        self.module.eval()
        out = []
        with torch.inference_mode():
            for lo in range(0, len(x), 512):
                out.append(fn(self.module, torch.from_numpy(x[lo : lo + 512])).float().numpy())
        return np.concatenate(out) if out else np.zeros((0,))

    def embed(self, data: HistoneData) -> np.ndarray:
        """Latent means ``(genes, latent)`` of a VAE or a latent model (deterministic)."""
        encoder = getattr(self.module, "encoder", None)
        if encoder is None:
            raise ModelMismatchError(f"model {self.name} has no latent space to embed into")
        return self._outputs(data, lambda m, xb: m.encoder(xb)[0])

    def reconstruct(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        """A VAE's transformed input and its reconstruction from the latent mean.

        Both are ``(genes, marks, bins)``.
        """
        if not self.is_vae:
            raise ModelMismatchError(f"model {self.name} is not a VAE")
        recon = self._outputs(data, lambda m, xb: m(xb).recon)
        return self.transform(self.check(data).x), recon

    def inputs(self, data: HistoneData) -> np.ndarray:
        """What the module reads for ``data``: the transformed signals, or for a neighbour model
        ``(genes, latent, 1 + k)`` latent means of each gene and of its k neighbours."""
        if getattr(self.module, "inputs", "signals") != "neighbor_latents":
            return self.transform(self.check(data).x)
        from ..data.neighbors import neighbor_indices

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

    def attention(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        """An attention model's bin attention ``(genes, marks, bins)`` and mark attention
        ``(genes, marks)``, marks in this model's order."""
        if not self.has_attention:
            raise ModelMismatchError(f"model {self.name} has no bin/mark attention")
        bins = self._outputs(data, lambda m, xb: m(xb).bin_attention)
        marks = self._outputs(data, lambda m, xb: m(xb).mark_attention)
        return bins, marks

    @property
    def has_attention(self) -> bool:
        return bool(getattr(self.module, "returns_attention", False))

    def neighbor_attention(self, data: HistoneData) -> np.ndarray:
        """A neighbour model's attention ``(genes, k)`` over each gene's neighbours."""
        x = self.inputs(data)
        self.module.eval()
        with torch.inference_mode():
            return torch.cat(
                [
                    self.module(torch.from_numpy(x[lo : lo + 512])).attention
                    for lo in range(0, len(x), 512)
                ]
            ).numpy()

    def generate(self, conditions: np.ndarray, *, seed: int = 0) -> np.ndarray:
        """A GAN's generated genes ``(n, marks, bins)``, in the transformed space, one per
        condition: a class (0 low, 1 high) or, for a regression GAN, ``log2(RPKM + 1)``.

        The same conditions and seed give the same genes.
        """
        if not self.is_gan:
            raise ModelMismatchError(f"model {self.name} is not a generative model")
        c = np.array(conditions)  # a copy: labels may be read-only arrays
        if self.task == "regression":
            c = self.transform.scale_y(c.astype(np.float64))
        elif not np.isin(c, (0, 1)).all():
            raise ModelMismatchError("class conditions must be 0 (low) or 1 (high)")
        cond = torch.as_tensor(c, dtype=torch.float32 if self.task == "regression" else torch.long)
        self.module.eval()
        noise = self.module.noise(len(c), torch.Generator().manual_seed(seed))
        with torch.inference_mode():
            return (
                torch.cat(
                    [
                        self.module(noise[lo : lo + 512], cond[lo : lo + 512]).cpu()
                        for lo in range(0, len(c), 512)
                    ]
                ).numpy()
                if len(c)
                else np.zeros((0, len(self.marks), self.n_bins), np.float32)
            )

    def critic_scores(self, data: HistoneData) -> np.ndarray:
        """A GAN critic's realness score of each gene under its own label (higher: more
        typical of the training genes)."""
        if not self.is_gan:
            raise ModelMismatchError(f"model {self.name} is not a generative model")
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: the GAN's critic needs each gene's label")
        c = np.array(data.y) if self.task == "classification" else self.transform.scale_y(data.y)
        cond = torch.as_tensor(
            c, dtype=torch.long if self.task == "classification" else torch.float32
        )
        x = torch.from_numpy(self.transform(self.check(data).x))
        self.module.eval()
        with torch.inference_mode():
            return (
                torch.cat(
                    [
                        self.module.critic(x[lo : lo + 512], cond[lo : lo + 512])
                        for lo in range(0, len(x), 512)
                    ]
                )
                .double()
                .numpy()
            )

    def predict_scores(self, data: HistoneData) -> np.ndarray:
        if self.is_gan:
            raise ModelMismatchError("a GAN predicts no expression: use generate()")
        if self.is_vae:
            raise ModelMismatchError("a VAE predicts no expression: use embed() or a latent model")
        x = self.inputs(data)
        if self.kind == "sklearn":
            score = self.module.decision(x)
            return np.asarray(score, dtype=np.float64)
        score = predict_scores(self.module, x, self.task).astype(np.float64)
        return self.transform.unscale_y(score) if self.task == "regression" else score

    def predict(self, data: HistoneData, split: str | None = None) -> pd.DataFrame:
        """One row per gene: ``gene_id``, ``label`` (if any), ``score`` [, ``split``]."""
        frame = pd.DataFrame(
            {
                "gene_id": data.gene_ids,
                "label": data.y if data.y is not None else np.full(data.n_genes, np.nan),
            }
        )
        if self.is_vae:  # a VAE's "prediction" is where each gene sits in the latent space
            z = self.embed(data)
            for i in range(z.shape[1]):
                frame[f"z{i}"] = z[:, i]
        elif self.is_gan:  # a GAN's per-gene output: how real its critic finds the gene
            frame["critic"] = self.critic_scores(data)
        else:
            frame["score"] = self.predict_scores(data)
        if split is not None:
            frame["split"] = split
        return frame

    def evaluate(self, data: HistoneData) -> dict[str, Any]:
        if self.is_vae:
            x, recon = self.reconstruct(data)
            mean = x.mean(axis=(0, 2), keepdims=True)
            sse = float(((recon - x) ** 2).sum())
            return {
                "recon_mse": sse / x.size,
                "recon_r2": 1.0 - sse / float(((x - mean) ** 2).sum()),
                "n_genes": int(data.n_genes),
            }
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: the data has no labels to evaluate against")
        if self.is_gan:
            from ..interpret.gan import generation_metrics

            return generation_metrics(self, data)
        return compute(self.task, data.y, self.predict_scores(data))

    def n_parameters(self) -> int:
        return models.n_parameters(self.module)

    # -- file form -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``model.pt``: tensors and plain values only (loads with ``weights_only=True``)."""
        if self.kind == "sklearn":
            state = {k: torch.from_numpy(np.asarray(v)) for k, v in self.module.state().items()}
        else:
            state = {k: v.detach().cpu() for k, v in self.module.state_dict().items()}
        payload = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "model": self.name,
            "hparams": self.hparams,
            "marks": list(self.marks),
            "n_bins": self.n_bins,
            "bin_size": self.bin_size,
            "task": self.task,
            "transform": self.transform.state(),
            "state": state,
        }
        with atomic_write(path, "wb") as fh:
            torch.save(payload, fh)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TrainedModel:
        path = Path(path)
        if not path.exists():
            raise RunError(f"{path}: no such model file")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a damaged file
            raise RunError(f"{path}: not a readable simplechrome model ({exc})") from None
        version = payload.get("format_version") if isinstance(payload, dict) else None
        if version != FORMAT_VERSION:
            raise RunError(f"{path}: model format {version!r}, this version reads {FORMAT_VERSION}")
        task = payload["task"]
        n_out = 2 if task == "classification" else 1
        module = models.create(
            payload["model"],
            n_marks=len(payload["marks"]),
            n_bins=payload["n_bins"],
            n_outputs=n_out,
            **_hparams_for_init(payload["hparams"]),
        )
        if models.get(payload["model"]).kind == "sklearn":
            module.load_state({k: v.numpy() for k, v in payload["state"].items()})
        else:
            module.load_state_dict(payload["state"])
            module.eval()
        return cls(
            name=payload["model"],
            module=module,
            transform=InputTransform.from_state(payload["transform"]),
            marks=tuple(payload["marks"]),
            n_bins=payload["n_bins"],
            bin_size=payload["bin_size"],
            task=task,
            hparams=payload["hparams"],
        )


def _hparams_for_init(hparams: dict[str, Any]) -> dict[str, Any]:
    # tuples are stored as lists; constructors take either
    return {k: tuple(v) if isinstance(v, list) else v for k, v in hparams.items()}
