"""Executors: the same run function, scheduled locally (a process pool) or as Ray tasks."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from tqdm.auto import tqdm

from ..errors import ConfigError

RunFn = Callable[[Any, str], dict[str, Any]]
Execute = Callable[..., Iterator[dict[str, Any]]]


def make_executor(
    kind: str, *, workers: int | None = None, address: str | None = None, threads: int = 1
) -> Execute:
    """``local``: a process pool of ``cores // threads`` workers; ``ray``: Ray tasks."""
    if kind == "local":
        n = workers or max(1, (os.cpu_count() or 1) // threads)
        return lambda fn, runs, out, progress=False: _local(fn, runs, out, n, progress)
    if kind == "ray":
        return lambda fn, runs, out, progress=False: _ray(fn, runs, out, address, threads, progress)
    raise ConfigError(f"unknown executor {kind!r}: use local or ray")


def _bar(total: int, progress: bool) -> tqdm:
    return tqdm(total=total, unit="run", desc="runs", disable=not progress, smoothing=0.1)


def _local(fn: RunFn, runs: list, out: str, workers: int, progress: bool) -> Iterator[dict]:
    with _bar(len(runs), progress) as bar:
        if workers == 1:  # in this process: nothing to spawn, and each run can show its epochs
            for run in runs:
                record = fn(run, out, show_progress=progress)
                bar.update(1)
                yield record
            return
        # spawn, not fork: a forked child of a process that already started torch's thread pool
        # can deadlock
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(fn, run, out) for run in runs]
            try:
                for future in cf.as_completed(futures):
                    record = future.result()
                    bar.update(1)
                    yield record
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


def _ray(
    fn: RunFn, runs: list, out: str, address: str | None, threads: int, progress: bool
) -> Iterator[dict]:
    try:
        import ray
    except ImportError:
        raise ConfigError("the ray executor needs Ray: pip install 'simplechrome[ray]'") from None
    started_here = False
    if not ray.is_initialized():
        ray.init(
            address=address, include_dashboard=False, log_to_driver=False, configure_logging=False
        )
        started_here = True
    try:
        import torch

        gpus = 1 if torch.cuda.is_available() else 0
        task = ray.remote(num_cpus=threads, num_gpus=gpus)(fn)
        pending = [task.remote(run, out) for run in runs]
        with _bar(len(runs), progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                record = ray.get(done[0])
                bar.update(1)
                yield record
    finally:
        if started_here:
            ray.shutdown()
