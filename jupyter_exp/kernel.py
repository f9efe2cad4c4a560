"""Whether this process is a running Jupyter kernel: the one test, for every caller.

A kernel's event loop outlives a cell, so background work runs in threads there and
widgets render; elsewhere (a shell, a script, a test's IPython shell) work that must
outlive the call goes to a detached process and tables render as text. Importing
IPython is not being a kernel: only an initialized ``IPKernelApp`` is.
"""

from __future__ import annotations

import sys


def in_kernel() -> bool:
    """True inside a running Jupyter kernel (never imports ipykernel to find out)."""
    app = sys.modules.get("ipykernel.kernelapp")
    return app is not None and app.IPKernelApp.initialized()
