"""Plots for the experiment table: metric-over-step curves and a param-vs-metric
scatter, drawn as inline SVG (no plotting library, no front-end code). Each
experiment keeps its colour wherever it appears: the first time it is plotted it takes
the first palette colour no other plotted experiment holds, and the table's preferences
keep it (``assign_colours``)."""

from __future__ import annotations

import csv
import html
import io
import zlib
from dataclasses import dataclass

from ..experiments.collect import ExpRow
from ..experiments.show import Column, value
from ..project import Project
from .view import cell, column_id

# Tableau 10: distinguishable, and readable on light and dark themes.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
WIDTH, HEIGHT, PAD = 420, 260, 44


def assign_colours(known: dict[str, str], names: list[str]) -> dict[str, str]:
    """``known`` plus a colour for each new name: one that none of ``names`` holds,
    the least used among all known experiments first (past ten, the least used among
    ``names``)."""
    result = dict(known)
    for name in names:
        if name in result:
            continue
        taken = [result[n] for n in names if n in result]
        used = list(result.values())
        free = [c for c in PALETTE if c not in taken]
        result[name] = min(free or PALETTE, key=lambda c: (taken.count(c), used.count(c), PALETTE.index(c)))
    return result


def colour(name: str, colours: dict[str, str] | None = None) -> str:
    """The experiment's assigned colour; unassigned ones get one from a hash of the name."""
    if colours and name in colours:
        return colours[name]
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]


