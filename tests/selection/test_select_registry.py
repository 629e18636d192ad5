"""``select(scores, keep, rule=...)``: every rule by name, checked against the slow oracles; its errors."""

from __future__ import annotations

import numpy as np
import pytest

from datadiet.selection import ccs, random_subset
from datadiet.selection.registry import RULES, get_rule, list_rules, select
from reference import naive_keep_highest, naive_keep_lowest, naive_window

SCORES = np.random.default_rng(0).normal(size=97)


def test_deterministic_rules_match_their_oracles():
    k = round(0.3 * len(SCORES))
    assert select(SCORES, 0.3).tolist() == sorted(naive_keep_highest(SCORES, k))
    assert select(SCORES, 0.3, rule="keep_lowest").tolist() == sorted(naive_keep_lowest(SCORES, k))
    window = select(SCORES, 0.3, rule="sliding_window", offset=0.2)
    assert window.tolist() == sorted(naive_window(SCORES, 0.2, 0.3))


def test_random_rules_draw_from_their_seed():
    labels = np.arange(97) % 3
    assert np.array_equal(select(SCORES, 0.4, rule="random", seed=3, labels=labels),
                          random_subset(97, 0.4, seed=3, labels=labels))
    assert np.array_equal(select(SCORES, 0.4, rule="ccs", seed=3, beta=0.1, strata=5),
                          ccs(SCORES, 0.4, beta=0.1, strata=5, seed=3))
    assert not np.array_equal(select(SCORES, 0.4, rule="random", seed=3), select(SCORES, 0.4, rule="random", seed=4))


def test_every_rule_is_listed_with_a_summary():
    assert list_rules() == sorted(RULES) and all(RULES[name].summary for name in RULES)
    assert {"keep_highest", "keep_lowest", "sliding_window", "ccs", "random"} <= set(RULES)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: select(SCORES, 0.5, rule="median"), "unknown selection rule 'median'; valid: ccs, d2, facility_location"),
    (lambda: select(SCORES, 0.5, rule="keep_highest", offset=0.1), "takes no option offset; its options: none"),
    (lambda: select(SCORES, 0.5, rule="sliding_window"), "'sliding_window' needs offset"),
    (lambda: select(SCORES, 0.5, rule="ccs", beta=0.1), "draws at random: pass seed="),
    (lambda: select(SCORES, 0.5, seed=0), "deterministic: it takes no seed"),
    (lambda: get_rule("top"), "unknown selection rule 'top'"),
])
def test_bad_calls_name_what_is_valid(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call()
