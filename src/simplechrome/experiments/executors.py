"""Executors: the same task function, scheduled locally (a process pool) or as Ray tasks.

A task is a list of runs (those sharing one trained model); the function returns the records it
wrote, and the executors yield them as they come.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from tqdm.auto import tqdm

from ..errors import ConfigError

RunFn = Callable[..., list[dict[str, Any]]]
Execute = Callable[..., Iterator[dict[str, Any]]]

# in a pool worker: the experiment process that started it (None in that process itself)
_PARENT: int | None = None


def parent_alive() -> bool:
    """Whether the experiment process this worker serves is still there (always, outside a
    worker). A worker whose experiment was killed writes nothing more."""
    return _PARENT is None or os.getppid() == _PARENT


def _die_with_parent(parent: int) -> None:
    """Pool worker initializer: end this worker (and the run it is doing) as soon as the
    experiment process that started it is gone, however it ended (a SIGKILL runs no cleanup
    in the parent, so the workers must notice themselves)."""
    import threading
    import time

    global _PARENT
    _PARENT = parent
    _kernel_kills_with_parent()
    if not parent_alive():  # it died before the kernel was asked
        os._exit(3)

    def watch() -> None:
        while parent_alive():
            time.sleep(0.2)
        os._exit(3)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _kernel_kills_with_parent() -> None:
    """On Linux, ask the kernel to SIGKILL this process the moment its parent dies. The watch
    thread alone left a window: a worker that had checked :func:`parent_alive` was still
    fsyncing and renaming its record when the kill landed, and the record appeared after it
    (seen once in CI). The kernel's signal stops it at its next step, whatever it is doing.
    The pool's processes are started by the thread that submits the tasks, which waits for
    them, so that thread's end (what the kernel watches) is the experiment's."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this libc: the watch thread still runs
        pass


def make_executor(
    kind: str,
    *,
    workers: int | None = None,
    address: str | None = None,
    threads: int = 1,
    gpus: float = 0.0,
) -> Execute:
    """``local``: a process pool of ``cores // threads`` workers, or, when runs ask for ``gpus``
    (a fraction packs several runs onto one device), one worker per GPU slot of this machine;
    ``ray``: Ray tasks, each asking the cluster for ``threads`` CPUs and ``gpus`` GPUs (what
    the spec says, not what the driver machine has)."""
    if kind == "local":
        devices = gpu_slots(visible_gpus(), gpus) if gpus > 0 else []
        n = workers or len(devices) or max(1, (os.cpu_count() or 1) // threads)
        if devices:
            n = min(n, len(devices))
        return lambda fn, tasks, out, progress=False: _local(
            fn, tasks, out, n, progress, devices[:n]
        )
    if kind == "ray":
        return lambda fn, tasks, out, progress=False: _ray(
            fn, tasks, out, address, threads, gpus, progress
        )
    raise ConfigError(f"unknown executor {kind!r}: use local or ray")


def visible_gpus() -> int:
    """How many CUDA devices this machine shows (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def gpu_slots(n_gpus: int, per_run: float) -> list[int]:
    """The device of each local worker when every run asks for ``per_run`` of a GPU: ``0.25``
    packs four runs onto each of the ``n_gpus`` devices (dealt round-robin, so the first
    workers spread over the devices); a run asking for more than one GPU gets one."""
    if n_gpus == 0:
        raise ConfigError(
            f"each run asks for {per_run:g} GPU(s) (gpus_per_run) but this machine shows no "
            "CUDA device: set gpus_per_run: 0, or run on a GPU machine or a Ray cluster"
        )
    per_device = max(1, int(1 / per_run + 1e-9)) if per_run < 1 else 1
    return [d for _ in range(per_device) for d in range(n_gpus)]


def _take_device(queue: Any, parent: int) -> None:
    """Pool worker initializer: this worker's GPU (before torch starts CUDA), then the watch
    on the experiment process."""
    os.environ["CUDA_VISIBLE_DEVICES"] = str(queue.get())
    _die_with_parent(parent)


def _bar(tasks: list, progress: bool) -> tqdm:
    total = sum(len(t) for t in tasks)
    return tqdm(total=total, unit="run", desc="runs", disable=not progress, smoothing=0.1)


def _local(
    fn: RunFn, tasks: list, out: str, workers: int, progress: bool, devices: list[int] = ()
) -> Iterator[dict]:
    """Tasks in a pool of ``workers`` processes; with ``devices``, worker ``i`` sees only GPU
    ``devices[i]`` (several workers share a device when runs ask for a fraction of one)."""
    with _bar(tasks, progress) as bar:
        if workers == 1 and not devices:  # in this process: nothing to spawn; epochs can show
            for task in tasks:
                records = fn(task, out, show_progress=progress)
                bar.update(len(task))
                yield from records
            return
        # spawn, not fork: a forked child of a process that already started torch's thread pool
        # can deadlock
        ctx = multiprocessing.get_context("spawn")
        init: tuple[Any, tuple] = (_die_with_parent, (os.getpid(),))
        if devices:
            queue = ctx.Queue()
            for d in devices:
                queue.put(d)
            init = (_take_device, (queue, os.getpid()))
        with cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=init[0], initargs=init[1]
        ) as pool:
            futures = {pool.submit(fn, task, out): len(task) for task in tasks}
            try:
                for future in cf.as_completed(futures):
                    records = future.result()
                    bar.update(futures[future])
                    yield from records
            except BaseException:
                for f in futures:
                    f.cancel()
                raise


# a task whose worker or node died is run again (from scratch: its run directories and
# records are written atomically, so nothing of the lost attempt is half-written)
RAY_RETRIES = 3


def ray_options(threads: int, gpus: float) -> dict[str, float]:
    """The resources each Ray task asks the cluster for, and its retries."""
    return {"num_cpus": threads, "num_gpus": gpus, "max_retries": RAY_RETRIES}


def _ray(
    fn: RunFn,
    tasks: list,
    out: str,
    address: str | None,
    threads: int,
    gpus: float,
    progress: bool,
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
        available = ray.cluster_resources().get("GPU", 0.0)
        if gpus > available:
            raise ConfigError(
                f"each run asks for {gpus:g} GPU(s) (gpus_per_run) but the Ray cluster has "
                f"{available:g}: lower gpus_per_run or add GPU nodes"
            )
        remote = ray.remote(**ray_options(threads, gpus))(fn)
        pending = {remote.remote(task, out): len(task) for task in tasks}
        with _bar(tasks, progress) as bar:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                records = ray.get(done[0])
                bar.update(pending.pop(done[0]))
                yield from records
    finally:
        if started_here:
            ray.shutdown()
