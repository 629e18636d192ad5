"""Cost of one dynamic-pruning selection at a checkpoint, for one million examples.

Command:  python benchmarks/bench_selection_overhead.py [--n 1000000] [--reps 5] [--threads 1]
Runtime:  about a minute on 2 CPU cores.
Expected: every policy well under a second per selection (tens to a few hundred ms), i.e. negligible next to
          the scoring pass or one training epoch over the same examples.

A selection is what ``DynamicPruner.set_epoch`` does at a checkpoint: fold the latest losses into the EMA and
variance, rank, pick, update the selection counts. Each repetition times, alternately, one selection and one
``torch.sort`` of the N scores (the reference), in CPU time on ``--threads`` threads; the table gives medians and
the median ratio. "shuffle" is the per-epoch cost of ordering the selected positions (``epoch_positions``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from datadiet.dynamic import PAPER_OPTIONS, DynamicPruner

CASES = [
    ("random", {}, False),
    ("uncertainty", {}, False),
    ("uncertainty-ema", {}, False),
    ("egreedy", {}, False),
    ("ucb", {}, False),
    ("ucb", {"variance": "normalized", "clip": 3.0}, False),
    ("infobatch", {}, False),
    ("ucb", {}, True),
    ("egreedy", {}, True),
    ("random", {}, True),
]


def cpu_time(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def make_pruner(n: int, policy: str, options: dict, balanced: bool, labels: torch.Tensor) -> DynamicPruner:
    budget = {} if policy == "infobatch" else {"keep": 0.3}
    return DynamicPruner(n, policy=policy, policy_options=options, period=1, epochs=10_000, labels=labels,
                         final_full_epochs=0, **budget, **{**PAPER_OPTIONS, "class_balanced": balanced})


def bench(n: int, policy: str, options: dict, balanced: bool, reps: int, labels: torch.Tensor) -> dict:
    g = torch.Generator().manual_seed(0)
    pruner = make_pruner(n, policy, options, balanced, labels)
    select, sort, shuffle = [], [], []
    for epoch in range(reps + 1):  # epoch 0 warms up
        scores = torch.rand(n, generator=g) * 3
        pruner.score_all(scores)
        t_select = cpu_time(lambda: pruner.set_epoch(epoch))
        t_sort = cpu_time(lambda: torch.sort(scores))
        t_shuffle = cpu_time(pruner.epoch_positions)
        if epoch:
            select.append(t_select)
            sort.append(t_sort)
            shuffle.append(t_shuffle)
    return {"select_ms": 1e3 * statistics.median(select), "sort_ms": 1e3 * statistics.median(sort),
            "ratio": statistics.median(s / r for s, r in zip(select, sort)),
            "shuffle_ms": 1e3 * statistics.median(shuffle), "kept": len(pruner.selection)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--classes", type=int, default=10, help="classes for the class-balanced rows")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    labels = torch.arange(args.n) % args.classes
    print(f"N = {args.n:,}, keep 0.3, {args.reps} repetitions, {args.threads} thread(s), CPU time, medians")
    print(f"{'policy':<40} {'balanced':>8} {'select ms':>10} {'x sort':>7} {'shuffle ms':>11} {'kept':>9}")
    for policy, options, balanced in CASES:
        r = bench(args.n, policy, options, balanced, args.reps, labels)
        name = policy + (" " + ",".join(f"{k}={v}" for k, v in options.items()) if options else "")
        print(f"{name:<40} {str(balanced):>8} {r['select_ms']:>10.1f} {r['ratio']:>7.2f} {r['shuffle_ms']:>11.1f} "
              f"{r['kept']:>9,}")
    print(f"reference: torch.sort of N float32 scores, median {r['sort_ms']:.1f} ms")


if __name__ == "__main__":
    main()
