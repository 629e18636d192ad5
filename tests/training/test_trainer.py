"""The trainer: budgets, schedule, callbacks, determinism and exact resume."""

from __future__ import annotations

import json

import pytest
import torch

from datadiet.callbacks import Callback
from datadiet.training import TrainConfig, train
from datadiet.training.schedule import lr_factor


def _weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _config(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 4, "batch_size": 16, "lr": 0.05, "progress": False, **kw})


class Recorder(Callback):
    def __init__(self) -> None:
        self.batches, self.epochs = [], []

    def on_batch_end(self, batch) -> None:
        self.batches.append(batch)

    def on_epoch_end(self, epoch, model) -> None:
        self.epochs.append(epoch)


class Crash(Callback):
    def __init__(self, at_epoch: int) -> None:
        self.at_epoch = at_epoch

    def on_epoch_start(self, epoch, model):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_same_seed_same_weights(blobs, tiny_mlp):
    a = train(tiny_mlp(), blobs, _config(), device="cpu").model
    b = train(tiny_mlp(), blobs, _config(), device="cpu").model
    c = train(tiny_mlp(), blobs, _config(seed=1), device="cpu").model
    assert torch.equal(_weights(a), _weights(b))
    assert not torch.equal(_weights(a), _weights(c))


def test_callbacks_see_every_example_once_per_epoch(blobs, tiny_mlp):
    rec = Recorder()
    train(tiny_mlp(), blobs, _config(epochs=2), callbacks=[rec], device="cpu")
    assert rec.epochs == [0, 1]
    first = torch.cat([b.positions for b in rec.batches if b.epoch == 0])
    assert sorted(first.tolist()) == list(range(len(blobs)))
    b = rec.batches[0]
    expected = torch.nn.functional.cross_entropy(b.logits, b.labels, reduction="none")
    assert torch.allclose(b.losses, expected)
    assert torch.equal(b.labels, blobs.y[b.positions])


def test_fixed_steps_budget_on_a_subset(blobs, tiny_mlp):
    subset = torch.arange(0, 40)
    rec = Recorder()
    result = train(tiny_mlp(), blobs, _config(epochs=None, steps=7), subset=subset, callbacks=[rec], device="cpu")
    assert result.metrics["steps"] == 7 and len(rec.batches) == 7
    assert result.metrics["epochs"] == 3  # 40 examples / 16 = 3 batches per epoch: 3 + 3 + 1
    seen = torch.cat([b.positions for b in rec.batches])
    assert set(seen.tolist()) <= set(range(40))


def test_stop_at_keeps_the_full_schedule(blobs, tiny_mlp):
    early = train(tiny_mlp(), blobs, _config(stop_at=2, lr_milestones=(0.25,)), device="cpu")
    short = train(tiny_mlp(), blobs, _config(epochs=2, lr_milestones=(0.25,)), device="cpu")
    assert early.metrics["epochs"] == 2
    assert not torch.equal(_weights(early.model), _weights(short.model))


def test_lr_factor_matches_the_papers_schedule():
    milestones = (0.3, 0.6, 0.8)
    factors = [lr_factor(e / 200, milestones, 0.2) for e in (0, 59, 60, 119, 120, 160, 199)]
    assert factors == pytest.approx([1, 1, 0.2, 0.2, 0.04, 0.008, 0.008])


def test_killed_run_resumes_to_identical_weights(blobs, tiny_mlp, tmp_path):
    reference = train(tiny_mlp(), blobs, _config(), test_data=blobs, device="cpu")
    with pytest.raises(KeyboardInterrupt):
        train(tiny_mlp(), blobs, _config(), test_data=blobs, callbacks=[Crash(2)], out_dir=tmp_path, device="cpu")
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 2
    resumed = train(tiny_mlp(seed=5), blobs, _config(), test_data=blobs, out_dir=tmp_path, device="cpu")
    assert torch.equal(_weights(resumed.model), _weights(reference.model))
    assert resumed.metrics["test_accuracy"] == reference.metrics["test_accuracy"]
    history = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [0, 1, 2, 3]


def test_resume_refuses_a_different_run(blobs, tiny_mlp, tmp_path):
    train(tiny_mlp(), blobs, _config(epochs=1), out_dir=tmp_path, device="cpu")
    with pytest.raises(ValueError, match=r"other settings \(epochs: saved 1, now 2\)"):
        train(tiny_mlp(), blobs, _config(epochs=2), out_dir=tmp_path, device="cpu")


def test_loss_weights_change_the_update(blobs, tiny_mlp):
    class Zero(Callback):
        def loss_weights(self, positions):
            return torch.zeros(len(positions))

    model = tiny_mlp()
    before = _weights(model).clone()
    train(model, blobs, _config(epochs=1, weight_decay=0.0), callbacks=[Zero()], device="cpu")
    assert torch.equal(_weights(model), before)


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(epochs=None), dict(epochs=2, steps=3), dict(stop_at=9),
                                 dict(precision="fp8"), dict(lr_milestones=(1.5,))])
def test_bad_config_is_a_value_error(bad):
    with pytest.raises(ValueError):
        _config(**bad)


def test_bad_subset_is_a_value_error(blobs, tiny_mlp):
    with pytest.raises(ValueError, match="unique"):
        train(tiny_mlp(), blobs, _config(), subset=[0, 0, 1], device="cpu")
    with pytest.raises(ValueError, match="within"):
        train(tiny_mlp(), blobs, _config(), subset=[0, 1000], device="cpu")


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from datadiet.files import write_json

    write_json(tmp_path / "a.json", {"x": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o666 & ~mask


def test_a_last_batch_of_one_joins_the_previous_batch(blobs):
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    rec = Recorder()
    train(model, blobs, _config(epochs=1), subset=torch.arange(33), callbacks=[rec], device="cpu")
    assert [len(b.positions) for b in rec.batches] == [16, 17]


def test_predict_logits_restores_each_modules_own_mode(blobs):
    from torch import nn

    from datadiet.training import predict_logits

    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Linear(16, 3))
    model.train()
    model[1].eval()  # a frozen BatchNorm inside a training model
    predict_logits(model, blobs)
    assert model.training and model[0].training and not model[1].training


def test_a_diverged_run_stops_with_a_clear_error_and_keeps_no_checkpoint(blobs, tiny_mlp, tmp_path):
    from datadiet.training import TrainingDiverged

    with pytest.raises(TrainingDiverged, match=r"diverged in epoch 1: .*lower the learning rate \(lr = 1e\+30\)"):
        train(tiny_mlp(), blobs, _config(lr=1e30, epochs=2), out_dir=tmp_path, device="cpu")
    assert not (tmp_path / "checkpoint.pt").exists()
