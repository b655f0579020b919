"""Batches as index slices of one in-memory tensor: no per-gene ``__getitem__``, no workers."""

from __future__ import annotations

from collections.abc import Iterator

import torch


class InMemoryBatches:
    """Batches of ``(x, y)`` as index slices of two tensors; reshuffled (seeded) every epoch.

    A batch is one ``index_select``. The tensors may live on the GPU (moved there once by the
    training loop); the shuffling generator stays on the CPU, so the order is the same on any
    device.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def to(self, device: torch.device | str) -> InMemoryBatches:
        """The same batches with both tensors moved to ``device`` (once, not per batch)."""
        self.x, self.y = self.x.to(device), self.y.to(device)
        return self

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator).to(self.x.device)
            for lo in range(0, n, self.batch_size):
                idx = order[lo : lo + self.batch_size]
                yield self.x.index_select(0, idx), self.y.index_select(0, idx)
        else:
            for lo in range(0, n, self.batch_size):
                yield self.x[lo : lo + self.batch_size], self.y[lo : lo + self.batch_size]
