#!/usr/bin/env bash
# Device checks for a machine with a CUDA GPU, in one run of a few minutes:
#   1. pytest -m gpu: GraNd on CUDA against the batch-1 loop oracle (hooks, torch.func and loop backends), EL2N on
#      CUDA against the CPU, mixed-precision training (auto, bf16, fp16) through datadiet's trainer;
#   2. datadiet train on CUDA with mixed precision, full data and dynamic UCB, from the command line;
#   3. datadiet train under torchrun with NCCL, one process per GPU (2 processes need 2 GPUs; with one GPU the
#      NCCL path runs as a single process), checking that every rank logged the same selection hashes.
# Command (from the repository root, in an environment with a CUDA build of torch; datadiet is taken from src/
# when it is not installed): bash benchmarks/gpu_check.sh [OUT_DIR]
# Generated data only (scikit-learn's digits), so nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-/tmp/datadiet-gpu-check}}
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD/tests${PYTHONPATH:+:$PYTHONPATH}"
python - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device: this script checks the GPU paths"
print("torch", torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count(),
      torch.cuda.get_device_name(0), "bf16", torch.cuda.is_bf16_supported())
PY

echo "== 1. pytest -m gpu"
python -m pytest -m gpu -q -p no:cacheprovider tests 2>&1 | tee "$out/pytest-gpu.txt"

echo "== 2. datadiet train on CUDA, mixed precision"
common=(--dataset digits --model mlp --width 0.5 --device cuda --precision auto --no-progress)
python -m datadiet.cli train "${common[@]}" --epochs 5 --out "$out/full"
python -m datadiet.cli train "${common[@]}" --epochs 5 --dynamic ucb --keep 0.3 --period 1 --out "$out/ucb"
python - "$out" <<'PY'
import json, sys
for run in ("full", "ucb"):
    result = json.load(open(f"{sys.argv[1]}/{run}/result.json"))
    print(run, "test accuracy", result["metrics"]["test_accuracy"], "seconds", result["metrics"].get("total_seconds"))
PY

echo "== 3. datadiet train under torchrun with NCCL"
gpus=$(python -c "import torch; print(min(2, torch.cuda.device_count()))")
python -m torch.distributed.run --standalone --nproc_per_node="$gpus" -m datadiet.cli train "${common[@]}" \
    --epochs 4 --dynamic ucb --keep 0.3 --period 1 --out "$out/nccl"
python - "$out/nccl" <<'PY'
import json, sys
log = [json.loads(line) for line in open(f"{sys.argv[1]}/log.jsonl")]
print("epochs", len(log), "selection hashes", [e.get("selection_sha") for e in log])
print("test accuracy", json.load(open(f"{sys.argv[1]}/result.json"))["metrics"]["test_accuracy"])
PY
echo "== all device checks passed; outputs in $out"
