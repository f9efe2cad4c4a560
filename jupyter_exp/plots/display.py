"""How a set of plots shows in a notebook, and what it gives Python.

Each Vega plot is one output with the ``application/vnd.vegalite.v5+json`` mime type
(JupyterLab and VS Code draw it natively), a ``text/html`` fallback and, when
``vl-convert-python`` is installed, an ``image/png`` (nbconvert, GitHub) drawn from
the same SVG (up to ``PNG_MAX_POINTS`` datapoints). Without vl-convert, or for a spec
of more than ``STATIC_MAX_POINTS`` datapoints, the HTML fallback is dvc-render's
Vega-Embed snippet (it needs the network, as DVC's page does) and there is no PNG.
Images show as themselves, one per revision.

Static renderings never fetch anything: vl-convert runs with no allowed base URL.
"""

from __future__ import annotations

import base64
import html
import json
import posixpath
from functools import cached_property
from pathlib import Path
from typing import Any

from ..project import Project
from .collect import Plot, PlotSet
from .render import errors_json, renderers, to_json, vega_spec, write_html

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
IMAGE_MIME[".svg"] = "image/svg+xml"
STATIC_MAX_POINTS = 5000  # larger specs get no static fallback (the spec itself still shows)
PNG_MAX_POINTS = 1000  # rasterising costs ~0.5 s past this (DVC's templates draw a rule per step)


def _vl_convert():
    try:
        import vl_convert
    except ImportError:
        return None
    return vl_convert


def _vl_version(vlc) -> str | None:
    """The newest Vega-Lite 5 vl-convert has: DVC's templates are Vega-Lite 5, as is
    JupyterLab's renderer."""
    fives = [v for v in vlc.get_vegalite_versions() if v.startswith("5.")]
    return max(fives, key=lambda v: tuple(int(p) for p in v.split(".")), default=None)


def _points(spec: dict) -> int:
    values = spec.get("data", {}).get("values") if isinstance(spec.get("data"), dict) else None
    return len(values) if isinstance(values, list) else 0


def static_svg(spec: dict) -> str | None:
    """The spec drawn as SVG by vl-convert; None without vl-convert, for a spec it
    cannot draw, or past STATIC_MAX_POINTS datapoints (drawing 10,000 points through
    DVC's smoothing takes seconds: the Vega-Lite renderer of the front end does it)."""
    vlc = _vl_convert()
    if vlc is None or _points(spec) > STATIC_MAX_POINTS:
        return None
    try:
        return vlc.vegalite_to_svg(spec, vl_version=_vl_version(vlc), allowed_base_urls=[])
    except Exception:  # a spec vl-convert cannot draw: the other representations remain
        return None


def svg_to_png(svg: str) -> bytes | None:
    """An SVG drawn by :func:`static_svg` as PNG (None without vl-convert)."""
    vlc = _vl_convert()
    if vlc is None:
        return None
    try:
        return vlc.svg_to_png(svg)
    except Exception:
        return None


def vega_bundle(plot_id: str, spec: dict, text: str) -> dict[str, Any]:
    """The mime bundle of one Vega-Lite spec: the spec, HTML and PNG fallbacks, text."""
    bundle: dict[str, Any] = {VEGALITE_MIME: spec, "text/plain": text}
    svg = static_svg(spec)
    if svg is not None:
        bundle["text/html"] = f'<div class="jx-vega" title="{html.escape(plot_id)}">{svg}</div>'
        png = svg_to_png(svg) if _points(spec) <= PNG_MAX_POINTS else None
        if png is not None:
            bundle["image/png"] = base64.b64encode(png).decode()
    else:
        bundle["text/html"] = _embed_html(plot_id, spec)
    return bundle


def _embed_html(plot_id: str, spec: dict) -> str:
    """dvc-render's own snippet (Vega-Embed from its CDN), for front ends that run scripts."""
    from dvc_render import VegaRenderer

    div = VegaRenderer.DIV.format(id=VegaRenderer.remove_special_chars(plot_id), partial=json.dumps(spec))
    return VegaRenderer.SCRIPTS + div


