"""The JupyterLab server extension: REST routes and a live socket per project under
``{base_url}jupyter-exp/``, which the ``jupyter-exp`` labextension's panel talks to.

Enabled by ``jupyter-config/server-config/jupyter_exp.json`` (installed under
``etc/jupyter/jupyter_server_config.d/``), or ``jupyter server extension enable
jupyter_exp.server``. jupyter_server and tornado are imported here and below only:
``import jupyter_exp`` never loads them.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_exp.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the routes; projects resolve under the server's root directory."""
    from .handlers import setup_handlers
    from .session import SessionRegistry

    root = getattr(serverapp.contents_manager, "root_dir", None) or serverapp.root_dir
    setup_handlers(serverapp.web_app, SessionRegistry(root))
    serverapp.log.info("jupyter_exp: experiment routes at %sjupyter-exp/ (projects under %s)", serverapp.base_url, root)
