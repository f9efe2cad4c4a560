"""Loading ``dvc.yaml``: ``vars``, ``${...}`` interpolation, ``foreach``/``do``, ``matrix``.

Variables come from ``params.yaml`` (when present) and the file's ``vars`` (params
files, ``file:key1,key2`` selections, or inline mappings), then stage-level
``vars``, then ``item``/``key`` of ``foreach`` and ``matrix``. A string that is one
whole ``${expr}`` keeps the value's type; embedded ones are formatted as text
(booleans as ``true``/``false``; in ``cmd`` a mapping becomes ``--key value`` flags).
``\\${`` escapes.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParamsError, PathError, PipelineError
from ..params import DEFAULT_PARAMS_FILE, parse_params
from ..project import Project
from ..serialize import parse_yaml
from ..tree import Tree, WorkspaceTree
from .graph import Graph, build_graph
from .stage import Stage, build_stage

DVC_YAML = "dvc.yaml"
TOP_LEVEL_KEYS = frozenset({"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"})
_EXPR = re.compile(r"(?<!\\)\$\{\s*([^}]+?)\s*\}")
_WHOLE = re.compile(r"^\$\{\s*([^}]+?)\s*\}$")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Pipeline:
    """Everything one ``dvc.yaml`` declares."""

    dvcfile: str
    stages: tuple[Stage, ...]
    params: tuple[str, ...] = ()  # top-level params files, project-relative
    metrics: tuple[str, ...] = ()
    plots: tuple[Any, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # foreach name -> stages
    sources: tuple[str, ...] = ()  # every file read to build it (missing ones too)


def _lookup(ctx: dict, expr: str, where: str) -> Any:
    node: Any = ctx
    walked = []
    for name, index in _PATH_PART.findall(expr):
        walked.append(name or f"[{index}]")
        if name and isinstance(node, dict) and name in node:
            node = node[name]
        elif index and isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
        elif name and name.isdigit() and isinstance(node, list) and int(name) < len(node):
            node = node[int(name)]
        else:
            raise PipelineError(f"Could not find '{expr}' in {where}; define it in params.yaml or `vars`.")
    return node


def _to_text(value: Any, in_cmd: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, dict):
        if not in_cmd:
            raise PipelineError("A mapping can only be interpolated into 'cmd'; pick one key.")
        parts = []
        for key, item in value.items():
            if isinstance(item, bool):
                parts.append(f"--{key}" if item else f"--no-{key}")
            elif isinstance(item, list):
                parts.append(f"--{key} " + " ".join(_quote(_to_text(i, False)) for i in item))
            else:
                parts.append(f"--{key} {_quote(_to_text(item, False))}")
        return " ".join(parts)
    if isinstance(value, list):
        return " ".join(_to_text(v, in_cmd) for v in value)
    return str(value)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def interpolate(value: Any, ctx: dict, where: str, in_cmd: bool = False) -> Any:
    """Resolve every ``${...}`` in ``value`` (recursively) against ``ctx``."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return _lookup(ctx, whole.group(1), where)
        if "${" not in value:
            return value
        text = _EXPR.sub(lambda m: _to_text(_lookup(ctx, m.group(1), where), in_cmd), value)
        return text.replace("\\${", "${")
    if isinstance(value, list):
        return [interpolate(v, ctx, where, in_cmd) for v in value]
    if isinstance(value, dict):
        return {interpolate(k, ctx, where): interpolate(v, ctx, where, in_cmd or k == "cmd") for k, v in value.items()}
    return value


def _uses_vars(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_uses_vars(v) for v in value)
    if isinstance(value, dict):
        return any(_uses_vars(k) or _uses_vars(v) for k, v in value.items())
    return False


def _merge_vars(ctx: dict, source: dict, where: str) -> None:
    for key, value in source.items():
        if key in ctx and isinstance(ctx[key], dict) and isinstance(value, dict):
            _merge_vars(ctx[key], value, where)
        else:
            ctx[key] = value


def _read_params(tree: Tree, relpath: str) -> dict:
    data = tree.load(relpath, parse_params)
    if data is None and tree.exists(relpath):
        raise ParamsError(f"Params file '{relpath}' is a directory, not a file; fix the path.")
    if data is None:
        raise ParamsError(f"Params file '{relpath}' does not exist; create it or fix the path.")
    return copy.deepcopy(data)  # vars are merged into it; the tree's copy stays intact


def _rel(base: str, name: str) -> str:
    return name if base in ("", ".") else f"{base}/{name}"


