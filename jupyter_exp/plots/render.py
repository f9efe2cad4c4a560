"""Plot records rendered through ``dvc-render``: Vega-Lite specs, DVC's ``--json``
shape and the HTML page ``dvc plots show`` writes.

dvc-render fills the template (``VegaRenderer``) and lays out the page
(``render_html``); its errors are translated here, at one boundary, into one line.
"""

from __future__ import annotations

import base64
import copy
import os
from pathlib import Path
from typing import Any

from ..project import Project
from .collect import Image, Plot, PlotSet
from .templates import TemplateError, load_template


def _translated(exc: Exception, plot: Plot) -> TemplateError:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return TemplateError(f"Plot '{plot.id}' with template '{plot.template}': {message}; fix the template.")


def vega_renderer(project: Project, plot: Plot):
    """A fresh ``VegaRenderer`` for ``plot`` (a renderer fills its template once)."""
    from dvc_render import VegaRenderer

    props = copy.deepcopy(plot.props)
    props["template"] = load_template(project, plot.props.get("template"))
    return VegaRenderer([dict(d) for d in plot.datapoints], plot.id, **props)


def vega_spec(project: Project, plot: Plot, split: bool = False) -> tuple[dict, dict]:
    """The filled Vega-Lite spec of ``plot``, and with ``split`` DVC's split-out anchors
    (``{"anchor_definitions": ...}``, the spec keeping those anchors unfilled).

    Raises:
        TemplateError: the template cannot be found, read or filled.
    """
    from dvc_render.exceptions import DvcRenderError

    renderer = vega_renderer(project, plot)
    try:
        if split:
            return renderer.get_partial_filled_template()
        return renderer.get_filled_template(), {}
    except (DvcRenderError, KeyError, TypeError, ValueError) as exc:
        raise _translated(exc, plot) from None


def image_src(image: Image, out_dir: str | os.PathLike | None) -> str:
    """Where an image is shown from: a file written into ``out_dir`` (DVC's
    ``REV_path_to_file.png``), or a base64 data URL."""
    if out_dir is None:
        return "data:image;base64," + base64.b64encode(image.data).decode()
    folder = Path(out_dir).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{image.rev}_{image.filename}".replace(os.sep, "_").replace("/", "_")
    target.write_bytes(image.data)
    return str(target)


def errors_json(plots: PlotSet) -> list[dict]:
    """The files and revisions left out, as DVC's ``--json`` lists them: each plot's
    files that could not be read and revisions whose data did not fit, then revisions
    whose definitions could not be collected."""
    errors: list[dict] = []
    for plot in plots.plots:
        errors += [
            {"name": plot.id, "rev": rev, "source": source, "type": e.type, "msg": e.msg}
            for rev, source, e in plot.source_errors
        ]
        errors += [{"name": plot.id, "rev": rev, "type": e.type, "msg": e.msg} for rev, e in plot.definition_errors]
    return errors + [{"rev": rev, "type": e.type, "msg": e.msg} for rev, e in plots.errors]


def to_json(
    project: Project, plots: PlotSet, out_dir: str | os.PathLike | None = None, split: bool = False
) -> dict[str, Any]:
    """``dvc plots show/diff --json``: ``{"data": {id: [...]}, "errors": [...]}``, each
    key left out when empty. Images are written into ``out_dir`` (default: data URLs).

    Raises:
        TemplateError: a plot's template cannot be found, read or filled.
    """
    data: dict[str, list] = {}
    for plot in plots.plots:
        if plot.kind == "image":
            data[plot.id] = [
                {"type": "image", "revisions": [image.rev], "url": image_src(image, out_dir)} for image in plot.images
            ]
        elif plot.datapoints:
            content, anchors = vega_spec(project, plot, split)
            data[plot.id] = [{"type": "vega", "revisions": list(plot.revisions), "content": content, **anchors}]
        else:
            data[plot.id] = []
    result: dict[str, Any] = {}
    errors = errors_json(plots)
    if errors:
        result["errors"] = errors
    if data:
        result["data"] = data
    return result


def renderers(project: Project, plots: PlotSet, image_dir: str | os.PathLike | None = None) -> list:
    """dvc-render renderers for every plot (images from ``image_dir``, else inline)."""
    from dvc_render import ImageRenderer

    found: list = []
    for plot in plots.plots:
        if plot.kind == "image":
            points = [{"rev": i.rev, "filename": i.filename, "src": image_src(i, image_dir)} for i in plot.images]
            found.append(ImageRenderer(points, plot.id, **copy.deepcopy(plot.props)))
        else:
            found.append(vega_renderer(project, plot))
    return found


def write_html(
    project: Project, plots: PlotSet, out_dir: str | os.PathLike, html_template: str | os.PathLike | None = None
) -> Path:
    """DVC's page: ``OUT/index.html`` with a Vega-Embed chart per plot and images under
    ``OUT/static``; returns the page's path.

    Raises:
        TemplateError: a plot's template, or the HTML template, cannot be used.
    """
    from dvc_render import render_html
    from dvc_render.exceptions import DvcRenderError

    out = Path(out_dir).absolute()
    page = out / "index.html"
    page_template = _html_template(html_template)
    chosen = renderers(project, plots, out / "static")
    try:
        render_html(renderers=chosen, output_file=page, html_template=page_template)
    except (DvcRenderError, KeyError, TypeError, ValueError) as exc:
        failed = next((p for p in plots.plots if p.kind == "vega"), plots.plots[0])
        raise _translated(exc, failed) from None
    return page


def _html_template(path: str | os.PathLike | None) -> str | None:
    """The HTML template's path, once checked to be readable text holding ``{plot_divs}``."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"Cannot read the HTML template {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    if "{plot_divs}" not in text:
        raise TemplateError(f"The HTML template {path} has no {{plot_divs}} placeholder; add it where plots go.")
    return str(path)
