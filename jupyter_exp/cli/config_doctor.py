"""``jupyter dvc config`` and ``jupyter dvc doctor``."""

from __future__ import annotations


def add_verbs(verbs) -> None:
    """``config`` and ``doctor``."""
