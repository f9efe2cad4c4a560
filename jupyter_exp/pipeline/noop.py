"""A no-op reproduction answered from its record, without loading the engine.

``repro`` on an up-to-date pipeline is the most common command there is. When the
last reproduction of the same selection changed nothing and none of its inputs moved
(:mod:`.stamp`), its results are printed again from the record: no ``dvc.yaml``
parse, no hashing, no git. This module imports only the stamp, so the answer costs
what importing it costs.
"""

from __future__ import annotations

from . import stamp
from .results import Echo, StageResult, echo_stdout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..options import ReproOptions
    from ..project import Project


def recall(
    project: Project, targets: list[str] | None, options: ReproOptions, echo: Echo | None = None
) -> list[StageResult] | None:
    """The recorded results of this selection if it was a no-op and nothing it read
    moved (echoed as a run would echo them); None when the engine must run."""
    if not options.may_skip:
        return None
    selected = stamp.selection(targets, options, stamp.current_dir(project.root))
    return stamp.check(project.own_tmp_dir, selected, echo or echo_stdout)
