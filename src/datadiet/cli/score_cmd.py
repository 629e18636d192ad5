"""``datadiet score``: score every training example, averaged over independent runs, into a score file."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datadiet.cli.names import RECORDED_SCORE_OPTIONS, RECORDED_SCORES, SCORES
from datadiet.cli.options import (
    add_data_options, add_model_options, add_train_options, build_model, load_data, time_and_schedule,
)

if TYPE_CHECKING:
    from torch import nn

    from datadiet.data.dataset import IndexedDataset

__all__ = ["add_parser", "run"]

_TRAINING = ("model", "width", "epochs", "steps", "batch_size", "lr", "weight_decay", "seed", "augment", "precision",
             "device", "epoch", "step", "runs", "save_recordings", "keep_probabilities")
"""Options of the training runs, refused with --from-recordings (the recordings hold the runs' setting)."""
_SCORE_OPTIONS = {"window": "--window", "epochs": "--first-epochs", "decay": "--decay", "epoch": "--recorded-epoch",
                  "batchnorm": "--batchnorm"}
"""The scores' options (their functions' keyword names) and their flags."""
_BATCHNORM = ("running", "batch")
"""``datadiet.scores.gradient_norm.BATCHNORM_MODES``."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    recorded = ", ".join(RECORDED_SCORES)
    p = sub.add_parser(
        "score", help="score every training example (EL2N, GraNd, forgetting, AUM, ...) into a score file",
        description=__doc__ + " Runs train the network for the schedule given by --epochs/--steps (default: up "
        "to the time point) and stop at --epoch/--step; T = 0 scores freshly initialized networks. The recorded "
        f"scores ({recorded}) come from one training-dynamics recording per run: --save-recordings keeps them, "
        "and --from-recordings derives any recorded score from them again, without training.",
    )
    add_data_options(p)
    add_model_options(p, default="")
    add_train_options(p, budget_required=False)
    p.add_argument("--method", required=True, help=f"one of: {', '.join(SCORES)}")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--epoch", type=int, metavar="T", help="score after T epochs (0: at initialization)")
    when.add_argument("--step", type=int, metavar="T", help="score after T optimizer steps (0: at initialization)")
    p.add_argument("--runs", type=int, default=1, help="independent runs to average (the paper uses 10)")
    p.add_argument("--out", required=True, metavar="FILE.npz", help="score file to write")
    _add_recording_options(p)
    _add_score_options(p)
    defaults = {dest: p.get_default(dest) for dest in _TRAINING}
    p.set_defaults(run=run, training_defaults=defaults, **dict.fromkeys(_TRAINING))  # None: not given


def _add_recording_options(p: argparse.ArgumentParser) -> None:
    needs = ", ".join(name for name, probabilities in RECORDED_SCORES.items() if probabilities)
    g = p.add_argument_group("training-dynamics recordings")
    g.add_argument("--save-recordings", metavar="DIR", help="also save each run's recording in DIR as seed{S}.npz "
                   "(a recorded score only), to derive any recorded score from later without training")
    g.add_argument("--keep-probabilities", action="store_true", help="keep the probability vectors in the saved "
                   f"recordings (2 K bytes more per example and epoch): {needs} need them, so only recordings "
                   "saved with them (or while scoring one of those) can give those scores later")
    g.add_argument("--from-recordings", nargs="+", metavar="DIR_OR_FILE", help="derive --method from saved "
                   "recordings (folders of .npz recordings, or files) instead of training: the data options name "
                   "the same dataset, and the training options are refused (the recordings hold them)")


def _add_score_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("scores' options (each only for the scores that take it)")
    g.add_argument("--batchnorm", choices=_BATCHNORM, help="grand: running (default; evaluation mode, BatchNorm on "
                   "its running statistics, paper 1) or batch (BatchNorm on the statistics of each batch of 128 "
                   "consecutive examples, each example's gradient taken through them; about 45x slower)")
    g.add_argument("--window", type=int, metavar="J", help=f"epochs per window ({_takers('window')}; default 10)")
    g.add_argument("--first-epochs", type=int, metavar="T",
                   help=f"use the first T recorded epochs ({_takers('epochs')}; default all)")
    g.add_argument("--decay", type=float, metavar="BETA",
                   help=f"weight of the latest window ({_takers('decay')}; default 0.9)")
    g.add_argument("--recorded-epoch", type=int, metavar="E", help="the recorded epoch scored, 0-based, negative "
                   f"from the end ({_takers('epoch')}; default the last)")


def run(args: argparse.Namespace) -> int:
    from datadiet.files import check_output_dir, check_output_file
    from datadiet.scores import ScoreFile, get_score, score_runs
    from datadiet.training import default_device, trainer_fn

    get_score(args.method)
    options = _score_options(args)
    if Path(args.out).suffix != ".npz":
        raise ValueError(f"--out must name a .npz score file, got {args.out!r}")
    check_output_file(args.out)
    if args.save_recordings is not None:
        check_output_dir(args.save_recordings, "--save-recordings")
    if args.from_recordings is not None:
        return _derive(args, options)
    if get_score(args.method).kind == "data":
        return _from_data(args, options)
    _fill_training_defaults(args)
    if not args.model:
        raise ValueError("--model is required to train (or derive a recorded score --from-recordings DIR)")
    if args.keep_probabilities and args.save_recordings is None:
        raise ValueError("--keep-probabilities is for saved recordings: give --save-recordings DIR too")
    at, config = time_and_schedule(args)
    data = load_data(args).train
    device = args.device or default_device()
    train_fn = trainer_fn(data, config, device=device) if config is not None else None
    make_model = _ModelFactory(args, data)
    result = score_runs(
        args.method, data, make_model, train_fn, at=at, runs=args.runs, seed0=args.seed, device=device,
        progress=not args.no_progress, recordings_dir=args.save_recordings,
        keep_probabilities=args.keep_probabilities, **options,
    )
    name, kwargs = make_model.describe()
    scores = ScoreFile.from_runs(result, data, model=name, model_kwargs=kwargs)
    scores.save(args.out)
    saved = f" (recordings in {args.save_recordings})" if args.save_recordings is not None else ""
    print(f"{args.method} at {scores.time}, {args.runs} run(s), {len(data)} examples -> {args.out}{saved}")
    return 0


def _given_training(args: argparse.Namespace) -> list[str]:
    """The flags of the training options given on the command line."""
    return ["--" + dest.replace("_", "-") for dest in _TRAINING if getattr(args, dest) is not None]


def _from_data(args: argparse.Namespace, options: dict) -> int:
    """A score of the data alone (``input_norm``): no network, no run, so no training option."""
    from datadiet.scores import ScoreFile, score_runs

    given = _given_training(args)
    if given:
        raise ValueError(f"{args.method} is computed from the data alone, with no network; drop {', '.join(given)}")
    data = load_data(args).train
    result = score_runs(args.method, data, _no_network, at=0, runs=1, progress=False, **options)
    ScoreFile.from_runs(result, data, model="", model_kwargs={}).save(args.out)
    print(f"{args.method} of the data, {len(data)} examples -> {args.out}")
    return 0


def _no_network(seed: int) -> nn.Module:
    raise AssertionError("a score of the data alone builds no network")


def _derive(args: argparse.Namespace, options: dict) -> int:
    """Derive the score file from saved recordings, refusing training options."""
    from datadiet.scores import ScoreFile, recorded_scores

    given = _given_training(args)
    if given:
        raise ValueError(f"--from-recordings takes the runs' setting from the recordings; drop {', '.join(given)}")
    if args.method not in recorded_scores():
        raise ValueError(f"--from-recordings derives the recorded scores ({', '.join(recorded_scores())}); "
                         f"{args.method} is not one")
    paths = _recording_paths(args.from_recordings)
    data = load_data(args).train
    scores = ScoreFile.from_recordings(args.method, paths, data, **options)
    scores.save(args.out)
    print(f"{args.method} at {scores.time}, {len(scores.seeds)} run(s) derived from recordings, {len(data)} "
          f"examples -> {args.out}")
    return 0


@dataclass(frozen=True)
class _ModelFactory:
    """Builds the command's network from a seed, and describes it (name and options) for score files and
    recordings."""

    args: argparse.Namespace
    data: IndexedDataset

    def __call__(self, seed: int) -> nn.Module:
        return build_model(self.args, self.data, seed)

    def describe(self) -> tuple[str, dict]:
        return self.args.model, {"width": self.args.width}


def _recording_paths(items: list[str]) -> list[Path]:
    """The recording files named by ``items``, a folder standing for the ``.npz`` files in it."""
    paths: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(item.glob("*.npz"))
            if not found:
                raise FileNotFoundError(f"no recordings (.npz files) in {item}")
            paths += found
        elif item.is_file():
            paths.append(item)
        else:
            raise FileNotFoundError(f"recordings {item} do not exist (give folders of recordings or .npz files)")
    return paths


def _score_options(args: argparse.Namespace) -> dict:
    """The recorded-score options given, each refused (by flag) when ``--method`` does not take it."""
    from datadiet.scores import get_score

    options = {name: getattr(args, flag[2:].replace("-", "_")) for name, flag in _SCORE_OPTIONS.items()}
    options = {name: value for name, value in options.items() if value is not None}
    method = get_score(args.method)
    refused = [_SCORE_OPTIONS[name] for name in options if not _takes(method.name, name)]
    if refused:
        valid = [flag for name, flag in _SCORE_OPTIONS.items() if _takes(method.name, name)]
        raise ValueError(f"--method {method.name} takes no {', '.join(refused)}; its options here: "
                         f"{', '.join(valid) or 'none'}")
    return options


def _takes(method: str, option: str) -> bool:
    """Whether the score ``method`` takes the keyword ``option`` (the registry's check)."""
    from datadiet.scores import get_score

    try:
        get_score(method).check_options({option: None})
    except ValueError:
        return False
    return True


def _takers(option: str) -> str:
    """The recorded scores that take ``option``, for the help."""
    return ", ".join(RECORDED_SCORE_OPTIONS[option])


def _fill_training_defaults(args: argparse.Namespace) -> None:
    """Give the training options that were not given their defaults."""
    for dest, value in args.training_defaults.items():
        if getattr(args, dest) is None:
            setattr(args, dest, value)
