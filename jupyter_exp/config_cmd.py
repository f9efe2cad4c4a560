"""``dvc config``: get, set, unset and list options of one config level, through
:mod:`.dvc_config` (so a file we write is the file DVC writes).

A name is ``section.option`` or ``remote.NAME.option`` (``machine``, ``db`` too). The
sections and the options of ``core`` and ``cache`` are checked against DVC's schema;
a name or value with a line break or ``=`` where none belongs is refused, nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import dvc_config
from .errors import ConfigError

SECTIONS: dict[str, tuple[str, ...] | None] = {  # None: any option (DVC checks some per remote kind)
    "core": (
        "remote",
        "checksum_jobs",
        "interactive",
        "analytics",
        "hardlink_lock",
        "no_scm",
        "autostage",
        "experiments",
        "check_update",
        "site_cache_dir",
    ),
    "cache": (
        "local",
        "s3",
        "gs",
        "hdfs",
        "webhdfs",
        "ssh",
        "azure",
        "dir",
        "type",
        "protected",
        "shared",
        "slow_link_warning",
        "verify",
    ),
    "state": ("dir", "row_limit", "row_cleanup_quota"),
    "index": ("dir",),
    "plots": ("html_template", "out_dir", "auto_open"),
    "exp": ("code", "data", "models", "metrics", "params", "plots", "live"),
    "parsing": ("bool", "list"),
    "hydra": ("enabled", "config_dir", "config_name", "plugins_path"),
    "studio": ("token", "url", "repo_url", "offline"),
    "feature": None,
    "remote": None,
    "machine": None,
    "db": None,
}
_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_LEVEL_NAMES = {"system": "--system", "global": "--global", "repo": "--project", "local": "--local"}


class ConfigNameError(ConfigError):
    """A config name or value DVC's schema does not allow."""


def split_name(name: str) -> tuple[str, str | None, str]:
    """``section.option`` or ``KIND.NAME.option`` as (section, name or None, option).

    Raises:
        ConfigNameError: another shape, an unknown section or option, or a line break.
    """
    kind, _, rest = name.partition(".")
    named = kind in dvc_config.NAMED
    entry, _, option = rest.rpartition(".") if named else ("", "", rest)
    parts = [kind, option] + ([entry] if named else [])
    if not all(parts) or not all(_PART.match(p) for p in (kind, option)) or any(c in name for c in "\n\r=[]\"'"):
        raise ConfigNameError(
            f"Invalid config name {name!r}; use section.option or remote.NAME.option (no '=', quotes or line breaks)."
        )
    if kind not in SECTIONS:
        raise ConfigNameError(f"Unknown config section '{kind}'; sections are {', '.join(sorted(SECTIONS))}.")
    allowed = SECTIONS[kind]
    if allowed is not None and option not in allowed:
        raise ConfigNameError(f"Unknown option '{option}' in section '{kind}'; options are {', '.join(allowed)}.")
    return kind, (entry if named else None), option


def _holder(conf: dict, kind: str, entry: str | None, create: bool) -> dict | None:
    section = conf.setdefault(kind, {}) if create else conf.get(kind)
    if entry is None or section is None:
        return section
    return section.setdefault(entry, {}) if create else section.get(entry)


def set_option(dvc_dir: Path, name: str, value: str, level: str = "repo") -> None:
    """Set ``name`` to ``value`` in one level's file.

    Raises:
        ConfigNameError: a bad name, or a value with a line break.
        ConfigError: the file cannot be read or written.
    """
    kind, entry, option = split_name(name)
    if "\n" in value or "\r" in value:
        raise ConfigNameError(f"The value of {name} has a line break; config values are one line.")
    paths = dvc_config.PATH_KEYS.get(kind, ())
    with dvc_config.edit(dvc_dir, level) as conf:
        holder = _holder(conf, kind, entry, create=True)
        assert holder is not None
        if kind in dvc_config.NAMED and entry is not None and option != "url" and "url" not in holder:
            raise ConfigNameError(f"{kind} '{entry}' does not exist; add it with `jupyter dvc {kind} add {entry} URL`.")
        holder[option] = dvc_config.command_line_path(value, dvc_dir) if option in paths else value


def unset_option(dvc_dir: Path, name: str, level: str = "repo") -> None:
    """Remove ``name`` from one level's file.

    Raises:
        ConfigNameError: a bad name, or an option that level does not set.
    """
    kind, entry, option = split_name(name)
    with dvc_config.edit(dvc_dir, level) as conf:
        holder = _holder(conf, kind, entry, create=False)
        if not holder or option not in holder:
            raise ConfigNameError(f"option '{option}' doesn't exist in section '{kind}'; nothing to unset.")
        del holder[option]


def get_option(dvc_dir: Path, name: str, level: str | None = None) -> str | None:
    """The value of ``name`` (merged over every level, or of ``level`` only); None when unset."""
    kind, entry, option = split_name(name)
    config = dvc_config.load(dvc_dir)
    found: str | None = None
    for each in [level] if level else list(dvc_config.LEVELS):  # the last level setting it wins
        holder = _holder(config.levels.get(each, {}), kind, entry, create=False) or {}
        if option in holder:
            found = _shown(kind, option, holder[option], config.paths[each].parent)
    return found


def _shown(kind: str, option: str, value, conf_dir: Path) -> str:
    """A value as DVC reads it: a list joined, a relative path key made absolute from its file's folder."""
    import os

    text = ",".join(value) if isinstance(value, list) else value
    if option in dvc_config.PATH_KEYS.get(kind, ()) and not re.match(r"\w+://", text):
        if not os.path.isabs(text) and not text.startswith("~"):
            return os.path.normpath(os.path.join(os.path.abspath(conf_dir), text))
    return text


def listing(dvc_dir: Path, level: str | None = None, show_origin: bool = False) -> list[str]:
    """``dvc config -l``: ``name=value`` of each level in turn (``show_origin``: its file first)."""
    config = dvc_config.load(dvc_dir)
    lines = []
    for each in [level] if level else list(dvc_config.LEVELS):
        prefix = ""
        if show_origin:
            path = config.paths[each]
            prefix = (f".dvc/{path.name}" if each in ("repo", "local") else str(path)) + "\t"
        for key, value in _flatten(config.levels.get(each, {})):
            kind, option = key.split(".")[0], key.rsplit(".", 1)[-1]
            lines.append(f"{prefix}{key}={_shown(kind, option, value, config.paths[each].parent)}")
    return lines


def _flatten(conf: dict, prefix: str = ""):
    for key, value in conf.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
