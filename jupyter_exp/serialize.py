"""Reading and writing the text formats a project holds: YAML, JSON, TOML.

Loading uses ruamel.yaml's safe loader (YAML 1.2, as DVC reads it: ``1e-3`` is a
float, ``yes`` is a string). Dumping uses ruamel's round-trip dumper with DVC's
settings, so ``dvc.lock`` and ``.dvc`` files come out byte for byte as DVC writes
them. Every parse error becomes one :class:`YAMLFileError` naming file and line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import YAMLFileError

TYPE_CHECKING = False  # (typing's import is a twentieth of a stamped `status`)
if TYPE_CHECKING:
    from typing import Any

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


_lock_loader: type | None = None

# YAML 1.2 core schema as ruamel.yaml resolves it (the loader DVC reads dvc.lock with):
# `off`/`yes` are strings, `1:30` is a string, `017` is 17, `1e3` is a float.
_YAML12_RESOLVERS = (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (
        "tag:yaml.org,2002:float",
        r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        "0123456789",
    ),
)


def _construct_int12(loader, node) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits, 10)  # a leading 0 is decimal in YAML 1.2


def _construct_float12(loader, node) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if text == ".nan" else float(text)


def _construct_bool12(loader, node) -> bool:
    return loader.construct_scalar(node).lower() == "true"


def _lock_yaml_loader() -> type:
    """PyYAML's libyaml loader with YAML 1.2 core-schema resolution (see parse_lock)."""
    global _lock_loader
    if _lock_loader is None:
        import re

        import yaml

        # libyaml's loader when PyYAML was built with it: a base known only at run time.
        base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Yaml12Loader(base):
            yaml_implicit_resolvers: dict = {}
            yaml_constructors = dict(base.yaml_constructors)

        for tag, pattern, first in _YAML12_RESOLVERS:
            Yaml12Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))
        Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int12)
        Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _construct_float12)
        Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool12)
        _lock_loader = Yaml12Loader
    return _lock_loader


def parse_lock(text: str, path: str) -> Any:
    """Parse a lock file fast, as YAML 1.2 (as DVC writes and reads it).

    libyaml (through PyYAML) parses; the scalars are resolved by YAML 1.2's core
    schema, the rules of ruamel's loader, so an output named ``off`` stays a string.
    This is about three times as fast as ruamel's safe loader (0.5 s against 1.4 s
    for a thousand four-stage locks), which matters when ``exp show`` reads a
    thousand of them. Errors go through :func:`parse_yaml` for the one-line message.
    """
    import yaml

    try:
        return yaml.load(text, Loader=_lock_yaml_loader())
    except yaml.YAMLError:
        return parse_yaml(text, path)  # for the one-line error with file and line
    except ValueError:  # a scalar the resolver took for a number but int()/float() refuse
        return parse_yaml(text, path)


def read_text(path: str | os.PathLike, name: str | os.PathLike | None = None) -> str:
    """The UTF-8 text of a project file.

    Raises:
        YAMLFileError: the file is not UTF-8 or is a directory, naming it and the fix.
        FileNotFoundError: as ``open`` does.
    """
    name = name or path
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLFileError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    except IsADirectoryError:
        raise YAMLFileError(f"{name} is a directory, not a file; remove it or fix the path.") from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise YAMLFileError(f"Cannot read {name} ({exc.strerror or exc}); fix the file or its link.") from None


def decode_text(raw: bytes, name: str | os.PathLike) -> str:
    """``raw`` as UTF-8; a YAMLFileError naming ``name`` if it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLFileError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None


def load_yaml(path: str | os.PathLike) -> Any:
    """Read and parse a YAML file (see :func:`parse_yaml`)."""
    return parse_yaml(read_text(path), path)


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


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """The one way we write a file atomically: yield a fresh sibling of ``path`` for the
    caller to create (write, link, chmod), then rename it over ``path``, so readers see
    the old file or the new one, never half.

    On any failure in the block or the rename, the sibling is removed and ``path`` is
    left as it was. (A process killed in between leaves a hidden ``.*.tmp`` sibling.)
    """
    path = Path(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (:func:`replacing`)."""
    with replacing(path) as tmp:
        with open(tmp, "x", encoding="utf-8") as fobj:
            fobj.write(text)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (:func:`replacing`), with permission bits
    ``mode`` when given (set before the rename: nobody sees it writable)."""
    with replacing(path) as tmp:
        with open(tmp, "xb") as fobj:
            fobj.write(data)
        if mode is not None:
            os.chmod(tmp, mode)


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
