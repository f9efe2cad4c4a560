"""``jupyter dvc remote ...`` (DVC's ``remote`` verbs) and ``jupyter dvc push|pull|fetch|gc``
(DVC's data ``push``/``pull``/``fetch`` and cache ``gc``), with DVC's flags and output lines.

``jupyter exp push|pull|gc`` are the experiment verbs, as ``dvc exp push|pull|gc`` are.
"""

from __future__ import annotations

import argparse
import sys

from ..api import data as api
from .parser import Parser

LEVEL_FLAGS = (("--local", "local"), ("--project", "repo"), ("--global", "global"), ("--system", "system"))


def _level_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    for flag, level in LEVEL_FLAGS:
        group.add_argument(flag, dest="level", action="store_const", const=level, help=f"the {level} config file")


# -- remote ----------------------------------------------------------------------------


def _cmd_remote_add(args: argparse.Namespace) -> None:
    if args.default:
        print(f"Setting '{args.name.lower()}' as a default remote.")
    api.remote_add(args.name, args.url, default=args.default, force=args.force, level=args.level)


def _cmd_remote_list(args: argparse.Namespace) -> None:
    for entry in api.remote_list(level=args.level):
        print(f"{entry.name}\t{entry.url}" + ("\t(default)" if entry.default else ""))


def _cmd_remote_modify(args: argparse.Namespace) -> None:
    api.remote_modify(args.name, args.option, args.value, unset=args.unset, level=args.level)


def _cmd_remote_remove(args: argparse.Namespace) -> None:
    api.remote_remove(args.name, level=args.level)


def _cmd_remote_rename(args: argparse.Namespace) -> None:
    api.remote_rename(args.name, args.new, level=args.level)


def _cmd_remote_default(args: argparse.Namespace) -> None:
    name = api.remote_default(args.name, unset=args.unset, level=args.level)
    if args.name is None and not args.unset:
        if name is None:
            from ..remote.errors import RemoteConfigError

            raise RemoteConfigError("No default remote set; set one with `jupyter dvc remote default NAME`.")
        print(name)


def _add_remote(verbs) -> None:
    remote = verbs.add_parser("remote", help="set up and manage data remotes (dvc remote)")
    sub = remote.add_subparsers(dest="remote_verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    p = sub.add_parser("add", help="add a data remote")
    p.add_argument("name")
    p.add_argument("url", help="a directory, or s3://, gs://, azure://, ssh://, http(s):// URL")
    p.add_argument("-d", "--default", action="store_true", help="make it the default remote")
    p.add_argument("-f", "--force", action="store_true", help="overwrite a remote of that name")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_add)
    p = sub.add_parser("list", help="list the data remotes")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_list)
    p = sub.add_parser("modify", help="set or unset an option of a data remote")
    p.add_argument("name")
    p.add_argument("option", help="endpointurl, profile, region, access_key_id, ...")
    p.add_argument("value", nargs="?")
    p.add_argument("-u", "--unset", action="store_true", help="remove the option")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_modify)
    p = sub.add_parser("remove", help="remove a data remote")
    p.add_argument("name")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_remove)
    p = sub.add_parser("rename", help="rename a data remote")
    p.add_argument("name")
    p.add_argument("new")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_rename)
    p = sub.add_parser("default", help="set, unset or show the default data remote")
    p.add_argument("name", nargs="?")
    p.add_argument("-u", "--unset", action="store_true", help="unset the default remote")
    _level_flags(p)
    p.set_defaults(func=_cmd_remote_default)


# -- data push / pull / fetch ------------------------------------------------------------


def summary(counts: list[tuple[int, str]], nothing: str = "Everything is up to date.") -> str:
    """DVC's summary: ``3 files pushed``, ``2 files fetched and 1 file added``."""
    parts = [f"{n} file{'s' if n > 1 else ''} {what}" for n, what in counts if n]
    if not parts:
        return nothing
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _warn_missing(report) -> None:
    if report.missing:
        shown = ", ".join(report.missing[:5]) + (
            f" and {len(report.missing) - 5} more" if len(report.missing) > 5 else ""
        )
        print(
            f"WARNING: {len(report.missing)} cache file(s) are neither in the cache nor on remote "
            f"'{report.remote}', not pushed: {shown}; reproduce their stages or pull them.",
            file=sys.stderr,
        )


