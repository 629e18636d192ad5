"""The core (scores, selection, dynamic pruning) imports without the trainer, plotting, image decoding or bars."""

import json
import subprocess
import sys

import pytest

CORE = ("datadiet.scores", "datadiet.selection", "datadiet.dynamic")
FORBIDDEN = ("datadiet.training", "matplotlib", "PIL", "tqdm")

# torch.hub imports tqdm whenever it is installed, so only what the package adds to torch's own imports counts
PROBE = """
import json, sys
import torch
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _added_modules(module: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_without_the_trainer_matplotlib_pil_or_tqdm(module):
    added = _added_modules(module)
    assert module in added
    loaded = [m for m in added if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == [], f"import {module} loads {loaded}"


@pytest.mark.parametrize("module", CORE)
def test_the_core_loads_only_the_data_boundary_of_the_data_package(module):
    data = sorted(m for m in _added_modules(module) if m.startswith("datadiet.data."))
    boundary = {"datadiet.data.batches", "datadiet.data.dataset", "datadiet.data.model_calls"}
    assert set(data) <= boundary, f"import {module} loads {data}"
