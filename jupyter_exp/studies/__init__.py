"""Hyperparameter search through the experiment queue (issue 19).

A study is Optuna's: its storage is an SQLite file under ``.dvc/tmp/jupyter_exp/search/``
(``Project.search_dir``), so it outlives the kernel or shell that drives it. Each trial is
an ordinary queued experiment ``NAME-<n>`` whose params are the sampled values, run by
the queue's executors, and told its objective from the experiment's metrics.

- ``space``: the ``-S`` grammar's sweeps (``interval``, ``choice``, ``range``) as Optuna
  distributions, beside the fixed overrides.
- ``study``: the storage, samplers, pruners, what a study is set up with, its status.
- ``driver``: ask, queue, run at most ``-j`` at once, watch step metrics, tell.

Optuna is imported only here, and only when a search runs or is read.
"""