def _is_metric_tsv(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 3 and parts[-3:-1] == ["plots", "metrics"] and path.endswith(".tsv")


def _parse_tsv(data: bytes) -> list[tuple[float, float]]:
    """DVCLive's ``step<TAB>value`` rows (a header first); unreadable rows are skipped."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace")), delimiter="\t")
    header = next(reader, None)
    points = []
    if header and len(header) >= 2:
        for record in reader:
            try:
                points.append((float(record[0]), float(record[-1])))
            except (ValueError, IndexError):
                continue
    return points


def _tsv_curves(project: Project, rev: str) -> dict[str, list[tuple[float, float]]]:
    """``plots/metrics/<name>.tsv`` files (DVCLive's layout) of a commit: from git when
    they are committed (``cache: false``), else from the cache, through the outputs
    its ``dvc.lock`` records (a cached ``dvclive`` directory, say)."""
    git = project.git
    found: dict[str, bytes] = {}
    for path in git.ls_tree(rev):
        if _is_metric_tsv(path) and (data := git.read_blob(rev, path)) is not None:
            found[path] = data
    if not found:
        found = _cached_tsvs(project, rev)
    return {path.rsplit("/", 1)[-1][: -len(".tsv")]: _parse_tsv(data) for path, data in sorted(found.items())}


def _cached_tsvs(project: Project, rev: str) -> dict[str, bytes]:
    """DVCLive's step TSVs inside the cached outputs of ``rev``, read through the
    revision view (the one reader of cached files at a revision)."""
    from ..errors import JupyterExpError
    from ..revision import RevisionTree
    from ..tree import GitTree

    view = RevisionTree(project, GitTree(project.git, rev))
    found: dict[str, bytes] = {}
    try:
        names = [name for name in view.output_files() if _is_metric_tsv(name)]
    except JupyterExpError:  # a malformed dvc.lock: nothing to plot from it
        return {}
    for name in names:
        try:
            data = view.read(name)
        except JupyterExpError:  # an object not in this cache
            continue
        if data is not None:
            found[name] = data
    return found


def step_curves(
    project: Project, chosen: list[ExpRow], rows: list[ExpRow], cols: list[Column]
) -> dict[str, list[Series]]:
    """Per metric, one series per chosen experiment: from its ``plots/metrics`` TSV
    files if it has them, else from the metrics of its checkpoint commits."""
    result: dict[str, list[Series]] = {}
    for exp in chosen:
        name = exp.name or exp.rev[:7]
        curves = _tsv_curves(project, exp.rev) if exp.kind != "workspace" else {}
        if not curves:
            chain = [r for r in rows if r.kind == "checkpoint" and r.name == exp.name and r.baseline == exp.baseline]
            steps = sorted([exp] + chain, key=lambda r: r.step or 0)
            for col in cols:
                if col.group != "metrics":
                    continue
                points = [
                    (float(r.step or 0), float(v))
                    for r in steps
                    if isinstance(v := value(r, col), (int, float)) and not isinstance(v, bool)
                ]
                if len(points) > 1:
                    curves[col.label] = points
        for metric, points in curves.items():
            result.setdefault(metric, []).append(Series(name, tuple(points)))
    return result


def scatter(chosen: list[ExpRow], cols: list[Column], x: str | None, y: str | None) -> tuple[str, str, list[Series]]:
    """A param (x) against a metric (y), one point per experiment. Defaults: the first
    param that varies among ``chosen``, the first metric."""
    by_id = {column_id(c): c for c in cols}

    def numbers(cid: str) -> list:
        return [cell(r, cid, by_id) for r in chosen]

    params, metrics = axes(chosen, cols)
    x = x if x in params else None
    y = y if y in metrics else None
    x = x or next((p for p in params if len(set(numbers(p))) > 1), params[0] if params else None)
    y = y or (metrics[0] if metrics else None)
    if x is None or y is None:
        return x or "", y or "", []
    series = []
    for row in chosen:
        a, b = cell(row, x, by_id), cell(row, y, by_id)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            series.append(Series(row.name or row.rev[:7], ((float(a), float(b)),)))
    return x, y, series


def _ticks(lo: float, hi: float) -> list[float]:
    if hi == lo:
        return [lo]
    return [lo + (hi - lo) * i / 4 for i in range(5)]


def svg(
    title: str, series: list[Series], x_label: str, y_label: str, lines: bool, colours: dict[str, str] | None = None
) -> str:
    """One chart: lines (curves) or dots (scatter), axes with five ticks, a legend."""
    points = [p for s in series for p in s.points]
    if not points:
        return f'<div class="jx-plot-empty">{html.escape(title)}: nothing to plot.</div>'
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    # A margin, so points on the extremes are not drawn on the axes.
    dx, dy = (x1 - x0) * 0.05, (y1 - y0) * 0.05
    x0, x1, y0, y1 = x0 - dx, x1 + dx, y0 - dy, y1 + dy

    def sx(v: float) -> float:
        return PAD + (0.5 if x1 == x0 else (v - x0) / (x1 - x0)) * (WIDTH - 2 * PAD)

    def sy(v: float) -> float:
        return HEIGHT - PAD + 10 - (0.5 if y1 == y0 else (v - y0) / (y1 - y0)) * (HEIGHT - 2 * PAD)

    out = [
        f'<svg class="jx-plot" xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 140}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH + 140} {HEIGHT}" font-size="10" font-family="sans-serif">',
        f'<text x="{PAD}" y="14" font-size="12" font-weight="bold">{html.escape(title)}</text>',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD + 10}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD + 10}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{PAD - 10}" x2="{PAD}" y2="{HEIGHT - PAD + 10}" stroke="#888"/>',
    ]
    for t in _ticks(x0, x1):
        out.append(f'<text x="{sx(t):.1f}" y="{HEIGHT - PAD + 24}" text-anchor="middle">{t:.4g}</text>')
    for t in _ticks(y0, y1):
        out.append(f'<text x="{PAD - 4}" y="{sy(t) + 3:.1f}" text-anchor="end">{t:.4g}</text>')
    out.append(f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle">{html.escape(x_label)}</text>')
    out.append(
        f'<text x="10" y="{HEIGHT / 2:.0f}" transform="rotate(-90 10 {HEIGHT / 2:.0f})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>'
    )
    for i, s in enumerate(series):
        c = colour(s.name, colours)
        name = html.escape(s.name)
        if lines and len(s.points) > 1:
            coords = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in s.points)
            out.append(
                f'<polyline data-experiment="{name}" fill="none" stroke="{c}" stroke-width="2" points="{coords}"/>'
            )
        for a, b in s.points if not lines or len(s.points) == 1 else ():
            out.append(
                f'<circle data-experiment="{name}" cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="4" fill="{c}">'
                f"<title>{name}: {a:.4g}, {b:.4g}</title></circle>"
            )
        ly = PAD + 14 * i
        out.append(
            f'<rect x="{WIDTH - PAD + 56}" y="{ly - 8}" width="10" height="10" fill="{c}"/>'
            f'<text x="{WIDTH - PAD + 70}" y="{ly + 1}">{name}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def axes(chosen: list[ExpRow], cols: list[Column]) -> tuple[list[str], list[str]]:
    """The numeric params and metrics among ``chosen``: the scatter's possible axes."""
    by_id = {column_id(c): c for c in cols}

    def numeric(cid: str) -> bool:
        vals = [v for v in (cell(r, cid, by_id) for r in chosen) if v is not None]
        return bool(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)

    return (
        [cid for cid, c in by_id.items() if c.group == "params" and numeric(cid)],
        [cid for cid, c in by_id.items() if c.group == "metrics" and numeric(cid)],
    )


def render(
    project: Project,
    chosen: list[ExpRow],
    rows: list[ExpRow],
    cols: list[Column],
    x: str | None = None,
    y: str | None = None,
    colours: dict[str, str] | None = None,
) -> tuple[str, str, str]:
    """The plot panel, and the scatter's axes: a curve chart per metric with steps,
    then the param-vs-metric scatter."""
    parts = []
    for metric, series in sorted(step_curves(project, chosen, rows, cols).items()):
        parts.append(svg(metric, series, "step", metric, lines=True, colours=colours))
    x, y, points = scatter(chosen, cols, x, y)
    if points:
        label = lambda cid: cid.split(".", 1)[1]  # noqa: E731
        parts.append(svg(f"{label(y)} vs {label(x)}", points, label(x), label(y), lines=False, colours=colours))
    if not parts:
        return '<div class="jx-plot-empty">No metrics over steps and no numeric params to plot.</div>', x, y
    return '<div class="jx-plots">' + "".join(parts) + "</div>", x, y
