"""``diff``: DVC-tracked data added, deleted, modified or renamed between two revisions.

As ``dvc diff [a_rev] [b_rev]``: each side is a flat index of the cached outputs
(``dvc.lock`` and ``.dvc`` files) and, for a directory output, the files its manifest
lists; the workspace side (no ``b_rev``) hashes what is on disk. Entries compare by
hash and by being a directory; an added and a deleted entry with the same hash are a
rename. Against the workspace, entries of ``a_rev`` whose objects the cache lacks are
reported as "not in cache". The result has DVC's ``--json`` shape; :func:`render_text`
and :func:`render_markdown` print it as ``dvc diff`` does.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import NamedTuple

from ..errors import CheckoutError, PathError, UnknownRevisionError
from ..project import Project
from ..tree import GitTree
from .cache import Cache, open_cache
from .dvcfile import walk_pipelines
from .freeze import _cwd
from .tracked import _dvc_files, collect_tracked, read_dvc_file

STATES = ("added", "deleted", "modified", "renamed", "not in cache")
SHOWN = ("added", "deleted", "renamed", "modified", "not in cache")  # the order DVC prints them in


class Entry(NamedTuple):
    md5: str | None
    isdir: bool


Index = dict[str, Entry]  # project path -> entry; directory contents as "dir/file"


def _add_output(index: Index, unknown: set[str], cache: Cache, path: str, md5: str, isdir: bool) -> None:
    index[path] = Entry(md5, isdir)
    if not isdir:
        return
    try:
        manifest = cache.read_manifest(md5)
    except CheckoutError:  # the listing is missing: its files are unknown, not deleted
        unknown.add(path)
        return
    for item in manifest:
        index[f"{path}/{item['relpath']}"] = Entry(item["md5"], False)


def rev_index(project: Project, cache: Cache, sha: str) -> tuple[Index, set[str]]:
    """(index, directories whose contents are unknown) of commit ``sha``."""
    index: Index = {}
    unknown: set[str] = set()
    for item in collect_tracked(project, GitTree(project.git, sha)):
        _add_output(index, unknown, cache, item.path, item.info.md5, item.info.isdir)
    return index, unknown


def workspace_index(project: Project, cache: Cache) -> Index:
    """The workspace's index: every cached output hashed as it is now."""
    outputs: list[str] = []
    for dvc_file in _dvc_files(project):
        name = dvc_file.relative_to(project.root).as_posix()
        if dvc_file.is_file():
            outputs.extend(t.path for t in read_dvc_file(project, name))
    for stage in walk_pipelines(project).stages:
        outputs.extend(o.path for o in stage.outs if o.cache)
    index: Index = {}
    for path in dict.fromkeys(outputs):
        found = cache.hasher.hash_tree(project.root / path)
        if found is None:
            continue
        info, files = found
        index[path] = Entry(info.md5, info.isdir)
        for rel, _, md5, _ in files if info.isdir else []:
            index[f"{path}/{rel}"] = Entry(md5, False)
    cache.hasher.flush()
    return index


def _shown_path(path: str, entry: Entry) -> str:
    return path + "/" if entry.isdir else path


def _select(index: Index, targets: list[str] | None) -> Index:
    if not targets:
        return index
    return {k: v for k, v in index.items() if any(k == t or k.startswith(t + "/") for t in targets)}


def compare(old: Index, new: Index, unknown: set[str], cache: Cache | None = None) -> dict[str, list[dict]]:
    """DVC's diff of two indexes (``cache``: report entries of ``old`` it lacks)."""
    result: dict[str, list[dict]] = {state: [] for state in STATES}
    added, deleted = [], []
    for key in sorted(old.keys() | new.keys()):
        if any(key.startswith(u + "/") for u in unknown):
            continue
        before, after = old.get(key), new.get(key)
        if (before and before.isdir and not before.md5) or (after and after.isdir and not after.md5):
            continue
        if before is None and after is not None:
            added.append((key, after))
        elif after is None and before is not None:
            deleted.append((key, before))
        elif before is not None and after is not None and before != after:
            result["modified"].append({"path": _shown_path(key, before), "hash": {"old": before.md5, "new": after.md5}})
        if cache is not None and before is not None and before.md5 and not cache.exists(before.md5):
            result["not in cache"].append({"path": _shown_path(key, before), "hash": before.md5})
    waiting: dict[Entry, deque] = defaultdict(deque)
    for key, entry in deleted:
        waiting[entry].append(key)
    for key, entry in added:
        if entry.md5 and waiting.get(entry):
            was = waiting[entry].popleft()
            result["renamed"].append(
                {"path": {"old": _shown_path(was, entry), "new": _shown_path(key, entry)}, "hash": entry.md5}
            )
        else:
            result["added"].append({"path": _shown_path(key, entry), "hash": entry.md5})
    for entry, keys in waiting.items():
        for key in keys:
            result["deleted"].append({"path": _shown_path(key, entry), "hash": entry.md5})
    return result if any(result.values()) else {}


