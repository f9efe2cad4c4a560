"""A data remote's storage: an fsspec file system and a root path on it.

Every kind of remote goes through one code path: DVC's URL scheme picks the fsspec
protocol, and a table maps DVC's config keys to that driver's arguments (s3fs,
gcsfs, adlfs, sshfs, fsspec's HTTP and local file systems), so ``endpointurl``,
``profile``, ``access_key_id`` and the rest mean what they mean to DVC. A driver that
is not installed is one line naming the extra that installs it.

Writes are atomic per object either way: where the storage can rename (a local
directory, SSH) an object is written under a temporary name beside its final one and
renamed; an object store (S3, GCS, Azure, HTTP) makes an object visible only when
its one PUT, or its multipart upload, completes.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..project import Project
from .config import RemoteSpec
from .errors import DataRemoteError, MissingDriverError, RemoteConfigError

# DVC scheme -> (fsspec protocol, the module that provides it, the extra that installs it)
DRIVERS: dict[str, tuple[str, str, str]] = {
    "": ("file", "fsspec", "jupyter_exp"),
    "s3": ("s3", "s3fs", "s3"),
    "gs": ("gcs", "gcsfs", "gs"),
    "azure": ("az", "adlfs", "azure"),
    "ssh": ("ssh", "sshfs", "ssh"),
    "http": ("http", "aiohttp", "http"),
    "https": ("https", "aiohttp", "http"),
}
RENAMING = frozenset({"file", "ssh"})  # protocols whose writes go through a temporary name


def _true(value: str | None) -> bool | None:
    return None if value is None else value.strip().lower() == "true"


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _ssl_verify(value: str | None) -> bool | str | None:
    if value is None:
        return None
    return _true(value) if value.strip().lower() in ("true", "false") else value


def _s3_options(spec: RemoteSpec) -> dict[str, Any]:
    opts = spec.options
    client = {
        "endpoint_url": opts.get("endpointurl"),
        "region_name": opts.get("region"),
        "verify": _ssl_verify(opts.get("ssl_verify")),
    }
    config = {"read_timeout": _int(opts.get("read_timeout")), "connect_timeout": _int(opts.get("connect_timeout"))}
    additional = {
        "ServerSideEncryption": opts.get("sse"),
        "SSEKMSKeyId": opts.get("sse_kms_key_id"),
        "SSECustomerAlgorithm": opts.get("sse_customer_algorithm"),
        "ACL": opts.get("acl"),
        "GrantFullControl": opts.get("grant_full_control"),
        "GrantRead": opts.get("grant_read"),
        "GrantReadACP": opts.get("grant_read_acp"),
        "GrantWriteACP": opts.get("grant_write_acp"),
    }
    # Where boto finds shared credentials and profiles: DVC points it there the same way.
    for option, variable in (("credentialpath", "AWS_SHARED_CREDENTIALS_FILE"), ("configpath", "AWS_CONFIG_FILE")):
        if opts.get(option):
            os.environ.setdefault(variable, opts[option])
    return {
        "key": opts.get("access_key_id"),
        "secret": opts.get("secret_access_key"),
        "token": opts.get("session_token"),
        "profile": opts.get("profile"),
        "anon": _true(opts.get("allow_anonymous_login")),
        "use_ssl": _true(opts.get("use_ssl")),
        "client_kwargs": _compact(client),
        "config_kwargs": _compact(config),
        "s3_additional_kwargs": _compact(additional),
        "version_aware": _true(opts.get("version_aware")),
        "use_listings_cache": False,  # objects appear while we work: never answer from a stale listing
    }


def _gs_options(spec: RemoteSpec) -> dict[str, Any]:
    opts = spec.options
    token = "anon" if _true(opts.get("allow_anonymous_login")) else opts.get("credentialpath")
    return {"project": opts.get("projectname"), "token": token, "endpoint_url": opts.get("endpointurl")}


def _azure_options(spec: RemoteSpec) -> dict[str, Any]:
    opts = spec.options
    keys = ("connection_string", "account_name", "account_key", "sas_token", "tenant_id", "client_id", "client_secret")
    found: dict[str, Any] = {key: opts.get(key) for key in keys}
    found["anon"] = _true(opts.get("allow_anonymous_login"))
    return found


def _ask(option: str, spec: RemoteSpec, host: str | None, user: str | None) -> str | None:
    """``ask_password`` / ``ask_passphrase``: prompt once for the secret, as DVC does."""
    import getpass

    who = f"{user}@{host}" if user else str(host)
    try:
        return getpass.getpass(f"Enter a {option} for {who} (remote '{spec.name}'): ")
    except EOFError:
        return None


def _ssh_options(spec: RemoteSpec) -> dict[str, Any]:
    """dvc-ssh's mapping of DVC's ``ssh`` keys to sshfs (asyncssh) arguments: ``user`` and
    ``port`` over the URL's, ``keyfile`` (``~`` expanded), ``password``/``passphrase`` or
    their ``ask_*`` prompts, auth limited to the methods the settings back (no prompt
    for an unrelated default key), ``timeout`` for connecting, ``max_sessions``."""
    opts = spec.options
    parsed = urlparse(spec.url)
    host, user = parsed.hostname, opts.get("user") or parsed.username
    found: dict[str, Any] = {
        "host": host,
        "port": _int(opts.get("port")) or parsed.port,
        "username": user,
        "password": opts.get("password"),
        "passphrase": opts.get("passphrase"),
        "connect_timeout": _int(opts.get("timeout")),
        "max_sessions": _int(opts.get("max_sessions")),
        "gss_auth": _true(opts.get("gss_auth")) or False,
    }
    for option in ("password", "passphrase"):
        if found[option] is None and _true(opts.get(f"ask_{option}")):
            found[option] = _ask(option, spec, host, user)
    keyfile = opts.get("keyfile")
    if keyfile:
        keyfile = os.path.expanduser(keyfile)
        if not os.path.isfile(keyfile):
            raise RemoteConfigError(
                f"Remote '{spec.name}': keyfile {keyfile} does not exist; point it at your private key with "
                f"`jupyter dvc remote modify --local {spec.name} keyfile PATH`."
            )
        found["client_keys"] = [keyfile]
    preferred = []
    if keyfile or found["passphrase"] is not None:
        preferred.append("publickey")
    if found["password"] is not None:
        preferred.extend(("keyboard-interactive", "password"))
    if preferred:
        found["preferred_auth"] = preferred
    if _true(opts.get("allow_agent")) is False:
        found["agent_path"] = None
    return found


def failure_hint(url: str, exc: BaseException) -> str | None:
    """The fix for a storage error that says more than "check the URL, credentials and
    network": a refused connection or refused credentials on an SSH or HTTP remote."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme not in ("ssh", "http", "https"):
        return None
    where = f"{parsed.hostname}:{parsed.port}" if parsed.port else str(parsed.hostname)
    kinds = {c.__name__ for c in type(exc).__mro__}
    if kinds & {"ConnectionRefusedError", "ClientConnectorError", "gaierror", "TimeoutError", "ConnectionLost"}:
        return f"cannot connect to {where}; check the host and port of its url and that the server is running"
    # sshfs turns asyncssh's refused login into a PermissionError naming the user
    refused = isinstance(exc, PermissionError) and str(exc).startswith("Permission denied for user")
    if scheme == "ssh" and (refused or kinds & {"PermissionDenied", "KeyImportError", "KeyEncryptionError"}):
        return (
            f"{where} refused the credentials; set the remote's user and keyfile (or password), "
            "e.g. `jupyter dvc remote modify --local NAME keyfile ~/.ssh/id_ed25519`"
        )
    if kinds & {"ClientResponseError"} and getattr(exc, "status", None) in (401, 403):
        return f"{where} refused the request ({exc.status}); set the remote's auth, user and password"  # type: ignore[attr-defined]
    return None