def _selection(args: argparse.Namespace) -> dict:
    args.glob = getattr(args, "glob", False)
    return {
        "remote": args.remote,
        "jobs": args.jobs,
        "all_branches": args.all_branches,
        "all_tags": args.all_tags,
        "all_commits": args.all_commits,
        "all_experiments": args.all_experiments,
        "experiments": args.exp or None,
        "with_deps": args.with_deps,
        "recursive": args.recursive,
        "glob": args.glob,
        "run_cache": args.run_cache,
    }


def _cmd_push(args: argparse.Namespace) -> None:
    report = api.data_push(args.targets or None, **_selection(args))
    _warn_missing(report)
    print(summary([(report.transferred, "pushed")]))


def _cmd_fetch(args: argparse.Namespace) -> None:
    report = api.data_fetch(args.targets or None, **_selection(args))
    print(summary([(report.transferred, "fetched")]))


def print_changes(outputs: tuple[tuple[str, str], ...]) -> None:
    """DVC's lines for the outputs a checkout changed: ``A       data/images/`` (its
    letter, then a tab as DVC's console expands it), paths from the current directory."""
    import os

    from ..api import project_at
    from ..pipeline.tracked import CHANGE_KINDS

    root, here = project_at(None).root, os.getcwd()
    shown = [(kind, os.path.relpath(root / path, here) + ("/" if path.endswith("/") else "")) for kind, path in outputs]
    # DVC's order: by kind; in each, directories first, then as shown, sorted
    for kind, path in sorted(shown, key=lambda c: (CHANGE_KINDS.index(c[0]), not c[1].endswith("/"), c[1])):
        print(f"{kind[0].upper():<8}{path}")


def _cmd_pull(args: argparse.Namespace) -> None:
    report = api.data_pull(args.targets or None, force=args.force, allow_missing=args.allow_missing, **_selection(args))
    done = report.checked_out
    print_changes(done.outputs if done else ())
    print(summary([(report.transferred, "fetched"), *((n, kind) for kind, n in (done.counts if done else ()))]))


def _sync_flags(p: argparse.ArgumentParser, verb: str) -> None:
    p.add_argument("targets", nargs="*", help="stages, .dvc files or tracked paths (default: everything)")
    p.add_argument("-r", "--remote", metavar="NAME", help=f"remote to {verb} (default: core.remote)")
    p.add_argument("-j", "--jobs", type=int, metavar="NUMBER", help="transfers at once (default: 4 per CPU)")
    p.add_argument("-a", "--all-branches", action="store_true", help="also what every branch tip needs")
    p.add_argument("-T", "--all-tags", action="store_true", help="also what every tag needs")
    p.add_argument("-A", "--all-commits", action="store_true", help="also what every commit needs")
    p.add_argument("--all-experiments", action="store_true", help="also what every experiment needs")
    p.add_argument("-e", "--exp", action="append", metavar="NAME", help="also what this experiment needs")
    p.add_argument("-d", "--with-deps", action="store_true", help="also the stages the targets depend on")
    p.add_argument("-R", "--recursive", action="store_true", help="every .dvc file and stage in target directories")
    p.add_argument(
        "--run-cache", action=argparse.BooleanOptionalAction, default=False, help="also the run history (the run-cache)"
    )
    if verb == "push to":  # only DVC's push has --glob
        p.add_argument("--glob", action="store_true", help="targets may hold shell-style wildcards")


# -- data gc ---------------------------------------------------------------------------


def _listing(plan) -> list[str]:
    lines = [f"Removing {plan.cache_dir}/files/md5/{m[:2]}/{m[2:]}" for m in plan.local]
    lines += [f"Removing {m[:2]}/{m[2:]} from remote '{plan.remote_name}'" for m in plan.remote]
    return lines