def _sha(project: Project, rev: str) -> str:
    sha = project.git.rev_parse(rev)
    if sha is None:
        raise UnknownRevisionError(f"Unknown revision '{rev}'; name a commit, branch or tag.")
    return sha


def data_diff(
    project: Project,
    a_rev: str = "HEAD",
    b_rev: str | None = None,
    targets: list[str] | None = None,
    show_hash: bool = False,
    hide_missing: bool = False,
) -> dict[str, list[dict]]:
    """``dvc diff``'s result: ``{state: [{"path": ..., ["hash": ...]}]}`` sorted by path,
    ``{}`` when nothing differs. ``b_rev`` None compares with the workspace.

    Raises:
        UnknownRevisionError: a revision names no commit. PathError: a target outside
            the project or tracked on neither side. YAMLFileError, PipelineError: a bad
            DVC file on either side.
    """
    if project.git.head() is None:
        return {}
    cwd = _cwd(project)
    wanted = [project.resolve_relpath(t, cwd, where="--targets", follow_links=False) for t in targets or []]
    cache = open_cache(project)
    a_sha = _sha(project, a_rev)
    b_sha = _sha(project, b_rev) if b_rev else None
    if a_sha == b_sha:
        return {}
    old, unknown = rev_index(project, cache, a_sha)
    if b_sha is None:
        new = workspace_index(project, cache)
    else:
        new, more_unknown = rev_index(project, cache, b_sha)
        unknown |= more_unknown
    for target in wanted:
        if not _select(old, [target]) and not _select(new, [target]):
            raise PathError(f"--targets: '{target}' is tracked on neither side; name a DVC-tracked path.")
    old, new = _select(old, wanted), _select(new, wanted)
    result = compare(old, new, unknown, cache if b_sha is None else None)
    if hide_missing or b_rev:
        result.pop("not in cache", None)
    for entries in result.values():
        entries.sort(key=lambda e: e["path"]["old"] if isinstance(e["path"], dict) else e["path"])
        if not show_hash:
            for entry in entries:
                del entry["hash"]
    return result


def _digest(value: str | dict | None) -> str:
    if isinstance(value, dict):
        return f"{(value['old'] or '')[:8]}..{(value['new'] or '')[:8]}"
    return (value or "")[:8]


def _path_text(entry: dict) -> str:
    path = entry["path"]
    return f"{path['old']} -> {path['new']}" if isinstance(path, dict) else path


def render_json(result: dict) -> str:
    """``dvc diff --json``."""
    return json.dumps(result)


def render_text(result: dict, hide_missing: bool = False) -> str:
    """``dvc diff``'s text: one block per state, then a summary of the files."""
    if not result:
        return ""
    lines: list[str] = []
    summary: dict[str, int] = {}
    states = [s for s in SHOWN if s != "not in cache" or not hide_missing]
    for state in states:
        summary[state] = 0
        entries = result.get(state) or []
        if not entries:
            continue
        lines.append(f"{state.capitalize()}:")
        for entry in entries:
            path = _path_text(entry)
            summary[state] += 0 if path.endswith("/") else 1
            digest = f"{_digest(entry['hash'])}  " if entry.get("hash") else ""
            lines.append(f"    {digest}{path}")
        lines.append("")
    if sum(summary.values()):
        lines.append("files summary: " + ", ".join(f"{n} {s}" for s, n in summary.items() if n))
    return "\n".join(lines) + "\n"


def render_markdown(result: dict, show_hash: bool = False, hide_missing: bool = False) -> str:
    """``dvc diff --md``: a GitHub-flavoured table of status (hash) and path."""
    headers = ["Status", "Hash", "Path"] if show_hash else ["Status", "Path"]
    rows = []
    for state in SHOWN:
        if state == "not in cache" and hide_missing:
            continue
        for entry in result.get(state) or []:
            row = [state, _digest(entry.get("hash")), _path_text(entry)] if show_hash else [state, _path_text(entry)]
            rows.append(row)
    # As tabulate lays it out: a column is at least its header plus two spaces wide.
    widths = [max([len(h) + 2] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.extend("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows)
    return "\n".join(lines) + "\n\n"  # DVC's table ends with an empty line
