"""Queueing a study's trials: one snapshot of the workspace, a commit per trial.

A plain ``exp run --queue`` snapshots the workspace each time (a dozen git processes:
what is staged, tracked changes, the pipeline's files, changed data). A study's trials
differ only in their sampled params, so the workspace is snapshotted once, when the
search starts (or resumes), and each trial's tree is that snapshot with its params
files rewritten: four git processes (params files in subfolders: five). It also keeps a study's trials comparable: an
edit to the workspace while the study runs does not reach its later trials.
"""

from __future__ import annotations

import posixpath
import threading
from pathlib import Path

from ..errors import ParamsError
from ..git.index import Index
from ..options import ReproOptions
from ..overrides import OverrideSet, overridden_texts
from ..project import Project


class TrialQueue:
    """Queues trials on the snapshot taken when it was made (see the module's docstring).

    Raises (when made) what :func:`~jupyter_exp.experiments.queue.enqueue` raises for a
    workspace that cannot be queued: no baseline commit, no git identity, a ``.git``
    that cannot be written.
    """

    def __init__(self, project: Project, targets: list[str] | None, options: ReproOptions) -> None:
        from ..experiments.catalog import list_experiments
        from ..experiments.exceptions import NoBaselineError
        from ..experiments.queue_store import QueueStore
        from ..experiments.recordable import check_can_record
        from ..experiments.snapshot import changed_data, pipeline_files, snapshot_tree

        self.project, self.targets, self.options = project, targets, options
        self.store = QueueStore(project)
        with project.lock():  # as enqueue: not while a workspace run has its overrides in place
            check_can_record(project)
            baseline = project.git.head()
            if baseline is None:
                raise NoBaselineError("Experiments need a baseline commit; commit your project first (git commit).")
            self.baseline: str = baseline
            self.tree = snapshot_tree(project, pipeline_files(project), blobs=changed_data(project, write=False))
            self.taken = {e.name for e in list_experiments(project) if e.baseline == baseline}
            self.taken |= {
                e.name for e in self.store.entries() if e.baseline == baseline and e.state in ("queued", "running")
            }
        self.base_texts: dict[str, str | None] = {}  # params files as the snapshot has them
        self.links: dict[str, str] = {}  # a params file's name -> the file it is (links followed)
        self.lock = threading.Lock()  # pool threads queue trials; the index below is shared
        # The snapshot's top folder (name -> ls-tree line): a trial whose params files are
        # all there gets its tree from one `git mktree`, without an index.
        self.top = project.git.top_tree_lines(self.tree)
        self.index_path: Path | None = None  # made for a params file in a subfolder
        self.written: set[str] = set()  # files the index holds a trial's text of

    def queue(self, name: str, overrides: OverrideSet) -> str:
        """Queue trial experiment ``name`` with ``overrides`` applied; returns its entry's id.

        Raises ExperimentExistsError when ``name`` is taken on the baseline (unless the
        options force it), and ParamsError for an override its params file refuses.
        """
        from ..experiments.exceptions import ExperimentExistsError
        from ..experiments.queue import queue_tree

        if name in self.taken and not self.options.force:
            raise ExperimentExistsError.taken(name, self.baseline)
        with self.lock:
            overrides = self._through_links(overrides)
            texts = overridden_texts(self.project.root, overrides, read=self._base_text)
            tree = self._top_tree(texts) if not any("/" in path for path in texts) else self._index_tree(texts)
            entry = queue_tree(self.project, self.store, tree, self.baseline, name, self.targets, self.options)
            self.taken.add(name)
        return entry.id

    def _top_tree(self, texts: dict[str, str]) -> str:
        """The snapshot's tree with top-level files ``texts`` (name -> text) written over."""
        git = self.project.git
        lines = dict(self.top)
        for name, text in texts.items():
            lines[name] = f"100644 blob {git.write_blob(text.encode())}\t{name}"
        return git.make_tree(list(lines.values()))

    def _index_tree(self, texts: dict[str, str]) -> str:
        """The snapshot's tree with files ``texts`` (path -> text) written over, built in
        an index kept between trials (they rewrite the same params files)."""
        if self.index_path is None:
            self.index_path = self.project.scratch_index()
            Index(self.project.git, self.index_path).read_tree(self.tree)
        index = Index(self.project.git, self.index_path)
        if not set(texts) >= self.written:  # a file the last trial rewrote and this one does not
            index.read_tree(self.tree)
            self.written = set()
        for path, text in texts.items():
            index.set_blob(path, text)
        self.written |= set(texts)
        return index.write_tree()

    def _through_links(self, overrides: OverrideSet) -> OverrideSet:
        """``overrides`` by the file each names in the snapshot, a symlinked params file
        followed to the file it names (as writing through the workspace's link would), so
        the link stays a link.

        Raises:
            ParamsError: a link that leaves the project, or a loop of links.
        """
        found: OverrideSet = {}
        for name, changes in overrides.items():
            real = self._real_name(name)
            found[real] = found.get(real, []) + list(changes)
        return found

    def _real_name(self, name: str) -> str:
        if name not in self.links:
            path, hops = posixpath.normpath(name), 0
            while True:
                entry = self.project.git.sized_tree_entries(self.tree, (path,), recursive=False)
                if not entry or entry[0][0] != "120000":
                    break
                found = self.project.git.read_object(entry[0][2])
                target = found[2].decode("utf-8", "replace") if found else ""
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
                hops += 1
                if posixpath.isabs(target) or path == ".." or path.startswith("../") or hops > 40:
                    raise ParamsError(
                        f"Params file '{name}' is a symlink to '{target}', outside the project (or a loop of "
                        "links); point it at a file inside the project."
                    )
            self.links[name] = path
        return self.links[name]

    def _base_text(self, path: str) -> str | None:
        if path not in self.base_texts:
            found = self.project.git.read_object(f"{self.tree}:{path}")
            self.base_texts[path] = found[2].decode("utf-8") if found and found[1] == "blob" else None
        return self.base_texts[path]

    def close(self) -> None:
        """Remove the scratch index, if one was made."""
        if self.index_path is not None:
            self.index_path.unlink(missing_ok=True)
