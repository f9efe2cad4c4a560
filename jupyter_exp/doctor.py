"""``dvc doctor``: what a bug report needs — versions (jupyter_exp, the DVC format it
keeps, Python, the platform, git, the storage drivers installed), the config files,
the cache's link types with those this file system supports (each tried: the cache
directory and the workspace get one small file linked every way), and the remotes.
"""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path

from .git import git_version

DVC_COMPAT = "3.x (dvc.yaml, dvc.lock, .dvc files and the cache layout of DVC 3)"
LINK_TYPES = ("reflink", "hardlink", "symlink")  # copy always works; DVC does not list it
DRIVERS = ("fsspec", "s3fs", "gcsfs", "adlfs", "sshfs", "aiohttp", "grandalf")


def supported_links(cache_dir: Path, workspace: Path) -> list[str]:
    """The link types that work from ``cache_dir`` into ``workspace``, found by trying each."""
    from .pipeline.cache import link_file

    found = []
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=cache_dir, prefix=".doctor-") as src_dir,
        tempfile.TemporaryDirectory(dir=workspace, prefix=".doctor-") as dst_dir,
    ):
        src = Path(src_dir) / "probe"
        src.write_bytes(b"jupyter_exp doctor\n")
        for link_type in LINK_TYPES:
            dst = Path(dst_dir) / link_type
            try:
                if link_file(src, dst, [link_type]) == link_type:
                    found.append(link_type)
            except Exception:  # noqa: BLE001 - a link type this file system refuses, whatever the error
                pass
    return found


def _fs_of(path: Path) -> str:
    """``ext4 on /dev/sda1``: the mount holding ``path`` (from /proc/mounts; '' elsewhere)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    best = ("", "unknown", "")
    resolved = str(path.resolve())
    for line in mounts:
        device, point, kind, *_ = line.split() + ["", "", ""]
        point = point.replace("\\040", " ")
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best[0]):
            best = (point, kind, device)
    return f"{best[1]} on {best[2]}"


def _version_of(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def report(start: str | os.PathLike | None = None) -> str:
    """The doctor's text; the project parts only inside a project."""
    from . import dvc_config
    from .errors import JupyterExpError
    from .project import Project
    from .version import __version__

    title = f"jupyter_exp version: {__version__}"
    lines = [
        title,
        "-" * len(title),
        f"DVC compatibility: {DVC_COMPAT}",
        f"Platform: Python {platform.python_version()} on {platform.platform()}",
        f"Git: {git_version() or 'not found'}",
        "Supports:",
    ]
    lines += [f"\t{name} = {_version_of(name)}" for name in DRIVERS if _version_of(name)]
    try:
        project = Project.find(Path(start) if start else Path.cwd())
    except JupyterExpError:
        lines.append("Project: none here (run `jupyter dvc doctor` inside one for its cache and remotes)")
        return "\n".join(lines) + "\n"
    paths = dvc_config.level_paths(project.dvc_dir)
    lines += ["Config:", f"\tGlobal: {paths['global'].parent}", f"\tSystem: {paths['system'].parent}"]
    config = dvc_config.load(project.dvc_dir)
    lines.append(f"Cache types: {', '.join(supported_links(project.cache_dir, project.root)) or 'none'}")
    lines.append(f"Cache type set: {config.get('cache', 'type') or 'default (reflink, copy)'}")
    lines.append(f"Cache directory: {_fs_of(project.cache_dir)}")
    remotes = config.merged().get("remote", {})
    shown = [f"{name} ({values.get('url', '?')})" for name, values in remotes.items()]
    lines.append(f"Remotes: {', '.join(shown) if shown else 'None'}")
    default = config.get("core", "remote")
    if default:
        lines.append(f"Default remote: {default}")
    lines.append(f"Workspace directory: {_fs_of(project.root)}")
    lines.append("Repo: jupyter_exp (DVC 3 format), git")
    return "\n".join(lines) + "\n"