def image_html(plot: Plot) -> str:
    """An image plot: each revision's image with its name under it."""
    mime = IMAGE_MIME.get(posixpath.splitext(plot.id)[1].lower(), "image/png")
    figures = [
        f'<figure style="display:inline-block;margin:4px"><img src="data:{mime};base64,'
        f'{base64.b64encode(i.data).decode()}"><figcaption>{html.escape(i.rev)}</figcaption></figure>'
        for i in plot.images
    ]
    return f"<div><p>{html.escape(plot.id)}</p>{''.join(figures)}</div>"


class PlotsView:
    """The plots of ``plots_show``/``plots_diff``.

    ``specs``: Vega-Lite specs by plot id (filled, ready for ``altair.Chart.from_dict``
    or ``vega-embed``); ``plots``: the records (images' bytes included); ``errors``:
    files and revisions left out, as DVC's ``--json`` lists them.
    """

    def __init__(self, project: Project, plots: PlotSet) -> None:
        self.project = project
        self.plot_set = plots

    @property
    def plots(self) -> tuple[Plot, ...]:
        return self.plot_set.plots

    @property
    def revisions(self) -> tuple[str, ...]:
        return self.plot_set.revisions

    @cached_property
    def specs(self) -> dict[str, dict]:
        """Plot id -> filled Vega-Lite spec, for every Vega plot with data.

        Raises:
            TemplateError: a plot's template cannot be found, read or filled.
        """
        return {p.id: vega_spec(self.project, p)[0] for p in self.plots if p.kind == "vega" and p.datapoints}

    @property
    def errors(self) -> list[dict]:
        return errors_json(self.plot_set)

    def to_json(self, out_dir: str | Path | None = None, split: bool = False) -> dict:
        """DVC's ``plots show/diff --json`` (images into ``out_dir``, else as data URLs)."""
        return to_json(self.project, self.plot_set, out_dir, split)

    def write_html(self, out_dir: str | Path = "dvc_plots", html_template: str | Path | None = None) -> Path:
        """DVC's page, ``out_dir/index.html``; returns its path."""
        return write_html(self.project, self.plot_set, out_dir, html_template)

    def renderers(self) -> list:
        """dvc-render renderers, for a report of one's own (``dvc_render.render_html``)."""
        return renderers(self.project, self.plot_set)

    def __len__(self) -> int:
        return len(self.plots)

    def __str__(self) -> str:
        if not self.plots:
            return "No plots." + "".join(f"\n{error_line(e)}" for e in self.errors)
        lines = [f"Plots of {', '.join(self.revisions)}:"]
        for p in self.plots:
            what = "image" if p.kind == "image" else p.template
            lines.append(f"  {p.id} ({what}; {', '.join(p.revisions) or 'no data'})")
        return "\n".join(lines + [error_line(e) for e in self.errors])

    __repr__ = __str__

    def bundles(self) -> list[dict[str, Any]]:
        """One mime bundle per plot, in order."""
        found = []
        for p in self.plots:
            if p.kind == "image":
                if p.images:
                    found.append({"text/html": image_html(p), "text/plain": f"{p.id} (image)"})
            elif p.id in self.specs:
                found.append(vega_bundle(p.id, self.specs[p.id], f"{p.id} ({p.template})"))
        return found

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for bundle in self.bundles():
            display(bundle, raw=True)
        if self.errors or not self.plots:
            print("\n".join(([] if self.plots else ["No plots."]) + [error_line(e) for e in self.errors]))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """Every plot in one bundle (front ends without ``_ipython_display_``): the HTML
        of each, and the Vega-Lite spec itself when there is one plot."""
        bundles = self.bundles()
        bundle: dict[str, Any] = dict(bundles[0]) if len(bundles) == 1 else {}
        if bundles:
            bundle["text/html"] = "".join(b.get("text/html", "") for b in bundles)
        bundle["text/plain"] = str(self)
        return bundle


def error_line(error: dict) -> str:
    """One line for a file or revision left out."""
    where = f"{error['source']} at {error['rev']}" if "source" in error else error["rev"]
    message = " ".join(str(error["msg"]).split())
    return f"WARNING: {error.get('name', 'plots')} skipped ({where}): {message}"