def _load_vars(entries: Any, tree: Tree, base: str, where: str, sources: list[str], project: Project) -> dict:
    ctx: dict = {}
    if entries is None:
        return ctx
    if not isinstance(entries, list):
        raise PipelineError(f"'vars' in {where} must be a list of files or mappings.")
    for entry in entries:
        if isinstance(entry, dict):
            _merge_vars(ctx, entry, where)
        elif isinstance(entry, str):
            file, _, keys = entry.partition(":")
            if file.startswith("/"):
                raise PathError(f"{where}, vars: '{file}' is an absolute path; use a params file inside the project.")
            relpath = project.resolve_relpath(file, base, where=f"{where}, vars", follow_links=False)
            sources.append(relpath)
            data = _read_params(tree, relpath)
            if keys:
                data = {k: data[k] for k in keys.split(",") if k in data}
            _merge_vars(ctx, data, where)
        else:
            raise PipelineError(f"Bad 'vars' entry {entry!r} in {where}.")
    return ctx


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def _expand(
    name: str,
    data: dict,
    ctx: dict,
    where: str,
    tree: Tree,
    base: str,
    sources: list[str],
    project: Project,
) -> list[tuple[str, dict]]:
    """``(stage name, resolved definition)`` pairs for one entry of ``stages``."""
    local = copy.deepcopy(ctx)
    if "vars" in data and not ("foreach" in data or "matrix" in data):
        _merge_vars(local, _load_vars(data["vars"], tree, base, where, sources, project), where)
    if "foreach" in data:
        if "do" not in data:
            raise PipelineError(f"Stage '{name}' in {where} has 'foreach' without 'do'.")
        items = interpolate(data["foreach"], ctx, f"stage '{name}' of {where}")
        if isinstance(items, dict):
            pairs = [(str(k), k, v) for k, v in items.items()]
        elif isinstance(items, list):
            pairs = [(_to_text(v, False) if _scalar(v) else str(i), i, v) for i, v in enumerate(items)]
        else:
            raise PipelineError(f"'foreach' of stage '{name}' must be a list or a mapping.")
        result = []
        for suffix, key, item in pairs:
            item_ctx = dict(ctx, item=item, key=key)
            body = interpolate(data["do"], item_ctx, f"stage '{name}@{suffix}' of {where}")
            result.append((f"{name}@{suffix}", body))
        return result
    if "matrix" in data:
        matrix = interpolate(data["matrix"], ctx, f"stage '{name}' of {where}")
        if not isinstance(matrix, dict) or not all(isinstance(v, list) for v in matrix.values()):
            raise PipelineError(f"'matrix' of stage '{name}' must map names to lists.")
        keys = list(matrix)
        result = []
        for combo in itertools.product(*(list(enumerate(matrix[k])) for k in keys)):
            suffix = "-".join(_to_text(v, False) if _scalar(v) else f"{k}{i}" for k, (i, v) in zip(keys, combo))
            item = {k: v for k, (_, v) in zip(keys, combo)}
            body = {k: v for k, v in data.items() if k != "matrix"}
            item_ctx = dict(ctx, item=item)
            result.append((f"{name}@{suffix}", interpolate(body, item_ctx, f"stage '{name}@{suffix}'")))
        return result
    body = {k: v for k, v in data.items() if k != "vars"}
    return [(name, interpolate(body, local, f"stage '{name}' of {where}") if _uses_vars(body) else body)]


