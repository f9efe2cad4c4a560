"""DVC's config files, read and written as DVC reads and writes them.

DVC keeps its settings in INI files of ConfigObj's dialect, one per level: ``system``,
``global``, ``repo`` (``.dvc/config``) and ``local`` (``.dvc/config.local``), each
shadowing the one before. Named sections are spelled ``['remote "NAME"']``. A value
may be quoted (``"a,b"``), a list (``reflink, copy``) or end in a ``# comment``.

DVC edits a level by loading it into plain dicts (keys lower-cased, comments dropped),
changing them and writing everything back: plain sections first in their order, then
``remote``, ``machine`` and ``db`` sections, values indented by four spaces, quoted
only where ConfigObj must quote them, paths (``url``, ``cache.dir``, key files)
rewritten relative to the file's directory, empty sections left out. :func:`edit`
does the same, so a file we edit is byte for byte the file ``dvc remote add`` or
``dvc remote modify`` would have written.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

Value = str | list[str]
Sections = dict[str, dict[str, Value]]

LEVELS = ("system", "global", "repo", "local")
NAMED = ("remote", "machine", "db")  # sections DVC spells `KIND "NAME"`
INDENT = "    "
# Keys whose values are paths: relative ones are relative to the config file's folder.
PATH_KEYS = {
    "cache": ("dir",),
    "remote": (
        "url",
        "gdrive_user_credentials_file",
        "gdrive_service_account_json_file_path",
        "credentialpath",
        "configpath",
        "keyfile",
        "cert_path",
        "key_path",
    ),
    "machine": ("startup_script", "setup_script"),
}
_URL = re.compile(r"\w+://")
_NAMED_SECTION = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')
_MARKER = re.compile(r"^(\[+)\s*(.*?)\s*(\]+)\s*(#.*)?$")
_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^'"=][^=]*?)\s*=\s*(.*)$""")
_NEEDS_QUOTES = " \r\n\v\t'\""  # ConfigObj quotes a value starting or ending with these


# -- one file ---------------------------------------------------------------------


