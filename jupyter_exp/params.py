"""Params files: read YAML, JSON, TOML and ``.py``; write them back round-trip.

YAML keeps comments and key order (ruamel round-trip), TOML keeps comments
(tomlkit), JSON is written compactly as DVC writes it, and ``.py`` files are
patched line by line (only literal assignments, as DVC supports).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

from .errors import ParamsError
from .serialize import parse_json, parse_toml, parse_yaml, read_text, write_text_atomic

DEFAULT_PARAMS_FILE = "params.yaml"
MISSING = object()


def params_format(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    return {".json": "json", ".toml": "toml", ".py": "py"}.get(suffix, "yaml")


def read_params(path: str | os.PathLike) -> dict:
    """The contents of a params file as plain data.

    Raises:
        ParamsError: the file is missing or not a mapping.
        YAMLFileError: the file does not parse, is not UTF-8 or is a directory.
    """
    path = Path(path)
    try:
        text = read_text(path, path.name)
    except FileNotFoundError:
        raise ParamsError(f"Params file '{path.name}' does not exist; create it or fix the path.") from None
    return parse_params(text, str(path))


def parse_params(text: str, name: str) -> dict:
    """Parse params (or metrics) text; the format follows ``name``'s extension."""
    fmt = params_format(name)
    if fmt == "json":
        data = parse_json(text, name)
    elif fmt == "toml":
        data = parse_toml(text, name)
    elif fmt == "py":
        data = _parse_py(text, name)
    else:
        data = parse_yaml(text, name)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(f"'{name}' must hold a mapping at the top level.")
    return data


def lookup(data: Any, key: str) -> Any:
    """The value at a dotted ``key`` (``train.lr``, ``layers.0``), or ``MISSING``."""
    node = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def has_key(data: Any, key: str) -> bool:
    return lookup(data, key) is not MISSING


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay values."""
    flat: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                flat.update(flatten(value, f"{name}."))
            else:
                flat[name] = value
    return flat


def write_params(path: str | os.PathLike, new: dict) -> None:
    """Write ``new`` into the params file at ``path``, keeping its comments and order."""
    path = Path(path)
    old = read_text(path, path.name) if path.exists() else None
    write_text_atomic(path, render_params(path.name, old, new))


def render_params(name: str, old_text: str | None, new: dict) -> str:
    """The text of params file ``name`` (currently ``old_text``, None if new) holding ``new``,
    with the comments and order of ``old_text`` kept."""
    fmt = params_format(name)
    if fmt == "json":
        return json.dumps(new)
    if fmt == "toml":
        import tomlkit

        doc = tomlkit.parse(old_text) if old_text is not None else tomlkit.document()
        _merge_into(doc, new)
        return tomlkit.dumps(doc)
    if fmt == "py":
        return _render_py(name, old_text or "", new)
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    doc = yaml.load(old_text) if old_text is not None else None
    if doc is None:
        doc = {}
    _merge_into(doc, new)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if not isinstance(a, (dict, list)) else a == b


def _merge_into(doc: Any, new: dict) -> None:
    """Make the round-trip mapping ``doc`` equal to ``new``, touching only what differs."""
    for key in [k for k in doc if k not in new]:
        del doc[key]
    for key, value in new.items():
        current = doc[key] if key in doc else MISSING
        if isinstance(value, dict) and isinstance(current, dict):
            _merge_into(current, value)
        elif current is MISSING or not _same(_plain(current), value):
            doc[key] = value


def _plain(value: Any) -> Any:
    if hasattr(value, "unwrap"):  # tomlkit items
        return value.unwrap()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- .py params files --------------------------------------------------------------
def _py_assignments(tree: ast.Module) -> dict[tuple[str, ...], ast.AST]:
    """Literal assignments at module level and in top-level classes, by key path."""
    found: dict[tuple[str, ...], ast.AST] = {}

    def visit(body: list[ast.stmt], prefix: tuple[str, ...]) -> None:
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if node.value is None:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name):
                        try:
                            ast.literal_eval(node.value)
                        except ValueError:
                            continue
                        found[prefix + (target.id,)] = node.value
            elif isinstance(node, ast.ClassDef) and not prefix:
                visit(node.body, (node.name,))

    visit(tree.body, ())
    return found


def _parse_py(text: str, name: str) -> dict:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ParamsError(f"{name}, line {exc.lineno}: {exc.msg}; fix the Python syntax.") from None
    data: dict = {}
    for keys, value in _py_assignments(tree).items():
        node = data
        for part in keys[:-1]:
            node = node.setdefault(part, {})
        node[keys[-1]] = ast.literal_eval(value)
    return data


def _render_py(name: str, text: str, new: dict) -> str:
    tree = ast.parse(text)
    assignments = _py_assignments(tree)
    old_flat = dict(_flatten_paths(_parse_py(text, name)))
    new_flat = dict(_flatten_paths(new))
    if set(new_flat) - set(old_flat) or set(old_flat) - set(new_flat):
        raise ParamsError(
            f"'{name}' is a Python params file: only existing literal values can be changed."
        )
    lines = text.splitlines(keepends=True)
    # Patch from the bottom up so earlier offsets stay valid.
    edits = []
    for keys, value in new_flat.items():
        if old_flat[keys] == value and type(old_flat[keys]) is type(value):
            continue
        node = assignments[keys]
        edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, repr(value)))
    for lineno, col, end_lineno, end_col, replacement in sorted(edits, reverse=True):
        first, last = lines[lineno - 1], lines[end_lineno - 1]
        lines[lineno - 1 : end_lineno] = [first[:col] + replacement + last[end_col:]]
    result = "".join(lines)
    ast.parse(result)
    return result


def _flatten_paths(data: dict, prefix: tuple[str, ...] = ()):
    for key, value in data.items():
        if isinstance(value, dict) and prefix == () and value:
            yield from _flatten_paths(value, (key,))
        else:
            yield prefix + (key,), value
