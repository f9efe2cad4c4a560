"""A repeated ``exp show`` answered from the last answer, when nothing it read moved.

The output of ``exp show`` is a function of the refs (every commit is immutable),
of the files the workspace row read, and of the flags. We keep the last output per
set of flags with a fingerprint: the refs as one ``git for-each-ref`` prints them,
and the (inode, size, mtime) of the workspace files. If both are the same, the
same text is printed without loading the engine; anything else recomputes. Outputs
with an error row are never kept (a pull or a fetch may mend them). The text table's
dates depend on the day, so the day is part of the key. As with the up-to-date
stamp, a recorded output answers only in the project that wrote it (not in a copy
made with ``cp -a``, which keeps the sizes and mtimes of the files it read).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import zlib
from pathlib import Path

from ..pipeline.stat_keys import load_stamp, save_stamp, stat_key
from ..project import Project
from ..refs import SHOWN_NAMESPACES

STAMP_VERSION = 2
REF_PREFIXES = SHOWN_NAMESPACES  # experiments, branches, tags, our own refs, the notes


def _refs(project: Project) -> str:
    """Every ref that can change the table, with the checked-out branch marked."""
    rows = project.git.for_each_ref(SHOWN_NAMESPACES, ["HEAD", "objectname", "refname"])
    out = "".join(" ".join(row) + "\n" for row in rows)
    if not any(row[0] == "*" for row in rows):
        out += "HEAD " + (project.git.head() or "") + "\n"  # detached (or unborn) HEAD
    return out


def _path(project: Project, options: dict) -> Path:
    key = zlib.crc32(json.dumps(options, sort_keys=True).encode())
    return project.show_output_dir / f"{key:08x}.json"


def _code_key() -> list[int]:
    """The engine that rendered an output: an upgrade (or an edited checkout) must not
    be answered with what the old code printed. ``version.py`` stands for the version:
    its file is read here, not imported (nothing else is needed of it)."""
    here = Path(__file__).resolve().parent
    found = []
    for path in (
        here / "show.py",
        here / "show_output.py",
        here / "collect.py",
        here / "commit_reader.py",
        here / "commit_cache.py",
        here / "records.py",
        here / "history.py",
        here / "columns.py",
        here / "annotations.py",
        here / "notes.py",
        here.parent / "params_metrics.py",
        here.parent / "revision.py",
        here.parent / "version.py",
        here.parent / "values.py",
        here.parent / "render" / "text.py",
        here.parent / "render" / "json.py",
    ):
        with contextlib.suppress(OSError):
            info = path.stat()
            found += [info.st_mtime_ns, info.st_size]
    return found


def _options(options: dict) -> dict:
    return dict(options, day=dt.date.today().isoformat(), version=STAMP_VERSION, code=_code_key())


# The refs each lookup saw, by output path, for the record that follows it: the refs an
# output is recorded under are those read before the rows were collected. Read after,
# a ref deleted (or moved) while collecting would stamp the old table as current.
_refs_seen: dict[str, str] = {}


def lookup(project: Project, options: dict) -> str | None:
    """The recorded output for ``options`` if neither refs nor workspace files moved."""
    options = _options(options)
    refs = _refs_seen[str(_path(project, options))] = _refs(project)
    data = load_stamp(_path(project, options), project.own_tmp_dir, {"options": options, "refs": refs})
    if data is None:
        return None
    try:
        output = _path(project, options).with_suffix(".out").read_text()
        return output if zlib.crc32(output.encode()) == data["output_crc"] else None
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing or damaged: recompute (and record anew)


def file_stats(workspace_files: list[Path]) -> dict:
    """The stats of the workspace files an ``exp show`` is about to read. Taken *before*
    it reads them (as :func:`lookup` reads the refs): a file that changes while the show
    collects leaves the recorded stats behind, and the next show recomputes."""
    return {str(p): stat_key(str(p)) for p in workspace_files}


def record(project: Project, options: dict, output: str, stats: dict) -> None:
    """Remember ``output`` for ``options`` with the refs :func:`lookup` saw and the file
    ``stats`` taken, both before the output was computed."""
    options = _options(options)
    refs = _refs_seen.pop(str(_path(project, options)), None)
    data = {
        "options": options,
        "refs": refs if refs is not None else _refs(project),
        "stats": stats,
        "output_crc": zlib.crc32(output.encode()),
    }
    # The output sits beside its fingerprint, unescaped; the checksum ties the two.
    target = _path(project, options)
    save_stamp(target, project.own_tmp_dir, data, beside=(target.with_suffix(".out"), output))
