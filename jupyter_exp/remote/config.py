"""``remote add/list/modify/remove/rename/default``: DVC's data remotes in its config files.

Each verb edits one level (``repo``: ``.dvc/config``, the default; ``local``:
``.dvc/config.local``) through :func:`jupyter_exp.dvc_config.edit`, so the file is the
one ``dvc remote ...`` writes. A remote's options are the ones DVC's schema accepts for
its URL's scheme; anything else is refused before a byte is written, as DVC refuses it.
:func:`resolve` gives the merged settings of one remote, for the transfer layer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from ..dvc_config import LEVELS, DvcConfig, command_line_path, edit, level_paths, load
from ..project import Project
from .errors import RemoteConfigError

_COMMON = {"url": "str", "checksum_jobs": "int", "jobs": "int", "worktree": "bool", "no_traverse": "bool"}
_COMMON["version_aware"] = "bool"
_HTTP = {
    "auth": "str",
    "custom_auth_header": "str",
    "user": "str",
    "password": "str",
    "ask_password": "bool",
    "ssl_verify": "str",
    "method": "str",
    "connect_timeout": "float",
    "read_timeout": "float",
    "verify": "bool",
}
_WEBDAV = {
    "user": "str",
    "password": "str",
    "ask_password": "bool",
    "token": "str",
    "bearer_token_command": "str",
    "custom_auth_header": "str",
    "cert_path": "str",
    "key_path": "str",
    "timeout": "int",
    "ssl_verify": "str",
    "verify": "bool",
}
# DVC 3.67's config schema, by URL scheme ("" is a local directory): option -> kind.
OPTIONS: dict[str, dict[str, str]] = {
    "": {"type": "str", "protected": "bool", "shared": "str", "slow_link_warning": "bool", "verify": "bool"},
    "s3": {
        **dict.fromkeys(["region", "profile", "credentialpath", "configpath", "endpointurl", "access_key_id"], "str"),
        **dict.fromkeys(["secret_access_key", "session_token", "ssl_verify", "sse", "sse_kms_key_id"], "str"),
        **dict.fromkeys(["sse_customer_algorithm", "sse_customer_key", "acl", "grant_read"], "str"),
        **dict.fromkeys(["grant_read_acp", "grant_write_acp", "grant_full_control"], "str"),
        **dict.fromkeys(["listobjects", "use_ssl", "allow_anonymous_login", "verify", "cache_regions"], "bool"),
        "read_timeout": "int",
        "connect_timeout": "int",
    },
    "gs": {
        "projectname": "str",
        "credentialpath": "str",
        "endpointurl": "str",
        "verify": "bool",
        "allow_anonymous_login": "bool",
    },
    "ssh": {
        **dict.fromkeys(["type", "user", "password", "passphrase", "keyfile"], "str"),
        **dict.fromkeys(["ask_password", "ask_passphrase", "gss_auth", "allow_agent", "verify"], "bool"),
        **dict.fromkeys(["port", "timeout", "max_sessions"], "int"),
    },
    "hdfs": {"user": "str", "kerb_ticket": "str", "replication": "int"},
    "webhdfs": {
        **dict.fromkeys(["kerberos", "use_https", "verify"], "bool"),
        **dict.fromkeys(["kerberos_principal", "proxy_to", "ssl_verify", "token", "user", "password"], "str"),
        "data_proxy_target": "str",
    },
    "azure": {
        **dict.fromkeys(["connection_string", "sas_token", "account_name", "account_key", "tenant_id"], "str"),
        **dict.fromkeys(["client_id", "client_secret"], "str"),
        **dict.fromkeys(["allow_anonymous_login", "exclude_environment_credential", "verify"], "bool"),
        **dict.fromkeys(["exclude_visual_studio_code_credential", "exclude_shared_token_cache_credential"], "bool"),
        "exclude_managed_identity_credential": "bool",
        **dict.fromkeys(["timeout", "read_timeout", "connection_timeout"], "int"),
    },
    "oss": {"oss_key_id": "str", "oss_key_secret": "str", "oss_endpoint": "str", "verify": "bool"},
    "http": _HTTP,
    "https": _HTTP,
    "webdav": _WEBDAV,
    "webdavs": _WEBDAV,
}
_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.+-]*$")


def check_name(name: str) -> str:
    """A remote name as DVC stores it (lower-cased), refused if it could not be one.

    Raises:
        RemoteConfigError: a name with quotes, spaces, slashes or a leading ``-``.
    """
    lowered = name.lower() if isinstance(name, str) else ""
    if not _NAME.match(lowered):
        raise RemoteConfigError(f"'{name}' is not a remote name; use letters, digits, '_', '.', '+' or '-'.")
    return lowered


def scheme_of(url: str) -> str:
    """The scheme DVC validates ``url`` by ("" for a local path or ``file://``)."""
    parsed = urlparse(url)
    if not parsed.netloc:
        return ""
    return parsed.scheme


def _check_options(name: str, options: dict) -> None:
    url = options.get("url")
    if not isinstance(url, str) or not url:
        raise RemoteConfigError(f"Remote '{name}' has no url; set one with `remote modify {name} url URL`.")
    scheme = scheme_of(url)
    if scheme not in OPTIONS:
        known = ", ".join(f"{s}://" for s in OPTIONS if s)
        raise RemoteConfigError(f"Remote '{name}': unsupported URL type {scheme}://; use a path or one of {known}.")
    allowed = {**_COMMON, **OPTIONS[scheme]}
    for option, value in options.items():
        kind = allowed.get(option)
        if kind is None:
            raise RemoteConfigError(
                f"Remote '{name}' ({scheme or 'local'}) has no option '{option}'; "
                f"use one of {', '.join(sorted(allowed))}."
            )
        _check_value(name, option, kind, value)


def _check_value(name: str, option: str, kind: str, value: object) -> None:
    text = ",".join(value) if isinstance(value, list) else str(value)
    bad = (
        (kind == "bool" and text.lower() not in ("true", "false"))
        or (kind == "int" and not re.fullmatch(r"\s*[+-]?\d+\s*", text))
        or (kind == "float" and not re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", text))
    )
    if bad:
        expected = {"bool": "true or false", "int": "an integer", "float": "a number"}[kind]
        raise RemoteConfigError(f"Remote '{name}': {option} = {text!r} is not {expected}; give {expected}.")


def _validate(project: Project, level: str, conf: dict) -> None:
    """DVC's check after an edit: the levels up to ``level`` merged with the new one."""
    merged = load(project.dvc_dir).merged(upto=level)
    for name, options in conf.get("remote", {}).items():
        merged["remote"].setdefault(name, {}).update(options)
    for name, options in merged["remote"].items():
        _check_options(name, options)


def _level(level: str | None) -> str:
    """The level a verb writes: ``repo`` (``.dvc/config``) unless told."""
    if level not in (None, "repo", "local", "global", "system"):
        raise RemoteConfigError(f"'{level}' is not a config level; use repo, local, global or system.")
    return level or "repo"


def add(project: Project, name: str, url: str, *, default: bool = False, force: bool = False, level: str | None = None):
    """``remote add [-d] [-f] [--local] NAME URL``: a relative path is relative to the
    current directory (stored relative to ``.dvc/``, as DVC stores it).

    Raises:
        RemoteConfigError: a bad name or URL, or the remote exists (without ``force``).
    """
    name = check_name(name)
    if not isinstance(url, str) or not url or "\n" in url:
        raise RemoteConfigError(f"'{url}' is not a remote URL; give a path or a URL such as s3://bucket/path.")
    level = _level(level)
    with edit(project.dvc_dir, level) as conf:
        if name in conf["remote"] and not force:
            raise RemoteConfigError(f"Remote '{name}' already exists; use -f to overwrite it.")
        conf["remote"][name] = {"url": command_line_path(url, level_paths(project.dvc_dir)[level].parent)}
        if default:
            conf.setdefault("core", {})["remote"] = name
        _validate(project, level, conf)


def modify(
    project: Project, name: str, option: str, value: str | None = None, *, unset: bool = False, level: str | None = None
) -> None:
    """``remote modify [--unset] [--local] NAME OPTION [VALUE]``.

    Raises:
        RemoteConfigError: no such remote, an option its URL's scheme does not take, a
            value of the wrong kind, or no value to set.
    """
    name = check_name(name)
    option = option.lower()
    level = _level(level)
    if not unset and value is None:
        raise RemoteConfigError(f"No value for '{option}'; give one, or use --unset to remove it.")
    with edit(project.dvc_dir, level) as conf:
        merged = load(project.dvc_dir).merged(upto=level)
        if name not in conf["remote"] and name not in merged["remote"]:
            raise RemoteConfigError(f"Remote '{name}' doesn't exist; add it with `remote add {name} URL`.")
        section = conf["remote"].setdefault(name, {})
        if unset:
            section.pop(option, None)
        else:
            assert value is not None
            is_path = option in ("url", "credentialpath", "configpath", "keyfile", "cert_path", "key_path")
            section[option] = command_line_path(value, level_paths(project.dvc_dir)[level].parent) if is_path else value
        _validate(project, level, conf)


def remove(project: Project, name: str, *, level: str | None = None) -> None:
    """``remote remove [--local] NAME``; a ``core.remote`` naming it, in this level or
    the ones it shadows up to here, is removed too (as DVC does, which rewrites each).

    Raises:
        RemoteConfigError: no such remote in that level.
    """
    name = check_name(name)
    level = _level(level)
    with edit(project.dvc_dir, level) as conf:
        if name not in conf["remote"]:
            raise RemoteConfigError(f"Remote '{name}' doesn't exist; see `remote list`.")
        del conf["remote"][name]
    for shadowing in reversed(LEVELS):
        with edit(project.dvc_dir, shadowing) as conf:
            if conf.get("core", {}).get("remote") == name:
                del conf["core"]["remote"]
        if shadowing == level:
            break


def rename(project: Project, name: str, new: str, *, level: str | None = None) -> None:
    """``remote rename [--local] NAME NEW``; ``core.remote`` follows.

    Raises:
        RemoteConfigError: no such remote, or ``new`` exists.
    """
    name, new = check_name(name), check_name(new)
    level = _level(level)
    if new in load(project.dvc_dir).merged()["remote"]:
        raise RemoteConfigError(f"Remote '{new}' already exists; pick another name.")
    with edit(project.dvc_dir, level) as conf:
        if name not in conf["remote"]:
            raise RemoteConfigError(f"Remote '{name}' doesn't exist; see `remote list`.")
        conf["remote"] = {new if k == name else k: v for k, v in conf["remote"].items()}
        if conf.get("core", {}).get("remote") == name:
            conf["core"]["remote"] = new
    for shadowing in reversed(LEVELS):
        if shadowing == level:
            break
        with edit(project.dvc_dir, shadowing) as conf:
            if conf.get("core", {}).get("remote") == name:
                conf["core"]["remote"] = new


def default(project: Project, name: str | None = None, *, unset: bool = False, level: str | None = None) -> str | None:
    """``remote default [--unset] [--local] [NAME]``: set or unset ``core.remote``, or
    (no name) return the default remote of that level, or None when there is none.

    Raises:
        RemoteConfigError: ``name`` is not a configured remote.
    """
    if name is None and not unset:
        config = load(project.dvc_dir)
        conf = config.merged() if level is None else config.levels.get(_level(level), {})
        return conf.get("core", {}).get("remote")
    level = _level(level)
    with edit(project.dvc_dir, level) as conf:
        if unset:
            conf.get("core", {}).pop("remote", None)
            return None
        name = check_name(name or "")
        merged = load(project.dvc_dir).merged(upto=level)
        if name not in conf["remote"] and name not in merged["remote"]:
            raise RemoteConfigError(f"Remote '{name}' doesn't exist; add it with `remote add {name} URL` first.")
        conf.setdefault("core", {})["remote"] = name
    return name


@dataclass(frozen=True)
class RemoteEntry:
    """One row of ``remote list``."""

    name: str
    url: str  # a local path made absolute, as ``dvc remote list`` shows it
    default: bool


def listing(project: Project, level: str | None = None) -> list[RemoteEntry]:
    """``remote list``: every level merged, or ``level`` alone."""
    config = load(project.dvc_dir)
    conf = config.merged() if level is None else config.levels.get(_level(level), {"remote": {}})
    chosen = conf.get("core", {}).get("remote")
    return [
        RemoteEntry(name, _shown_url(config, name, options.get("url", "")), name == chosen)
        for name, options in conf.get("remote", {}).items()
    ]


def _shown_url(config: DvcConfig, name: str, url: str) -> str:
    """A relative local path made absolute against the folder of the file that set it."""
    if scheme_of(url) or url.startswith("~") or os.path.isabs(url):
        return url
    level = config.level_of("remote", name, "url") or "repo"
    return os.path.abspath(os.path.join(config.paths[level].parent, url))


@dataclass(frozen=True)
class RemoteSpec:
    """A remote's merged settings: what the transfer layer opens."""

    name: str
    url: str  # a local directory made absolute (relative to the file that set it)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def scheme(self) -> str:
        return scheme_of(self.url)


def resolve(project: Project, name: str | None = None) -> RemoteSpec | None:
    """The settings of remote ``name`` (default: ``core.remote``); None when no name is
    given and no default is set.

    Raises:
        RemoteConfigError: ``name`` (or the default) is not a configured remote, or its
            settings are invalid.
    """
    config = project.config
    conf = config.merged()
    if name is None:
        name = conf.get("core", {}).get("remote")
        if not name:
            return None
    if not isinstance(name, str) or name.startswith("-"):
        raise RemoteConfigError(f"'{name}' is not a DVC remote name; name one from `remote list`.")
    options = conf["remote"].get(name.lower())
    if options is None:
        raise RemoteConfigError(f"No DVC remote named '{name}'; add it with `remote add {name} URL`.")
    _check_options(name, options)
    url = options["url"]
    if not scheme_of(url):
        url = url.removeprefix("file://")
        url = _shown_url(config, name.lower(), os.path.expanduser(url))
    flat = {k: ",".join(v) if isinstance(v, list) else v for k, v in options.items() if k != "url"}
    return RemoteSpec(name.lower(), url, flat)
