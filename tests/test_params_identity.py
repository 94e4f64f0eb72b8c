"""core.params.identity: the cache key of a parameter set."""

from __future__ import annotations

from core.params import defaults, identity


def test_key_order_does_not_matter_and_values_do() -> None:
    p = defaults()
    reordered = dict(reversed(list(p.items())))
    reordered["position"] = dict(reversed(list(p["position"].items())))
    assert identity(reordered) == identity(p)
    assert identity({**p, "scale": p["scale"] + 0.001}) != identity(p)