def _gc_line(plan) -> str:
    from ..remote.gc import size_text

    verb = "Removed" if plan.applied else "Would remove"
    if not plan.local and not plan.remote:
        text = "No unused cache to remove."
    else:
        text = f"{verb} {len(plan.local)} object(s) ({size_text(plan.local_bytes)}) from the cache"
        if plan.remote_name is not None:
            text += f" and {len(plan.remote)} ({size_text(plan.remote_bytes)}) from remote '{plan.remote_name}'"
        text += "."
    return text


def _cmd_gc(args: argparse.Namespace) -> None:
    from ..api import confirm

    def ask(plan) -> bool:
        print("\n".join(_listing(plan)))
        return confirm("Are you sure you want to proceed?")

    plan = api.data_gc(
        workspace=args.workspace,
        all_branches=args.all_branches,
        all_tags=args.all_tags,
        all_commits=args.all_commits,
        all_experiments=args.all_experiments,
        revs=args.rev,
        num=args.num or 1,
        date=args.date,
        cloud=args.cloud,
        remote=args.remote,
        not_in_remote=args.not_in_remote,
        skip_failed=args.skip_failed,
        projects=args.projects,
        force=args.force,
        dry=args.dry,
        confirm=ask,
    )
    if args.dry:
        for line in _listing(plan):
            print(line)
    elif not plan.applied and (plan.local or plan.remote):
        print("Nothing removed.")
        return
    print(_gc_line(plan))


def _add_data(sub) -> None:
    p = sub.add_parser("push", help="send cached data to a remote")
    _sync_flags(p, "push to")
    p.set_defaults(func=_cmd_push)
    p = sub.add_parser("fetch", help="bring data from a remote into the cache")
    _sync_flags(p, "fetch from")
    p.set_defaults(func=_cmd_fetch)
    p = sub.add_parser("pull", help="fetch, then check out the workspace's data")
    _sync_flags(p, "pull from")
    p.add_argument("-f", "--force", action="store_true", help="replace workspace files no cache object holds")
    p.add_argument("--allow-missing", action="store_true", help="no error for data the remote lacks")
    p.set_defaults(func=_cmd_pull)
    p = sub.add_parser("gc", help="remove cache objects no kept revision needs (dvc gc)")
    p.add_argument("-w", "--workspace", action="store_true", help="keep what the workspace needs")
    p.add_argument("-a", "--all-branches", action="store_true", help="keep what every branch tip needs")
    p.add_argument("-T", "--all-tags", action="store_true", help="keep what every tag needs")
    p.add_argument("-A", "--all-commits", action="store_true", help="keep what every commit needs")
    p.add_argument("--all-experiments", action="store_true", help="keep every experiment (always done)")
    p.add_argument("--rev", action="append", metavar="COMMIT", help="keep what this commit needs")
    p.add_argument("-n", "--num", type=int, metavar="NUM", help="with --rev or -a: that many commits back")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="keep what every commit since that day needs")
    p.add_argument("-c", "--cloud", action="store_true", help="also remove unused objects from the remote")
    p.add_argument("--not-in-remote", action="store_true", help="keep only what the remote does not hold")
    p.add_argument("-r", "--remote", metavar="NAME", help="remote for -c or --not-in-remote (default: core.remote)")
    p.add_argument("--skip-failed", action="store_true", help="skip commits that cannot be read")
    p.add_argument(
        "-p", "--projects", nargs="*", metavar="PATH", help="also keep what these projects sharing the cache need"
    )
    p.add_argument("-f", "--force", action="store_true", help="do not ask before removing")
    p.add_argument("--dry", action="store_true", help="list what would be removed; remove nothing")
    p.add_argument("-j", "--jobs", type=int, metavar="NUMBER", help="accepted for DVC's sake")
    p.set_defaults(func=_cmd_gc)


def add_verbs(verbs) -> None:
    """``remote``, ``push``, ``pull``, ``fetch`` and ``gc``."""
    _add_remote(verbs)
    _add_data(verbs)
