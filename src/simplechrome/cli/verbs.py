"""The verbs: each reads its arguments, calls the public API (``simplechrome.api``) and prints.

Imports happen inside the handlers, so ``simplechrome --help`` does not pay for torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .output import print_metrics, print_table


def progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo, run_synthetic_demo

    if args.synthetic:
        print(f"simplechrome demo: synthetic cell of {args.genes} genes with planted ground truth")
        print(f"writing runs, summary.tsv, roc.png and validation.png under {args.out}/")

        def announce(name: str, row: dict) -> None:
            print(f"  {name:<12} test AUROC {row['test_auroc']:.4f}  ({row['seconds']:.1f} s)")

        result = run_synthetic_demo(
            args.out, n_genes=args.genes, seed=args.seed, progress=progress(args),
            on_model=announce,
        )  # fmt: skip
        print()
        print_table(
            result.summary.to_dict("records"),
            ["model", "test_auroc", "test_auprc", "test_accuracy", "parameters", "epochs"],
        )
        print(f"\nfigures: {', '.join(str(p) for p in result.figures)}")
        return 0
    print(
        "simplechrome demo: DeepChrome CNN, linear-12, logistic regression and AttentiveChrome "
        "on 3,000 genes of the Roadmap cell E012 (real data, carried by the package), 2 seeds"
    )

    def announce_run(record: dict) -> None:
        print(f"  {record['run_id']:<42} test AUROC {record['test_auroc']:.4f} "
              f"({record['seconds']:.1f} s)", flush=True)  # fmt: skip

    result = run_demo(
        args.out, progress=progress(args), on_run=None if progress(args) else announce_run
    )
    if result.reused:
        print(f"  ({result.reused} run(s) reused from an earlier demo in {args.out})")
    table = result.summary.assign(
        test_auroc=[
            f"{m:.4f} [{lo:.4f}, {hi:.4f}]"
            for m, lo, hi in zip(
                result.summary["mean"], result.summary["low"], result.summary["high"], strict=True
            )
        ]  # fmt: skip
    )
    print("\ntest AUROC on the held-out E012 genes (mean over seeds, 95% interval over seeds "
          "and genes):")  # fmt: skip
    print_table(table.to_dict("records"), ["model", "test_auroc", "n_seeds", "parameters"])
    report = result.figures[0].resolve()
    print(f"\nopen the report: {report}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ..data.download import ZENODO_URL, download_cells

    download_cells(
        args.cells,
        all_cells=args.all,
        url=args.url or ZENODO_URL,
        dest=args.dest,
        progress=not args.quiet,
        on_cell=lambda cell, folder: print(f"{cell}\t{folder}"),
    )
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    import time

    from ..data import PrepareOptions, prepare, read_sheet
    from ..errors import InputError

    options = PrepareOptions(
        window=args.window,
        bin_size=args.bin_size,
        genes=args.genes,
        order=args.order,
        signal=args.signal,
        reads=args.reads,
        extend=args.extend,
        min_mapq=args.min_mapq,
        keep_duplicates=args.keep_duplicates,
        split=args.split,
        seed=args.seed,
    )
    cells = sorted({t.cell for t in read_sheet(args.sheet)})
    if args.cell and len(cells) > 1:
        raise InputError(
            f"--cell names the expression column of a one-cell sheet; {args.sheet} lists "
            f"{', '.join(cells)} (name the cells by their expression columns instead)"
        )
    for cell in cells:
        started = time.perf_counter()
        splits = prepare(
            args.sheet,
            args.gtf,
            cell=cell,
            expression=args.expression,
            expression_column=args.cell,
            out=args.out,
            options=options,
            overwrite=args.overwrite,
            progress=progress(args),
        )
        sizes = " / ".join(f"{k} {v.n_genes}" for k, v in splits.items())
        first = splits["train"]
        print(
            f"{cell}: {sizes} genes x {first.n_marks} marks x {first.n_bins} bins "
            f"-> {args.out / cell} ({time.perf_counter() - started:.1f} s)"
        )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..info import describe

    print("\n".join(describe(args.path)))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .. import models

    if args.pretrained:
        from .shipped import list_pretrained

        return list_pretrained()
    rows = []
    for name in models.names():
        entry = models.get(name)
        m = models.create(name, n_marks=args.marks, n_bins=args.bins)
        count = models.n_parameters(m) if entry.kind == "torch" else None
        d = entry.defaults
        rows.append(
            {
                "model": name,
                "family": entry.family,
                "parameters": count,
                "lr": f"{d.lr:g}",
                "batch": d.batch_size,
                "patience": d.patience,
                "description": entry.summary,
            }
        )
    print(
        f"parameters at {args.marks} marks x {args.bins} bins, 2 classes (classical models: "
        "fitted coefficients, known after training); lr, batch, patience: the model's own "
        "training defaults"
    )
    print_table(rows, ["model", "family", "parameters", "lr", "batch", "patience", "description"])
    return 0


def _train(args: argparse.Namespace, overrides: list[str], *, show_test: bool = True) -> int:
    import dataclasses

    from .. import api, models
    from ..config import RunData, load_run_config

    overrides = overrides + list(args.set or [])
    # explicit flags override the config file; absent ones leave it as it is
    for flag, key in (("task", "task"), ("seed", "seed"), ("threads", "threads")):
        if getattr(args, flag) is not None:
            overrides.append(f"train.{key}={getattr(args, flag)}")
    config = load_run_config(args.config, overrides)
    config = dataclasses.replace(
        config, train=dataclasses.replace(config.train, progress=progress(args))
    )
    entry = models.get(config.model)  # an unknown model fails before any data is read
    compendium = args.compendium or ("self" if entry.inputs == "compendium" else None)
    data = RunData.one_cell(
        _absolute(args.data),
        task=config.train.task,
        expression=_absolute(args.expression),
        gtf=_absolute(args.gtf),
        split=args.split,
        split_seed=args.split_seed,
        compendium=compendium,
        epigenomes=_absolute(args.epigenomes),
    )
    run = api.train_run(config, data, out=args.out)
    if show_test:
        print_metrics(run.metrics)
    else:
        print_metrics({s: m for s, m in run.metrics.items() if s != "test"})
        print(
            f"not shown: the test genes' figures (a generator's design is chosen on the rows "
            f"above); measure them with `simplechrome gan quality {args.out}`"
        )
    print(f"run written to {args.out}")
    return 0


def _absolute(path: str | Path | None) -> str | None:
    """A path as the run directory records it: absolute, so the run works from anywhere (a
    bare EID, which names a downloaded cell, stays as it is)."""
    if path is None:
        return None
    p = Path(path)
    return str(p.resolve()) if p.exists() else str(path)


def cmd_train(args: argparse.Namespace) -> int:
    return _train(args, [f"model={args.model}"] if args.model else [])


def cmd_gan_train(args: argparse.Namespace) -> int:
    from .. import models
    from ..errors import ConfigError

    generators = models.names(family="generator")
    model, task_given = _named_in_config(args)
    # --generator, else the model the config file or a --set names, else the one that meets the
    # most of issue 39's lines (RESULTS.md section 4)
    name = args.generator or model or "autoregressive"
    if name not in generators:
        raise ConfigError(f"--generator {name}: choose one of {', '.join(generators)}")
    overrides = [f"model={name}"]
    if args.task is None and args.expression is not None and not task_given:
        # with the expression matrix the generator conditions on each gene's level, so its
        # walk from low to high expression can follow trends that are not monotone (a task
        # the config file or --set names is honoured)
        overrides.append("train.task=regression")
    for flag, key in (("batch_size", "batch_size"), ("epochs", "max_epochs"),
                      ("patience", "patience")):  # fmt: skip
        if getattr(args, flag) is not None:
            overrides.append(f"train.{key}={getattr(args, flag)}")
    # a generator is designed on training and validation genes; the test genes' figures are
    # the final numbers (`gan quality`), so they are not printed as a run ends
    return _train(args, overrides, show_test=False)


def _named_in_config(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The model a ``--set model=...`` or the config file names (if any), and whether either
    names the training task."""
    import yaml

    sets = [str(o) for o in args.set or []]
    raw = yaml.safe_load(Path(args.config).read_text()) or {} if args.config else {}
    raw = raw if isinstance(raw, dict) else {}
    models = [o.split("=", 1)[1] for o in sets if o.startswith("model=")]
    task = any(o.startswith("train.task=") for o in sets) or "task" in (raw.get("train") or {})
    return (models[-1] if models else raw.get("model")), task


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .. import api

    metrics = api.evaluate_run(args.run, args.data, output=args.output, cell=args.cell)
    print_metrics(metrics)
    if args.output:
        print(f"metrics written to {args.output}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .. import api

    table, written = api.predict_run(
        args.run, args.input, args.output, attention=args.attention, gtf=args.gtf, cell=args.cell
    )
    print(f"{len(table)} predictions written to {args.output}")
    if written and args.attention is None:
        print(f"its metadata (compendium cells used, notes): {written[0]}")
    elif written:
        print(f"attention written: {', '.join(p.name for p in written)} in {args.attention}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    from .. import api

    arrays = api.embed_run(args.run, args.data, args.output)
    n, dim = arrays["latent"].shape
    print(f"latent means of {n} genes ({dim} dimensions) written to {args.output}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from ..experiments import experiment_summary, load_spec, plan, run_experiment

    spec = load_spec(args.spec)
    out = args.output or Path("results") / spec.name
    if args.table_only:
        from ..experiments.results import code_versions_note
        from ..experiments.runner import table_of_finished

        table, n = table_of_finished(spec, out)
        print(f"{n['finished']} of {n['planned']} planned runs finished in {out}/; table: "
              f"{out}/table.csv (nothing run)")  # fmt: skip
        note = code_versions_note([table]) if len(table) else None
        if note:
            print(note)
        if n["unchecked"]:
            print(f"{n['unchecked']} of them were recorded without a fingerprint (an older "
                  "simplechrome): they cannot be checked against the current spec")  # fmt: skip
        if n["changed"]:
            print(f"{n['changed']} finished run(s) changed since they were recorded: left out")
        return 0
    print(
        f"experiment {spec.name} ({spec.kind}): {len(plan(spec))} runs -> {out}/ "
        f"[executor {args.executor}]"
    )
    done = [0]

    def announce(record: dict) -> None:  # off a terminal: one line per run instead of a bar
        done[0] += 1
        name = next(
            (k for k in ("test_auroc", "test_pearson", "test_sliced_wasserstein") if k in record),
            None,
        )
        score = f"{name[5:]} {record[name]:.4f}" if name else "done"
        print(f"[{done[0]}] {record['run_id']}: {score} ({record['seconds']:.1f} s)", flush=True)

    def changed(run_ids: list[str]) -> None:
        print(
            f"{len(run_ids)} finished run(s) changed since they were recorded (the spec or a "
            f"file they read): running them again, e.g. {run_ids[0]}",
            flush=True,
        )

    bar = progress(args)
    result = run_experiment(
        spec,
        out,
        executor=args.executor,
        workers=args.workers,
        address=args.address,
        resume=args.resume,
        progress=bar,
        on_run=None if bar or args.quiet else announce,
        on_changed=changed,
        spec_text=Path(args.spec).read_text(),
    )
    print(f"{result.ran} run(s) done, {result.skipped} already finished; table: {out}/table.csv")
    summary = experiment_summary(result.table)
    if not summary.empty:
        metric = summary["metric"].iloc[0]
        summary["interval"] = [
            "" if n == 1 else f"[{lo:.4f}, {hi:.4f}]"
            for lo, hi, n in zip(summary["low"], summary["high"], summary["n_seeds"], strict=True)
        ]
        print_table(
            summary.rename(columns={"mean": metric}).to_dict("records"),
            ["test_cell", "train_cells", "source", "model", "size", metric, "interval", "n_seeds"],
        )
    print(f"report: simplechrome report {out} -o {out}/report.html")
    return 0


def cmd_gan_sample(args: argparse.Namespace) -> int:
    from .. import api

    classes = {"low": (0,), "high": (1,), "both": (0, 1)}[args.klass]
    arrays = api.gan_sample(args.run, args.n, classes=classes, level=args.level, seed=args.seed)
    api.write_arrays(args.output, arrays)
    print(f"{len(arrays['condition'])} generated genes written to {args.output}")
    return 0


def cmd_gan_quality(args: argparse.Namespace) -> int:
    from .. import api

    q = api.gan_quality(args.run, args.data, seed=args.seed, output=args.output, genes=args.genes)
    print(
        f"two-sample AUROC {q['two_sample_auroc']:.4f} "
        f"(real vs real {q['two_sample_reference']:.4f}); "
        f"train on synthetic {q['tstr_auroc']:.4f}, on real {q['trtr_auroc']:.4f}; "
        f"largest correlation gap {max(q['max_corr_gap'].values()):.3f} "
        f"(real vs real {max(q['reference']['max_corr_gap'].values()):.3f}; "
        f"against the training genes {max(q['max_corr_gap_train'].values()):.3f}); "
        f"smallest walk trend r {min(q['walk_trend_r'].values()):.3f}"
    )
    print(f"quality written to {args.output}")
    return 0


def cmd_gan_plot(args: argparse.Namespace) -> int:
    from .. import api

    print(f"GAN report written to {api.gan_plot(args.run, args.output)}")
    return 0
