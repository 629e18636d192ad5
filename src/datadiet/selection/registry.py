"""Every static selection rule by name, and one entry point: ``select(scores, keep, rule=...)``.

A rule turns its inputs into the positions of ``round(keep * N)`` examples, sorted ascending, int64. Its inputs
(:attr:`SelectionRule.needs`) are some of: ``scores`` ``(N,)`` (higher = harder / more important), ``embeddings``
``(N, D)`` (one row per example, e.g. from :func:`datadiet.selection.embed`) and ``labels`` ``(N,)``. Every rule
but ``moderate`` takes ``labels=`` for its class-balanced variant (each class gets its share of the budget, see
:mod:`.budget`); ``moderate`` needs labels for its class medians and balances classes with its option
``class_balanced``. Rules that draw at random take ``seed=``; a rule's own options (``offset`` of a sliding
window, ``beta`` and ``strata`` of CCS, ``k`` of D2, ...) are keyword arguments of :func:`select`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .budget import check_labels
from .ccs import ccs
from .d2 import d2
from .facility_location import facility_location
from .herding import herding
from .kcenter import kcenter
from .moderate import moderate
from .prototypes import prototypes
from .rules import keep_highest, keep_lowest, random_subset, sliding_window

__all__ = ["RULES", "SelectionRule", "get_rule", "list_rules", "select", "Option"]

Option = float | int | str | bool
SCORES = frozenset({"scores"})
EMBEDDINGS = frozenset({"embeddings"})


@dataclass(frozen=True)
class SelectionRule:
    """A rule's name, one-line summary, function, the options it accepts (with their defaults; None = required),
    whether it draws at random (then it needs ``seed``) and the inputs it needs.

    ``apply`` is called with ``keep``, ``labels`` and, by keyword, each input of ``needs`` among ``scores`` and
    ``embeddings`` (a rule that needs neither gets ``n``, the number of examples), plus ``seed`` and the options.
    """

    name: str
    summary: str
    apply: Callable[..., np.ndarray]
    options: dict[str, Option | None]
    random: bool = False
    needs: frozenset[str] = SCORES


def _random(*, n: int, keep: float, labels: ArrayLike | None, seed: int) -> np.ndarray:
    return random_subset(n, keep, seed=seed, labels=labels)


RULES: dict[str, SelectionRule] = {
    r.name: r
    for r in (
        SelectionRule("keep_highest", "keep the highest-scored fraction (prune the lowest)", keep_highest, {}),
        SelectionRule("keep_lowest", "keep the lowest-scored (easiest) fraction", keep_lowest, {}),
        SelectionRule("sliding_window", "drop the lowest `offset` fraction, keep the next `keep`", sliding_window,
                      {"offset": None}),
        SelectionRule("ccs", "coverage-centric: drop the hardest `beta`, sample evenly across score strata", ccs,
                      {"beta": None, "strata": 50}, random=True),
        SelectionRule("random", "a uniformly random subset (the scores or embeddings only give N)", _random, {},
                      random=True, needs=frozenset()),
        SelectionRule("kcenter", "k-center greedy: farthest-first coverage of the embeddings (seeded start)",
                      kcenter, {}, random=True, needs=EMBEDDINGS),
        SelectionRule("herding", "herding: the subset whose embedding mean tracks the mean of all", herding, {},
                      needs=EMBEDDINGS),
        SelectionRule("facility_location", "lazy greedy facility location on a `k`-nearest-neighbour similarity",
                      facility_location, {"k": 20}, needs=EMBEDDINGS),
        SelectionRule("d2", "D2 pruning: scores passed over a `k`-NN graph of the embeddings, diverse greedy picks",
                      d2, {"k": 5, "gamma": 1.0, "gamma_forward": 1.0}, needs=frozenset({"scores", "embeddings"})),
        SelectionRule("prototypes", "farthest from the nearest of `clusters` k-means prototypes (`easy`: nearest)",
                      prototypes, {"clusters": None, "easy": False, "metric": "cosine", "iterations": 100},
                      random=True, needs=EMBEDDINGS),
        SelectionRule("moderate", "Moderate-DS: distance to the class median embedding nearest the median distance",
                      moderate, {"class_balanced": False}, needs=frozenset({"embeddings", "labels"})),
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
    scores: ArrayLike | None, keep: float, *, rule: str = "keep_highest", labels: ArrayLike | None = None,
    seed: int | None = None, embeddings: ArrayLike | None = None, **options: Option,
) -> np.ndarray:
    """Positions ``(round(keep * N),)`` chosen by ``rule``, sorted ascending, int64.

    Args:
        scores: ``(N,)``, higher = harder; may be None for a rule that does not need them (then ``embeddings``
            give N); given to a rule that does not use them, they only give N.
        keep: fraction of examples to keep, in ``(0, 1]``.
        rule: a name of :data:`RULES`.
        labels: ``(N,)``: select within each class (``moderate``: the class medians, required).
        seed: required by the rules that draw at random (``ccs``, ``random``, ``kcenter``, ``prototypes``) and
            refused by the others.
        embeddings: ``(N, D)`` for the rules that need them, refused by the others.
        options: the rule's own (see :data:`RULES`).
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
    inputs = _inputs(spec, scores, embeddings, labels)
    extra = {"seed": seed} if spec.random else {}
    return spec.apply(keep=keep, labels=labels, **inputs, **extra, **options)


def _inputs(spec: SelectionRule, scores: ArrayLike | None, embeddings: ArrayLike | None,
            labels: ArrayLike | None) -> dict[str, object]:
    """The keyword inputs of ``spec.apply``, after checking that the rule gets what it needs, one line each."""
    given = {"scores": scores, "embeddings": embeddings, "labels": labels}
    missing = [name for name in ("scores", "embeddings", "labels") if name in spec.needs and given[name] is None]
    if missing:
        needs = " and ".join(sorted(spec.needs))
        raise ValueError(f"rule {spec.name!r} needs {needs}; pass {', '.join(f'{m}=' for m in missing)}")
    if embeddings is not None and "embeddings" not in spec.needs and spec.needs:
        raise ValueError(f"rule {spec.name!r} does not use embeddings (it selects from scores); drop embeddings=")
    if scores is None and embeddings is None:
        raise ValueError(f"rule {spec.name!r} needs scores or embeddings to know the number of examples")
    n = _count(scores, embeddings)
    if labels is not None:
        check_labels(labels, n)
    if not spec.needs & {"scores", "embeddings"}:
        return {"n": n}
    return {name: given[name] for name in ("scores", "embeddings") if name in spec.needs}


def _count(scores: ArrayLike | None, embeddings: ArrayLike | None) -> int:
    """N, from the scores and the embeddings (which must agree)."""
    n_scores = None if scores is None else len(np.atleast_1d(np.asarray(scores)))
    if embeddings is None:
        assert n_scores is not None  # _inputs() refuses neither
        return n_scores
    shape = np.shape(embeddings)
    if len(shape) != 2:
        raise ValueError(f"embeddings must be a 2-D array (N, D), one row per example, got shape {shape}")
    if n_scores is not None and n_scores != shape[0]:
        raise ValueError(f"embeddings have {shape[0]} rows but there are {n_scores} scores (one row per example)")
    return int(shape[0])
