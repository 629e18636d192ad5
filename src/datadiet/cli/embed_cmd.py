"""``datadiet embed``: train a network, then save every training example's embedding for ``datadiet select``.

The embedding is the input of the network's last Linear layer (its penultimate features), or of ``--layer``, taken
in evaluation mode on the un-augmented training set: ``FILE.npy`` (float32, shape (N, D), the dataset's order)
and ``FILE.npy.json`` (dataset, labels' fingerprint, model, layer, time point, seed). The network trains for the
schedule of ``--epochs``/``--steps`` (default: up to the time point) and stops at ``--epoch``/``--step``;
``--epoch 0`` embeds with the freshly initialized network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from datadiet.cli.options import add_data_options, add_model_options, add_train_options, build_model, load_data

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="train a network and save each training example's embedding (for select)",
                       description=__doc__)
    add_data_options(p)
    add_model_options(p)
    add_train_options(p, budget_required=False)
    when = p.add_mutually_exclusive_group()
    when.add_argument("--epoch", type=int, metavar="T", help="embed after T epochs (0: at initialization)")
    when.add_argument("--step", type=int, metavar="T", help="embed after T optimizer steps (0: at initialization)")
    p.add_argument("--layer", metavar="NAME", help="take the input of this module (a name from "
                   "model.named_modules(); default: the last Linear layer)")
    p.add_argument("--out", required=True, metavar="FILE.npy", help="embedding file to write")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.cli.options import time_and_schedule
    from datadiet.files import check_output_file
    from datadiet.selection import embed
    from datadiet.selection.embedding_file import save_embeddings
    from datadiet.selection.features import embedding_layer
    from datadiet.training import default_device, trainer_fn

    if Path(args.out).suffix != ".npy":
        raise ValueError(f"--out must name a .npy embedding file, got {args.out!r}")
    check_output_file(args.out)
    check_output_file(args.out + ".json", "--out's description")
    at, config = time_and_schedule(args)
    data = load_data(args).train
    device = args.device or default_device()
    model = build_model(args, data, args.seed).to(device)
    layer, _ = embedding_layer(model, args.layer)
    if config is not None:
        train_fn = trainer_fn(data, config, device=device)
        at = train_fn.budget if at is None else at
        train_fn(model, args.seed, at, [])
    embeddings = embed(model, data, layer=layer, device=device, progress=not args.no_progress)
    unit = "epoch" if args.epoch is not None or (config is not None and config.epochs is not None) else "step"
    save_embeddings(args.out, embeddings, {
        "dataset": data.name, "num_examples": len(data), "label_fingerprint": data.label_fingerprint(),
        "model": args.model, "model_kwargs": {"width": args.width}, "layer": layer, "time": f"{unit} {at}",
        "seed": args.seed, "train_config": None if config is None else config.to_dict(),
    })
    print(f"embeddings ({layer!r} input, {unit} {at}) of {len(data)} examples, {embeddings.shape[1]} features "
          f"-> {args.out}")
    return 0
