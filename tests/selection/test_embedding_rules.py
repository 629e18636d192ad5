"""Selection rules on embeddings against brute-force oracles written from each paper's formula (full distance
matrices, exhaustive objective evaluations), their class-balanced variants and their one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from reference import (
    naive_count,
    naive_d2,
    naive_facility_greedy,
    naive_facility_similarity,
    naive_facility_value,
    naive_herding,
    naive_kcenter,
    naive_keep_highest,
    naive_keep_lowest,
    naive_knn,
    naive_largest_remainder,
    naive_lloyd,
    naive_moderate,
)

from datadiet.selection import d2, facility_location, herding, kcenter, moderate, prototypes, select
from datadiet.selection import geometry
from datadiet.selection.facility_location import knn_similarity, lazy_greedy
from datadiet.selection.kmeans import kmeans_plus_plus, unit_rows


def cloud(seed: int, n: int = 36, dim: int = 4) -> np.ndarray:
    """Continuous embeddings in three loose clusters (no exact distance ties)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3, size=(3, dim))
    return centres[rng.integers(0, 3, n)] + rng.normal(size=(n, dim))


def grid(seed: int, n: int = 30) -> np.ndarray:
    """Integer embeddings with many repeated rows and equal distances (ties everywhere)."""
    return np.random.default_rng(seed).integers(0, 3, size=(n, 2)).astype(np.float64)