def _http_options(spec: RemoteSpec) -> dict[str, Any]:
    """dvc-http's mapping: ``auth`` basic (``user`` and ``password``, or ``ask_password``)
    or custom (``custom_auth_header`` carrying ``password``), ``ssl_verify`` (false, or a
    CA bundle's path), ``connect_timeout`` and ``read_timeout`` (no total limit: large
    objects take long), proxies from the environment. ``method`` is the upload's (see
    :attr:`Storage.put_options`).

    Raises:
        RemoteConfigError: an auth method DVC does not support, or one missing its secret.
    """
    import aiohttp

    opts = spec.options
    auth = opts.get("auth")
    password = opts.get("password")
    if auth and password is None and _true(opts.get("ask_password")):
        password = _ask("password", spec, urlparse(spec.url).hostname, opts.get("user") or "custom")
    client: dict[str, Any] = {"trust_env": True}
    timeouts = {"connect": _float(opts.get("connect_timeout")), "sock_read": _float(opts.get("read_timeout"))}
    client["timeout"] = aiohttp.ClientTimeout(total=None, **{k: v for k, v in timeouts.items() if v is not None})
    found: dict[str, Any] = {"client_kwargs": client}
    if auth == "basic":
        if not opts.get("user") or password is None:
            raise RemoteConfigError(
                f"Remote '{spec.name}': HTTP basic auth needs both user and password; set them with "
                f"`jupyter dvc remote modify --local {spec.name} user NAME` (and password, or ask_password true)."
            )
        client["auth"] = aiohttp.BasicAuth(opts["user"], password)
    elif auth == "custom":
        if not opts.get("custom_auth_header") or password is None:
            raise RemoteConfigError(
                f"Remote '{spec.name}': HTTP custom auth needs custom_auth_header and password; set both with "
                f"`jupyter dvc remote modify --local {spec.name} ...`."
            )
        client["headers"] = {opts["custom_auth_header"]: password}
    elif auth:
        raise RemoteConfigError(f"Remote '{spec.name}': HTTP auth '{auth}' is not supported; use basic or custom.")
    verify = _ssl_verify(opts.get("ssl_verify"))
    if verify is False:
        found["ssl"] = False  # passed with every request
    elif isinstance(verify, str):
        import ssl

        found["ssl"] = ssl.create_default_context(cafile=verify)
    return found


