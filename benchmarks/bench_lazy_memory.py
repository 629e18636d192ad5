"""Peak memory of EL2N over PNG files read lazily through a DataLoader, as the dataset grows (10k vs 50k images).

Command:  python benchmarks/bench_lazy_memory.py                        # 10,000 and 50,000 images
          python benchmarks/bench_lazy_memory.py --sizes 2000 10000     # a quick look
Runtime:  about 7 minutes on 2 CPU cores (writing the 50,000 PNG files 15-70 s, once per run; each repetition
          reads every image once per mode and size, about 2 minutes at 10k and 50k).
Expected: the lazy pass's extra peak memory is the same at 50,000 images as at 10,000, within the allocator's
          noise (about 10 MB, also seen in the bare loop); gathering the same images into memory first grows with N
          (at least 28 x 28 x 4 bytes, 3 KiB, per image).

Images: 28x28 grayscale PNG files of random noise in 10 class folders, ``<dir>/<class>/<i>.png``, written once per
run into ``--dir`` (default: a temporary folder removed at the end); a size-N dataset lists the first N / 10 files of
each class. The dataset (:class:`PngFolder`) lists its files at construction and opens each with PIL in
``__getitem__``, turning it into a normalized float32 ``(1, 28, 28)`` tensor. Model: ``small_cnn``, random
weights, 10 classes. Three modes:

- ``bare``: the reference, no datadiet: ``for x, y in DataLoader(PngFolder(dir, N), batch_size=128): model(x)`` in
  evaluation and inference mode, the working memory of reading and running the network itself;
- ``lazy``: ``el2n(model, DataLoader(PngFolder(dir, N), batch_size=128, num_workers=0))``;
- ``in-memory``: ``el2n(model, from_torch_dataset(PngFolder(dir, N)))``, the images gathered first.

Each (mode, N) runs ``--reps`` times (modes and sizes alternating), each time in a fresh single-thread subprocess,
one at a time: the model and the file list are built, the mode is warmed up on 256 images (kernels, libraries,
the channels_last copy of the model), then the peak resident size (``VmHWM``) is reset through
``/proc/self/clear_refs`` and the figure is the peak during the pass minus the resident size before it (Linux
only). The process's peak during the pass and the pass's CPU and wall time are printed too; the table gives
medians, and the range of the extra peak. ``ru_maxrss`` cannot serve: a child inherits its parent's peak.
Allocator: the default one unless ``LD_PRELOAD`` names jemalloc.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import allocator
from PIL import Image
from torch.utils.data import DataLoader, Dataset, Subset

from datadiet.data import from_torch_dataset
from datadiet.models import create_model
from datadiet.scores import el2n

CLASSES, SIDE, BATCH, WARMUP = 10, 28, 128, 256
MODES = ("bare", "lazy", "in-memory")


class PngFolder(Dataset):
    """The first ``per_class`` files of each class folder of ``root``, listed now and opened with PIL per item."""

    def __init__(self, root: Path, size: int) -> None:
        per_class = size // CLASSES
        self.classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        self.files = [str(root / c / f"{i:05d}.png") for c in self.classes for i in range(per_class)]
        self.targets = [k for k in range(len(self.classes)) for _ in range(per_class)]

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.files[i]) as image:
            pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)) / 255
        return ((pixels - 0.5) / 0.25)[None], self.targets[i]


def write_images(root: Path, size: int) -> float:
    """Write ``size`` noise images, ``size / 10`` per class folder; return the seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for c in range(CLASSES):
        folder = root / f"class{c}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(size // CLASSES):
            Image.fromarray(rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8), "L").save(folder / f"{i:05d}.png")
    return time.perf_counter() - start


def score(mode: str, model: torch.nn.Module, data: Dataset) -> None:
    """One pass of ``mode`` over ``data`` (see the module docstring)."""
    if mode == "bare":
        with torch.inference_mode():
            model.eval()
            for x, _ in DataLoader(data, batch_size=BATCH, num_workers=0):
                model(x)
    elif mode == "lazy":
        el2n(model, DataLoader(data, batch_size=BATCH, num_workers=0))
    else:
        el2n(model, from_torch_dataset(data, num_classes=CLASSES))


def memory_probe(root: Path, size: int, mode: str) -> None:
    """Print as JSON the extra and process peak MB and the CPU and wall seconds of one pass (run in a subprocess)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = create_model("small_cnn", CLASSES, 1, input_shape=(1, SIDE, SIDE))
    data = PngFolder(root, size)
    score(mode, model, Subset(data, range(0, len(data), len(data) // WARMUP)))
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident size restarts from the current one
    before, cpu, wall = _status_kb("VmRSS"), time.process_time(), time.perf_counter()
    score(mode, model, data)
    print(json.dumps({"extra_mb": (_status_kb("VmHWM") - before) / 1024, "peak_mb": _status_kb("VmHWM") / 1024,
                      "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from ``/proc/self/status``, in KiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def probe(root: Path, size: int, mode: str) -> dict[str, float]:
    """:func:`memory_probe`'s figures, from a fresh subprocess."""
    out = subprocess.run([sys.executable, __file__, "--memory-probe", str(root), str(size), mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(runs: dict[tuple[str, int], list[dict[str, float]]]) -> None:
    """The table of medians, and each mode's ratio of extra peaks between the largest and smallest size."""
    print("| mode | images | extra peak MB, median (range) | process peak MB | CPU s | wall s |")
    print("| --- | --- | --- | --- | --- | --- |")
    extra = {}
    for (mode, n), results in runs.items():
        median = {k: statistics.median(r[k] for r in results) for k in results[0]}
        values = [r["extra_mb"] for r in results]
        extra[mode, n] = median["extra_mb"]
        print(f"| {mode} | {n:,} | {median['extra_mb']:.1f} ({min(values):.1f}-{max(values):.1f}) | "
              f"{median['peak_mb']:.0f} | {median['cpu_s']:.1f} | {median['wall_s']:.1f} |")
    small, large = min(n for _, n in runs), max(n for _, n in runs)
    for mode in MODES:
        print(f"{mode}: extra peak at {large:,} / at {small:,} = {extra[mode, large] / extra[mode, small]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000], help="dataset sizes, multiples of 10")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of every (mode, size) probe")
    parser.add_argument("--dir", type=Path, help="where the images are written (default: a temporary folder)")
    parser.add_argument("--memory-probe", nargs=3, metavar=("DIR", "SIZE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(Path(args.memory_probe[0]), int(args.memory_probe[1]), args.memory_probe[2])
        return
    if any(n % CLASSES or n < WARMUP for n in args.sizes):
        parser.error(f"sizes must be multiples of {CLASSES} and at least {WARMUP}")
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench_lazy_memory_"))
    try:
        seconds = write_images(root, max(args.sizes))
        print(f"torch {torch.__version__}, 1 thread, allocator {allocator()}; wrote {max(args.sizes):,} PNG files "
              f"({SIDE}x{SIDE} grayscale) in {seconds:.0f} s; {args.reps} repetitions", flush=True)
        runs: dict[tuple[str, int], list[dict[str, float]]] = {(m, n): [] for m in MODES for n in args.sizes}
        for _ in range(args.reps):
            for key in runs:
                runs[key].append(probe(root, key[1], key[0]))
        report(runs)
    finally:
        if args.dir is None:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
