"""The experiment table's logic, shared by every host: ``TableController`` (state,
messages, refresh, the live watcher), the pure ``view`` and ``plots``, and the row
``actions``. No widget library here: the notebook widget (``widgets/table.py``) and the
JupyterLab panel are thin adapters over a controller."""

from .controller import TableController

__all__ = ["TableController"]
