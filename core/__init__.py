"""The library: params, render, metrics (and later inverse, refine, judge, explore, store)."""
