"""``exp run --search`` / ``--resume`` / ``--status`` / ``--remove``: which flags a study takes, and
running or reporting one (the rest of ``exp run`` is in ``experiments.py``)."""

from __future__ import annotations

import argparse

from ..errors import JupyterExpError
from .parser import Text


def search_only(args: argparse.Namespace) -> list[tuple[str, object]]:
    """The flags that shape a new study, and whether each was given."""
    return [
        ("--objective", args.objective),
        ("--maximize", args.maximize),
        ("--trials", args.trials is not None),
        ("--sampler", args.sampler is not None),
        ("--seed", args.seed is not None),
        ("--prune", args.prune),
    ]


def _modes(args: argparse.Namespace) -> list[str]:
    # (``--resume ''`` and ``--remove ''`` name a study too: never a plain run's go-ahead)
    given = (args.search, args.resume is not None, args.status is not None, args.remove is not None)
    return [mode for mode, on in zip(("--search", "--resume", "--status", "--remove"), given) if on]


def search_mode(args: argparse.Namespace) -> bool:
    """Whether ``exp run`` was asked for a study (to run, continue, report or remove)."""
    return bool(_modes(args))


def check_search_flags(args: argparse.Namespace) -> None:
    """Refuse what a study cannot honour, before anything is queued: its trials are
    queued and run by the study itself, from the workspace's HEAD."""
    chosen = _modes(args)
    modes = [m for m in chosen if m != "--search"]
    if len(modes) > 1:
        raise JupyterExpError(f"{modes[0]} and {modes[1]} exclude each other; pick one.")
    others = [
        ("--queue", args.queue),
        ("--temp", args.temp),
        ("--run-all", args.run_all),
        ("--dry", args.dry),
        ("-r/--rev", args.rev),
        ("-C/--copy-paths", args.copy_paths),
        ("--reset", args.reset),
        ("-m/--message", args.message),
        ("--shared-fs/--no-shared-fs", args.shared_fs is not None),  # (a study's workers share the project)
    ]
    clash = next((flag for flag, value in others if value), None)
    if clash is not None:
        fix = "its trials are queued and run by the study" if clash in ("--queue", "--run-all", "--temp") else ""
        raise JupyterExpError(f"{clash} does not apply to {chosen[0]}{f' ({fix})' if fix else ''}; drop {clash}.")
    if modes:
        # A study keeps what it was started with; only -j and --executor are the run's.
        kept = [flag for flag, value in [("-S", args.set_param), *search_only(args), ("-n", args.name)] if value]
        kept += ["TARGETS"] if args.targets and args.resume is None else []
        if kept and args.resume is None:
            raise JupyterExpError(f"{kept[0]} does not apply to {modes[0]}; drop it.")
        if kept:
            raise JupyterExpError(
                f"{kept[0]} does not apply to --resume: study '{args.resume}' keeps what it was started with; "
                f"drop {kept[0]}."
            )
        if args.resume is None and (args.executor or args.jobs != 1):
            raise JupyterExpError(f"-j/--executor do not apply to {modes[0]}; drop them.")


def run_search(args: argparse.Namespace, targets, options) -> Text:
    """``exp run --search`` (``--resume NAME``, ``--status [NAME]``): a hyperparameter study."""
    from ..api import search as search_api

    if args.remove is not None:
        removed = search_api.search_remove(args.remove)
        kept = (
            f"; its {len(removed)} experiments stay (`exp remove {' '.join(removed)}` removes them)" if removed else ""
        )
        return Text(f"Removed study '{args.remove}'{kept}.\n")
    if args.status is not None:
        if args.status:
            return Text(search_api.search_status(args.status) + "\n")
        from ..api import project_at
        from ..studies.study import study_names

        names = study_names(project_at(None))
        return Text("".join(f"{n}: {search_api.search_status(n)}\n" for n in names) or "No studies.\n")
    result = search_api.search(
        args.set_param,
        objective=args.objective,
        maximize=args.maximize,
        trials=20 if args.trials is None else args.trials,
        jobs=args.jobs,
        name=args.name,
        sampler=args.sampler or "tpe",
        seed=args.seed,
        prune=args.prune,
        executor=args.executor,
        resume=args.resume,
        targets=targets,
        options=options,
        quiet=args.quiet,
    )
    return Text(f"Study '{result.study}': {result.status}\n")
