"""Policies by name: ``make_policy("ucb", c=0.5)``."""

from __future__ import annotations

from dataclasses import fields
from collections.abc import Mapping
from typing import Any

from datadiet.dynamic.base import Policy
from datadiet.dynamic.infobatch import InfoBatch
from datadiet.dynamic.policies import UCB, EpsilonGreedy, RandomDynamic, Uncertainty, UncertaintyEMA

__all__ = ["POLICIES", "make_policy"]

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (RandomDynamic, Uncertainty, UncertaintyEMA, EpsilonGreedy, UCB, InfoBatch)
}


def make_policy(policy: str | Policy, options: Mapping[str, Any] | None = None) -> Policy:
    """The policy named ``policy`` with hyper-parameters ``options``, or ``policy`` itself if already built.

    Unknown names and unknown or invalid hyper-parameters raise ``ValueError`` listing what is valid.
    """
    if isinstance(policy, Policy):
        if options:
            raise ValueError("policy options apply to a policy given by name; set them on the policy object")
        return policy
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; valid: {', '.join(POLICIES)}")
    cls = POLICIES[policy]
    valid = [f.name for f in fields(cls)]
    unknown = sorted(set(options or {}) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for policy {policy!r}; valid: {', '.join(valid) or 'none'}")
    return cls(**(options or {}))
