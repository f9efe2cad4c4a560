"""The run-cache: outputs of a stage's earlier runs, keyed by its exact inputs.

Layout and keys follow DVC: ``<cache>/runs/<key[:2]>/<key>/<value>`` where ``key``
is the SHA-256 of the lock entry with its outputs reduced to their paths and
``value`` the SHA-256 of the whole entry (both JSON with sorted keys, ``size`` and
``nfiles`` left out). The file holds the lock entry as YAML.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import YAMLFileError
from ..serialize import dump_yaml_text, load_yaml, write_text_atomic
from .stage import Stage

_EXCLUDED = ("size", "nfiles")


def _filtered(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _filtered(v) for k, v in data.items() if k not in _EXCLUDED}
    if isinstance(data, list):
        return [_filtered(v) for v in data]
    return data


def dict_sha256(data: dict) -> str:
    text = json.dumps(_filtered(data), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def can_cache(stage: Stage) -> bool:
    """Whether DVC would keep this stage in the run-cache.

    As in DVC: it needs dependencies (files or params) and outs, no persist (or checkpoint) outputs, and no
    uncached plain ``outs``; uncached metrics and plots are allowed (they are copied
    into the cache so a restore can bring them back).
    """
    return bool(
        (stage.deps or stage.params)  # params are dependencies too
        and stage.outs
        and not stage.always_changed
        and not any(out.persist or out.checkpoint for out in stage.outs)
        and all(out.cache for out in stage.outs if out.kind == "outs")
    )


def run_key(entry: dict) -> str:
    keyed = copy.deepcopy(entry)
    keyed["outs"] = [out["path"] if isinstance(out, dict) else out for out in entry.get("outs", [])]
    return dict_sha256(keyed)


class RunCache:
    def __init__(self, cache_dir: Path) -> None:
        self.dir = cache_dir / "runs"

    def lookup(self, key_entry: dict) -> dict | None:
        """The newest recorded entry whose inputs equal ``key_entry``'s, if any."""
        key = run_key(key_entry)
        folder = self.dir / key[:2] / key
        try:
            candidates = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        except FileNotFoundError:
            return None
        for candidate in candidates:
            if candidate.name.startswith("."):
                continue
            try:
                entry = load_yaml(candidate)
            except YAMLFileError:
                continue
            if isinstance(entry, dict) and entry.get("outs"):
                return entry
        return None

    def save(self, entry: dict) -> None:
        key = run_key(entry)
        value = dict_sha256(entry)
        folder = self.dir / key[:2] / key
        target = folder / value
        if target.exists():
            return
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, dump_yaml_text(entry))
