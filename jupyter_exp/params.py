"""Params files: read YAML, JSON, TOML and ``.py``; write them back round-trip.

YAML keeps comments and key order (ruamel round-trip), TOML keeps comments
(tomlkit), JSON is written compactly as DVC writes it, and ``.py`` files are
patched line by line (only literal assignments, as DVC supports).
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ParamsError
from .serialize import parse_json, parse_toml, parse_yaml, read_text

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


def read_params_text(path: str | os.PathLike) -> str:
    """A params file's text exactly as stored (CRLF line ends are not translated), so
    that rewriting one value keeps every other byte.

    Raises:
        YAMLFileError: not UTF-8, or a directory. FileNotFoundError: as ``open``.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8", newline="") as fobj:
            return fobj.read()
    except (UnicodeDecodeError, IsADirectoryError):
        return read_text(path, path.name)  # the same one-line error as every other read


def render_params(name: str, old_text: str | None, new: dict) -> str:
    """The text of params file ``name`` (currently ``old_text``, None if new) holding ``new``.

    Only what changed is rewritten: in YAML a changed scalar is spliced into the old
    text (every other byte stays: spellings like ``0.20``, ``1.0e-3``, ``~``, quotes,
    comments, trailing spaces, CRLF, a missing final newline) and written as DVC's
    ruamel writes that value; TOML goes through tomlkit, which keeps the rest as it was.
    Other changes (added or deleted keys, a scalar becoming a list) are written by a
    ruamel round-trip, which keeps comments and order.
    """
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
    if old_text is not None:
        spliced = _splice_yaml(name, old_text, new)
        if spliced is not None:
            return spliced
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    loaded = yaml.load(old_text) if old_text is not None else None
    doc = {} if loaded is None else loaded
    _merge_into(doc, new)
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


# -- YAML: changed scalars spliced into the old text ----------------------------------
@dataclass(frozen=True)
class _Span:
    start: int  # character offsets of the scalar's text (quotes included)
    end: int
    in_flow: bool  # inside a [..] or {..} collection, where , [ ] { } end a plain scalar


def _scalar_spans(text: str) -> dict[tuple[str, ...], _Span] | None:
    """Where each plain or quoted scalar value sits in ``text``, by key path (list
    indexes as strings); None for text with several documents. Scalars that cannot be
    replaced by splicing (empty, anchored, tagged, block ``|``/``>``) are left out."""
    from ruamel.yaml import YAML, events

    spans: dict[tuple[str, ...], _Span] = {}
    # A stack of [path, is_mapping, expecting_key, next_index, flow]
    stack: list[list] = []
    documents = 0

    def value_path() -> tuple[str, ...] | None:
        """The path of the node that starts now (None: it is a mapping key)."""
        if not stack:
            return ()
        frame = stack[-1]
        if frame[1]:
            if frame[2]:
                return None
            frame[2] = True
            return frame[0] + (frame[3],)
        frame[3] += 1
        return frame[0] + (str(frame[3] - 1),)

    for event in YAML().parse(text):
        if isinstance(event, events.DocumentStartEvent):
            documents += 1
            if documents > 1:
                return None
        elif isinstance(event, (events.MappingStartEvent, events.SequenceStartEvent)):
            path = value_path()
            if path is None:  # a complex key: nothing under it is a param we splice
                path = ("\0complex",)
                stack[-1][2] = False
            mapping = isinstance(event, events.MappingStartEvent)
            flow = bool(event.flow_style) or bool(stack and stack[-1][4])
            stack.append([path, mapping, True, "" if mapping else 0, flow])
        elif isinstance(event, (events.MappingEndEvent, events.SequenceEndEvent)):
            stack.pop()
        elif isinstance(event, (events.ScalarEvent, events.AliasEvent)):
            frame = stack[-1] if stack else None
            if frame is not None and frame[1] and frame[2]:  # a key
                frame[2], frame[3] = False, str(getattr(event, "value", ""))
                continue
            path = value_path()
            if (
                isinstance(event, events.ScalarEvent)
                and path is not None
                and not event.anchor
                and event.tag is None
                and event.style not in ("|", ">")
                and event.end_mark.index > event.start_mark.index
            ):
                spans[path] = _Span(event.start_mark.index, event.end_mark.index, bool(frame and frame[4]))
    return spans


