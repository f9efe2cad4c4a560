"""Comparing any number of experiments: ``compare`` (``exp diff a b c ...``), the params
and metrics that differ among them with each one's difference from a reference."""

from __future__ import annotations

from . import project_at

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pandas

    from ..experiments.comparison import Comparison

__all__ = ["compare", "comparison"]


def comparison(
    names: list[str],
    reference: str | None = None,
    *,
    all: bool = False,
    param_deps: bool = False,
    root: str | None = None,
) -> Comparison:
    """The comparison itself (what ``%exp diff a b c`` shows): ``.rows``, ``.to_text()``,
    ``.to_json()``, ``.to_csv()``, ``.to_dataframe()``. Arguments as :func:`compare`."""
    from ..experiments.comparison import compare as _compare

    return _compare(project_at(root), list(names), reference, all=all, param_deps=param_deps)


def compare(
    names: list[str],
    reference: str | None = None,
    *,
    all: bool = False,
    param_deps: bool = False,
    root: str | None = None,
) -> pandas.DataFrame:
    """The params and metrics that differ among ``names`` (experiments, revisions or
    ``workspace``; two or more) as a DataFrame: a row per param or metric, indexed as
    :func:`show`'s columns (``params.train.lr``, ``metrics.mse``), a column per name, then
    ``Δ <name>``: its difference from ``reference`` (default the first name), for numbers.
    ``all`` keeps the values that are equal everywhere too; ``param_deps`` only the params
    stages depend on.

    Raises:
        JupyterExpError: fewer than two names, a name given twice or unknown, or a
            reference that is not among them.
    """
    return comparison(names, reference, all=all, param_deps=param_deps, root=root).to_dataframe()
