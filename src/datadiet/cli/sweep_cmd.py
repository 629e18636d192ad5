"""``datadiet sweep``: run every run of an experiment recipe once, into an experiment folder.

The recipe is a shipped one by name (``datadiet recipes list``) or a TOML file; ``--data-dir`` gives the folder
of a built-in dataset that is read from files (Fashion-MNIST, CIFAR), ``--download`` fetches its files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from datadiet.cli.names import EXECUTORS
from datadiet.cli.options import device_name, non_negative_float, positive_int

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run an experiment recipe (TOML); finished runs are skipped",
                       description=__doc__)
    p.add_argument("recipe", metavar="RECIPE",
                   help="a shipped recipe's name (see datadiet recipes list), e.g. paper2_fig2, or a recipe file")
    p.add_argument("--preset", metavar="NAME", help="a [presets.NAME] of the recipe, e.g. paper or cpu")
    p.add_argument("--out", required=True, metavar="DIR", help="experiment folder (results, cache, run folders)")
    p.add_argument("--data-dir", metavar="DIR", help="read every run's dataset from this folder instead")
    p.add_argument("--download", action="store_true", help="fetch missing dataset files (checksums verified)")
    p.add_argument("--executor", choices=EXECUTORS, default="local", help="where runs execute (default: local)")
    p.add_argument("--jobs", type=positive_int,
                   help="runs at once: local worker processes (default 1: in process), Ray tasks (default: no limit)")
    p.add_argument("--procs-per-run", type=positive_int, default=1, metavar="N",
                   help="train each run as N processes on one machine (torchrun; gloo on CPU, NCCL on CUDA)")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster address (default: start or join a local one)")
    p.add_argument("--ray-cpus", type=non_negative_float, metavar="N", help="CPUs per run on Ray (default 1)")
    p.add_argument("--ray-gpus", type=non_negative_float, metavar="N",
                   help="GPUs per run on Ray (default: 1 when the cluster has GPUs, else 0; fractions share one)")
    p.add_argument("--max-retries", type=int, metavar="N",
                   help="Ray: run a task again up to N times (default 3) when its worker dies; it resumes from its "
                        "checkpoint")
    p.add_argument("--device", type=device_name, help="cpu, cuda, cuda:1, ... (default: CUDA when present)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and an estimated cost; run nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.experiments import ResultStore, format_plan, load_recipe, run_sweep
    from datadiet.experiments.layout import CACHE_DIR, DATABASE

    experiment = load_recipe(args.recipe, preset=args.preset, data_dir=args.data_dir, download=args.download)
    _check_data_dir(args, experiment)
    out = Path(args.out)
    if args.dry_run:
        finished = set()
        if (out / DATABASE).is_file():
            with ResultStore(out / DATABASE, create=False) as store:
                finished = store.finished_ids()
        cached = {p.stem for p in (out / CACHE_DIR).glob("*.json")}
        print(format_plan(experiment, finished, cached))
        return 0
    options = {"processes": args.procs_per_run, "cpus": args.ray_cpus, "gpus": args.ray_gpus,
               "max_retries": args.max_retries}
    summary = run_sweep(experiment, out, executor=args.executor, jobs=args.jobs, address=args.address,
                        device=args.device, progress=not args.no_progress, executor_options=options)
    scored = f", {len(summary.scored)} score runs computed" if summary.scored else ""
    print(f"{summary.total} runs: {summary.skipped} finished before, {len(summary.finished)} now, "
          f"{len(summary.failed)} failed{scored} | results in {out / DATABASE}")
    for run_id, message in summary.failed.items():
        print(f"  failed {run_id}: {message}")
    return 1 if summary.failed else 0


def _check_data_dir(args: argparse.Namespace, experiment) -> None:
    """Refuse ``--data-dir`` / ``--download`` when no dataset of the recipe is read from files (they would be
    ignored)."""
    from datadiet.experiments.sweep import datasets, reads_files

    given = [flag for flag, value in (("--data-dir", args.data_dir), ("--download", args.download)) if value]
    found = datasets(experiment)
    if given and not any(reads_files(data) for data in found):
        names = ", ".join(sorted({data.dataset or "the recipe's loader" for data in found}))
        raise ValueError(f"{' and '.join(given)}: the recipe's datasets ({names}) are not read from files; drop "
                         f"{'it' if len(given) == 1 else 'them'}")