def _float(value: str | None) -> float | None:
    return None if value is None else float(value)


_OPTIONS = {
    "": lambda spec: {},
    "s3": _s3_options,
    "gs": _gs_options,
    "azure": _azure_options,
    "ssh": _ssh_options,
    "http": _http_options,
    "https": _http_options,
}


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class Storage:
    """An opened remote: ``fs`` (fsspec) and ``root``, the path on it that holds DVC's layout."""

    name: str
    url: str
    protocol: str
    fs: Any
    root: str
    put_options: dict[str, Any] = field(default_factory=dict)  # every upload's (HTTP: its method)

    @property
    def renames(self) -> bool:
        """Whether an object is written under a temporary name and renamed (else one PUT)."""
        return self.protocol in RENAMING

    @property
    def lists(self) -> bool:
        """Whether the storage can be listed (an HTTP server cannot: objects are asked for one by one)."""
        return self.protocol not in ("http", "https")

    @property
    def deletes(self) -> bool:
        """Whether an object can be deleted (not over HTTP, which only GETs and uploads)."""
        return self.protocol not in ("http", "https")

    def join(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)


def _root_path(spec: RemoteSpec, protocol: str) -> str:
    """The path on the file system that ``spec.url`` names, checked.

    Raises:
        RemoteConfigError: a ``..`` segment, or no bucket/container/host.
    """
    if protocol == "file":
        return spec.url
    parsed = urlparse(spec.url)
    segments = [s for s in parsed.path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise RemoteConfigError(
            f"Remote '{spec.name}': URL {spec.url} has '.' or '..' segments; write the path without them."
        )
    if not parsed.netloc:
        raise RemoteConfigError(f"Remote '{spec.name}': URL {spec.url} names no bucket or host; fix its url.")
    if protocol in ("http", "https"):
        return spec.url.rstrip("/")
    if protocol == "ssh":
        return "/" + "/".join(segments)
    return "/".join([parsed.netloc, *segments])


def _check_local(project: Project, spec: RemoteSpec) -> None:
    """A local remote may not be the project's git directory, its cache, or inside them."""
    target = os.path.realpath(spec.url)
    for forbidden, what in ((project.root / ".git", "the git directory"), (project.cache_dir, "the DVC cache")):
        inside = os.path.realpath(forbidden)
        if target == inside or target.startswith(inside + os.sep) or inside.startswith(target + os.sep):
            raise RemoteConfigError(
                f"Remote '{spec.name}' ({spec.url}) overlaps {what}; point it at a directory outside it."
            )


def open_storage(project: Project, spec: RemoteSpec) -> Storage:
    """Open ``spec``'s file system through fsspec.

    Raises:
        MissingDriverError: the driver is not installed (names the extra).
        RemoteConfigError: an unsupported scheme or a bad URL or setting.
    """
    scheme = spec.scheme
    if scheme == "file":
        scheme = ""
    if scheme not in DRIVERS:
        raise RemoteConfigError(
            f"Remote '{spec.name}': {scheme}:// remotes are not supported by jupyter_exp; "
            "use s3, gs, azure, ssh, http(s) or a directory, or push and pull this one with DVC."
        )
    protocol, module, extra = DRIVERS[scheme]
    if protocol == "file":
        _check_local(project, spec)
    root = _root_path(spec, protocol)
    try:
        __import__(module)
    except ImportError:
        raise MissingDriverError(
            f"Remote '{spec.name}' needs {module}, which is not installed; "
            f"install it with `pip install 'jupyter_exp[{extra}]'`."
        ) from None
    import fsspec

    options = _compact(_OPTIONS[scheme](spec))
    try:
        if protocol == "ssh":  # DVC's driver (asyncssh), not fsspec's paramiko one under the same name
            from sshfs import SSHFileSystem

            fs = SSHFileSystem(skip_instance_cache=True, **options)
        else:
            fs = fsspec.filesystem(protocol, skip_instance_cache=True, **options)
    except ImportError as exc:
        raise MissingDriverError(
            f"Remote '{spec.name}' needs {exc.name or module}, which is not installed; "
            f"install it with `pip install 'jupyter_exp[{extra}]'`."
        ) from None
    except (ValueError, TypeError) as exc:
        raise DataRemoteError(f"Cannot open remote '{spec.name}' ({spec.url}): {exc}; check its settings.") from None
    put_options = {}
    if protocol in ("http", "https"):
        method = (spec.options.get("method") or "POST").lower()
        if method not in ("post", "put"):
            raise RemoteConfigError(f"Remote '{spec.name}': method {method.upper()} cannot upload; use POST or PUT.")
        put_options["method"] = method
    return Storage(spec.name, spec.url, protocol, fs, root, put_options)
