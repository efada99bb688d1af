"""Fixtures of the batch tests (helpers live in batch_fixtures.py)."""

from batch_fixtures import photo_tree

__all__ = ["photo_tree"]
