"""``%exp``, ``%dvc`` and ``%%stage``: parse the line with the CLI's own parser and call the api.

``%exp VERB ...`` takes every verb and flag of ``jupyter exp``, ``%dvc VERB ...`` those of
``jupyter dvc``; values keep their
spaces when quoted (POSIX splitting) and IPython expands ``{expr}`` and ``$var``
before we see the line. Rich results (the experiment table, diffs, metrics) are
returned for Jupyter to display; user errors show as one line.
"""

from __future__ import annotations

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.utils.process import arg_split

from . import cli
from .api import pipeline
from .cli.flag_words import FlagWords
from .cli.parser import HelpShown
from .cli.pipeline import build_stage_parser
from .errors import JupyterExpError


@magics_class
class ExpMagics(Magics):
    """Experiment magics; ``%load_ext jupyter_exp`` registers them."""

    @line_magic
    def exp(self, line: str):
        """Run a ``jupyter exp`` verb: ``%exp run -S train.lr=0.01``, ``%exp show``,
        ``%exp diff a b``, ``%exp apply NAME``, ``%exp repro``, ``%exp --help`` ..."""
        return cli.execute(arg_split(line, posix=True), prog="%exp", from_kernel=True)

    @line_magic
    def dvc(self, line: str):
        """Run a ``jupyter dvc`` verb, as ``dvc`` on the command line: ``%dvc status``,
        ``%dvc dag`` (drawn as Mermaid), ``%dvc push``, ``%dvc stage add ...``, ``%dvc exp show`` ..."""
        return cli.execute(arg_split(line, posix=True), prog="%dvc", from_kernel=True, space="dvc")

    @cell_magic
    def stage(self, line: str, cell: str) -> None:
        """Make the cell a pipeline stage: ``%%stage train -d data.csv -o model.pkl -M metrics.json``.

        The body is written to ``stages/NAME.py`` (or ``--script``), the stage NAME in
        dvc.yaml runs it, and it is reproduced at once (unless ``--no-run``), its output
        streaming into the cell. Flags as ``dvc stage add``.
        """
        parser = build_stage_parser()
        try:
            args = parser.parse_args(arg_split(line, posix=True))
        except HelpShown:
            return None
        try:
            self._add_stage(args, cell)
        except JupyterExpError as exc:
            exc.spell = FlagWords(parser)  # the options an error names, as this magic's flags
            raise
        return None

    @staticmethod
    def _add_stage(args, cell: str) -> None:
        pipeline.add_stage(
            args.name,
            cell,
            deps=args.deps,
            params=args.params,
            outs=args.outs,
            outs_no_cache=args.outs_no_cache,
            metrics=args.metrics,
            metrics_no_cache=args.metrics_no_cache,
            plots=args.plots,
            plots_no_cache=args.plots_no_cache,
            checkpoints=args.checkpoints,
            wdir=args.wdir,
            always_changed=args.always_changed,
            desc=args.desc,
            script=args.script,
            force=args.force,
            run=not args.no_run,
        )
