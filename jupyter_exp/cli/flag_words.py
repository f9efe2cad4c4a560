"""A command line's words for the options an engine message names.

The engine names an option by the api's keyword (:func:`jupyter_exp.errors.option`);
the CLI and the magics, which parse with argparse, spell it as the flag their parser
has for it: ``rerun with -f to overwrite``.
"""

from __future__ import annotations

import argparse

# An option whose flag has another name, or lives on another verb, than the api keyword
# an engine message names it by: (the parser's dest, the verb that has it).
_FLAG_OF: dict[str, tuple[str, str | None]] = {
    "revs": ("rev", None),
    "dvc_remote": ("remote", None),
    "queue": ("queue", "run"),  # `exp remove --queue` is another option
    "run_all": ("run_all", "run"),
    "copy_paths": ("copy_paths", "run"),
    "set_params": ("set_param", "run"),
}


def _flags(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """dest -> option strings of every flag of ``parser`` and of its sub-commands."""
    found: dict[str, list[str]] = {}
    for action in parser._actions:
        if action.option_strings:
            found.setdefault(action.dest, list(action.option_strings))
        for sub in (action.choices or {}).values() if isinstance(action.choices, dict) else ():
            for dest, strings in _flags(sub).items():
                found.setdefault(dest, strings)
    return found


class FlagWords:
    """A command line's words for the options an engine message names (see
    :func:`jupyter_exp.errors.option`): the flag of ``parser`` (the verb's), with its
    value; a flag of another verb as that verb's command (``verb_parser`` builds it)."""

    def __init__(self, parser: argparse.ArgumentParser, verb: str | None = None, verb_parser=None) -> None:
        self.parser = parser
        self.verb = verb
        self.verb_parser = verb_parser  # verb -> its ArgumentParser

    def __call__(self, name: str, value: str | None, label: bool) -> str:
        if name.startswith("@"):
            return self.parser.prog
        dest, home = _FLAG_OF.get(name, (name, None))
        flags, prefix = _flags(self.parser), ""
        if home is not None and home != self.verb and self.verb_parser is not None:
            other = self.verb_parser(home)
            flags, prefix = _flags(other), f"{other.prog} "
        strings = flags.get(dest) or ["--" + dest.replace("_", "-")]
        if label:
            return "/".join(strings)
        words = prefix + strings[0] + (f" {value}" if value is not None else "")
        return f"`{words}`" if prefix else words
