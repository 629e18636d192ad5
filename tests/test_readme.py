"""The README's two set-up commands: CI runs exactly the test command, and the demo command names real things."""

from __future__ import annotations

import re
from pathlib import Path

from datadiet.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [b.strip() for b in blocks if b.strip().startswith("python3 -m venv")]


def test_ci_runs_the_readme_test_command():
    setup = _commands()
    assert len(setup) == 2
    test_command = next(c for c in setup if c.endswith("pytest"))
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_demo_command_exists():
    demo = next(c for c in _commands() if not c.endswith("pytest"))
    assert demo.endswith("datadiet demo") and "demo" in COMMANDS


def _library_blocks() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## The library", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_library_examples_run_as_written():
    """The README's library examples, run in order on a user's own Dataset, model and Hugging Face data."""
    import torch
    from torch import nn
    from torch.utils.data import Dataset

    class Blobs(Dataset):
        def __init__(self) -> None:
            g = torch.Generator().manual_seed(0)
            self.y = torch.arange(200) % 3
            self.x = torch.randn(3, 6, generator=g)[self.y] * 2 + torch.randn(200, 6, generator=g)

        def __len__(self) -> int:
            return len(self.y)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return self.x[i], int(self.y[i])

    torch.manual_seed(0)
    namespace = {"train_set": Blobs(), "model": nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))}
    blocks = _library_blocks()
    assert len(blocks) == 3
    try:
        namespace.update(_hugging_face())
    except ImportError:
        blocks = [blocks[0], blocks[2]]
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["pruned_set"]) == 100
    assert namespace["schedule"].last_epoch == namespace["pruner"].total_steps(128)


def _hugging_face() -> dict:
    import datasets
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
                        max_position_embeddings=16, num_labels=2)
    ids = torch.randint(0, 30, (12, 6), generator=torch.Generator().manual_seed(0))
    rows = {"input_ids": ids.tolist(), "attention_mask": [[1] * 6] * 12, "label": [i % 2 for i in range(12)]}
    return {"classifier": BertForSequenceClassification(config),
            "hf_dataset": datasets.Dataset.from_dict(rows).with_format("torch")}
