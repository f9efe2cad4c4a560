"""The errors of the data-remote package: each one line that names the fix."""

from __future__ import annotations

from ..errors import ConfigError, JupyterExpError


class RemoteConfigError(ConfigError):
    """A remote that is not configured, or a remote setting DVC would refuse."""


class MissingDriverError(JupyterExpError):
    """The fsspec driver of a remote's protocol is not installed."""


class DataRemoteError(JupyterExpError):
    """A data remote that cannot be reached, read or written, or that holds bad data."""
