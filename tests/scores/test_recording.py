"""The training-dynamics recorder: what it records per example and epoch, the last presentation winning, the
correctness bitset, its footprint, checkpoints, files and bad inputs."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from datadiet.callbacks import AccumulatorCallback, BatchResult
from datadiet.scores.recording import DynamicsRecording, TrainingDynamics, feed_dynamics


def _random_batches(n: int, k: int, epochs: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, k, (n,), generator=g)
    for epoch in range(epochs):
        for positions in torch.randperm(n, generator=g).split(7):
            yield positions, 3 * torch.randn(len(positions), k, generator=g), labels[positions], epoch


def _filled(n: int = 20, k: int = 4, epochs: int = 3, keep: bool = True) -> TrainingDynamics:
    dynamics = TrainingDynamics(n, keep_probabilities=keep)
    for batch in _random_batches(n, k, epochs):
        dynamics.update(*batch)
    return dynamics


def test_records_true_prob_margin_loss_correctness_and_probabilities():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0], [1.0, 1.0, 0.0]])
    labels = torch.tensor([0, 1, 1])
    dynamics = TrainingDynamics(5, keep_probabilities=True)
    dynamics.update(torch.tensor([4, 0, 2]), logits, labels, 0)
    r = dynamics.compute()
    p = logits.double().softmax(1)
    rows = [4, 0, 2]
    np.testing.assert_allclose(r.true_prob[0, rows], p[[0, 1, 2], labels].numpy(), rtol=1e-3)
    np.testing.assert_allclose(r.margin[0, rows], [1.5, -2.0, 0.0], rtol=1e-3)
    np.testing.assert_allclose(r.loss[0, rows], -p[[0, 1, 2], labels].log().numpy(), rtol=1e-3)
    np.testing.assert_allclose(r.probabilities[0, rows], p.numpy(), rtol=1e-3)
    # a tie goes to argmax's first index, as for the forgetting counter: example 2 (label 1) counts as wrong
    assert r.correct[0].tolist() == [False, False, False, False, True]
    assert np.isnan(r.true_prob[0, [1, 3]]).all() and r.presented[0].tolist() == [True, False, True, False, True]
    assert r.labels.tolist() == [1, -1, 1, -1, 0] and r.num_classes == 3 and r.num_epochs == 1


def test_the_last_presentation_of_an_epoch_wins_across_and_within_batches():
    dynamics = TrainingDynamics(3)
    right, wrong = torch.tensor([[5.0, 0.0]]), torch.tensor([[0.0, 5.0]])
    dynamics.update(torch.tensor([0]), right, torch.tensor([0]), 0)
    dynamics.update(torch.tensor([0]), wrong, torch.tensor([0]), 0)  # a later batch of the same epoch
    dynamics.update(torch.tensor([1, 1, 1]), torch.cat([wrong, right, wrong]), torch.tensor([0, 0, 0]), 0)
    dynamics.update(torch.tensor([2, 2]), torch.cat([wrong, right]), torch.tensor([0, 0]), 0)
    r = dynamics.compute()
    assert r.correct[0].tolist() == [False, False, True]
    assert r.margin[0].tolist() == [-5.0, -5.0, 5.0]


def test_the_correctness_bitset_matches_a_boolean_reference_for_many_positions_per_byte():
    n, k = 37, 3  # not a multiple of 8
    dynamics = TrainingDynamics(n, epochs=4)
    expected = np.zeros((4, n), dtype=bool)
    for positions, logits, labels, epoch in _random_batches(n, k, 4, seed=1):
        dynamics.update(positions, logits, labels, epoch)
        expected[epoch, positions.numpy()] = (logits.argmax(1) == labels).numpy()
    np.testing.assert_array_equal(dynamics.compute().correct, expected)


def test_epochs_without_presentations_stay_missing_and_rows_follow_the_last_epoch_seen():
    dynamics = TrainingDynamics(4)
    dynamics.update(torch.tensor([0, 1, 2, 3]), torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), 2)
    r = dynamics.compute()
    assert r.num_epochs == 3 and not r.presented[:2].any() and r.presented[2].all()
    assert not r.correct[:2].any()


def test_the_stated_footprint_per_example_and_epoch():
    n, k, epochs = 800, 10, 3
    for keep, per_cell in ((False, 6.125), (True, 6.125 + 2 * k)):
        state = _filled(n, k, epochs, keep).state_dict()
        recorded = sum(v.numel() * v.element_size() for name, v in state.items()
                       if name not in ("labels", "num_classes"))
        assert recorded / (n * epochs) == per_cell


def test_state_dict_round_trip_through_torch_load_weights_only_and_resume():
    n, k = 30, 4
    batches = list(_random_batches(n, k, 4))
    whole = TrainingDynamics(n, epochs=4, keep_probabilities=True)
    first = TrainingDynamics(n, epochs=4, keep_probabilities=True)
    for i, batch in enumerate(batches):
        whole.update(*batch)
        if i < len(batches) // 2:
            first.update(*batch)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    resumed = TrainingDynamics(n, epochs=4, keep_probabilities=True)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    for batch in batches[len(batches) // 2 :]:
        resumed.update(*batch)
    a, b = whole.compute(), resumed.compute()
    for name in ("true_prob", "margin", "loss", "correct", "labels", "probabilities"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    resumed.reset()
    assert resumed.num_epochs == 0 and resumed.compute().loss.shape == (0, n)


def test_load_state_dict_rejects_another_size_or_probability_setting():
    state = _filled(keep=False).state_dict()
    with pytest.raises(ValueError, match="records 20 examples, this recorder 21"):
        TrainingDynamics(21).load_state_dict(state)
    with pytest.raises(ValueError, match="has no probabilities"):
        TrainingDynamics(20, keep_probabilities=True).load_state_dict(state)
    with pytest.raises(ValueError, match="holds 3 epochs, this recorder at most 2"):
        TrainingDynamics(20, epochs=2).load_state_dict(state)


@pytest.mark.parametrize("keep", [False, True])
def test_save_and_load_round_trip_with_provenance_and_no_pickle(tmp_path, keep):
    recording = _filled(keep=keep).compute()
    recording = replace(recording, provenance={"dataset": "toy", "seed": 3})
    path = recording.save(tmp_path / "run.npz")
    loaded = DynamicsRecording.load(path)
    for name in ("true_prob", "margin", "loss", "correct", "labels"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(recording, name))
    assert (loaded.probabilities is None) == (not keep)
    assert loaded.provenance == {"dataset": "toy", "seed": 3} and loaded.num_classes == 4
    with np.load(path, allow_pickle=False) as npz:
        meta = json.loads(str(npz["metadata"]))
        assert npz["correct_bits"].dtype == np.uint8 and npz["loss"].dtype == np.float16
    assert meta["format"] == "datadiet-dynamics" and meta["label_fingerprint"] == recording.label_fingerprint()


def test_loading_a_wrong_file_is_a_one_line_error(tmp_path):
    recording = _filled().compute()
    with pytest.raises(ValueError, match="are .npz files"):
        recording.save(tmp_path / "run.npy")
    with pytest.raises(FileNotFoundError):
        DynamicsRecording.load(tmp_path / "absent.npz")
    path = recording.save(tmp_path / "run.npz")
    with np.load(path) as npz:
        arrays = dict(npz)
    arrays["labels"] = (arrays["labels"] + 1) % 4
    np.savez(tmp_path / "tampered.npz", **arrays)
    with pytest.raises(ValueError, match="label fingerprint does not match"):
        DynamicsRecording.load(tmp_path / "tampered.npz")
    np.savez(tmp_path / "other.npz", runs=np.zeros((1, 3)), metadata=np.array(json.dumps({"format": "other"})))
    with pytest.raises(ValueError, match="not a datadiet recording"):
        DynamicsRecording.load(tmp_path / "other.npz")


def test_feeds_from_training_batches_through_the_accumulator_callback():
    dynamics = TrainingDynamics(6)
    callback = AccumulatorCallback(dynamics, feed_dynamics)
    logits = torch.randn(3, 2)
    callback.on_batch_end(BatchResult(positions=torch.tensor([5, 1, 3]), logits=logits, labels=torch.tensor([0, 1, 1]),
                                      losses=torch.zeros(3), epoch=1, step=4))
    r = dynamics.compute()
    assert r.num_epochs == 2 and r.presented[1].tolist() == [False, True, False, True, False, True]
    assert callback.state_dict()["loss"].shape == (2, 6)


@pytest.mark.parametrize("args, message", [
    ((torch.tensor([0, 9]), torch.zeros(2, 3), torch.tensor([0, 1]), 0), r"positions must be in \[0, 8\), got 0..9"),
    ((torch.tensor([-1]), torch.zeros(1, 3), torch.tensor([0]), 0), r"positions must be in \[0, 8\)"),
    ((torch.tensor([0, 1]), torch.zeros(3, 3), torch.tensor([0, 1]), 0), r"expected positions \(B,\), logits \(B, K\)"),
    ((torch.tensor([0, 1]), torch.zeros(2), torch.tensor([0, 1]), 0), r"expected positions \(B,\), logits \(B, K\)"),
    ((torch.tensor([0, 1]), torch.zeros(2, 3), torch.tensor([0]), 0), r"expected positions \(B,\), logits \(B, K\)"),
    ((torch.tensor([0]), torch.zeros(1, 3), torch.tensor([3]), 0), r"labels must be in \[0, 3\)"),
    ((torch.tensor([0]), torch.zeros(1, 1), torch.tensor([0]), 0), "logits must have at least 2 classes"),
    ((torch.tensor([0]), torch.tensor([[float("nan"), 0.0]]), torch.tensor([0]), 0), "logits must be finite"),
    ((torch.tensor([0]), torch.zeros(1, 3), torch.tensor([0]), 2), r"epoch 2 is beyond the 2 epochs"),
    ((torch.tensor([0]), torch.zeros(1, 3), torch.tensor([0]), -1), "epoch must be a non-negative integer"),
    ((torch.tensor([0.0]), torch.zeros(1, 3), torch.tensor([0]), 0), "positions and labels must be integers"),
])
def test_bad_inputs_are_one_line_value_errors(args, message):
    dynamics = TrainingDynamics(8, epochs=2)
    with pytest.raises(ValueError, match=message) as error:
        dynamics.update(*args)
    assert "\n" not in str(error.value)
    assert dynamics.num_epochs == 0


def test_changing_labels_or_class_count_is_an_error_that_records_nothing():
    dynamics = TrainingDynamics(4)
    dynamics.update(torch.tensor([0, 1]), torch.zeros(2, 3), torch.tensor([2, 1]), 0)
    with pytest.raises(ValueError, match="position 0 was recorded with label 2 and now has 1"):
        dynamics.update(torch.tensor([0]), torch.zeros(1, 3), torch.tensor([1]), 1)
    with pytest.raises(ValueError, match="logits must have 3 classes, got 4"):
        dynamics.update(torch.tensor([2]), torch.zeros(1, 4), torch.tensor([1]), 1)
    assert dynamics.num_epochs == 1


@pytest.mark.parametrize("kwargs", [{"num_examples": 0}, {"num_examples": 3, "epochs": 0},
                                    {"num_examples": True}, {"num_examples": 3, "epochs": 2.5}])
def test_bad_construction_arguments(kwargs):
    with pytest.raises(ValueError):
        TrainingDynamics(**kwargs)
