"""Time and peak memory of the selection rules on embeddings, at N = 10,000 and 100,000 examples x 512 features.

Command:  python benchmarks/bench_embedding_rules.py                                  # 10k and 100k x 512
          python benchmarks/bench_embedding_rules.py --sizes 2000 --dim 64           # a quick check (seconds)
Runtime:  10k x 512: about a minute for all rules on 2 CPU cores. 100k x 512: tens of minutes; kcenter and
          herding make one pass over the embeddings per kept example (keep 0.1: 10,000 passes over 205 MB), and
          facility_location and d2 compare every pair once to build their exact nearest-neighbour graph.
Expected: the extra peak memory of every rule is a small multiple of the embeddings' own size (N x 512 float32 =
          20 MB at 10k, 205 MB at 100k; prototypes copies them once to unit rows) plus the distance blocks
          (``datadiet.selection.geometry.BLOCK_BYTES`` = 64 MB), never an N x N matrix (100k x 100k float32 would
          take 40 GB).

Each rule and size runs in a fresh single-thread subprocess: Gaussian clusters of float32 embeddings, random
scores and 10 classes are made, the rule is warmed up on 500 examples, then the peak resident size (``VmHWM`` in
``/proc/self/status``) is reset through ``/proc/self/clear_refs``, and the figures are the wall-clock and CPU time
of ``select(...)`` and its extra peak memory (peak minus the resident size before it; Linux only).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from datadiet.selection import select

RULES = {
    "kcenter": {"seed": 0},
    "herding": {},
    "facility_location": {},
    "d2": {},
    "prototypes": {"seed": 0, "clusters": 100},
    "moderate": {},
}


def make_data(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings ``(n, dim)`` float32 in 50 Gaussian clusters, scores ``(n,)`` and labels ``(n,)`` of 10 classes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(50, dim)).astype(np.float32)
    x = centres[rng.integers(0, 50, n)]
    x += rng.normal(size=(n, dim)).astype(np.float32)
    return x, rng.gamma(2.0, size=n), rng.integers(0, 10, n)


def run_rule(rule: str, x: np.ndarray, scores: np.ndarray, labels: np.ndarray, keep: float) -> np.ndarray:
    return select(scores if rule == "d2" else None, keep, rule=rule, embeddings=x,
                  labels=labels if rule == "moderate" else None, **RULES[rule])


def memory_probe(rule: str, n: int, dim: int, keep: float) -> None:
    x, scores, labels = make_data(n, dim)
    run_rule(rule, x[:500], scores[:500], labels[:500], keep)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size restarts from the current one
    before, cpu, wall = _status_kb("VmRSS"), time.process_time(), time.perf_counter()
    kept = run_rule(rule, x, scores, labels, keep)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"extra_mb": (_status_kb("VmHWM") - before) / 1024, "wall_s": wall, "cpu_s": cpu,
                      "kept": len(kept), "embeddings_mb": x.nbytes / 2**20}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status``, in KiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def probe(rule: str, n: int, dim: int, keep: float) -> dict[str, float]:
    one_thread = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, "--memory-probe", rule, str(n), str(dim), str(keep)],
                         capture_output=True, text=True, check=True, env={**os.environ, **one_thread})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--keep", type=float, default=0.1)
    parser.add_argument("--rules", nargs="+", choices=sorted(RULES), default=list(RULES))
    parser.add_argument("--memory-probe", nargs=4, metavar=("RULE", "N", "DIM", "KEEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        rule, n, dim, keep = args.memory_probe
        memory_probe(rule, int(n), int(dim), float(keep))
        return
    print(f"keep {args.keep}, D = {args.dim}, float32 embeddings, 1 thread, a fresh process per row")
    print(f"{'rule':<18} {'N':>8} {'wall s':>8} {'CPU s':>8} {'extra peak MB':>14} {'embeddings MB':>14} {'kept':>7}")
    for n in args.sizes:
        for rule in args.rules:
            r = probe(rule, n, args.dim, args.keep)
            print(f"{rule:<18} {n:>8,} {r['wall_s']:>8.2f} {r['cpu_s']:>8.2f} {r['extra_mb']:>14.1f} "
                  f"{r['embeddings_mb']:>14.1f} {int(r['kept']):>7,}", flush=True)


if __name__ == "__main__":
    main()
