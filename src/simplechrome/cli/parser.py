"""The command line's parser: every verb, its arguments and its handler (``cli.verbs``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._version import __version__
from . import results, shipped, verbs

CELL_HELP = (
    "shipped models: the Roadmap EID the data is (its own expression column is left out of "
    "the compendium); default: the EID the folder's name carries, else a new cell type"
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simplechrome",
        description="Predict gene expression from histone-modification signals around the TSS.",
    )
    p.add_argument("--version", action="version", version=f"simplechrome {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    s = sub.add_parser(
        "demo", help="the main job on real data the package carries: train, evaluate, report"
    )
    s.add_argument("--out", type=Path, default=Path("simplechrome-demo"))
    s.add_argument(
        "--synthetic", action="store_true", help="a synthetic cell with planted truth instead"
    )
    s.add_argument("--genes", type=int, default=6000, help="synthetic genes (default 6000)")
    s.add_argument("--seed", type=int, default=0, help="of the synthetic cell")
    s.set_defaults(func=verbs.cmd_demo)

    s = sub.add_parser("download", help="fetch DeepChrome cells (Zenodo record 2652278)")
    s.add_argument("cells", nargs="*", metavar="EID", help="cells such as E003 E012")
    s.add_argument("--all", action="store_true", help="all 56 cells")
    s.add_argument("--dest", type=Path, help="where to unpack (default $SIMPLECHROME_HOME/data)")
    s.add_argument("--url", help=argparse.SUPPRESS)
    s.set_defaults(func=verbs.cmd_download)

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
    s.set_defaults(func=verbs.cmd_prepare)

    s = sub.add_parser("info", help="what a cell folder, split file or run holds")
    s.add_argument("path", type=Path)
    s.set_defaults(func=verbs.cmd_info)

    s = sub.add_parser("models", help="the model registry, with parameter counts")
    s.add_argument("--marks", type=int, default=5)
    s.add_argument("--bins", type=int, default=100)
    s.add_argument(
        "--pretrained", action="store_true", help="the shipped models, ready to predict with"
    )
    s.set_defaults(func=verbs.cmd_models)

    s = sub.add_parser("build-kernels", help="compile the native AttentiveChrome CPU kernel")
    s.set_defaults(func=shipped.cmd_build_kernels)

    group = sub.add_parser("pretrained", help="shipped models: rebuild one from its recipe")
    actions = group.add_subparsers(dest="pretrained_verb", required=True, metavar="ACTION")
    s = actions.add_parser("build", help="train a shipped model from its recipe (a YAML)")
    s.add_argument("recipe", type=Path, help="e.g. configs/roadmap_model.yaml")
    s.add_argument("-o", "--output", type=Path, required=True, help="the model's folder")
    s.add_argument("--leave-out", help="a cell of the recipe to train without (its column too)")
    s.set_defaults(func=shipped.cmd_pretrained_build)

    s = sub.add_parser("train", help="train a model on a cell; writes a run directory")
    s.add_argument("--model", help="registry name (see `simplechrome models`)")
    _training_arguments(s)
    s.set_defaults(func=verbs.cmd_train)

    gan = sub.add_parser("gan", help="conditional GAN of histone signals: train, sample, plot")
    actions = gan.add_subparsers(dest="gan_verb", required=True, metavar="ACTION")
    s = actions.add_parser("train", help="train a generator on a cell; writes a run directory")
    _training_arguments(s)
    s.add_argument(
        "--generator",
        help="a model of the registry's generator family (default: the config's model, else "
        "autoregressive, the one that meets the most of issue 39's lines, RESULTS.md section "
        "4; `simplechrome models` lists them with their training defaults), all measured alike",
    )
    s.add_argument("--epochs", type=int, help="at most (default: the generator's own)")
    s.add_argument("--batch-size", type=int, help="default: the generator's own")
    s.add_argument("--patience", type=int, help="epochs without a better validation score "
                   "(default: the generator's own)")  # fmt: skip
    s.set_defaults(func=verbs.cmd_gan_train)
    s = actions.add_parser("sample", help="generate genes: signals and counts in an .npz")
    s.add_argument("run", type=Path)
    s.add_argument("-n", type=int, default=100, help="genes per class (or in all, with --level)")
    s.add_argument("--class", dest="klass", choices=["low", "high", "both"], default="both")
    s.add_argument("--level", type=float, help="log2(RPKM + 1), for a regression GAN")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", type=Path, required=True, help="samples.npz")
    s.set_defaults(func=verbs.cmd_gan_sample)
    s = actions.add_parser("quality", help="every quality measure of a GAN run, as JSON")
    s.add_argument("run", type=Path)
    s.add_argument("--data", help="cell folder whose test genes to compare (default: the run's)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--genes",
        choices=("test", "valid"),
        default="test",
        help="measure on the test genes (the final numbers) or the validation genes (to "
        "choose a design without reading the test genes)",
    )
    s.add_argument("-o", "--output", type=Path, required=True, help="quality.json")
    s.set_defaults(func=verbs.cmd_gan_quality)
    s = actions.add_parser("plot", help="HTML page: GAN quality and generated vs real views")
    s.add_argument("run", type=Path)
    s.add_argument("-o", "--output", type=Path, required=True, help="page.html")
    s.set_defaults(func=verbs.cmd_gan_plot)

    s = sub.add_parser("evaluate", help="metrics of a run on its own or another cell's splits")
    s.add_argument("run", type=Path, help="a run directory or a shipped model (roadmap)")
    s.add_argument("--data", help="another cell folder (default: the run's own data)")
    s.add_argument("-o", "--output", type=Path, help="write metrics JSON here")
    s.add_argument("--cell", help=CELL_HELP)
    s.set_defaults(func=verbs.cmd_evaluate)

    s = sub.add_parser("predict", help="per-gene scores: gene_id, score, label TSV")
    s.add_argument("run", type=Path, help="a run directory or a shipped model (roadmap)")
    s.add_argument("input", help="a split CSV or a cell folder")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--attention", type=Path, help="also write bin/mark attention into this folder")
    s.add_argument("--gtf", type=Path, help="GENCODE GTF: adds one bedGraph of attention per mark")
    s.add_argument("--cell", help=CELL_HELP)
    s.set_defaults(func=verbs.cmd_predict)

    s = sub.add_parser("embed", help="VAE latent means of a cell's genes (deterministic)")
    s.add_argument("run", type=Path, help="a run of vae or of a latent model")
    s.add_argument("--data", help="cell folder (default: the run's own data)")
    s.add_argument("-o", "--output", type=Path, required=True, help="latent.npz")
    s.set_defaults(func=verbs.cmd_embed)

    s = sub.add_parser("experiment", help="run a grid, cross-cell or learning-curve spec")
    s.add_argument("spec", type=Path, help="experiment YAML (see configs/)")
    s.add_argument("-o", "--output", type=Path, help="results folder (default results/<name>)")
    s.add_argument("--executor", choices=["local", "ray"], default="local")
    s.add_argument("--workers", type=int, help="local processes (default: cores / threads_per_run)")
    s.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    s.add_argument("--resume", action="store_true", help="skip finished runs, redo the rest")
    s.add_argument(
        "--table-only",
        action="store_true",
        help="run nothing: write the table of the runs already finished (an interrupted study)",
    )
    s.set_defaults(func=verbs.cmd_experiment)

    s = sub.add_parser("report", help="self-contained HTML report of results folders")
    s.add_argument("results", type=Path, nargs="+", help="one or more experiment results folders")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.add_argument("--published", type=Path, help="folder of published per-cell tables")
    s.set_defaults(func=results.cmd_report)

    s = sub.add_parser("verdicts", help="judge the published claims from results folders")
    s.add_argument("results", type=Path, nargs="+", help="one or more experiment results folders")
    s.add_argument("-o", "--output", type=Path, help="also write the verdicts as CSV")
    s.set_defaults(func=results.cmd_verdicts)

    s = sub.add_parser("analyse", help="compute a run's analyses (what the report draws)")
    s.add_argument("run", type=Path, nargs="+", help="run directories")
    s.set_defaults(func=results.cmd_analyse)
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
    s.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="default: the config's train.task, else classification",
    )
    s.add_argument("--expression", type=Path, help="Roadmap 57epigenomes.RPKM.pc[.gz] (regression)")
    s.add_argument("--gtf", type=Path, help="GENCODE GTF (chromosome split)")
    s.add_argument(
        "--compendium",
        choices=["self", "group"],
        help="add the compendium channels (other cells' expression of each gene; needs "
        "--expression): leave out the cell's own column, or its whole group (--epigenomes)",
    )
    s.add_argument("--epigenomes", type=Path, help="Roadmap epigenome table (groups)")
    s.add_argument("--split", choices=["files", "chromosome", "random"], default="files")
    s.add_argument("--split-seed", type=int, default=0)
    s.add_argument("--seed", type=int)
    s.add_argument("--threads", type=int)
