"""``python -m jupyter_exp.cli``: the ``jupyter-exp`` command."""

import sys

from . import main

sys.exit(main())
