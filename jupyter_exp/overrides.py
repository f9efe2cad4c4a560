"""``-S [file:]key=value`` overrides with Hydra's grammar, applied in struct mode.

``key=value`` must name an existing key, ``+key=value`` adds one, ``++key=value``
adds or sets, ``~key`` deletes. The file prefix counts only when ``:`` comes before
the first ``=``. Sweeps (``a=1,2``, ``range()``, ``choice()``) expand into one
override set per combination, the product across keys and files.

Hydra is imported only for overrides beyond plain ``key=scalar`` (see ``_simple``):
it costs ~100 ms.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import OverrideSyntaxError, ParamsError, option
from .params import DEFAULT_PARAMS_FILE, parse_params, read_params_text, render_params
from .serialize import write_text_atomic

# file -> override strings for that file
OverrideSet = dict[str, list[str]]


def group_by_file(set_params: list[str]) -> OverrideSet:
    """Split ``[file:]override`` strings into overrides per params file."""
    grouped: OverrideSet = {}
    for item in set_params:
        eq = item.find("=")
        colon = item.find(":")
        if colon != -1 and (eq == -1 or colon < eq):
            path, override = item[:colon], item[colon + 1 :]
        else:
            path, override = DEFAULT_PARAMS_FILE, item
        if not override:
            raise OverrideSyntaxError(
                f"Empty override in '{option('set_params', item)}'; use {option('set_params', '[file:]key=value')}."
            )
        grouped.setdefault(path, []).append(override)
    return grouped


def format_override(key: str, value: object) -> str:
    """``key=value`` in Hydra's grammar for a Python value (``+``/``file:`` prefixes kept)."""
    return f"{key}={literal(value)}"


def literal(value: object) -> str:
    """A Python value as Hydra's grammar reads it back (strings always quoted)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{literal(v)}" for k, v in value.items()) + "}"
    raise OverrideSyntaxError(f"Cannot pass a {type(value).__name__} as a param; use str, number, bool, list or dict.")


def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def _parse(overrides: list[str]):
    from hydra.errors import OverrideParseException

    try:
        return _parser().parse_overrides(overrides)
    except OverrideParseException as exc:
        first = str(exc).strip().splitlines()[0]
        bad = next((o for o in overrides if _fails(o)), ", ".join(overrides))
        raise OverrideSyntaxError(
            f"Bad override '{bad}': {first}; use key=value in Hydra syntax (quote strings with spaces)."
        ) from None


def _fails(override: str) -> bool:
    from hydra.errors import OverrideParseException

    try:
        _parser().parse_overrides([override])
    except OverrideParseException:
        return True
    return False


# The common override, ``a.b=0.01`` or ``a.b=relu``, read without Hydra (importing it
# costs ~100 ms, a third of a CLI `exp run`). Only forms whose reading by Hydra's
# grammar is plain are taken; anything else goes to Hydra. tests/test_params.py checks,
# by property, that both readings agree.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?(((0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|(0|[1-9][0-9]*)[eE][+-]?[0-9]+)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_WORDS = {"true", "false", "null", "inf", "nan"}


def _simple(override: str) -> tuple[list[str], object] | None:
    """``(key path, value)`` of a plain ``key=scalar`` override, or None."""
    key, eq, text = override.partition("=")
    if not eq or not _KEY.fullmatch(key):
        return None
    if _INT.fullmatch(text):
        return key.split("."), int(text)
    if _FLOAT.fullmatch(text):
        return key.split("."), float(text)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return key.split("."), lowered == "true"
    if lowered == "null":
        return key.split("."), None
    if _WORD.fullmatch(text) and lowered not in _SPECIAL_WORDS:
        return key.split("."), text
    return None


def _apply_simple(data: dict, overrides: list[str]) -> dict | None:
    """``data`` with plain overrides of existing scalar params set, or None when one
    of them needs Hydra (other forms, unknown keys, non-scalar targets)."""
    result = copy.deepcopy(data)
    for override in overrides:
        parsed = _simple(override)
        if parsed is None:
            return None
        path, value = parsed
        node: Any = result
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node or isinstance(node[path[-1]], (dict, list)):
            return None
        node[path[-1]] = value
    return result


def is_sweep(set_params: list[str]) -> bool:
    """Whether any override expands to several values."""
    grouped = group_by_file(set_params)
    if all(_simple(o) is not None for overrides in grouped.values() for o in overrides):
        return False
    return any(o.is_sweep_override() for overrides in grouped.values() for o in _parse(overrides))


def expand_sweeps(set_params: list[str]) -> list[OverrideSet]:
    """One OverrideSet per combination of the sweep values, product across files.

    ``["lr=1,2", "other.yaml:e=range(1,3)"]`` gives four sets. Without sweeps the
    result is the single set of the given overrides.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    grouped = group_by_file(set_params)
    per_file: list[list[tuple[str, list[str]]]] = []
    for path, overrides in grouped.items():
        parsed = _parse(overrides)
        if any(
            o.is_sweep_override() and o.value_type is not None and "glob" in str(o.value_type).lower() for o in parsed
        ):
            raise OverrideSyntaxError("Glob sweeps are not supported; list the values instead.")
        try:
            batches = BasicSweeper.split_arguments(parsed, None)
        except Exception as exc:  # Hydra raises plain ValueError/TypeError for bad ranges.
            raise OverrideSyntaxError(f"Bad sweep in {path}: {exc}; check range()/choice() arguments.") from None
        combos = [combo for batch in batches for combo in batch]
        per_file.append([(path, list(combo)) for combo in combos])
    return [dict(product) for product in itertools.product(*per_file)]


