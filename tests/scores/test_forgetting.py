"""The forgetting counter against a one-example-at-a-time walk over scripted presentations, and fed by the trainer."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from datadiet.callbacks import AccumulatorCallback, Callback
from datadiet.scores import ForgettingCounter, feed_forgetting
from datadiet.training import TrainConfig, train
from reference import naive_forgetting


def _count(presentations, n: int, counter: ForgettingCounter | None = None) -> np.ndarray:
    counter = counter or ForgettingCounter(n)
    for indices, correct in presentations:
        counter.update(indices, correct)
    return counter.compute()


def test_scripted_histories():
    # example 0: learned, forgotten, learned, forgotten, learned -> 2 events
    # example 1: never correct -> inf; example 2: always correct -> 0; example 3: correct then wrong -> 1
    # example 4: wrong, correct, correct, wrong, wrong, correct, wrong -> 2
    histories = {
        0: [1, 0, 1, 0, 1],
        1: [0, 0, 0],
        2: [1, 1, 1, 1],
        3: [1, 0],
        4: [0, 1, 1, 0, 0, 1, 0],
    }
    batches = []
    for step in range(max(len(h) for h in histories.values())):
        present = [i for i, h in histories.items() if step < len(h)]
        batches.append((torch.tensor(present[::-1]), torch.tensor([bool(histories[i][step]) for i in present[::-1]])))
    got = _count(batches, 5)
    np.testing.assert_array_equal(got, [2, math.inf, 0, 1, 2])
    assert got.tolist() == naive_forgetting(batches, 5)


def test_random_presentations_with_repeats_match_naive_walk():
    rng = np.random.default_rng(0)
    n = 30
    batches = [(np.arange(n), rng.random(n) < 0.5)]  # every example presented at least once
    for _ in range(200):
        size = int(rng.integers(1, 12))
        batches.append((rng.integers(0, n, size), rng.random(size) < 0.6))  # repeats within a batch
    assert _count(batches, n).tolist() == naive_forgetting(batches, n)


def test_order_across_and_within_batches():
    # the same presentations in one batch or split over batches give the same count
    one = [(torch.tensor([3, 3, 3]), torch.tensor([True, False, True]))]
    split = [(torch.tensor([3]), torch.tensor([True])), (torch.tensor([3, 3]), torch.tensor([False, True]))]
    rest = [(torch.tensor([0, 1, 2]), torch.tensor([True, True, True]))]
    assert _count(one + rest, 4)[3] == _count(split + rest, 4)[3] == 1
    reordered = [(torch.tensor([3, 3, 3]), torch.tensor([False, True, True]))]
    assert _count(reordered + rest, 4)[3] == 0


def test_unseen_examples_raise_and_reset():
    counter = ForgettingCounter(4)
    counter.update([0, 1, 2], [True, False, True])
    with pytest.raises(ValueError, match="1 of 4 examples were never presented"):
        counter.compute()
    counter.update([3], [False])
    assert counter.compute().tolist() == [0, math.inf, 0, math.inf]
    counter.reset()
    with pytest.raises(ValueError, match="never presented"):
        counter.compute()


def test_bad_updates():
    counter = ForgettingCounter(3)
    with pytest.raises(ValueError, match="range|in \\[0, 3\\)"):
        counter.update([3], [True])
    with pytest.raises(ValueError, match="same length"):
        counter.update([0, 1], [True])
    with pytest.raises(ValueError, match="num_examples must be a positive integer"):
        ForgettingCounter(0)


def test_state_dict_resumes_exactly():
    rng = np.random.default_rng(1)
    batches = [(np.arange(10), rng.random(10) < 0.5)] + [
        (rng.integers(0, 10, 4), rng.random(4) < 0.5) for _ in range(40)
    ]
    first = ForgettingCounter(10)
    for b in batches[:20]:
        first.update(*b)
    resumed = ForgettingCounter(10)
    resumed.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(_count(batches[20:], 10, resumed), _count(batches, 10))
    with pytest.raises(ValueError, match="the state counts 10 examples, this counter 9"):
        ForgettingCounter(9).load_state_dict(first.state_dict())


def _fed(n: int) -> AccumulatorCallback:
    return AccumulatorCallback(ForgettingCounter(n), feed_forgetting)


class Recorder(Callback):
    def __init__(self) -> None:
        self.presentations, self.epochs = [], []

    def on_batch_end(self, batch) -> None:
        self.presentations.append((batch.positions, batch.logits.argmax(1) == batch.labels))
        self.epochs.append(batch.epoch)


def test_the_trainer_feeds_the_counter_its_training_presentations(blobs, tiny_mlp):
    fed, recorder = _fed(len(blobs)), Recorder()
    config = TrainConfig(epochs=3, batch_size=16, lr=0.5, progress=False)
    train(tiny_mlp(), blobs, config, callbacks=[fed, recorder], device="cpu")
    assert fed.accumulator.compute().tolist() == naive_forgetting(recorder.presentations, len(blobs))


def test_trainer_resume_restores_counter(blobs, tiny_mlp, tmp_path):
    labels = torch.randint(0, blobs.num_classes, (len(blobs),), generator=torch.Generator().manual_seed(0))
    noisy = replace(blobs, y=labels)
    config = TrainConfig(epochs=4, batch_size=16, lr=0.5, progress=False)
    straight, recorder = _fed(len(noisy)), Recorder()
    train(tiny_mlp(), noisy, config, callbacks=[straight, recorder], device="cpu")
    late = [p for p, b in zip(recorder.presentations, recorder.epochs) if b >= 2]
    assert _count(late, len(noisy)).tolist() != straight.accumulator.compute().tolist()  # the first epochs matter

    class Stop(Callback):
        def on_epoch_start(self, epoch, model):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_mlp(), noisy, config, callbacks=[_fed(len(noisy)), Stop()], out_dir=tmp_path, device="cpu")
    resumed = _fed(len(noisy))
    train(tiny_mlp(), noisy, config, callbacks=[resumed, Callback()], out_dir=tmp_path, device="cpu")
    np.testing.assert_array_equal(resumed.accumulator.compute(), straight.accumulator.compute())


def test_trainer_size_mismatch(blobs, tiny_mlp):
    with pytest.raises(ValueError, match=r"positions must be in \[0, 5\)"):
        train(tiny_mlp(), blobs, TrainConfig(epochs=1, progress=False), callbacks=[_fed(5)], device="cpu")