def per_class(labels: np.ndarray, keep: float, rule) -> list[int]:
    """The class-balanced oracle: ``rule(members, budget)`` within each class, budgets by largest remainder."""
    classes = sorted(set(labels.tolist()))
    sizes = [int((labels == c).sum()) for c in classes]
    picked: list[int] = []
    for c, budget in zip(classes, naive_largest_remainder(sizes, naive_count(keep, len(labels)))):
        members = np.flatnonzero(labels == c)
        if budget:
            picked += [int(members[i]) for i in rule(members, budget)]
    return sorted(picked)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Distances in blocks of a few rows, so that every test also checks the blocking."""
    monkeypatch.setattr(geometry, "BLOCK_BYTES", 256)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("make", [cloud, grid])
def test_kcenter_is_farthest_first_from_a_seeded_start(seed: int, make) -> None:
    x = make(seed)
    k = naive_count(0.3, len(x))
    start = int(np.random.default_rng(seed).integers(len(x)))
    assert kcenter(x, 0.3, seed=seed).tolist() == sorted(naive_kcenter(x, k, start))
    assert np.array_equal(select(None, 0.3, rule="kcenter", embeddings=x, seed=seed), kcenter(x, 0.3, seed=seed))


def test_kcenter_class_balanced_draws_each_class_start_in_label_order() -> None:
    x, labels = cloud(5, n=40), np.arange(40) % 3
    rng = np.random.default_rng(7)
    expected = per_class(labels, 0.4, lambda m, b: naive_kcenter(x[m], b, int(rng.integers(len(m)))))
    assert kcenter(x, 0.4, seed=7, labels=labels).tolist() == expected


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("make", [cloud, grid])
def test_herding_tracks_the_mean(seed: int, make) -> None:
    x = make(seed, n=32)  # the mean of 32 small integers is exact in floating point: ties stay ties
    assert herding(x, 0.4).tolist() == sorted(naive_herding(x, naive_count(0.4, len(x))))
    labels = np.arange(len(x)) % 2
    assert herding(x, 0.4, labels=labels).tolist() == per_class(labels, 0.4, lambda m, b: naive_herding(x[m], b))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 35])
def test_facility_location_matches_exhaustive_greedy(seed: int, k: int) -> None:
    x = cloud(seed)
    count = naive_count(0.25, len(x))
    sim = naive_facility_similarity(x, k)
    order = naive_facility_greedy(sim, count)
    assert facility_location(x, 0.25, k=k).tolist() == sorted(order)
    lazy = lazy_greedy(*knn_similarity(x, k), len(x), count)
    assert lazy.tolist() == order, "lazy greedy picks the plain greedy's elements in the same order"
    chosen = lazy.tolist()
    for t in range(count):  # each greedy choice maximizes F(S + j) over every candidate j
        best = max(naive_facility_value(sim, chosen[:t] + [c]) for c in range(len(x)) if c not in chosen[:t])
        assert naive_facility_value(sim, chosen[: t + 1]) == pytest.approx(best, rel=1e-12)


def test_facility_location_class_balanced_builds_a_graph_per_class() -> None:
    x, labels = cloud(3, n=40), np.arange(40) % 4
    expected = per_class(labels, 0.3, lambda m, b: naive_facility_greedy(naive_facility_similarity(x[m], 3), b))
    assert facility_location(x, 0.3, k=3, labels=labels).tolist() == expected


@pytest.mark.parametrize("seed", range(4))
def test_lazy_greedy_equals_plain_greedy_on_random_sparse_similarities(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 25
    sources, targets = rng.integers(0, n, 120), rng.integers(0, n, 120)
    keep = np.unique(np.stack([sources, targets]), axis=1)  # one similarity per (i, j)
    sims = rng.integers(0, 8, keep.shape[1]) / 8  # eighths: exact sums, many equal gains (ties: first element)
    dense = [[0.0] * n for _ in range(n)]
    for i, j, s in zip(keep[0], keep[1], sims):
        dense[i][j] = float(s)
    assert lazy_greedy(keep[0], keep[1], sims, n, 12).tolist() == naive_facility_greedy(dense, 12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("k", "gamma", "gamma_forward"), [(5, 1.0, 1.0), (3, 0.1, 0.5), (35, 2.0, 0.3)])
def test_d2_forward_and_reverse_message_passing(seed: int, k: int, gamma: float, gamma_forward: float) -> None:
    x = cloud(seed)
    scores = np.random.default_rng(seed + 10).gamma(2.0, size=len(x))
    got = d2(scores, x, 0.3, k=k, gamma=gamma, gamma_forward=gamma_forward)
    assert got.tolist() == sorted(naive_d2(scores, x, naive_count(0.3, len(x)), k, gamma, gamma_forward))
    assert np.array_equal(select(scores, 0.3, rule="d2", embeddings=x, k=k, gamma=gamma,
                                 gamma_forward=gamma_forward), got)


def test_d2_class_balanced() -> None:
    x, labels = cloud(1, n=40), np.arange(40) % 3
    scores = np.random.default_rng(1).random(40)
    expected = per_class(labels, 0.3, lambda m, b: naive_d2(scores[m], x[m], b, 4, 0.5, 1.0))
    assert d2(scores, x, 0.3, k=4, gamma=0.5, labels=labels).tolist() == expected


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_prototypes_keep_the_farthest_from_lloyd_centroids(seed: int, metric: str) -> None:
    x = cloud(seed, n=40)
    rows = unit_rows(x) if metric == "cosine" else x
    init = kmeans_plus_plus(rows, 3, np.random.default_rng(seed))
    _, distances = naive_lloyd(rows.tolist(), init.tolist(), 100, spherical=metric == "cosine")
    k = naive_count(0.25, len(x))
    hard = prototypes(x, 0.25, clusters=3, seed=seed, metric=metric)
    assert hard.tolist() == naive_keep_highest(distances, k)
    easy = select(None, 0.25, rule="prototypes", embeddings=x, clusters=3, seed=seed, metric=metric, easy=True)
    assert easy.tolist() == naive_keep_lowest(distances, k)


def test_kmeans_plus_plus_draws_distinct_rows_even_from_duplicates() -> None:
    x = np.repeat(np.eye(3), 4, axis=0)  # three distinct rows, four copies each
    centroids = kmeans_plus_plus(x, 3, np.random.default_rng(0))
    assert sorted(map(tuple, centroids.tolist())) == sorted(map(tuple, np.eye(3).tolist()))
    assert len(prototypes(x, 0.5, clusters=5, seed=0)) == 6, "more clusters than distinct rows still works"


def test_prototypes_class_balanced_cluster_within_each_class() -> None:
    x, labels = cloud(4, n=40), np.arange(40) % 2

    def oracle(members: np.ndarray, budget: int) -> list[int]:
        rows = unit_rows(x[members])
        init = kmeans_plus_plus(rows, 3, np.random.default_rng(9))
        distances = naive_lloyd(rows.tolist(), init.tolist(), 100, spherical=True)[1]
        return naive_keep_highest(distances, budget)

    assert prototypes(x, 0.3, clusters=3, seed=9, labels=labels).tolist() == per_class(labels, 0.3, oracle)


@pytest.mark.parametrize("seed", range(4))
def test_moderate_keeps_distances_nearest_the_median(seed: int) -> None:
    x = cloud(seed, n=41)
    labels = np.random.default_rng(seed).integers(0, 3, 41)
    k = naive_count(0.3, 41)
    assert moderate(x, 0.3, labels=labels).tolist() == naive_moderate(x.tolist(), labels.tolist(), k)
    balanced = select(None, 0.3, rule="moderate", embeddings=x, labels=labels, class_balanced=True)
    oracle = per_class(labels, 0.3, lambda m, b: naive_moderate(x[m].tolist(), [0] * len(m), b))
    assert balanced.tolist() == oracle


@pytest.mark.parametrize("seed", range(3))
def test_nearest_neighbors_are_exact_with_ties_by_position(seed: int) -> None:
    x = grid(seed, n=25)
    distances, neighbors = geometry.nearest_neighbors(x, 6)
    assert neighbors.tolist() == naive_knn(x, 6)
    assert np.allclose(distances, [[np.linalg.norm(x[i] - x[j]) for j in row] for i, row in enumerate(neighbors)])


def test_float32_embeddings_stay_float32_and_select_like_float64() -> None:
    x = cloud(0, n=60)
    assert geometry.check_embeddings(x.astype(np.float32)).dtype == np.float32
    for rule, options in [("kcenter", {"seed": 0}), ("herding", {}), ("facility_location", {}),
                          ("prototypes", {"seed": 0, "clusters": 3})]:
        a = select(None, 0.2, rule=rule, embeddings=x, **options)
        b = select(None, 0.2, rule=rule, embeddings=x.astype(np.float32), **options)
        assert len(np.intersect1d(a, b)) >= 0.9 * len(a), rule


X, S, Y = cloud(0, n=20), np.linspace(0, 1, 20), np.arange(20) % 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: select(S, 0.5, rule="kcenter", seed=0), "rule 'kcenter' needs embeddings; pass embeddings="),
    (lambda: select(None, 0.5, rule="d2", embeddings=X), "rule 'd2' needs embeddings and scores; pass scores="),
    (lambda: select(S, 0.5, rule="d2"), "rule 'd2' needs embeddings and scores; pass embeddings="),
    (lambda: select(None, 0.5, rule="moderate", embeddings=X), "'moderate' needs embeddings and labels; pass labels="),
    (lambda: select(None, 0.5), "rule 'keep_highest' needs scores; pass scores="),
    (lambda: select(S, 0.5, embeddings=X), "'keep_highest' does not use embeddings"),
    (lambda: select(S[:5], 0.5, rule="herding", embeddings=X), "embeddings have 20 rows but there are 5 scores"),
    (lambda: select(None, 0.5, rule="herding", embeddings=X[0]), r"2-D array \(N, D\).*shape \(4,\)"),
    (lambda: select(None, 0.5, rule="herding", embeddings=X, labels=Y[:3]), r"labels must be integers of shape"),
    (lambda: select(None, 0.5, rule="random", seed=0), "needs scores or embeddings"),
    (lambda: select(None, 0.5, rule="prototypes", embeddings=X, seed=0), "'prototypes' needs clusters"),
    (lambda: select(None, 0.5, rule="prototypes", embeddings=X, seed=0, clusters=0), "clusters must be a positive"),
    (lambda: select(None, 0.5, rule="prototypes", embeddings=X, seed=0, clusters=2, metric="l1"),
     "metric must be one of cosine, euclidean"),
    (lambda: select(None, 0.5, rule="facility_location", embeddings=X, k=0), r"k \(neighbours per example\)"),
    (lambda: select(S, 0.5, rule="d2", embeddings=X, gamma=-1.0), "gamma must be a finite number >= 0"),
    (lambda: select(np.r_[S[:-1], np.inf], 0.5, rule="d2", embeddings=X), "d2 needs finite scores"),
    (lambda: select(None, 0.5, rule="herding", embeddings=np.where(X > 2, np.nan, X)), "NaN or infinite"),
    (lambda: select(None, 0.5, rule="herding", embeddings=X.astype(str)), "real numbers"),
    (lambda: select(None, 0.5, rule="herding", embeddings=X, seed=0), "deterministic: it takes no seed"),
    (lambda: select(None, 1.5, rule="herding", embeddings=X), r"keep must be a fraction in \(0, 1\]"),
    (lambda: select(None, 0.5, rule="moderate", embeddings=X, labels=Y, class_balanced=2), "True or False"),
])
def test_bad_inputs_are_one_line_errors(call, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("rule", ["kcenter", "herding", "facility_location", "d2", "prototypes"])
def test_classes_of_one_example_are_kept_whole(rule: str) -> None:
    labels = np.r_[np.zeros(19, dtype=int), 1]  # class 1 has one example; shares 11.4 and 0.6 of 12 round to 11, 1
    options = {"seed": 0} if rule == "kcenter" else {"seed": 0, "clusters": 2} if rule == "prototypes" else {}
    picked = select(S, 0.6, rule=rule, embeddings=X, labels=labels, **options)
    assert len(picked) == 12 and 19 in picked


def test_random_takes_n_from_embeddings_and_existing_rules_ignore_none() -> None:
    assert np.array_equal(select(None, 0.5, rule="random", seed=3, embeddings=X), select(S, 0.5, rule="random", seed=3))
    assert select(S, 0.5).tolist() == list(range(10, 20))
