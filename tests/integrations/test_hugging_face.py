"""Dynamic pruning and EL2N recording through ``transformers.Trainer`` (a :class:`PerExampleTrainer`) with a small,
randomly initialised BERT classifier on an in-memory ``datasets.Dataset``.

The recorded EL2N is checked against :func:`datadiet.scores.el2n` of the same network at the step each example was
trained on: the classifier has no dropout, so its training forward pass is its evaluation pass.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch

datasets = pytest.importorskip("datasets")
pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from transformers import BertConfig, BertForSequenceClassification, TrainerCallback, TrainingArguments  # noqa: E402

from datadiet.data import DictBatches, labels_of  # noqa: E402
from datadiet.dynamic import DynamicPruner  # noqa: E402
from datadiet.integrations.hugging_face import (  # noqa: E402
    AccumulatorCallback, DynamicPruningCallback, PerExampleTrainer)
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting  # noqa: E402
from datadiet.scores.outputs import el2n  # noqa: E402
from datadiet.scores.recording import TrainingDynamics, feed_dynamics  # noqa: E402
from datadiet.scores.dynamics import el2n_at  # noqa: E402

N, LENGTH, VOCAB, CLASSES, EPOCHS, BATCH = 60, 8, 50, 3, 4, 8
KEEP = 30
STEPS = 8 + 3 * 4  # ceil(60 / 8) in the warm-up epoch, ceil(30 / 8) in each pruned one


def token_dataset(seed: int = 0):
    """Token ids whose range depends on the label (learnable), an attention mask, and a 'text' column the model
    does not take (dropped as the Trainer drops unused columns)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(N) % CLASSES
    ids = rng.integers(1, VOCAB, (N, LENGTH))
    ids[:, :3] = 1 + labels[:, None] * 15 + rng.integers(0, 15, (N, 3))
    columns = {"input_ids": ids.tolist(), "attention_mask": np.ones((N, LENGTH), dtype=int).tolist(),
               "label": labels.tolist(), "text": [f"example {i}" for i in range(N)]}
    return datasets.Dataset.from_dict(columns).with_format("torch", columns=["input_ids", "attention_mask", "label"],
                                                           output_all_columns=True)


def tiny_bert(seed: int = 0) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=CLASSES, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
    return BertForSequenceClassification(config)


def arguments(tmp_path, **options) -> TrainingArguments:
    options = {"num_train_epochs": EPOCHS, **options}
    return TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=BATCH, learning_rate=5e-3,
                             lr_scheduler_type="linear", seed=0, use_cpu=True, report_to=[], save_strategy="no",
                             logging_strategy="no", disable_tqdm=True, **options)


class Oracle(TrainerCallback):
    """Before every optimizer step, EL2N of all N examples under the network as it is then; after each batch,
    the step and epoch each position was trained in; at each epoch's start, the pruner's selection."""

    def __init__(self, data, pruner: DynamicPruner | None = None) -> None:
        self.data, self.pruner = data, pruner
        self.before_step, self.trained_at, self.epochs = [], {}, []

    def on_step_begin(self, args, state, control, model=None, **kwargs) -> None:
        assert state.global_step == len(self.before_step)
        self.before_step.append(el2n(model, self.data))

    def on_epoch_begin(self, args, state, control, **kwargs) -> None:
        selection = None if self.pruner is None else sorted(self.pruner.selection.tolist())
        self.epochs.append({"positions": [], "selection": selection})

    def on_batch_end(self, result) -> None:
        self.epochs[-1]["positions"] += result.positions.tolist()
        for p in result.positions.tolist():
            self.trained_at[(result.epoch, p)] = result.step