def apply_to_data(data: dict, overrides: list[str], path: str) -> dict:
    """Apply non-sweep overrides to params ``data`` in struct mode; return new data."""
    simple = _apply_simple(data, overrides)
    return simple if simple is not None else _apply_with_hydra(data, overrides, path)


def _apply_with_hydra(data: dict, overrides: list[str], path: str) -> dict:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.errors import ConfigCompositionException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    parsed = _parse(overrides)
    for override in parsed:
        if override.is_sweep_override():
            raise OverrideSyntaxError(
                f"Sweep override '{override.input_line}' needs the queue; "
                f"queue it with {option('queue')} or give one value."
            )
    cfg = OmegaConf.create(data)
    OmegaConf.set_struct(cfg, True)
    try:
        ConfigLoaderImpl._apply_overrides_to_config(parsed, cfg)
    except (ConfigCompositionException, OmegaConfBaseException) as exc:
        raise ParamsError(_explain(str(exc), path)) from None
    container = OmegaConf.to_container(cfg)
    assert isinstance(container, dict)  # made from a dict above
    return container


def _explain(message: str, path: str) -> str:
    first = message.strip().splitlines()[0]
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        return f"Unknown param '{key}' in {path}; use {option('set_params', f'+{key}=VALUE')} to add it."
    if first.startswith("Could not append to config. An item is already at '"):
        key = first.split("'")[1]
        return f"Param '{key}' already exists in {path}; use {option('set_params', f'{key}=VALUE')} or ++{key}=VALUE."
    if "Key" in first and "not" in first.lower():
        return f"{first} in {path}; check the key name."
    return f"{first} ({path}); check the override."


def overridden_texts(
    root: str | os.PathLike, overrides: OverrideSet, read: Callable[[str], str | None] | None = None
) -> dict[str, str]:
    """The new text of each params file an OverrideSet changes, nothing written.

    ``read`` gives a params file's current text (default: the file under ``root``), so
    overrides can apply to a commit's files too. A file that does not exist yet is
    created (DVC does the same for ``+key`` on a new file). Every override is checked
    here, so a bad one changes nothing.
    """
    root = Path(root)
    texts: dict[str, str] = {}
    for name, file_overrides in overrides.items():
        path = root / name
        if not path.resolve().is_relative_to(root.resolve()):
            raise ParamsError(f"Params file '{name}' is outside the project; use a path inside it.")
        if read is not None:
            old = read(name)
        else:
            old = read_params_text(path) if path.exists() else None
        data = parse_params(old, name) if old is not None else {}
        texts[name] = render_params(name, old, apply_to_data(data, file_overrides, name))
    return texts


def apply_overrides(root: str | os.PathLike, overrides: OverrideSet) -> list[str]:
    """Apply an OverrideSet to the params files under ``root``; return the files changed."""
    texts = overridden_texts(root, overrides)
    for name, text in texts.items():
        write_text_atomic(Path(root) / name, text)
    return list(texts)