def load_pipeline(root: Path, dvcfile: str = DVC_YAML, tree: Tree | None = None) -> Pipeline:
    """Load and resolve ``dvcfile`` (relative to ``root``); empty if it does not exist.

    ``tree`` reads the files (default: the workspace at ``root``).

    Raises:
        YAMLFileError: malformed YAML, with file and line.
        PipelineError: a valid YAML that is not a valid pipeline.
    """
    tree = tree or WorkspaceTree(root)
    project = Project(root)
    data = tree.load(dvcfile, parse_yaml)
    if data is None:
        return Pipeline(dvcfile=dvcfile, stages=(), sources=(dvcfile,))
    data = data or {}
    if not isinstance(data, dict):
        raise PipelineError(f"{dvcfile} must be a mapping with 'stages'.")
    unknown = set(data) - TOP_LEVEL_KEYS
    if unknown:
        raise PipelineError(f"{dvcfile} has unknown top-level key '{sorted(unknown)[0]}'; did you mean 'stages'?")
    stages_data = data.get("stages") or {}
    if not isinstance(stages_data, dict):
        raise PipelineError(f"'stages' in {dvcfile} must be a mapping of stage names.")
    base = str(Path(dvcfile).parent)
    ctx: dict = {}
    sources = [dvcfile]
    if _uses_vars(stages_data):
        default_params = _rel(base, DEFAULT_PARAMS_FILE)
        sources.append(default_params)
        if tree.exists(default_params):
            ctx = _read_params(tree, default_params)
        _merge_vars(ctx, _load_vars(data.get("vars"), tree, base, dvcfile, sources, project), dvcfile)

    stages: list[Stage] = []
    groups: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for name, definition in stages_data.items():
        name = str(name)
        if not isinstance(definition, dict):
            raise PipelineError(f"Stage '{name}' in {dvcfile} must be a mapping with a 'cmd'.")
        expanded = _expand(name, definition, ctx, dvcfile, tree, base, sources, project)
        if "foreach" in definition or "matrix" in definition:
            groups[name] = tuple(n for n, _ in expanded)
        for stage_name, body in expanded:
            if stage_name in seen:
                raise PipelineError(f"Stage '{stage_name}' is defined twice in {dvcfile}.")
            seen.add(stage_name)
            stages.append(build_stage(stage_name, body, dvcfile, len(stages), project))

    return Pipeline(
        dvcfile=dvcfile,
        stages=tuple(stages),
        params=tuple(
            project.resolve_relpath(p, base, where=f"{dvcfile}, params", follow_links=False)
            for p in data.get("params") or []
            if isinstance(p, str)
        ),
        metrics=tuple(
            project.resolve_relpath(m, base, where=f"{dvcfile}, metrics", follow_links=False)
            for m in data.get("metrics") or []
        ),
        plots=tuple(data.get("plots") or []),
        groups=groups,
        sources=tuple(dict.fromkeys(sources)),
    )


# -- every dvc.yaml of the project, as DVC collects them --------------------------------
#
# DVC 3 (repo/index.py ``collect_files``) walks the work tree top-down without following
# symlinks and: skips ``.git`` and ``.dvc`` anywhere, what ``.dvcignore`` ignores and
# sub-repositories (a directory holding a ``.dvc`` directory of its own); takes a
# ``dvc.yaml`` git does not ignore; does not descend into a git-ignored directory or
# into an output of a stage it has already collected.

_LISTINGS: dict[str, list[str]] = {}  # commit SHA -> dvc.yaml paths in its tree


def _ignored_by_git(project: Project) -> tuple[set[str], set[str]]:
    """Git-ignored (files, directories) of the work tree, from one ``git ls-files``."""
    files, dirs = set(), set()
    for item in project.git.ignored_paths():
        if item.endswith("/"):
            dirs.add(item.rstrip("/"))
        elif item:
            files.add(item)
    return files, dirs


@dataclass(frozen=True)
class Pipelines:
    """Every pipeline of the work tree, loaded once per command and passed down.

    ``walked`` are the directories searched: where a new ``dvc.yaml`` would appear (for
    the up-to-date stamp).
    """

    items: tuple[Pipeline, ...]
    walked: tuple[str, ...] = ()

    @property
    def stages(self) -> list[Stage]:
        return [stage for pipeline in self.items for stage in pipeline.stages]

    def reads(self, relpaths: list[str] | set[str]) -> bool:
        """Whether building these pipelines read any of ``relpaths`` (then, once they
        changed, e.g. by ``-S`` overrides, the pipelines must be loaded again)."""
        wanted = set(relpaths)
        return any(source in wanted for pipeline in self.items for source in pipeline.sources)

    def graph(self) -> Graph:
        """One graph over every stage, as DVC collects them.

        Raises:
            OutputDuplicatedError, CyclicGraphError.
        """
        stages: list[Stage] = []
        groups: dict[str, tuple[str, ...]] = {}
        sources: list[str] = [DVC_YAML]
        for pipeline in self.items:
            prefix = "" if pipeline.dvcfile == DVC_YAML else f"{pipeline.dvcfile}:"
            for stage in pipeline.stages:
                stages.append(dataclasses.replace(stage, index=len(stages)))
            for name, members in pipeline.groups.items():
                groups[prefix + name] = tuple(prefix + m for m in members)
            sources += pipeline.sources
        return build_graph(
            stages,
            groups,
            tuple(dict.fromkeys(sources)),
            dvcfiles=tuple(p.dvcfile for p in self.items),
            walked=self.walked,
        )