def _changed_scalars(old: Any, new: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]] | None:
    """The scalars of ``new`` that differ from ``old`` by path, or None when the change
    is not scalar-for-scalar (keys added or removed, a list resized, a type of node changed)."""
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            return None
        changes: list = []
        for key in old:
            found = _changed_scalars(old[key], new[key], path + (str(key),))
            if found is None:
                return None
            changes += found
        return changes
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return None
        changes = []
        for index, (a, b) in enumerate(zip(old, new)):
            found = _changed_scalars(a, b, path + (str(index),))
            if found is None:
                return None
            changes += found
        return changes
    if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
        return None
    return [] if _same(old, new) or (old != old and new != new) else [(path, new)]


def _yaml_scalar_text(value: Any, flow: bool) -> str | None:
    """``value`` as DVC's ruamel round-trip dump writes it after a key (in a ``{..}``
    collection when ``flow``); None if it takes more than one line."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = flow
    buf = io.StringIO()
    yaml.dump({"k": value}, buf)
    text = buf.getvalue()
    prefix, suffix = ("{k: ", "}\n") if flow else ("k: ", "\n")
    if not (text.startswith(prefix) and text.endswith(suffix)) or text.count("\n") != 1:
        return None
    return text[len(prefix) : -len(suffix)]


def _splice_yaml(name: str, old_text: str, new: dict) -> str | None:
    """``old_text`` with the scalars that differ in ``new`` replaced in place, or None
    when the change needs a full rewrite."""
    old = parse_params(old_text, name)
    changes = _changed_scalars(old, new)
    if changes is None:
        return None
    if not changes:
        return old_text
    spans = _scalar_spans(old_text)
    if spans is None:
        return None
    edits: list[tuple[_Span, str]] = []
    for path, value in changes:
        span = spans.get(path)
        rendered = _yaml_scalar_text(value, span.in_flow) if span is not None else None
        if span is None or rendered is None:
            return None
        edits.append((span, rendered))
    result = old_text
    for span, rendered in sorted(edits, key=lambda edit: edit[0].start, reverse=True):
        result = result[: span.start] + rendered + _keep_comment_column(result, span, rendered)
    if parse_params(result, name) != new:  # never write what does not read back
        return None
    return result


_COMMENT_AFTER = re.compile(r"([ \t]+)#")


def _keep_comment_column(text: str, span: _Span, rendered: str) -> str:
    """The text after the replaced scalar: a comment on its line keeps its column (at
    least one space from the value), as ruamel, and so DVC, writes it."""
    rest = text[span.end :]
    match = _COMMENT_AFTER.match(rest)
    if match is None:
        return rest
    line_start = text.rfind("\n", 0, span.start) + 1
    comment_column = span.end - line_start + len(match.group(1))
    value_end = span.start - line_start + len(rendered)
    return " " * max(1, comment_column - value_end) + rest[len(match.group(1)) :]


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
def _py_assignments(tree: ast.Module) -> dict[tuple[str, ...], ast.expr]:
    """Literal assignments at module level and in top-level classes, by key path."""
    found: dict[tuple[str, ...], ast.expr] = {}

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
        raise ParamsError(f"'{name}' is a Python params file: only existing literal values can be changed.")
    lines = text.splitlines(keepends=True)
    # Patch from the bottom up so earlier offsets stay valid.
    edits = []
    for keys, value in new_flat.items():
        if old_flat[keys] == value and type(old_flat[keys]) is type(value):
            continue
        node = assignments[keys]
        # ast.parse sets the end positions; only hand-built nodes lack them.
        assert node.end_lineno is not None and node.end_col_offset is not None
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
