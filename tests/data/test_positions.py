"""One convention for positions: every dataset form yields positions 0..N-1, also after a variant drops examples."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from datadiet.data import WithPositions, iter_batches, labels_of, per_class
from datadiet.dynamic import DynamicPruner
from synthetic import make_blobs


class Pairs(Dataset):
    """A plain map-style dataset of (x, y) pairs, with a torchvision-style ``targets`` list."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y, self.targets = x, y, y.tolist()

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.y[i])


def test_indexed_dataset_yields_positions_after_a_variant():
    data = per_class(make_blobs(), 10, seed=0)
    assert int(data.index.max()) >= len(data)  # original indices are no longer positions
    positions = torch.cat([p for p, _, _ in DataLoader(data, batch_size=7)])
    assert torch.equal(positions, torch.arange(len(data)))
    pruner = DynamicPruner(len(data), policy="ucb", keep=0.5, period=1, epochs=2, labels=data.y)
    pruner.update(positions, torch.ones(len(data)))  # the original indices would be out of range


def test_with_positions_tuples_and_dicts():
    x, y = torch.randn(5, 2), torch.arange(5) % 2
    assert WithPositions(Pairs(x, y))[3][0] == 3 and int(WithPositions(Pairs(x, y))[3][2]) == int(y[3])
    item = WithPositions([{"input": x[i], "label": y[i]} for i in range(5)])[2]
    assert item["position"] == 2 and torch.equal(item["input"], x[2])
    with pytest.raises(ValueError, match="already yields"):
        WithPositions(make_blobs())


@pytest.mark.parametrize("form", ["pair", "tensor_dataset", "dataset", "loader", "shuffled"])
def test_batches_come_with_their_positions(form):
    x, y = torch.randn(23, 3), torch.arange(23) % 3
    data = {
        "pair": (x, y), "tensor_dataset": TensorDataset(x, y), "dataset": Pairs(x, y),
        "loader": DataLoader(Pairs(x, y), batch_size=5),
        "shuffled": DataLoader(WithPositions(Pairs(x, y)), batch_size=5, shuffle=True),
    }[form]
    batches = list(iter_batches(data, batch_size=4))
    positions = torch.cat([b.positions for b in batches])
    assert sorted(positions.tolist()) == list(range(23))
    for b in batches:
        assert torch.equal(b.inputs, x[b.positions]) and torch.equal(b.labels, y[b.positions])
    assert torch.equal(labels_of(data), y)


def test_total_steps_counts_every_epoch_at_its_length():
    pruner = DynamicPruner(100, policy="random", keep=0.3, period=2, epochs=5, class_balanced=False)
    lengths = [100, 30, 30, 30, 30]  # one warm-up epoch on all data, then k = 30
    assert [pruner.epoch_length(e) for e in range(5)] == lengths
    assert [pruner.steps_per_epoch(e, 8) for e in range(5)] == [13, 4, 4, 4, 4]
    assert pruner.total_steps(8) == 29 and pruner.total_steps(8, drop_last=True) == 12 + 4 * 3


def test_total_steps_needs_epochs_and_a_fixed_budget():
    with pytest.raises(ValueError, match="needs the number of epochs"):
        DynamicPruner(10, policy="random", keep=0.5, period=1, class_balanced=False).total_steps(4)
    with pytest.raises(ValueError, match="not known in advance"):
        DynamicPruner(10, policy="infobatch", period=1, epochs=4).total_steps(4)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DynamicPruner(10, policy="random", keep=0.5, period=1, epochs=2, class_balanced=False).steps_per_epoch(0, 0)


def test_third_party_indices_are_not_taken_for_positions():
    x, y = torch.randn(6, 3), torch.arange(6) % 3
    shuffled_ids = torch.tensor([5, 4, 3, 2, 1, 0])
    with pytest.raises(ValueError, match="first tensor must be the positions 0..5 in order"):
        list(iter_batches(TensorDataset(shuffled_ids, x, y), batch_size=4))
    triples = [(int(shuffled_ids[i]), x[i], y[i]) for i in range(6)]
    with pytest.raises(ValueError, match=r"list yielded positions that are not the items' positions \(batch 0"):
        list(iter_batches(triples, batch_size=4))
    with pytest.raises(ValueError, match=r"not the items' positions"):
        list(iter_batches(DataLoader(triples, batch_size=4), batch_size=4))


def test_the_dict_adapter_refuses_tensors():
    from datadiet.data import DictBatches

    message = "DictBatches needs a dataset or DataLoader of dict items, got a TensorDataset"
    with pytest.raises(ValueError, match=message):
        list(iter_batches(DictBatches(TensorDataset(torch.randn(4, 2), torch.zeros(4).long())), batch_size=2))
