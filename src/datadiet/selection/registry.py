"""Every static selection rule by name, and one entry point: ``select(scores, keep, rule=...)``.

A rule turns scores ``(N,)`` (higher = harder / more important) into the positions of ``round(keep * N)``
examples, sorted ascending, int64. Every rule takes ``labels=`` for its class-balanced variant (each class gets
its share of the budget, see :mod:`.budget`); rules that draw at random take ``seed=``; a rule's own options
(``offset`` of a sliding window, ``beta`` and ``strata`` of CCS) are keyword arguments of :func:`select`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .ccs import ccs
from .rules import keep_highest, keep_lowest, random_subset, sliding_window

__all__ = ["RULES", "SelectionRule", "get_rule", "list_rules", "select"]


@dataclass(frozen=True)
class SelectionRule:
    """A rule's name, one-line summary, function ``(scores, keep, *, labels, **options) -> positions``, the options
    it accepts (with their defaults; None = required) and whether it draws at random (then it needs ``seed``)."""

    name: str
    summary: str
    apply: Callable[..., np.ndarray]
    options: dict[str, float | int | None]
    random: bool = False


def _random(scores: ArrayLike, keep: float, *, labels: ArrayLike | None, seed: int) -> np.ndarray:
    return random_subset(len(np.asarray(scores)), keep, seed=seed, labels=labels)


RULES: dict[str, SelectionRule] = {
    r.name: r
    for r in (
        SelectionRule("keep_highest", "keep the highest-scored fraction (prune the lowest)", keep_highest, {}),
        SelectionRule("keep_lowest", "keep the lowest-scored (easiest) fraction", keep_lowest, {}),
        SelectionRule("sliding_window", "drop the lowest `offset` fraction, keep the next `keep`", sliding_window,
                      {"offset": None}),
        SelectionRule("ccs", "coverage-centric: drop the hardest `beta`, sample evenly across score strata", ccs,
                      {"beta": None, "strata": 50}, random=True),
        SelectionRule("random", "a uniformly random subset (the scores only give N)", _random, {}, random=True),
    )
}


def list_rules() -> list[str]:
    """Names of all selection rules, sorted."""
    return sorted(RULES)


def get_rule(name: str) -> SelectionRule:
    """The rule called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    if name not in RULES:
        raise ValueError(f"unknown selection rule {name!r}; valid: {', '.join(list_rules())}")
    return RULES[name]


def select(
    scores: ArrayLike, keep: float, *, rule: str = "keep_highest", labels: ArrayLike | None = None,
    seed: int | None = None, **options: float | int,
) -> np.ndarray:
    """Positions ``(round(keep * N),)`` chosen by ``rule`` from ``scores`` ``(N,)``, sorted ascending, int64.

    ``labels`` ``(N,)`` selects within each class; ``seed`` is required by the rules that draw at random (``ccs``,
    ``random``) and refused by the others; ``options`` are the rule's own (see :data:`RULES`).
    """
    spec = get_rule(rule)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        valid = ", ".join(spec.options) or "none"
        raise ValueError(f"rule {rule!r} takes no option {', '.join(unknown)}; its options: {valid}")
    missing = [name for name, default in spec.options.items() if default is None and name not in options]
    if missing:
        raise ValueError(f"rule {rule!r} needs {', '.join(missing)}")
    if spec.random and seed is None:
        raise ValueError(f"rule {rule!r} draws at random: pass seed=")
    if not spec.random and seed is not None:
        raise ValueError(f"rule {rule!r} is deterministic: it takes no seed")
    extra = {"seed": seed} if spec.random else {}
    return spec.apply(scores, keep, labels=labels, **extra, **options)