@pytest.mark.parametrize("source", ["pass", "batch", "stale"])
def test_pruned_training_records_el2n(tmp_path, source):
    data = token_dataset()
    score_data = DictBatches(data, inputs=["input_ids", "attention_mask"], label="label")
    pruner = DynamicPruner(N, policy="ucb", keep=KEEP / N, period=1, epochs=EPOCHS, labels=labels_of(data))
    dynamics = TrainingDynamics(N, EPOCHS, keep_probabilities=True)
    pruning = DynamicPruningCallback(pruner, score_source=source, score_data=score_data)
    oracle = Oracle(score_data, pruner)
    trainer = PerExampleTrainer(model=tiny_bert(), args=arguments(tmp_path), train_dataset=data,
                                callbacks=[pruning, AccumulatorCallback(dynamics, feed_dynamics), oracle])
    trainer.train()

    assert trainer.state.global_step == pruner.total_steps(BATCH) == trainer.planned_steps() == STEPS
    assert trainer.lr_scheduler.get_last_lr()[0] == 0.0  # the linear schedule ends exactly at the last step
    assert pruning.samples_trained == N + 3 * KEEP
    # stale: nothing after the warm-up on all N, then the N - KEEP not trained on at each of the 2 later checkpoints
    assert pruning.scoring_forward == {"pass": 3 * N, "batch": 0, "stale": 2 * (N - KEEP)}[source]
    assert sorted(oracle.epochs[0]["positions"]) == list(range(N))
    for epoch in oracle.epochs[1:]:
        assert sorted(epoch["positions"]) == epoch["selection"] and len(epoch["selection"]) == KEEP
    assert pruner.counts.sum() == 3 * KEEP

    recording = dynamics.compute()
    np.testing.assert_array_equal(el2n_at(recording, 0), recorded_el2n(recording, 0, list(range(N))))
    for epoch in range(EPOCHS):
        trained = sorted(p for (e, p) in oracle.trained_at if e == epoch)
        expected = [oracle.before_step[oracle.trained_at[(epoch, p)]][p] for p in trained]
        # float16 probabilities in the recording
        np.testing.assert_allclose(recorded_el2n(recording, epoch, trained), expected, atol=1e-3)


def recorded_el2n(recording, epoch: int, positions: list[int]) -> np.ndarray:
    """``||p - onehot(y)||_2`` of the recorded probabilities of ``positions`` in ``epoch``."""
    probs = recording.probabilities[epoch][positions].astype(np.float64)
    probs[np.arange(len(positions)), recording.labels[positions]] -= 1
    return np.sqrt((probs**2).sum(1))


def test_full_data_recording_without_a_pruner(tmp_path):
    data = token_dataset()
    counter = ForgettingCounter(N)
    oracle = Oracle(DictBatches(data, inputs=["input_ids", "attention_mask"], label="label"))
    trainer = PerExampleTrainer(model=tiny_bert(), args=arguments(tmp_path, num_train_epochs=2), train_dataset=data,
                                callbacks=[AccumulatorCallback(counter, feed_forgetting), oracle])
    trainer.train()
    orders = [epoch["positions"] for epoch in oracle.epochs]
    assert all(sorted(order) == list(range(N)) for order in orders) and orders[0] != orders[1]
    assert counter.compute().shape == (N,)


def test_arguments_that_would_mis_size_the_run_are_refused(tmp_path):
    data = token_dataset()
    labels = labels_of(data)

    def build(pruner, **options):
        return PerExampleTrainer(model=tiny_bert(), args=arguments(tmp_path, **options), train_dataset=data,
                                 callbacks=[DynamicPruningCallback(pruner, score_source="batch")])

    pruner = DynamicPruner(N, policy="ucb", keep=0.5, period=1, epochs=EPOCHS, labels=labels)
    with pytest.raises(ValueError, match="num_train_epochs, not max_steps"):
        build(pruner, max_steps=10)
    with pytest.raises(ValueError, match="epochs=4 but num_train_epochs=2"):
        build(pruner, num_train_epochs=2)
    no_warmup = DynamicPruner(N, policy="ucb", keep=0.5, period=1, epochs=EPOCHS, labels=labels, warmup_epochs=0,
                              final_full_epochs=1)
    with pytest.raises(ValueError, match="warmup_epochs >= 1"):
        build(no_warmup)
    with pytest.raises(ValueError, match="score_data="):
        DynamicPruningCallback(pruner)


def test_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.delitem(sys.modules, "datadiet.integrations.hugging_face")
    with pytest.raises(ImportError, match=r'pip install "datadiet\[hf\]"'):
        importlib.import_module("datadiet.integrations.hugging_face")


def test_the_scoring_pass_runs_in_the_precision_given():
    """``score_precision="bf16"``: the checkpoint's losses are those of a bfloat16 scoring pass of the model, not
    float32's; an unknown precision is refused when the callback is built."""
    from datadiet.dynamic import scoring_pass

    data = token_dataset()
    score_data = DictBatches(data, inputs=["input_ids", "attention_mask"], label="label")
    model = tiny_bert()
    pruner = DynamicPruner(N, policy="ucb", keep=KEEP / N, period=1, epochs=EPOCHS, warmup_epochs=0,
                           labels=labels_of(data))
    callback = DynamicPruningCallback(pruner, score_source="pass", score_data=score_data, score_precision="bf16")
    callback.on_epoch_begin(None, None, None, model=model)
    assert torch.equal(pruner.tracker.latest, scoring_pass(model, score_data, precision="bf16"))
    assert not torch.equal(pruner.tracker.latest, scoring_pass(model, score_data))
    with pytest.raises(ValueError, match="unknown score_precision 'half'"):
        DynamicPruningCallback(pruner, score_source="pass", score_data=score_data, score_precision="half")
