"""The experiments' plot colours: each keeps the colour it was first plotted in, in
every chart of the Plot panel (and the lab sidebar's list), kept in the table's
preferences. Palette colours first, then new hues, so any number stay distinct."""

from __future__ import annotations

import colorsys
import zlib
from typing import Any

# Tableau 10: distinguishable, and readable on light and dark themes.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


def _hue(index: int) -> str:
    """The ``index``-th colour past the palette: hues a golden angle apart."""
    r, g, b = colorsys.hls_to_rgb((index * 0.618034) % 1.0, 0.5, 0.55)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def assign_colours(known: dict[str, str], names: list[str]) -> dict[str, str]:
    """``known`` plus a colour for each new name: one that none of ``names`` holds
    (palette colours first, the least used among all known experiments first; then
    new hues, so any number of experiments stay distinct)."""
    result = dict(known)
    for name in names:
        if name in result:
            continue
        taken = {result[n] for n in names if n in result}
        used = list(result.values())
        free = [c for c in PALETTE if c not in taken]
        if free:
            result[name] = min(free, key=lambda c: (used.count(c), PALETTE.index(c)))
        else:
            result[name] = next(_hue(i) for i in range(len(used) + 1) if _hue(i) not in taken)
    return result


def colour(name: str, colours: dict[str, str] | None = None) -> str:
    """The experiment's assigned colour; unassigned ones get one from a hash of the name."""
    if colours and name in colours:
        return colours[name]
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


def recolour(spec: Any, colours: dict[str, str]) -> Any:
    """``spec`` with every colour scale over revisions using the experiments' colours,
    and step axes in whole steps."""
    if isinstance(spec, list):
        return [recolour(item, colours) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out = {k: recolour(v, colours) for k, v in spec.items()}
    scale = out.get("scale")
    if out.get("field") == "rev" and isinstance(scale, dict) and isinstance(scale.get("domain"), list):
        out["scale"] = {**scale, "range": [colour(str(d), colours) for d in scale["domain"]]}
    if out.get("field") == "step" and out.get("type") == "quantitative":
        out["axis"] = {"tickMinStep": 1, "format": "d", **out.get("axis", {})}
    return out
