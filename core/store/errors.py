"""The store's one error type, so callers can tell a store problem from a params or image problem."""

from __future__ import annotations


class StoreError(RuntimeError):
    """A store operation that cannot be done: unknown id, bad value, newer schema, unreadable refs line."""


class RunBusyError(StoreError):
    """A run that another live process is driving: resuming it here would drive it twice."""
