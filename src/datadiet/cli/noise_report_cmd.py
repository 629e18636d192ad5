"""``datadiet noise-report``: how well a score finds corrupted labels, when the noise mask is known."""

from __future__ import annotations

import argparse

from datadiet.cli.options import check_figure_file

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("noise-report", help="ROC AUC and precision of a score at finding noisy labels",
                       description=__doc__)
    p.add_argument("scores", metavar="FILE.npz", help="score file computed with --label-noise")
    p.add_argument("--plot", metavar="FILE.png", help="also draw clean vs noisy score histograms")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from datadiet.analysis import noise_detection, plot_noise_histograms
    from datadiet.scores import ScoreFile

    check_figure_file(args.plot)
    scores = ScoreFile.load(args.scores)
    if scores.noise_mask is None:
        raise ValueError(f"{args.scores} has no noise mask: compute scores on data with --label-noise")
    changed = scores.noise_mask & (scores.labels != scores.clean_labels)
    report = noise_detection(scores.mean, scores.noise_mask, changed_mask=changed)
    print(f"{scores.method} at {scores.time} ({len(scores.runs)} run(s)) on {scores.dataset}")
    print(f"permuted labels: {report['num_noisy']} ({report['noise_rate']:.1%}); "
          f"actually changed: {report['num_changed']}")
    print(f"{'against':<16}{'ROC AUC':>9}{'precision@m':>13}{'recall@m':>10}")
    print(f"{'permuted set':<16}{report['auc']:>9.4f}{report['precision']:>13.4f}{report['recall']:>10.4f}")
    print(f"{'changed labels':<16}{report['auc_changed']:>9.4f}{report['precision_changed']:>13.4f}"
          f"{report['recall_changed']:>10.4f}")
    if args.plot:
        plot_noise_histograms(scores.mean, scores.noise_mask, args.plot, score_name=scores.method)
        print(f"plot -> {args.plot}")
    return 0
