"""``datadiet dynamics``: training-dynamics analyses of paper 1, Sec. 5.

``velocity`` (Fig. 3): train one network, keep its weights after every epoch, and measure the logit-kernel
velocity between epochs t and t + 1 of windows of 100 training examples consecutive in the score ranking at
epoch t (scores and velocities at the same epoch: by default the tracked network's own EL2N after t epochs; with
--scores-from independent the mean over --score-runs independent runs stopped at epoch t), at each starting
rank; optionally at several label-noise levels (one panel each). ``barrier`` (Fig. 4): train a parent, spawn two
children at each spawn epoch, and measure the linear-interpolation error barrier between them (paper 1, eq. 5:
the most the error rises above the straight line between the two children's own errors) on the 1000
highest-EL2N, 1000 lowest-EL2N and 1000 random training examples (EL2N of the parent at --score-epoch) and on the
test set. Each writes a JSON of numbers and a PNG into --out. Stopped, the same command resumes the training from
the checkpoints it keeps in --out/training/ (removed once the JSON is written) and repeats only the measurement.

The same analyses run as experiment recipes, several seeds and label-noise levels at once, with results kept in
an experiment folder (the shipped recipes ``datadiet sweep paper1_fig3_kernel_velocity`` and
``paper1_fig4_error_barrier``, then ``datadiet report``); both call the same functions.

Presets (run from the repository root; data in ../shared/data/fashion-mnist):

cpu, Fashion-MNIST on 2 CPU cores. Expected on an otherwise idle machine: velocity about 9 minutes (estimated
from its parts: 2 x 4 epochs of a half-width small CNN, 2 x 4 EL2N passes, 2 x 64 kernels of about 3 s), barrier
about 5 minutes (54 epochs on 10,000 examples, 44 interpolated networks); a busy machine can take two to three
times longer. Expected shape, as paper 1 reports for CIFAR-10: the velocity falls from epoch to epoch and is
higher at high score ranks; the barrier falls with the spawn epoch, latest on the highest-EL2N subset::

    datadiet dynamics velocity --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist \\
        --model small_cnn --width 0.5 --epochs 4 --noise-levels 0,0.1 --num-ranks 8 --out runs/fig3-cpu
    datadiet dynamics barrier --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist --per-class 1000 \\
        --model small_cnn --epochs 8 --spawn-epochs 0,1,2,4 --score-epoch 2 --subset-size 1000 --out runs/fig4-cpu

paper, CIFAR-10 and ResNet18 (a GPU)::

    datadiet dynamics velocity --dataset cifar10 --data-dir DIR --model resnet18 --epochs 200 --track-epochs 20 \\
        --noise-levels 0,0.1 --num-ranks 25 --out runs/fig3
    datadiet dynamics barrier --dataset cifar10 --data-dir DIR --model resnet18 --epochs 200 \\
        --spawn-epochs 0,1,2,3,4,5,10,15,20,30 --score-epoch 10 --subset-size 1000 --repeats 4 --out runs/fig4
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import datadiet
from datadiet.cli.options import (
    add_data_options, add_model_options, add_train_options, build_model, fraction, load_data, positive_int,
    train_config,
)

__all__ = ["add_parser", "run"]

TRAINING_DIR = "training"  # checkpoints of the analyses' training while the command runs


def _list(kind):
    def parse(text: str) -> list:
        try:
            return [kind(item) for item in text.split(",") if item.strip()]
        except (ValueError, argparse.ArgumentTypeError) as error:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r} ({error})") from None

    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dynamics", help="kernel velocity (Fig. 3) and error barrier (Fig. 4) of paper 1, Sec. 5",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    analyses = p.add_subparsers(dest="analysis", required=True, metavar="ANALYSIS")
    _velocity_parser(analyses.add_parser("velocity", help="kernel velocity against score rank, per epoch"))
    _barrier_parser(analyses.add_parser("barrier", help="error barrier against spawn epoch"))
    p.set_defaults(run=run)


def _common(p: argparse.ArgumentParser) -> None:
    add_data_options(p)
    add_model_options(p)
    add_train_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the JSON and the PNG")


def _velocity_parser(p: argparse.ArgumentParser) -> None:
    _common(p)
    g = p.add_argument_group("kernel velocity")
    g.add_argument("--track-epochs", type=positive_int, metavar="T",
                   help="measure the first T epochs of the --epochs schedule (default: all)")
    g.add_argument("--noise-levels", type=_list(fraction), metavar="F,F",
                   help="run at each label-noise fraction, one panel each (Fig. 3: 0,0.1); default: --label-noise")
    g.add_argument("--score", default="el2n", metavar="NAME",
                   help="the score ranking each epoch's windows, of a network's weights (default: el2n)")
    g.add_argument("--scores-from", choices=("tracked", "independent"), default="tracked",
                   help="whose score at epoch t: the tracked network's own (default) or independent runs' mean")
    g.add_argument("--score-runs", type=positive_int, metavar="R",
                   help="with --scores-from independent: runs averaged, seeds after --seed (default: 1)")
    ranks = g.add_mutually_exclusive_group()
    ranks.add_argument("--ranks", type=_list(int), metavar="R,R", help="starting ranks in ascending score order")
    ranks.add_argument("--num-ranks", type=positive_int, default=10, help="evenly spaced starting ranks")
    g.add_argument("--window", type=positive_int, default=100, help="examples per kernel (paper: 100)")
    g.add_argument("--chunk-examples", type=positive_int, default=10, help="examples per Jacobian chunk")
    g.add_argument("--chunk-params", type=positive_int, help="parameters per Jacobian block (default: 256 MiB)")


def _barrier_parser(p: argparse.ArgumentParser) -> None:
    _common(p)
    g = p.add_argument_group("error barrier")
    g.add_argument("--spawn-epochs", type=_list(int), required=True, metavar="T,T", help="e.g. 0,1,2,4")
    g.add_argument("--score-epoch", type=int, default=10, help="parent epoch whose EL2N picks the subsets")
    g.add_argument("--subset-size", type=positive_int, default=1000)
    g.add_argument("--alphas", type=positive_int, default=11, help="evenly spaced points from 0 to 1")
    g.add_argument("--no-bn-recompute", action="store_true",
                   help="keep interpolated BatchNorm statistics instead of recomputing them on training data")
    g.add_argument("--bn-examples", type=positive_int, default=4096, help="training examples for BN statistics")
    g.add_argument("--repeats", type=positive_int, default=1, help="independent parents (seeds after --seed)")


def run(args: argparse.Namespace) -> int:
    from datadiet.files import check_output_dir, write_json

    if args.epochs is None:
        raise ValueError("training-dynamics analyses count time in epochs: give --epochs, not --steps")
    check_output_dir(args.out)
    start = time.perf_counter()
    record = _velocity(args) if args.analysis == "velocity" else _barrier(args)
    record.update(datadiet_version=datadiet.__version__, seconds=time.perf_counter() - start,
                  model={"name": args.model, "width": args.width})
    out = Path(args.out)
    write_json(out / f"{args.analysis}.json", record)
    shutil.rmtree(out / TRAINING_DIR, ignore_errors=True)
    print(f"{args.analysis}: {record['seconds']:.0f} s -> {out / (args.analysis + '.json')}, "
          f"{out / (args.analysis + '.png')}")
    return 0


def _velocity(args: argparse.Namespace) -> dict:
    from datadiet.analysis import noise_title, plot_kernel_velocity
    from datadiet.analysis.velocity import check_ranks, independent_epoch_scores, network_score, tracked_velocity

    levels = args.noise_levels or [args.label_noise]
    if args.noise_levels and args.label_noise:
        raise ValueError("give either --label-noise or --noise-levels, not both")
    network_score(args.score)
    if args.score_runs is not None and args.scores_from != "independent":
        raise ValueError("--score-runs is for --scores-from independent; the tracked run scores itself")
    track = args.track_epochs or args.epochs
    if track > args.epochs:
        raise ValueError(f"--track-epochs must be at most --epochs ({args.epochs}), got {track}")
    config = train_config(args)
    independent = args.scores_from == "independent"
    seeds = range(args.seed + 1, args.seed + 1 + (args.score_runs or 1)) if independent else range(0)
    panels, runs = {}, []
    for level in levels:
        data = load_data(argparse.Namespace(**{**vars(args), "label_noise": level})).train
        if args.ranks:
            check_ranks(args.ranks, len(data), args.window)  # before any training
        folder = Path(args.out) / TRAINING_DIR / f"noise{level:g}"
        ranking = independent_epoch_scores(
            partial(build_model, args, data), data, config, seeds, epochs=track, score=args.score,
            device=args.device, progress=config.progress, out_dir=folder / "scoring").mean(0) if seeds else None
        result = tracked_velocity(
            build_model(args, data, args.seed), data, config, score=args.score, ranking_scores=ranking,
            track_epochs=track, ranks=args.ranks, num_ranks=args.num_ranks, window=args.window,
            chunk_examples=args.chunk_examples, chunk_params=args.chunk_params, device=args.device,
            progress=config.progress, out_dir=folder / "tracked")
        panels[noise_title(level)] = result.velocity
        runs.append({"label_noise": level, "dataset": data.name, "num_train": len(data), **result.to_dict()})
    plot_kernel_velocity(result.ranks, panels, Path(args.out) / "velocity.png")
    return {"analysis": "kernel velocity", "epochs_tracked": track, "config": config.to_dict(),
            "ranking": {"score": args.score, "scores_from": args.scores_from, "seeds": list(seeds) or [args.seed],
                        "at": "each curve's first epoch"}, "runs": runs}


def _barrier(args: argparse.Namespace) -> dict:
    import numpy as np

    from datadiet.analysis import alpha_grid, plot_error_barriers, seeded_spawn_barriers

    splits = load_data(args)
    config = train_config(args)
    alphas = alpha_grid(args.alphas)
    seeds = range(args.seed, args.seed + args.repeats)
    results = [seeded_spawn_barriers(
        build_model(args, splits.train, seed), splits.train, replace(config, seed=seed), args.spawn_epochs,
        score_epoch=args.score_epoch, subset_size=args.subset_size, alphas=alphas,
        recompute_bn=not args.no_bn_recompute, bn_examples=args.bn_examples, test_data=splits.test,
        device=args.device, progress=config.progress, out_dir=Path(args.out) / TRAINING_DIR / f"seed{seed}",
    ) for seed in seeds]
    barriers = {name: np.stack([res.barriers[name] for res in results]) for name in results[0].errors}
    plot_error_barriers(results[0].spawn_epochs, barriers, Path(args.out) / "barrier.png",
                        title=f"{args.model} on {splits.train.name}, subsets by EL2N at epoch {args.score_epoch}")
    return {"analysis": "error barrier", "dataset": splits.train.name, "num_train": len(splits.train),
            "bn_recompute": not args.no_bn_recompute, "config": config.to_dict(),
            "barriers": {k: v.tolist() for k, v in barriers.items()},
            "repeats": [{"seed": seed, **res.to_dict()} for seed, res in zip(seeds, results)]}