def walk_pipelines(project: Project) -> Pipelines:
    """Every pipeline of the work tree, as DVC walks it.

    Raises:
        YAMLFileError, PipelineError, PathError: as :func:`load_pipeline`, for any file.
    """
    import os

    from .ignore import DvcIgnore

    root = project.root
    ignore = DvcIgnore(root)
    ignored_files, ignored_dirs = _ignored_by_git(project)
    pipelines: list[Pipeline] = []
    walked: list[str] = []
    outs: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        walked.append(rel)
        base = Path(dirpath)
        chain = ignore._chain(base)
        if DVC_YAML in filenames:
            relfile = _rel(rel, DVC_YAML)
            if relfile not in ignored_files and not (chain and ignore.ignored(base / DVC_YAML, False, chain)):
                pipeline = load_pipeline(root, relfile)
                pipelines.append(pipeline)
                outs.update(o.path for s in pipeline.stages for o in s.outs)
        keep = []
        for name in sorted(dirnames):
            sub = _rel(rel, name)
            if name in (".git", ".dvc") or sub in ignored_dirs or sub in outs:
                continue
            if (base / name / ".dvc").is_dir() or (chain and ignore.ignored(base / name, True, chain)):
                continue
            keep.append(name)
        dirnames[:] = keep  # os.walk does not follow symlinked directories
    return Pipelines(tuple(pipelines), tuple(walked))


def _git_listing(project: Project, tree: Tree) -> list[str]:
    """``dvc.yaml`` paths in a commit's tree (outside ``.dvc``/``.git``, sub-repositories
    and what the tree's ``.dvcignore`` files ignore), cached by commit (on disk too)."""
    from .listings import cached, remember

    git, rev = tree.git, tree.rev  # type: ignore[attr-defined]
    # A full SHA names itself: no git process to resolve it (plots diff of N experiments lists N commits).
    sha = rev if len(rev) == 40 and all(c in "0123456789abcdef" for c in rev) else git.rev_parse(rev) or rev
    if sha in _LISTINGS:
        return _LISTINGS[sha]
    is_sha = len(sha) == 40 and all(c in "0123456789abcdef" for c in sha)
    known = cached(project, sha) if is_sha else None
    if known is not None:
        _LISTINGS[sha] = known
        return known
    names = git.ls_tree(sha, check=False)
    subrepos = {n.split("/.dvc/", 1)[0] for n in names if "/.dvc/" in n}
    found = []
    for name in names:
        parts = name.split("/")
        if parts[-1] != DVC_YAML or ".git" in parts or ".dvc" in parts[:-1]:
            continue
        if any("/".join(parts[:i]) in subrepos for i in range(1, len(parts))):
            continue
        if not _tree_ignored(tree, parts):
            found.append(name)
    found.sort(key=lambda p: (p.count("/"), p))
    if len(_LISTINGS) > 4096:
        _LISTINGS.clear()
    _LISTINGS[sha] = found
    if is_sha and names:  # (no names: a commit git does not have, or an empty tree)
        remember(project, sha, found)
    return found


def _tree_ignored(tree: Tree, parts: list[str]) -> bool:
    """Whether the ``.dvcignore`` files of ``tree`` ignore the path ``parts`` or a parent."""
    import pathspec

    from .ignore import _pattern_kind

    for depth in range(len(parts)):
        base = "/".join(parts[:depth])
        raw = tree.read(_rel(base, ".dvcignore") if base else ".dvcignore")
        if not raw:
            continue
        spec = pathspec.PathSpec.from_lines(_pattern_kind(), raw.decode("utf-8", "replace").splitlines())
        for end in range(depth + 1, len(parts) + 1):
            rel = "/".join(parts[depth:end]) + ("/" if end < len(parts) else "")
            if spec.match_file(rel):
                return True
    return False


def collect_dvcfiles(project: Project, tree: Tree | None = None) -> list[str]:
    """Project-relative paths of every ``dvc.yaml`` DVC would collect, root first.

    ``tree`` is a revision to list (a GitTree); default the work tree.
    """
    if tree is None or isinstance(tree, WorkspaceTree):
        return [p.dvcfile for p in walk_pipelines(project).items]
    if hasattr(tree, "git") and hasattr(tree, "rev"):
        return _git_listing(project, tree)
    return [DVC_YAML] if tree.exists(DVC_YAML) else []


def load_all(project: Project, tree: Tree | None = None) -> list[Pipeline]:
    """Every pipeline of the project (see :func:`collect_dvcfiles`), root first.

    Raises:
        YAMLFileError, PipelineError, PathError: as :func:`load_pipeline`, for any file.
    """
    if tree is None or isinstance(tree, WorkspaceTree):
        return list(walk_pipelines(project).items)
    pipelines = [load_pipeline(project.root, f, tree=tree) for f in collect_dvcfiles(project, tree)]
    # As the walk: no dvc.yaml inside another one's stage output.
    outs = [o.path for p in pipelines for s in p.stages for o in s.outs]
    return [p for p in pipelines if not any(p.dvcfile.startswith(out + "/") for out in outs)]
