"""``jupyter dvc config`` and ``jupyter dvc doctor``."""

from __future__ import annotations

import argparse

from .parser import Text

_LEVELS = (("--system", "system"), ("--global", "global"), ("--project", "repo"), ("--local", "local"))


def _cmd_config(args: argparse.Namespace):
    from .. import config_cmd
    from ..api import project_at
    from ..errors import ConfigError

    dvc_dir = project_at(None).dvc_dir
    if args.list:
        if args.name or args.value is not None:
            raise ConfigError("-l/--list takes no name or value; drop them.")
        lines = config_cmd.listing(dvc_dir, args.level, show_origin=args.show_origin)
        return Text("\n".join(lines) + "\n") if lines else None
    if not args.name:
        raise ConfigError("Name an option (section.option), or pass -l to list them.")
    if args.unset:
        config_cmd.unset_option(dvc_dir, args.name, args.level or "repo")
        return None
    if args.value is None:
        value = config_cmd.get_option(dvc_dir, args.name, args.level)
        if value is None:
            raise ConfigError(f"option '{args.name}' is not set; set it with `jupyter dvc config {args.name} VALUE`.")
        return Text(value + "\n")
    config_cmd.set_option(dvc_dir, args.name, args.value, args.level or "repo")
    return None


def _cmd_doctor(args: argparse.Namespace):
    from ..doctor import report

    return Text(report())


def add_verbs(verbs) -> None:
    """``config`` and ``doctor``."""
    p = verbs.add_parser("config", help="get, set or list config options (dvc config)")
    group = p.add_mutually_exclusive_group()
    for flag, level in _LEVELS:
        group.add_argument(flag, dest="level", action="store_const", const=level, help=f"the {level} config file")
    p.add_argument("-u", "--unset", action="store_true", help="remove the option")
    p.add_argument("-l", "--list", action="store_true", help="list every option set")
    p.add_argument("--show-origin", action="store_true", help="with -l: the file each value comes from")
    p.add_argument("name", nargs="?", help="section.option or remote.NAME.option")
    p.add_argument("value", nargs="?")
    p.set_defaults(func=_cmd_config)

    p = verbs.add_parser("doctor", help="versions, cache and link types: what a bug report needs (dvc doctor)")
    p.set_defaults(func=_cmd_doctor)