def _unquote(text: str, where: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text[:1] in "'\"":
        raise ConfigError(f"{where}: unbalanced quote in {text!r}; fix the file.")
    return text


def parse_value(text: str, where: str) -> Value:
    """A ConfigObj value: a scalar, or a list when a comma separates items (quoted
    items may hold commas); ``# ...`` after the value is a comment.

    Raises:
        ConfigError: an unbalanced quote, text after a closing quote, a multi-line value.
    """
    if text.startswith(('"""', "'''")):
        raise ConfigError(f"{where}: multi-line values are not supported; write the value on one line.")
    items: list[str] = []
    is_list = False
    if text.split("#", 1)[0].strip() == ",":
        return []  # ConfigObj's empty list
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos >= end or text[pos] == "#":
            break
        if text[pos] in "'\"":
            close = text.find(text[pos], pos + 1)
            if close < 0:
                raise ConfigError(f"{where}: unbalanced quote in {text!r}; fix the file.")
            items.append(text[pos + 1 : close])
            pos = close + 1
        else:
            stop = pos
            while stop < end and text[stop] not in ",#":
                stop += 1
            item = text[pos:stop].strip()
            if not item:
                raise ConfigError(f"{where}: empty list item in {text!r}; fix the file.")
            items.append(item)
            pos = stop
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos < end and text[pos] == ",":
            is_list = True
            pos += 1
            continue
        if pos < end and text[pos] != "#":
            raise ConfigError(f"{where}: unexpected text in {text!r}; quote the value.")
        break
    if is_list:
        return items
    return items[0] if items else ""


def parse(text: str, name: str) -> Sections:
    """The sections of a config file's ``text`` (``name`` for messages), keys and
    section names lower-cased as DVC loads them.

    Raises:
        ConfigError: one line naming the file, the line and the fix.
    """
    sections: Sections = {}
    current: dict[str, Value] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{name}, line {number}"
        if not line or line.startswith("#"):
            continue
        marker = _MARKER.match(line)
        if marker:
            if len(marker.group(1)) != 1 or len(marker.group(3)) != 1:
                raise ConfigError(f"{where}: nested sections are not DVC config; fix the file.")
            section = _unquote(marker.group(2), where).lower()
            if section in sections:
                raise ConfigError(f"{where}: section [{section}] appears twice; merge the two.")
            current = sections[section] = {}
            continue
        match = _KEY.match(line)
        if not match:
            raise ConfigError(f"{where}: {line!r} is neither a [section] nor KEY = VALUE; fix the file.")
        if current is None:
            raise ConfigError(f"{where}: {line!r} is outside any [section]; move it into one.")
        key = _unquote(match.group(1).strip(), where).lower()
        if key in current:
            raise ConfigError(f"{where}: '{key}' is set twice in one section; keep one.")
        current[key] = parse_value(match.group(2), where)
    return sections


def _quote(value: Value, multiline: bool = True) -> str:
    """``value`` as ConfigObj writes it: bare when it can be, else in the quote it lacks."""
    if isinstance(value, list):
        if not value:
            return ","
        if len(value) == 1:
            return _quote(value[0], multiline=False) + ","
        return ", ".join(_quote(item, multiline=False) for item in value)
    if not value:
        return '""'
    if "\n" in value or "\r" in value:
        raise ConfigError(f"Config value {value!r} spans lines; give a one-line value.")
    bare = value[0] not in _NEEDS_QUOTES and value[-1] not in _NEEDS_QUOTES and "," not in value and "#" not in value
    if bare:
        return value
    if "'" in value and '"' in value:
        raise ConfigError(f"Config value {value!r} holds both kinds of quote; drop one.")
    return f"'{value}'" if '"' in value else f'"{value}"'


def render(sections: Sections) -> str:
    """The file DVC writes for ``sections`` (already in DVC's order; empty ones left out)."""
    lines = []
    for section, values in sections.items():
        if not values:
            continue
        lines.append(f"[{_quote(section, multiline=False)}]")
        lines += [f"{INDENT}{_quote(key, multiline=False)} = {_quote(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


# -- DVC's named-section view ----------------------------------------------------------


def to_named(sections: Sections) -> dict[str, dict]:
    """``{"remote": {name: {...}}, "machine": ..., "db": ..., "core": {...}, ...}`` in
    the order DVC builds it (named kinds first, then plain sections in file order)."""
    conf: dict[str, dict] = {kind: {} for kind in NAMED}
    for section, values in sections.items():
        match = _NAMED_SECTION.match(section)
        if match:
            conf[match.group(1)][match.group(2)] = dict(values)
        else:
            conf[section] = dict(values)
    return conf


def from_named(conf: dict[str, dict]) -> Sections:
    """The sections DVC writes for ``conf``: plain ones in order, then named ones."""
    sections: Sections = {k: v for k, v in conf.items() if k not in NAMED and v}
    for kind in NAMED:
        for name, values in conf.get(kind, {}).items():
            if values:
                sections[f'{kind} "{name}"'] = values
    return sections


def _is_local_path(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not _URL.match(value)


def _path_keys(conf: dict[str, dict]):
    """(dict, key) of every path value in ``conf``."""
    for kind, keys in PATH_KEYS.items():
        if kind == "cache":
            holders = [conf.get("cache", {})]
        else:
            holders = list(conf.get(kind, {}).values())
        for holder in holders:
            for key in keys:
                if _is_local_path(holder.get(key)):
                    yield holder, key


def normalize_paths(conf: dict[str, dict], conf_dir: Path) -> None:
    """Rewrite relative paths from the file as DVC saves them: normalised, relative to
    ``conf_dir``. ``~`` paths, absolute paths and URLs stay as they are."""
    for holder, key in _path_keys(conf):
        value = holder[key]
        if not value.startswith("~") and not os.path.isabs(value):
            holder[key] = _relative(os.path.join(conf_dir, value), conf_dir)


def command_line_path(value: str, conf_dir: Path) -> str:
    """A path typed on the command line (relative to the current directory), as DVC
    stores it in the file in ``conf_dir``: relative to that folder."""
    if not _is_local_path(value) or value.startswith("~") or os.path.isabs(value):
        return value
    return _relative(value, conf_dir)


def _relative(path: str, conf_dir: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(conf_dir))).as_posix()


# -- the levels ---------------------------------------------------------------------


def level_paths(dvc_dir: Path) -> dict[str, Path]:
    """Each level's file, as DVC finds them (``DVC_GLOBAL_CONFIG_DIR`` and
    ``DVC_SYSTEM_CONFIG_DIR`` override the XDG locations)."""
    home_config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    system_dirs = (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    return {
        "system": Path(os.environ.get("DVC_SYSTEM_CONFIG_DIR") or os.path.join(system_dirs[0], "dvc")) / "config",
        "global": Path(os.environ.get("DVC_GLOBAL_CONFIG_DIR") or os.path.join(home_config, "dvc")) / "config",
        "repo": dvc_dir / "config",
        "local": dvc_dir / "config.local",
    }


def _display_name(level: str, path: Path) -> str:
    return f".dvc/{path.name}" if level in ("repo", "local") else str(path)


def read_level(path: Path, display: str) -> Sections:
    """The sections of one config file; {} when it does not exist.

    Raises:
        ConfigError: unreadable, not UTF-8 or not valid ConfigObj INI, naming the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"{display} is not UTF-8 text; fix or recreate it.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {display}: {exc.strerror or exc}; fix or recreate it.") from None
    return parse(text.removeprefix("\ufeff"), display)


@dataclass
class DvcConfig:
    """The merged config of every level, plus where each remote option came from."""

    levels: dict[str, dict[str, dict]] = field(default_factory=dict)  # level -> named view
    paths: dict[str, Path] = field(default_factory=dict)

    def merged(self, upto: str | None = None) -> dict[str, dict]:
        """Levels merged in shadowing order, stopping before ``upto`` (None: all)."""
        conf: dict[str, dict] = {kind: {} for kind in NAMED}
        for level in LEVELS:
            if level == upto:
                break
            _merge(conf, self.levels.get(level, {}))
        return conf

    def get(self, section: str, option: str, fallback: str | None = None) -> str | None:
        """One value (``section`` may be ``remote "NAME"``); a list reads as ``a,b``."""
        conf = self.merged()
        match = _NAMED_SECTION.match(section)
        holder = conf.get(match.group(1), {}).get(match.group(2), {}) if match else conf.get(section, {})
        value = holder.get(option)
        if value is None:
            return fallback
        return ",".join(value) if isinstance(value, list) else value

    def has_section(self, section: str) -> bool:
        match = _NAMED_SECTION.match(section)
        conf = self.merged()
        return match.group(2) in conf.get(match.group(1), {}) if match else bool(conf.get(section))

    def level_of(self, kind: str, name: str, key: str) -> str | None:
        """The last level that sets ``key`` of ``[kind "name"]`` (it wins)."""
        found = None
        for level in LEVELS:
            if key in self.levels.get(level, {}).get(kind, {}).get(name, {}):
                found = level
        return found


def _merge(into: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _merge(into[key], value)
        else:
            into[key] = value.copy() if isinstance(value, dict) else value


def load(dvc_dir: Path, repo_only: bool = False) -> DvcConfig:
    """Every level's config (``repo_only``: ``.dvc/config`` and ``config.local`` alone).

    Raises:
        ConfigError: a file that cannot be read or parsed, naming it.
    """
    config = DvcConfig(paths=level_paths(dvc_dir))
    for level, path in config.paths.items():
        if repo_only and level not in ("repo", "local"):
            continue
        config.levels[level] = to_named(read_level(path, _display_name(level, path)))
    return config


@contextlib.contextmanager
def edit(dvc_dir: Path, level: str = "repo") -> Iterator[dict[str, dict]]:
    """Edit one level as DVC does: yield its named view, then write it back (paths
    normalised, empty sections dropped) atomically. Nothing is written if the block raises.

    Relative paths the block sets from a command line go through
    :func:`command_line_path` first (they are relative to the current directory).
    """
    from .serialize import write_text_atomic

    path = level_paths(dvc_dir)[level]
    conf = to_named(read_level(path, _display_name(level, path)))
    yield conf
    normalize_paths(conf, path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_text_atomic(path, render(from_named(conf)))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write {_display_name(level, path)}: {exc.strerror or exc}; free space or fix its permissions."
        ) from None
