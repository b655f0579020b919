"""The command line: argparse verbs, each a few lines calling the API.

The only module that prints or exits. Errors of the package become one line on stderr and
exit status 2; there is no traceback for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from . import __version__

EXIT_BAD_INPUT = 2


def _print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _data_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "path": str(args.data),
        "task": args.task,
        "expression": None if args.expression is None else str(args.expression),
        "gtf": None if args.gtf is None else str(args.gtf),
        "split": args.split,
        "split_seed": args.split_seed,
    }


def _load(options: dict[str, Any], path: str | None = None) -> dict:
    from .data import load_cell

    return load_cell(
        path or options["path"],
        task=options.get("task", "classification"),
        expression=options.get("expression"),
        gtf=options.get("gtf"),
        split=options.get("split", "files") if path is None else "files",
        seed=options.get("split_seed", 0),
    )


# -- verbs -------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from .experiments import run_demo

    print(f"simplechrome demo: synthetic cell of {args.genes} genes with planted ground truth")
    print(f"writing runs, summary.tsv, roc.png and validation.png under {args.out}/")

    def announce(name: str, row: dict) -> None:
        print(f"  {name:<12} test AUROC {row['test_auroc']:.4f}  ({row['seconds']:.1f} s)")

    result = run_demo(
        args.out, n_genes=args.genes, seed=args.seed, progress=_progress(args), on_model=announce
    )
    print()
    _print_table(
        result.summary.to_dict("records"),
        ["model", "test_auroc", "test_auprc", "test_accuracy", "parameters", "epochs"],
    )
    print(f"\nfigures: {', '.join(str(p) for p in result.figures)}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .data.download import ZENODO_URL, download_cells

    def done(cell: str, folder: Path) -> None:
        print(f"{cell}\t{folder}")

    download_cells(
        args.cells,
        all_cells=args.all,
        url=args.url or ZENODO_URL,
        dest=args.dest,
        progress=not args.quiet,
        on_cell=done,
    )
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    import time

    from .data import PrepareOptions, prepare, read_sheet
    from .errors import InputError

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
            progress=_progress(args),
        )
        sizes = " / ".join(f"{k} {v.n_genes}" for k, v in splits.items())
        first = splits["train"]
        print(
            f"{cell}: {sizes} genes x {first.n_marks} marks x {first.n_bins} bins "
            f"-> {args.out / cell} ({time.perf_counter() - started:.1f} s)"
        )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .info import describe

    print("\n".join(describe(args.path)))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from . import models

    rows = []
    for name in models.names():
        entry = models.get(name)
        m = models.create(name, n_marks=args.marks, n_bins=args.bins)
        count = models.n_parameters(m) if entry.kind == "torch" else None
        rows.append(
            {"model": name, "kind": entry.kind, "parameters": count, "description": entry.summary}
        )
    print(
        f"parameters at {args.marks} marks x {args.bins} bins, 2 classes "
        "(classical models: fitted coefficients, known after training)"
    )
    _print_table(rows, ["model", "kind", "parameters", "description"])
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    return _train(args, [f"model={args.model}"] if args.model else [])


def _train(args: argparse.Namespace, overrides: list[str]) -> int:
    import dataclasses

    from .config import load_run_config
    from .train import fit, save_run

    overrides = overrides + list(args.set or [])
    overrides.append(f"train.task={args.task}")
    if args.seed is not None:
        overrides.append(f"train.seed={args.seed}")
    if args.threads is not None:
        overrides.append(f"train.threads={args.threads}")
    config = load_run_config(args.config, overrides)
    config = dataclasses.replace(
        config, train=dataclasses.replace(config.train, progress=_progress(args))
    )
    from . import models

    models.get(config.model)  # an unknown model fails before any data is read
    options = _data_options(args)
    splits = _load(options)
    trained = fit(
        config.model,
        splits["train"],
        splits["valid"],
        config=config.train,
        model_params=config.model_params,
    )
    metrics = save_run(args.out, trained, splits, config=config, data=options)
    _print_metrics(metrics)
    print(f"run written to {args.out}")
    return 0


def _print_metrics(metrics: dict[str, dict[str, Any]]) -> None:
    rows = [{"split": s, **m} for s, m in metrics.items()]
    columns = ["split", *[k for k in rows[0] if k != "split"]] if rows else ["split"]
    _print_table(rows, columns)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .train import load_run, write_metrics

    model, config = load_run(args.run)
    options = config.get("data") or {}
    if args.data is None and not options.get("path"):
        from .errors import InputError

        raise InputError(f"{args.run} does not record its data; pass --data DIR")
    splits = _load(options, None if args.data is None else str(args.data))
    metrics = {name: model.evaluate(data) for name, data in splits.items() if data.y is not None}
    _print_metrics(metrics)
    if args.output:
        write_metrics(args.output, metrics)
        print(f"metrics written to {args.output}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from ._io import atomic_write
    from .data import read_deepchrome_csv
    from .train import load_run

    model, config = load_run(args.run)
    if model.is_vae:
        from .errors import ModelMismatchError

        raise ModelMismatchError(f"{args.run} is a VAE: it predicts no expression (use embed)")
    source = Path(args.input)
    if source.is_file():
        splits = {"": read_deepchrome_csv(source)}
    else:
        splits = _load(config.get("data") or {}, str(source))
    if args.attention is not None and not model.has_attention:
        from .errors import ModelMismatchError

        raise ModelMismatchError(f"{args.run}: model {model.name} has no attention to write")
    frames = [model.predict(data, split=name or None) for name, data in splits.items()]
    table = pd.concat(frames)[
        ["gene_id", "score", "label", *(["split"] if len(frames) > 1 else [])]
    ]
    with atomic_write(args.output) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    print(f"{len(table)} predictions written to {args.output}")
    if args.attention is not None:
        from .data import concat, read_gtf_tss
        from .interpret import write_attention

        data = concat(list(splits.values()))
        bins, marks_att = model.attention(data)
        tss = read_gtf_tss(args.gtf) if args.gtf is not None else None
        paths = write_attention(args.attention, data, bins, marks_att, model.marks, tss=tss)
        print(f"attention written: {', '.join(p.name for p in paths)} in {args.attention}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    import numpy as np

    from ._io import atomic_write
    from .train import load_run

    model, config = load_run(args.run)
    splits = _load(config.get("data") or {}, str(args.data))
    latents = {name: model.embed(data) for name, data in splits.items()}
    with atomic_write(args.output, "wb") as fh:
        np.savez(
            fh,
            gene_ids=np.concatenate([d.gene_ids for d in splits.values()]),
            split=np.concatenate([[n] * d.n_genes for n, d in splits.items()]),
            latent=np.concatenate(list(latents.values())),
            label=np.concatenate(
                [d.y if d.y is not None else np.full(d.n_genes, -1) for d in splits.values()]
            ),
        )
    n = sum(len(z) for z in latents.values())
    dim = next(iter(latents.values())).shape[1]
    print(f"latent means of {n} genes ({dim} dimensions) written to {args.output}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from .experiments import load_spec, plan, run_experiment

    spec = load_spec(args.spec)
    out = args.output or Path("results") / spec.name
    runs = plan(spec)
    print(
        f"experiment {spec.name} ({spec.kind}): {len(runs)} runs -> {out}/ "
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

    bar = _progress(args)
    result = run_experiment(
        spec,
        out,
        executor=args.executor,
        workers=args.workers,
        address=args.address,
        resume=args.resume,
        progress=bar,
        on_run=None if bar or args.quiet else announce,
        spec_text=Path(args.spec).read_text(),
    )
    print(f"{result.ran} run(s) done, {result.skipped} already finished; table: {out}/table.csv")
    from .experiments.stats import summarise

    table = result.table
    if "model_name" in table:  # generators have no AUROC: the report shows them
        table = table[table["model_name"] != "gan"]
    metric = "test_auroc" if "test_auroc" in table else "test_pearson"
    if table.empty:
        print(f"report: simplechrome report {out} -o {out}/report.html")
        return 0
    summary = summarise(table, ["test_cell", "source", "train_cells", "model", "size"], metric)
    summary["interval"] = [
        f"[{lo:.4f}, {hi:.4f}]" for lo, hi in zip(summary["low"], summary["high"], strict=True)
    ]
    _print_table(
        summary.rename(columns={"mean": metric}).to_dict("records"),
        ["test_cell", "train_cells", "source", "model", "size", metric, "interval", "n_seeds"],
    )
    print(f"report: simplechrome report {out} -o {out}/report.html")
    return 0


def cmd_gan_train(args: argparse.Namespace) -> int:
    # WGAN-GP takes many small steps: 64-gene batches, up to 300 epochs, patience 30
    defaults = [
        "model=gan",
        f"train.batch_size={args.batch_size}",
        f"train.max_epochs={args.epochs}",
        f"train.patience={args.patience}",
    ]
    return _train(args, defaults)


def cmd_gan_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from ._io import atomic_write
    from .errors import InputError
    from .train import load_run

    gan, _ = load_run(args.run)
    if not gan.is_gan:
        raise InputError(f"{args.run}: model {gan.name} is not a GAN")
    if gan.task == "regression":
        if args.level is None:
            raise InputError("a regression GAN samples at a --level (log2(RPKM + 1))")
        conditions = np.full(args.n, args.level, dtype=np.float64)
    else:
        if args.level is not None:
            raise InputError("--level needs a GAN trained with --task regression; use --class")
        classes = {"low": [0], "high": [1], "both": [0, 1]}[args.klass]
        conditions = np.repeat(classes, args.n)
    signals = gan.generate(conditions, seed=args.seed)
    with atomic_write(args.output, "wb") as fh:
        np.savez_compressed(
            fh,
            signals=signals,
            counts=gan.transform.inverse(signals),
            condition=conditions,
            marks=np.array(gan.marks),
        )
    print(f"{len(conditions)} generated genes written to {args.output}")
    return 0


def cmd_gan_plot(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .experiments.report_gan import gan_sections
    from .report import write_page
    from .train import load_run

    gan, config = load_run(args.run)
    if not gan.is_gan:
        raise InputError(f"{args.run}: model {gan.name} is not a GAN")
    options = dict(config.get("data") or {})
    if args.expression:
        options["expression"] = str(args.expression)
    if not (args.data or options.get("path")):
        raise InputError(f"{args.run}: the run names no data; give --data")
    splits = _load(options, args.data)
    sections = gan_sections(gan, splits["train"], splits["test"], seed=args.seed)
    write_page(args.output, f"simplechrome GAN: {args.run}", "", sections)
    print(f"GAN report written to {args.output}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .experiments.report import build_report

    path = build_report(
        args.results, args.output, published=args.published, expression=args.expression
    )
    print(f"report written to {path}")
    return 0


# -- parser ------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simplechrome",
        description="Predict gene expression from histone-modification signals around the TSS.",
    )
    p.add_argument("--version", action="version", version=f"simplechrome {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    s = sub.add_parser("demo", help="train, evaluate and plot on an embedded synthetic cell")
    s.add_argument("--out", type=Path, default=Path("simplechrome-demo"))
    s.add_argument("--genes", type=int, default=6000, help="synthetic genes (default 6000)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("download", help="fetch DeepChrome cells (Zenodo record 2652278)")
    s.add_argument("cells", nargs="*", metavar="EID", help="cells such as E003 E012")
    s.add_argument("--all", action="store_true", help="all 56 cells")
    s.add_argument("--dest", type=Path, help="where to unpack (default $SIMPLECHROME_HOME/data)")
    s.add_argument("--url", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_download)

    s = sub.add_parser(
        "prepare",
        help="raw tracks (bigWig, bedGraph, BAM, tagAlign) + GTF -> a DeepChrome cell folder",
        description="Bin each gene's TSS +/- window of every track in SHEET (tab-separated "
        "columns cell, mark, path[, format]) into DIR/<cell>/ in the DeepChrome format, with "
        "genes.tsv and a manifest. Labels: expression above the cell's median.",
    )
    s.add_argument("sheet", type=Path, metavar="SHEET.tsv")
    s.add_argument("--gtf", type=Path, required=True, help="gene annotation (GTF, .gz too)")
    s.add_argument("--expression", type=Path, help="genes x cells matrix (Roadmap .pc format)")
    s.add_argument("--cell", help="the expression column (default: the sheet's cell name)")
    s.add_argument("--out", type=Path, required=True, metavar="DIR")
    s.add_argument("--window", type=int, default=5000, help="bp either side of the TSS")
    s.add_argument("--bin-size", type=int, default=100)
    s.add_argument(
        "--genes",
        default="auto",
        help="auto (expression genes, else protein-coding), protein_coding, expression, all, "
        "or a file of gene IDs",
    )
    s.add_argument("--order", choices=["genomic", "strand"], default="genomic")
    s.add_argument("--signal", choices=["mean", "sum"], default="mean", help="bigWig/bedGraph")
    s.add_argument(
        "--reads", choices=["overlap", "start", "coverage"], default="overlap", help="BAM/tagAlign"
    )
    s.add_argument("--extend", type=int, help="extend reads to this fragment length (bp)")
    s.add_argument("--min-mapq", type=int, default=0, help="BAM")
    s.add_argument("--keep-duplicates", action="store_true", help="BAM")
    s.add_argument("--split", choices=["zenodo", "chromosome", "random"], default="zenodo")
    s.add_argument("--seed", type=int, default=0, help="of the random split")
    s.add_argument("--overwrite", action="store_true", help="replace existing cell folders")
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("info", help="what a cell folder, split file or run holds")
    s.add_argument("path", type=Path)
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("models", help="the model registry, with parameter counts")
    s.add_argument("--marks", type=int, default=5)
    s.add_argument("--bins", type=int, default=100)
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("train", help="train a model on a cell; writes a run directory")
    s.add_argument("--model", help="registry name (see `simplechrome models`)")
    _training_arguments(s)
    s.set_defaults(func=cmd_train)

    gan = sub.add_parser("gan", help="conditional GAN of histone signals: train, sample, plot")
    verbs = gan.add_subparsers(dest="gan_verb", required=True, metavar="ACTION")
    s = verbs.add_parser("train", help="train the GAN on a cell; writes a run directory")
    _training_arguments(s)
    s.add_argument("--epochs", type=int, default=300, help="at most (default 300)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--patience", type=int, default=30, help="epochs without a closer match")
    s.set_defaults(func=cmd_gan_train)
    s = verbs.add_parser("sample", help="generate genes: signals and counts in an .npz")
    s.add_argument("run", type=Path)
    s.add_argument("-n", type=int, default=100, help="genes per class (or in all, with --level)")
    s.add_argument("--class", dest="klass", choices=["low", "high", "both"], default="both")
    s.add_argument("--level", type=float, help="log2(RPKM + 1), for a regression GAN")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", type=Path, required=True, help="samples.npz")
    s.set_defaults(func=cmd_gan_sample)
    s = verbs.add_parser("plot", help="HTML page: GAN quality and generated vs real views")
    s.add_argument("run", type=Path)
    s.add_argument("--data", help="cell folder (default: the run's own data)")
    s.add_argument("--expression", type=Path, help="RPKM matrix: real genes by expression level")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", type=Path, required=True, help="page.html")
    s.set_defaults(func=cmd_gan_plot)

    s = sub.add_parser("evaluate", help="metrics of a run on its own or another cell's splits")
    s.add_argument("run", type=Path)
    s.add_argument("--data", help="another cell folder (default: the run's own data)")
    s.add_argument("-o", "--output", type=Path, help="write metrics JSON here")
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("predict", help="per-gene scores: gene_id, score, label TSV")
    s.add_argument("run", type=Path)
    s.add_argument("input", help="a split CSV or a cell folder")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--attention", type=Path, help="also write bin/mark attention into this folder")
    s.add_argument("--gtf", type=Path, help="GENCODE GTF: adds one bedGraph of attention per mark")
    s.set_defaults(func=cmd_predict)

    s = sub.add_parser("embed", help="VAE latent means of a cell's genes (deterministic)")
    s.add_argument("run", type=Path, help="a run of vae or of a latent model")
    s.add_argument("--data", required=True, help="cell folder")
    s.add_argument("-o", "--output", type=Path, required=True, help="latent.npz")
    s.set_defaults(func=cmd_embed)

    s = sub.add_parser("experiment", help="run a grid, cross-cell or learning-curve spec")
    s.add_argument("spec", type=Path, help="experiment YAML (see configs/)")
    s.add_argument("-o", "--output", type=Path, help="results folder (default results/<name>)")
    s.add_argument("--executor", choices=["local", "ray"], default="local")
    s.add_argument("--workers", type=int, help="local processes (default: cores / threads_per_run)")
    s.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    s.add_argument("--resume", action="store_true", help="skip finished runs, redo the rest")
    s.set_defaults(func=cmd_experiment)

    s = sub.add_parser("report", help="self-contained HTML report of results folders")
    s.add_argument("results", type=Path, nargs="+", help="one or more experiment results folders")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--published", type=Path, help="folder of published per-cell tables")
    s.add_argument("--expression", type=Path, help="RPKM matrix: colour latents by expression")
    s.set_defaults(func=cmd_report)
    return p


def _training_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--data", required=True, help="cell folder, DeepDiff prefix or downloaded EID")
    s.add_argument("--config", type=Path, help="YAML with model, model_params, train")
    s.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config value, e.g. train.lr=0.01 (repeatable)",
    )
    s.add_argument("--out", type=Path, required=True, help="run directory to create")
    s.add_argument("--task", choices=["classification", "regression"], default="classification")
    s.add_argument("--expression", type=Path, help="Roadmap 57epigenomes.RPKM.pc[.gz] (regression)")
    s.add_argument("--gtf", type=Path, help="GENCODE GTF (chromosome split)")
    s.add_argument("--split", choices=["files", "chromosome", "random"], default="files")
    s.add_argument("--split-seed", type=int, default=0)
    s.add_argument("--seed", type=int)
    s.add_argument("--threads", type=int)


def main(argv: list[str] | None = None) -> int:
    from .errors import SimplechromeError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="simplechrome: %(levelname)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except SimplechromeError as exc:
        print(f"simplechrome: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unreadable input or unwritable output named by the user
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"simplechrome: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("simplechrome: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
