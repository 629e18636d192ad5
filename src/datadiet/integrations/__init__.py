"""datadiet inside other people's training loops: PyTorch Lightning and the Hugging Face ``Trainer``.

- :mod:`datadiet.integrations.lightning` (``pip install "datadiet[lightning]"``): Lightning callbacks that run
  dynamic pruning inside a normal ``Trainer.fit`` (the pruner is the train ``DataLoader``'s sampler) and feed
  any per-example accumulator (forgetting, the training-dynamics recording) from the training steps.
- :mod:`datadiet.integrations.hugging_face` (``pip install "datadiet[hf]"``): the same two for
  ``transformers.Trainer``, through ``TrainerCallback`` objects and :class:`PerExampleTrainer`, a small subclass of
  ``Trainer`` you opt into.

Both take your model, data and framework objects as they are: nothing is wrapped or patched. Import the submodule
you need; this package imports neither framework.
"""

__all__: list[str] = []
