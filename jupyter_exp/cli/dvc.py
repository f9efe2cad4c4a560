"""``python -m jupyter_exp.cli.dvc``: the ``jupyter-dvc`` command."""

import sys

from . import dvc_main

if __name__ == "__main__":
    sys.exit(dvc_main())
