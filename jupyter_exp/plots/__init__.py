"""DVC's plots: ``plots show`` and ``plots diff``, read at any revision and rendered
through ``dvc-render`` (DVC's and DVCLive's own renderer).

- :mod:`.definitions`: which plots a revision defines (top-level ``plots:`` of every
  ``dvc.yaml``, stages' ``plots`` outputs, targets), as DVC collects them;
- :mod:`.sources`: a plot's data file at a revision, parsed, or the error DVC reports;
- :mod:`.convert`: a definition and its files as datapoints for a template;
- :mod:`.collect`: revisions in, one :class:`~.collect.Plot` record per plot id out;
- :mod:`.templates`: DVC's templates and the project's own (``.dvc/plots/``), loaded safely;
- :mod:`.render`: the records as DVC's ``--json``, Vega-Lite specs and the HTML page;
- :mod:`.display`: the notebook's view of a set of plots (Vega-Lite mime bundles).

Nothing here is imported by ``import jupyter_exp``: dvc-render loads on first use.
"""
