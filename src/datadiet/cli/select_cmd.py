"""``datadiet select``: choose a subset from a score file (or at random, or from embeddings) and write it with its
provenance.

The score file names the dataset (its examples, labels and size N). The rules on embeddings (kcenter, herding,
facility_location, d2, prototypes, moderate) also take ``--embeddings FILE.npy``, an ``(N, D)`` array such as
``datadiet embed`` writes; for those that ignore the scores, any score file of the dataset will do (e.g.
``datadiet score --model mlp --method input_norm --epoch 0``, which trains nothing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datadiet.cli.names import RULES

if TYPE_CHECKING:
    import numpy as np

    from datadiet.scores import ScoreFile

__all__ = ["add_parser", "run"]

FLAGS = {"offset": "--offset", "beta": "--ccs-beta", "strata": "--strata", "k": "--neighbors", "gamma": "--gamma",
         "gamma_forward": "--gamma-forward", "clusters": "--clusters", "easy": "--easy", "metric": "--metric"}
"""Each rule option and its flag."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("select", help="select a subset from scores or embeddings: keep the highest, a window, CCS, "
                       "k-center, D2, ... (datadiet list rules)", description=__doc__)
    p.add_argument("--scores", required=True, metavar="FILE.npz", help="score file from `datadiet score`")
    p.add_argument("--keep", required=True, type=float, help="fraction of examples to keep, in (0, 1]")
    p.add_argument("--rule", choices=RULES, help="selection rule (default keep_highest; `datadiet list rules`)")
    rule = p.add_mutually_exclusive_group()
    rule.add_argument("--offset", type=float, help="sliding window: drop this lowest-scored fraction first")
    rule.add_argument("--lowest", action="store_true", help="keep the lowest-scored (easiest) examples")
    rule.add_argument("--random", action="store_true", help="a uniformly random subset of the same size")
    rule.add_argument("--ccs-beta", type=float, metavar="BETA",
                      help="coverage-centric selection: drop the hardest BETA fraction, sample across strata")
    p.add_argument("--strata", type=int, help="CCS: number of score strata (default 50)")
    p.add_argument("--class-balanced", action="store_true", help="apply the rule within each class")
    p.add_argument("--seed", type=int, default=0, help="seed of random, CCS, kcenter and prototypes draws")
    _add_embedding_options(p)
    p.add_argument("--out", required=True, metavar="FILE.npy", help="subset file to write")
    p.set_defaults(run=run)


def _add_embedding_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rules on embeddings")
    g.add_argument("--embeddings", metavar="FILE.npy", help="embeddings (N, D), one row per example of the score "
                   "file's dataset (from `datadiet embed`)")
    g.add_argument("--neighbors", type=int, metavar="K", help="facility_location, d2: nearest neighbours per "
                   "example (defaults 20, 5)")
    g.add_argument("--gamma", type=float, help="d2: reverse message-passing weight gamma_r (default 1)")
    g.add_argument("--gamma-forward", type=float, help="d2: forward message-passing weight gamma_f (default 1)")
    g.add_argument("--clusters", type=int, help="prototypes: number of k-means prototypes (required)")
    g.add_argument("--easy", action="store_true", help="prototypes: keep the nearest (easiest) examples")
    g.add_argument("--metric", choices=("cosine", "euclidean"), help="prototypes: distance (default cosine)")


def run(args: argparse.Namespace) -> int:
    from datadiet.files import check_output_file
    from datadiet.scores import ScoreFile
    from datadiet.selection import get_rule, save_subset, select, subset_from_scores

    name, options = _rule(args)
    spec = get_rule(name)
    _check_embeddings_flag(name, "embeddings" in spec.needs, args.embeddings)
    if Path(args.out).suffix != ".npy":
        raise ValueError(f"--out must name a .npy subset file, got {args.out!r}")
    check_output_file(args.out)
    check_output_file(args.out + ".json", "--out's description")
    scores = ScoreFile.load(args.scores)
    embeddings, described = _embeddings(args.embeddings, scores)
    labels = scores.labels if args.class_balanced or "labels" in spec.needs else None
    if name == "moderate":  # its labels give the class medians; balancing is its option
        options["class_balanced"] = args.class_balanced
    seed = args.seed if spec.random else None
    positions = select(scores.mean, args.keep, rule=name, labels=labels, seed=seed, embeddings=embeddings,
                       **options)
    params = {"keep": args.keep, "class_balanced": args.class_balanced, **options}
    if seed is not None:
        params["seed"] = seed
    if embeddings is not None:
        params["embeddings"] = {"file": str(args.embeddings), "shape": list(embeddings.shape), **described}
    subset = subset_from_scores(positions, scores, rule=name, params=params, seed=seed)
    save_subset(subset, args.out)
    print(f"{name}: kept {len(subset)} of {scores.num_examples} examples -> {args.out}")
    return 0


def _rule(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The rule named by ``--rule`` or a shorthand flag, and its options from the command line."""
    from datadiet.selection import RULES

    given = {"offset": args.offset, "beta": args.ccs_beta, "strata": args.strata, "k": args.neighbors,
             "gamma": args.gamma, "gamma_forward": args.gamma_forward, "clusters": args.clusters,
             "easy": args.easy or None, "metric": args.metric}
    options = {k: v for k, v in given.items() if v is not None}
    implied = ("sliding_window" if args.offset is not None else "keep_lowest" if args.lowest
               else "random" if args.random else "ccs" if args.ccs_beta is not None else None)
    if args.rule and implied and args.rule != implied:
        raise ValueError(f"--rule {args.rule} contradicts the flag that means {implied}")
    name = args.rule or implied or "keep_highest"
    spec = RULES[name]
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise ValueError(f"rule {name} takes no {', '.join(FLAGS[u] for u in unknown)}")
    missing = [FLAGS[o] for o, default in spec.options.items() if default is None and o not in options]
    if missing:
        raise ValueError(f"rule {name} needs {', '.join(missing)}")
    return name, options


def _check_embeddings_flag(rule: str, needed: bool, given: str | None) -> None:
    from datadiet.selection import RULES

    if needed and given is None:
        raise ValueError(f"rule {rule} selects from embeddings: give --embeddings FILE.npy (N, D), e.g. from "
                         "`datadiet embed`")
    if given is not None and not needed:
        takers = ", ".join(name for name, spec in RULES.items() if "embeddings" in spec.needs)
        raise ValueError(f"rule {rule} does not use embeddings; drop --embeddings (rules on embeddings: {takers})")


def _embeddings(path: str | None, scores: ScoreFile) -> tuple[np.ndarray | None, dict[str, Any]]:
    """The embeddings of ``path`` (None: none) checked against the score file, and their description."""
    if path is None:
        return None, {}
    from datadiet.selection.embedding_file import load_embeddings

    embeddings, provenance = load_embeddings(path, num_examples=scores.num_examples,
                                             label_fingerprint=scores.label_fingerprint)
    described: dict[str, Any] = {k: provenance[k] for k in ("model", "layer", "time", "fingerprint") if k in provenance}
    return embeddings, described
