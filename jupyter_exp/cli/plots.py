"""The ``plots`` verb of ``jupyter exp``: ``plots show``, ``plots diff``, ``plots templates``,
and ours: ``plots study NAME`` (a search's history and importances) and ``plots trends``
(each metric over the steps of experiments).

Flags are DVC's (``dvc/commands/plots.py``). From the command line the plots go to
an HTML page (``-o``, default ``plots.out_dir`` of ``.dvc/config`` or ``dvc_plots``)
whose address is printed; ``--json`` prints DVC's JSON and ``--show-vega`` one
filled spec. From ``%exp`` without those flags the plots show in the notebook.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..api import plots as api
from .parser import Parser, Text


def _props(args: argparse.Namespace) -> dict:
    return {
        "template": args.template,
        "x": args.x,
        "y": args.y,
        "header": args.header,
        "title": args.title,
        "x_label": args.x_label,
        "y_label": args.y_label,
    }


def _cmd_show(args: argparse.Namespace):
    if args.show_vega and len(args.targets) != 1:
        raise _usage("--show-vega takes one target; name the plot to show")
    return _output(api.plots_show(args.targets, **_props(args)), args)


def _cmd_diff(args: argparse.Namespace):
    if args.show_vega and len(args.targets or []) != 1:
        raise _usage("--show-vega takes one target; name the plot with --targets")
    view = api.plots_diff(*args.revisions, targets=args.targets, experiment=args.experiment, **_props(args))
    return _output(view, args)


def _cmd_study(args: argparse.Namespace):
    from ..api import search as search_api

    if args.show_vega and len(args.targets or []) != 1:
        raise _usage("--show-vega takes one target; name the plot with --targets")
    return _output(_chosen(search_api.search_plots(args.study), args.targets), args)


def _cmd_trends(args: argparse.Namespace):
    if args.commits:
        return _commits(args)
    if args.metric or args.num is not None or args.all_commits or args.no_experiments:
        raise _usage("--metric, -n, -A and --no-experiments go with --commits (a metric over commits)")
    view = _chosen(api.plots_trends(*args.revisions, live_dir=args.live_dir), args.targets)
    if args.show_vega and len(view.plots) != 1:
        raise _usage("--show-vega takes one plot; name it with --targets")
    return _output(view, args)


def _commits(args: argparse.Namespace):
    """``plots trends --commits``: a metric over the commits ``exp show -n``/``-A`` collect."""
    from ..render.json import dumps

    if args.targets is not None or args.split or args.html_template:
        raise _usage("--commits draws one chart: --targets, --split and --html-template do not apply")
    from typing import cast

    from ..plots.commits import CommitsView

    view = api.plots_trends(
        *args.revisions,
        kind="commits",
        metric=args.metric,
        num=args.num or 1,
        all_commits=args.all_commits,
        experiments=not args.no_experiments,
    )
    view = cast(CommitsView, view)  # kind="commits" gives one
    if args.show_vega or args.json:
        return Text(dumps(view.spec, sys.stdout.isatty()) + "\n")
    if args.from_kernel and not (args.out or args.open):
        return view
    from ..plots.display import _embed_html

    out = Path(os.getcwd()) / (args.out or "dvc_plots")
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    title = view.spec["title"]
    page.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{_embed_html(title, view.spec)}</body></html>",
        encoding="utf-8",
    )
    lines = [page.as_uri(), _open(page) if args.open else ""]
    return Text("\n".join(line for line in lines if line) + "\n")


def _chosen(view, targets: list[str] | None):
    """``view`` with only the plots ``targets`` names (all when none)."""
    if not targets:
        return view
    from dataclasses import replace

    unknown = [t for t in targets if t not in {p.id for p in view.plots}]
    if unknown:
        raise _usage(f"no plot '{unknown[0]}'; name one of {', '.join(repr(p.id) for p in view.plots)}")
    return type(view)(view.project, replace(view.plot_set, plots=tuple(p for p in view.plots if p.id in targets)))


def _usage(message: str):
    from .parser import UsageError

    return UsageError(f"plots: {message}.")


def _config(project, key: str) -> str | None:
    return project.config.get("plots", key, fallback=None)


def _output(view, args: argparse.Namespace):
    """What the verb gives back: the notebook view, DVC's JSON, one spec, or the page's address."""
    from ..render.json import dumps

    if args.show_vega and args.json:
        raise _usage("--show-vega and --json are mutually exclusive")
    tty = sys.stdout.isatty()
    if args.show_vega:
        spec = next(iter(view.specs.values()), None)
        return Text(dumps(spec, tty) + "\n") if spec is not None else None
    out = args.out or _config(view.project, "out_dir") or "dvc_plots"
    if args.json:
        shown = view.to_json(out_dir=out, split=args.split)
        if view.errors:  # as DVC, on stderr; the JSON lists them
            failed = list(dict.fromkeys(e["rev"] for e in view.errors))
            print(f"Failed to load some plots for following revisions: '{', '.join(failed)}'.", file=sys.stderr)
        return Text(dumps(shown, tty) + "\n")
    if args.from_kernel and not (args.out or args.open):
        return view
    from ..plots.display import error_line

    for error in view.errors:
        print(error_line(error), file=sys.stderr)
    if not view.plots:
        print("No plots were loaded, visualization file will not be created.", file=sys.stderr)
        return None
    page = view.write_html(Path(os.getcwd()) / out, _html_template(view.project, args.html_template))
    lines = [page.as_uri()]
    if args.open or _config(view.project, "auto_open") in ("true", "True", "1"):
        lines.append(_open(page))
    return Text("\n".join(line for line in lines if line) + "\n")


def _html_template(project, flag: str | None) -> str | None:
    """``--html-template``, else ``plots.html_template`` of the config (relative to
    ``.dvc``, and confined to the project as anything a repository file names)."""
    if flag:
        return flag
    configured = _config(project, "html_template")
    if not configured:
        return None
    from ..plots.templates import TemplateError

    path = (project.dvc_dir / configured).resolve()
    if not path.is_relative_to(project.root.resolve()):
        raise TemplateError(f"plots.html_template '{configured}' is outside the project; put it in .dvc/.")
    return str(path)


def _open(page: Path) -> str:
    """Open the page in a browser if there is one; else say where it is."""
    import webbrowser

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return f"No web browser found; open {page} yourself."
    return "" if browser.open(page.as_uri()) else f"Failed to open {page}; open it yourself."


def _cmd_templates(args: argparse.Namespace):
    from ..render.json import dumps

    found = api.plots_templates(args.template)
    if isinstance(found, dict):
        return Text(dumps(found, sys.stdout.isatty()) + "\n")
    return Text("\n".join(found) + "\n")


def _plot_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-t", "--template", default=None, metavar="<path>", help="template name or JSON file")
    parser.add_argument("-x", default=None, metavar="<field>", help="field for the x axis")
    parser.add_argument("-y", default=None, metavar="<field>", help="field for the y axis")
    parser.add_argument(
        "--no-header", action="store_false", dest="header", default=None, help="CSV/TSV files have no header row"
    )
    parser.add_argument("--title", default=None, metavar="<text>", help="plot title")
    parser.add_argument("--x-label", default=None, metavar="<text>", help="x axis label")
    parser.add_argument("--y-label", default=None, metavar="<text>", help="y axis label")
    _output_flags(parser)


def _output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--out", default=None, metavar="<path>", help="directory to write the page to")
    parser.add_argument("--show-vega", action="store_true", help="print the filled Vega-Lite spec of one plot")
    parser.add_argument("--json", action="store_true", help="DVC's JSON: specs, image files, errors")
    parser.add_argument("--split", action="store_true", help="with --json: anchors apart from the spec")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--html-template", default=None, metavar="<path>", help="HTML page template")


def add_verbs(verbs) -> None:
    """``plots show``, ``plots diff`` and ``plots templates``."""
    p = verbs.add_parser("plots", help="plots of the project, at any revision")
    sub = p.add_subparsers(dest="plots_verb", metavar="VERB", parser_class=Parser)
    sub.required = True
    s = sub.add_parser("show", help="the plots of the workspace")
    s.add_argument("targets", nargs="*", help="plot ids or files (default: every plot)")
    _plot_flags(s)
    s.set_defaults(func=_cmd_show)
    d = sub.add_parser("diff", help="plots of several revisions or experiments, overlaid")
    d.add_argument("revisions", nargs="*", help="experiments, commits, branches or 'workspace'")
    d.add_argument("--targets", nargs="*", default=None, metavar="<paths>", help="plot ids or files")
    d.add_argument("-e", "--experiment", action="store_true", help="one experiment against its baseline")
    _plot_flags(d)
    d.set_defaults(func=_cmd_diff)
    y = sub.add_parser("study", help="a search's optimization history and param importances (ours)")
    y.add_argument("study", metavar="NAME", help="the study (`exp run --search -n NAME`)")
    y.add_argument(
        "--targets", nargs="*", default=None, metavar="<plots>", help="'optimization history' or 'param importances'"
    )
    _output_flags(y)
    y.set_defaults(func=_cmd_study)
    r = sub.add_parser("trends", help="each metric over the steps of experiments (ours)")
    r.add_argument("revisions", nargs="*", help="experiments, commits or 'workspace' (default: HEAD's experiments)")
    r.add_argument("--live-dir", default="dvclive", metavar="<path>", help="DVCLive's directory (default dvclive)")
    r.add_argument("--targets", nargs="*", default=None, metavar="<plots>", help="plot ids (history files)")
    r.add_argument("--commits", action="store_true", help="a metric over the commits -n/-A collect, not over steps")
    r.add_argument("--metric", default=None, metavar="<name>", help="with --commits: the metric (default the first)")
    r.add_argument("-n", "--num", type=int, default=None, metavar="<n>", help="with --commits: the last n commits")
    r.add_argument("-A", "--all-commits", action="store_true", help="with --commits: every commit")
    r.add_argument("--no-experiments", action="store_true", help="with --commits: no points for experiments")
    _output_flags(r)
    r.set_defaults(func=_cmd_trends)
    t = sub.add_parser("templates", help="DVC's template names, or one template's spec")
    t.add_argument("template", nargs="?", default=None)
    t.set_defaults(func=_cmd_templates)
