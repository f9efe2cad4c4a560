"""``jupyter dvc status`` and ``jupyter dvc dag``."""

from __future__ import annotations


def add_verbs(verbs) -> None:
    """``status`` and ``dag``."""
