"""Reading and writing the text formats a project holds: YAML, JSON, TOML.

Loading uses ruamel.yaml's safe loader (YAML 1.2, as DVC reads it: ``1e-3`` is a
float, ``yes`` is a string). Dumping uses ruamel's round-trip dumper with DVC's
settings, so ``dvc.lock`` and ``.dvc`` files come out byte for byte as DVC writes
them. Every parse error becomes one :class:`YAMLFileError` naming file and line.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from .errors import YAMLFileError

_safe_yaml = None


def _safe_loader():
    global _safe_yaml
    if _safe_yaml is None:
        from ruamel.yaml import YAML

        _safe_yaml = YAML(typ="safe")  # the C parser (ruamel.yaml.clib) when installed
    return _safe_yaml


def parse_yaml(text: str, path: str | os.PathLike) -> Any:
    """Parse YAML text; raise YAMLFileError with the file and line on bad syntax."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return _safe_loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YAMLFileError(f"{path}{line}: {problem}; fix the YAML syntax.") from None
    except YAMLError as exc:
        raise YAMLFileError(f"{path}: {str(exc).splitlines()[0]}; fix the YAML syntax.") from None


def parse_lock(text: str, path: str) -> Any:
    """Parse a machine-written lock file fast (libyaml through PyYAML).

    Lock files hold hashes, sizes and paths written by DVC or us; YAML 1.1 and 1.2
    read those the same, and libyaml is twice as fast as ruamel's loader, which
    matters when ``exp show`` reads a thousand of them.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError:
        return parse_yaml(text, path)  # for the one-line error with file and line


def load_yaml(path: str | os.PathLike) -> Any:
    """Read and parse a YAML file (see :func:`parse_yaml`)."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"), path)


def dump_yaml_text(data: Any) -> str:
    """Serialize plain data the way DVC writes dvc.lock and .dvc files."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(_to_plain(data), buf)
    return buf.getvalue()


def _to_plain(data: Any) -> Any:
    # ruamel dumps OrderedDict with a !!omap tag; DVC writes plain mappings.
    if isinstance(data, dict):
        return {k: _to_plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_to_plain(v) for v in data]
    return data


def temp_sibling(path: str | os.PathLike) -> Path:
    """A fresh name beside ``path`` for writing it by rename: unique per process,
    thread and call (threads of one process, a kernel and its queue workers, may
    write the same file at once, so the pid alone is not enough)."""
    import threading

    path = Path(path)
    # The name is cut to 100 characters: a long name plus the suffix must stay a valid file name.
    return path.with_name(f".{path.name[:100]}.{os.getpid()}.{threading.get_ident()}.{os.urandom(6).hex()}.tmp")


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a file through a temporary sibling and a rename, so readers never see half.

    On any failure (a full disk) the sibling is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        with open(tmp, "x", encoding="utf-8") as fobj:
            fobj.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parse_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise YAMLFileError(f"{name}, line {exc.lineno}: {exc.msg}; fix the JSON syntax.") from None


def parse_toml(text: str, name: str) -> Any:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomlkit

        try:
            return tomlkit.parse(text).unwrap()
        except Exception as exc:
            raise YAMLFileError(f"{name}: {exc}; fix the TOML syntax.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise YAMLFileError(f"{name}: {exc}; fix the TOML syntax.") from None
