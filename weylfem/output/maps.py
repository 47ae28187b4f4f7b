"""Pictures of a device's fields and mesh, drawn with matplotlib from plain numpy arrays
(`DeviceArrays`): the same function draws them during a run and in `weylfem plot`.

What a paper figure needs and these have:

- position axes in the device's length unit and a scale bar;
- the aspect ratio kept: the device is drawn to scale across the figure's width, its
  height following (a 30 um x 1 um strip is a full-width band, not a line in an empty
  frame); a device more than `ELONGATED` times longer than wide also gets a profile
  panel under the map: the field along x (its range over the cross-section and its
  mean) on the map's x axis, where a decaying signal can be read off quantitatively;
- a 3D device seen from above (x-y, its top faces) and from the front (x-z, seen from
  -y), at one scale;
- colour scales chosen from the data (`colour_scale`): a signed field (phi_v) on a
  symmetric diverging scale centred on 0, a field spanning more than `LOG_SPAN` between
  its largest magnitude and the 5th percentile of its nonzero magnitudes on a
  symmetric-log scale (the nonlocal phi_v along a strip); otherwise linear;
- contacts and probes drawn on the device's edge in the colour of their role and
  labelled with their names outside the device, with leader lines;
- the legend, colour bar and scale bar under the panels, never over the device; titles
  wrapped to the figure's width.

Each drawing function returns the picture's metadata (colour norm, limits, axis labels,
contact labels, scale bar), which is also written into the PNG's text chunks
(key ``weylfem``, JSON), so that a redrawn picture can be compared with the original.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from weylfem.output.device_arrays import DeviceArrays

LOG_SPAN = 100.0
"""Largest |value| over the 5th percentile of the nonzero |values| above which a field
is drawn on a symmetric-log scale."""
ROUNDOFF = 1e-9
"""Values below this fraction of the largest magnitude count as zeros."""
ELONGATED = 6.0
"""Length over width of the drawn device from which a profile panel is added."""
MAP_WIDTH_IN = 7.0
MAP_HEIGHT_MAX_IN = 4.0
DPI = 150
FONT_PT = 8.0
UNIT_LABELS = {"m": "m", "mm": "mm", "um": "µm", "nm": "nm"}
ROLE_STYLE = {
    "current": ("current contact", "#000000"),
    "voltage": ("voltage contact", "#4d4d4d"),
    "probe": ("floating probe", "#e69f00"),
}
"""contact role -> (legend label, colour)"""
FIELD_STYLES = {
    "phi_c": ("charge potential", "φ_c", "V", False),
    "phi_v": ("valley potential", "φ_v", "V", True),
}
"""field name -> (what it is, symbol, unit, signed: drawn on a scale symmetric about 0)"""
REGION_COLOURS = ["#c6dbef", "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#d9d9d9"]
"""Light fills for regions, so that the boundary colours stand out on them."""
BOUNDARY_COLOURMAP = "tab20"
WALL_COLOUR = "#9a9a9a"


@dataclass(frozen=True)
class View:
    """A projection of the device: the coordinates drawn across and up, and (3D) the
    coordinate along the line of sight with the side the viewer sits on."""

    name: str
    across: int
    up: int
    depth: int | None = None
    towards: float = 1.0


PLAN = View("x–y", 0, 1)
TOP = View("top (x–y)", 0, 1, 2, 1.0)
FRONT = View("front (x–z)", 0, 2, 1, -1.0)
AXIS_NAMES = "xyz"


@dataclass(frozen=True)
class ColourScale:
    """A colour norm chosen from a field's values."""

    kind: str
    """'linear' or 'symlog'"""
    vmin: float
    vmax: float
    linthresh: float | None
    cmap: str
    symmetric: bool
    span: float
    """largest |value| over the 5th percentile of the nonzero |values|"""

    def norm(self):
        """The matplotlib norm."""
        from matplotlib import colors

        if self.kind == "symlog":
            return colors.SymLogNorm(self.linthresh, vmin=self.vmin, vmax=self.vmax, base=10)
        return colors.Normalize(self.vmin, self.vmax)


def colour_scale(values: np.ndarray, signed: bool) -> ColourScale:
    """The colour scale of `values`: symmetric about 0 (diverging map) for a `signed`
    field or one with both signs; symmetric-log when the magnitudes span more than
    `LOG_SPAN` (largest over the 5th percentile of the nonzero ones), its linear part
    below that percentile (at most 6 decades shown); otherwise linear."""
    values = np.asarray(values, dtype=float)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest == 0.0:
        return ColourScale("linear", -1.0, 1.0, None, "RdBu_r", True, 1.0)
    # roundoff-sized values are zeros (DOLFINx's XDMF writer evaluates P1 fields at the
    # nodes, so a file's zeros may be 1e-16 of the largest value: the same scale either way)
    values = np.where(np.abs(values) <= ROUNDOFF * largest, 0.0, values)
    magnitudes = np.abs(values)
    nonzero = magnitudes[magnitudes > 0]
    floor = float(np.percentile(nonzero, 5))
    span = largest / floor
    both_signs = values.min() < -0.01 * largest and values.max() > 0.01 * largest
    symmetric = signed or both_signs
    if symmetric:
        vmin, vmax, cmap = -largest, largest, "RdBu_r"
    else:
        vmin, vmax, cmap = float(values.min()), float(values.max()), "viridis"
    if span > LOG_SPAN:
        linthresh = max(floor, 1e-6 * largest)
        if not symmetric:
            vmin = min(vmin, 0.0) if vmin >= -linthresh else vmin
        return ColourScale("symlog", vmin, vmax, linthresh, cmap, symmetric, span)
    return ColourScale("linear", vmin, vmax, None, cmap, symmetric, span)


def field_title(device_name: str, field_name: str) -> str:
    """The title of the picture of a field."""
    what, symbol, _, _ = FIELD_STYLES.get(field_name, (field_name, field_name, "", False))
    return f"{device_name}: {what} {symbol}" if what != symbol else f"{device_name}: {symbol}"


def mesh_title(device_name: str, cells: int) -> str:
    """The title of the picture of a mesh."""
    return f"{device_name}: mesh of {cells} cells, regions and named boundaries"


# --- geometry of the drawn surface ---------------------------------------------------


@dataclass
class Surface:
    """The triangles a view can see: the cells (2D) or the exterior faces (3D), each
    with its cell and its outward normal."""

    triangles: np.ndarray
    cells: np.ndarray
    normals: np.ndarray


def surface(device: DeviceArrays) -> Surface:
    """The device's drawable surface."""
    cells = np.asarray(device.cells)
    if device.dimension == 2:
        if cells.shape[1] == 4:  # quadrilaterals (DOLFINx/VTK order 0 1 3 2) as two triangles
            triangles = np.vstack([cells[:, [0, 1, 3]], cells[:, [0, 3, 2]]])
            owners = np.concatenate([np.arange(len(cells))] * 2)
        else:
            triangles, owners = cells[:, :3], np.arange(len(cells))
        normals = np.tile([0.0, 0.0, 1.0], (len(triangles), 1))
        return Surface(triangles, owners, normals)
    if cells.shape[1] != 4:
        raise ValueError(f"pictures of 3D meshes of {cells.shape[1]}-node cells are not drawn")
    local = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
    faces = cells[:, local].reshape(-1, 3)
    _, first, counts = np.unique(
        np.sort(faces, axis=1), axis=0, return_index=True, return_counts=True
    )
    exterior = np.sort(first[counts == 1])
    faces, owners = faces[exterior], exterior // 4
    normals = _outward_normals(device.points, faces, cells[owners])
    return Surface(faces, owners, normals)


def _outward_normals(points: np.ndarray, faces: np.ndarray, cells: np.ndarray) -> np.ndarray:
    a, b, c = (points[faces[:, i]] for i in range(3))
    normals = np.cross(b - a, c - a)
    outward = (a + b + c) / 3 - points[cells].mean(axis=1)
    normals *= np.where(np.einsum("ij,ij->i", normals, outward) < 0, -1.0, 1.0)[:, None]
    lengths = np.linalg.norm(normals, axis=1)
    return normals / np.where(lengths > 0, lengths, 1.0)[:, None]


def facing(normals: np.ndarray, view: View) -> np.ndarray:
    """How much each normal faces the viewer (1: straight at it; 0: seen edge-on)."""
    if view.depth is None:
        return np.ones(len(normals))
    return view.towards * normals[:, view.depth]


def views(device: DeviceArrays) -> list[View]:
    """The views of a device: its plane (2D), or from above and the front (3D)."""
    return [PLAN] if device.dimension == 2 else [TOP, FRONT]


def boundary_facets(device: DeviceArrays, surf: Surface) -> tuple[np.ndarray, np.ndarray]:
    """The tagged facets that lie on the exterior (their outward normals; 2D: the
    facets and normals of zero, every facet drawn)."""
    facets = np.asarray(device.facets)
    if device.dimension == 2:
        return np.ones(len(facets), dtype=bool), np.zeros((len(facets), 3))
    index = {key: i for i, key in enumerate(map(tuple, np.sort(surf.triangles, axis=1)))}
    found = np.array([index.get(tuple(f), -1) for f in np.sort(facets, axis=1)], dtype=int)
    normals = np.zeros((len(facets), 3))
    normals[found >= 0] = surf.normals[found[found >= 0]]
    return found >= 0, normals


# --- drawing -----------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _rounded(value):
    """Plain JSON data, floats to 6 significant digits (the same for any partition and
    for the files)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def symlog_ticks(scale_: ColourScale, most: int = 4) -> list[float]:
    """Decades of a symmetric-log colour scale between its linear part and its limits
    (at most `most` per sign) and 0."""
    low = int(np.ceil(np.log10(scale_.linthresh * 2)))
    high = int(np.floor(np.log10(max(abs(scale_.vmin), abs(scale_.vmax)))))
    step = max(1, int(np.ceil((high - low + 1) / most)))
    decades = [10.0**k for k in range(high, low - 1, -step)]
    ticks = [0.0]
    ticks += [d for d in decades if d <= scale_.vmax]
    ticks += [-d for d in decades if -d >= scale_.vmin]
    return sorted(ticks)


PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M"}


def si_prefix(largest: float) -> tuple[float, str]:
    """(factor, prefix) that write `largest` as 1 to 999 prefixed units."""
    if largest <= 0:
        return 1.0, ""
    power = int(np.clip(3 * np.floor(np.log10(largest) / 3), -15, 6))
    return 10.0**power, PREFIXES[power]


def nice_length(extent: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) of about a fifth of `extent`."""
    target = extent / 5
    power = 10 ** np.floor(np.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def _format_length(length: float, unit: str) -> str:
    return f"{length:g} {UNIT_LABELS.get(unit, unit)}"


class _Figure:
    """A figure laid out top to bottom in inches on a tall canvas; `save` crops it to
    what was drawn (bbox_inches='tight')."""

    CANVAS_IN = 40.0
    LEFT_IN = 1.0

    def __init__(self, width_in: float):
        self.pyplot = _pyplot()
        self.width_in = width_in + 2 * self.LEFT_IN + 1.5
        self.figure = self.pyplot.figure(figsize=(self.width_in, self.CANVAS_IN), dpi=DPI)
        self.renderer = self.figure.canvas.get_renderer()
        self.cursor_in = self.CANVAS_IN - 0.5  # the top of the next panel
        self.top_in: float | None = None

    def axes(self, width_in: float, height_in: float, left_in: float | None = None):
        left = self.LEFT_IN if left_in is None else left_in
        rect = [
            left / self.width_in,
            (self.cursor_in - height_in) / self.CANVAS_IN,
            width_in / self.width_in,
            height_in / self.CANVAS_IN,
        ]
        return self.figure.add_axes(rect)

    def extent_in(self, artists) -> tuple[float, float]:
        """(bottom, top) of the artists, in inches from the canvas bottom."""
        boxes = [a.get_tightbbox(self.renderer) for a in artists]
        boxes = [b for b in boxes if b is not None and b.width > 0]
        bottom = min(b.y0 for b in boxes) / DPI
        top = max(b.y1 for b in boxes) / DPI
        return bottom, top

    def fit_panel(self, axes, extra: list) -> None:
        """Move the panel `axes` (with the artists `extra` hanging off it) down so that its
        top clears the cursor, and the cursor under it."""
        bottom, top = self.extent_in([axes, *extra])
        shift = top - self.cursor_in
        if shift > 0:
            x0, y0, w, h = axes.get_position().bounds
            axes.set_position([x0, y0 - shift / self.CANVAS_IN, w, h])
        bottom, top = self.extent_in([axes, *extra])
        self.top_in = top if self.top_in is None else max(self.top_in, top)
        self.cursor_in = bottom - 0.2

    def title(self, text: str) -> str:
        width_chars = int(self.width_in * 72 / (0.6 * (FONT_PT + 2)))
        wrapped = textwrap.fill(text, width=max(30, width_chars))
        self.figure.text(
            self.LEFT_IN / self.width_in,
            (self.top_in + 0.1) / self.CANVAS_IN,
            wrapped,
            ha="left",
            va="bottom",
            fontsize=FONT_PT + 2,
        )
        return wrapped

    def save(self, path: Path, metadata: dict) -> None:
        self.figure.savefig(
            path,
            dpi=DPI,
            bbox_inches="tight",
            pad_inches=0.1,
            metadata={"weylfem": json.dumps(metadata, sort_keys=True), "Software": None},
        )
        self.pyplot.close(self.figure)


def _scale_and_sizes(device: DeviceArrays, shown: list[View]) -> tuple[float, list[float]]:
    """Inches per length unit and the height (in) of every view's panel."""
    points = device.points
    width = np.ptp(points[:, 0]) or 1.0
    heights = [np.ptp(points[:, v.up]) or width for v in shown]
    scale = min(MAP_WIDTH_IN / width, MAP_HEIGHT_MAX_IN / max(heights))
    return scale, [h * scale for h in heights]


def _set_map_axes(axes, device: DeviceArrays, view: View) -> None:
    unit = UNIT_LABELS.get(device.length_unit, device.length_unit)
    points = device.points
    axes.set_xlim(points[:, view.across].min(), points[:, view.across].max())
    axes.set_ylim(points[:, view.up].min(), points[:, view.up].max())
    axes.set_aspect("equal", adjustable="box")
    axes.set_ylabel(f"{AXIS_NAMES[view.up]} ({unit})", fontsize=FONT_PT)
    axes.set_xlabel(f"{AXIS_NAMES[view.across]} ({unit})", fontsize=FONT_PT)
    axes.tick_params(labelsize=FONT_PT - 1)
    for spine in axes.spines.values():
        spine.set_linewidth(0.5)
    if device.dimension == 3:
        axes.text(
            1.0,
            1.02,
            view.name,
            transform=axes.transAxes,
            ha="right",
            va="bottom",
            fontsize=FONT_PT - 1,
            color="0.3",
        )


def _contact_patches(axes, device: DeviceArrays, surf: Surface, view: View) -> dict:
    """Draw every contact on the device in its role's colour; returns name -> (centre,
    side) of the contacts seen in this view."""
    from matplotlib.collections import LineCollection, PolyCollection

    on_surface, normals = boundary_facets(device, surf)
    points = device.points[:, [view.across, view.up]]
    lower, upper = points.min(axis=0), points.max(axis=0)
    extent = np.maximum(upper - lower, 1e-30)
    seen = {}
    for name, role in device.contact_roles.items():
        tag = device.facet_names.get(name)
        if tag is None:
            continue
        chosen = (device.facet_tags == tag) & on_surface
        if device.dimension == 3:
            chosen &= facing(normals, view) > -1e-6
        facets = device.facets[chosen]
        if len(facets) == 0:
            continue
        colour = ROLE_STYLE[role][1]
        shapes = points[facets]
        if axes is None:
            pass
        elif device.dimension == 2:
            axes.add_collection(
                LineCollection(shapes, colors=colour, linewidths=3.0, zorder=4, clip_on=False)
            )
        else:
            axes.add_collection(
                PolyCollection(
                    shapes,
                    facecolors=colour,
                    edgecolors=colour,
                    linewidths=2.0,
                    alpha=0.9,
                    zorder=4,
                    clip_on=False,
                )
            )
        centre = shapes.reshape(-1, 2).mean(axis=0)
        distances = {
            "bottom": (centre[1] - lower[1]) / extent[1],
            "top": (upper[1] - centre[1]) / extent[1],
            "left": (centre[0] - lower[0]) / extent[0],
            "right": (upper[0] - centre[0]) / extent[0],
        }
        side = min(distances, key=distances.get)
        if distances[side] > 0.05:
            side = "inside"
        elif side in ("left", "right"):  # beyond the y tick labels it would be far off
            side = f"inside {side}"
        seen[name] = (centre, side)
    return seen


def _spread(positions: np.ndarray, gap: float) -> np.ndarray:
    """Positions moved apart to at least `gap`, as little as possible (in order)."""
    order = np.argsort(positions)
    placed = positions[order].astype(float).copy()
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    placed -= (placed - positions[order]).mean()
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    result = np.empty_like(placed)
    result[order] = placed
    return result


def _label_contacts(figure: _Figure, axes, seen: dict) -> list:
    """Name every contact outside the device (beyond the axis labels on its side), with a
    leader line; returns the labels."""
    if not seen:
        return []
    axes_box = axes.get_window_extent(figure.renderer)
    tight = axes.get_tightbbox(figure.renderer)
    to_points = 72.0 / DPI
    clearance = {
        "bottom": (axes_box.y0 - tight.y0) * to_points + 6,
        "top": (tight.y1 - axes_box.y1) * to_points + 6,
        "left": (axes_box.x0 - tight.x0) * to_points + 6,
        "right": (tight.x1 - axes_box.x1) * to_points + 6,
    }
    labels = []
    gap = 1.35 * FONT_PT
    for side in ("bottom", "top", "left", "right", "inside", "inside left", "inside right"):
        names = [n for n, (_, s) in seen.items() if s == side]
        if not names:
            continue
        centres = np.array([seen[n][0] for n in names])
        display = axes.transData.transform(centres) * to_points
        along = display[:, 0] if side in ("bottom", "top", "inside") else display[:, 1]
        if side.startswith("inside "):
            along = display[:, 1]
        placed = _spread(along, gap) if not side.startswith("inside") else along
        for name, centre, position, start in zip(names, centres, placed, along, strict=True):
            shift = position - start
            if side == "bottom":
                offset, style = (shift, -clearance["bottom"]), {"rotation": 90, "va": "top"}
                style["ha"] = "center"
            elif side == "top":
                offset, style = (shift, clearance["top"]), {"rotation": 90, "va": "bottom"}
                style["ha"] = "center"
            elif side == "left":
                offset, style = (-clearance["left"], shift), {"ha": "right", "va": "center"}
            elif side == "right":
                offset, style = (clearance["right"], shift), {"ha": "left", "va": "center"}
            elif side == "inside left":
                offset, style = (4.0, 0.0), {"ha": "left", "va": "center", "rotation": 90}
            elif side == "inside right":
                offset, style = (-4.0, 0.0), {"ha": "right", "va": "center", "rotation": 90}
            else:
                offset, style = (0.0, 0.0), {"ha": "center", "va": "center"}
            label = axes.annotate(
                name,
                xy=centre,
                xytext=offset,
                textcoords="offset points",
                fontsize=FONT_PT - 1,
                annotation_clip=False,
                arrowprops=None
                if side.startswith("inside")
                else {"arrowstyle": "-", "lw": 0.4, "color": "0.45", "shrinkA": 1, "shrinkB": 0},
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
                if side.startswith("inside")
                else None,
                **style,
            )
            labels.append(label)
    return labels


def _scale_bar(figure: _Figure, left_in: float, scale: float, device: DeviceArrays) -> dict:
    """A scale bar in its own axes at `left_in` on the cursor's row."""
    width = np.ptp(device.points[:, 0]) or 1.0
    length = nice_length(width)
    bar_in = length * scale
    axes = figure.axes(bar_in + 0.2, 0.3, left_in)
    axes.set_xlim(-0.1 / scale, (bar_in + 0.1) / scale)
    axes.set_ylim(0, 1)
    axes.axis("off")
    axes.plot([0, length], [0.75, 0.75], color="black", linewidth=2.5, solid_capstyle="butt")
    text = _format_length(length, device.length_unit)
    axes.text(length / 2, 0.45, text, ha="center", va="top", fontsize=FONT_PT)
    return {"length": length, "label": text}


def _legend(figure: _Figure, handles: list, width_in: float):
    """The legend under the panels, in as many columns as the width holds."""
    longest = max(len(h.get_label()) for h in handles)
    entry_in = 0.45 + longest * 0.6 * FONT_PT / 72
    columns = max(1, min(len(handles), int(max(width_in, 3.0) / entry_in)))
    return figure.figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(figure.LEFT_IN / figure.width_in, figure.cursor_in / figure.CANVAS_IN),
        ncol=columns,
        fontsize=FONT_PT - 0.5,
        frameon=False,
        handlelength=1.5,
        columnspacing=1.2,
        borderaxespad=0.0,
    )


def _role_handles(roles: dict[str, str]) -> list:
    from matplotlib.lines import Line2D

    used = [r for r in ROLE_STYLE if r in roles.values()]
    return [
        Line2D([], [], color=ROLE_STYLE[r][1], linewidth=3, label=ROLE_STYLE[r][0]) for r in used
    ]


def _profile(figure: _Figure, device: DeviceArrays, values, scale_, width_in, symbol, formatter):
    """The field along x: its range over the cross-section (band) and its mean."""
    axes = figure.axes(width_in, 1.6)
    x = device.points[:, 0]
    edges = np.linspace(x.min(), x.max(), 161)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    filled = np.bincount(which, minlength=len(edges) - 1) > 0
    low = np.full(len(edges) - 1, np.inf)
    high = np.full(len(edges) - 1, -np.inf)
    np.minimum.at(low, which, values)
    np.maximum.at(high, which, values)
    mean = np.bincount(which, weights=values, minlength=len(edges) - 1)
    mean = mean / np.maximum(np.bincount(which, minlength=len(edges) - 1), 1)
    centres = 0.5 * (edges[1:] + edges[:-1])[filled]
    axes.fill_between(
        centres, low[filled], high[filled], color="#9ecae1", linewidth=0, label="range over y, z"
    )
    axes.plot(centres, mean[filled], color="#08519c", linewidth=1.2, label="mean")
    if device.dimension == 2:
        axes.collections[0].set_label("range over y")
    axes.set_xlim(x.min(), x.max())
    if scale_.kind == "symlog":
        axes.set_yscale("symlog", linthresh=scale_.linthresh)
        top, bottom = np.max(high[filled]), np.min(low[filled])
        axes.set_ylim(
            -scale_.linthresh if bottom > -scale_.linthresh else 2 * bottom,
            scale_.linthresh if top < scale_.linthresh else 2 * top,
        )
        axes.set_yticks(
            [t for t in symlog_ticks(scale_) if abs(t) <= 2 * max(abs(top), abs(bottom))]
        )
    else:
        axes.yaxis.set_major_formatter(formatter)
    axes.axhline(0.0, color="0.6", linewidth=0.5)
    unit = UNIT_LABELS.get(device.length_unit, device.length_unit)
    axes.set_xlabel(f"x ({unit})", fontsize=FONT_PT)
    axes.set_ylabel(symbol, fontsize=FONT_PT)
    axes.tick_params(labelsize=FONT_PT - 1)
    axes.grid(True, linewidth=0.3, color="0.85")
    axes.legend(fontsize=FONT_PT - 1, frameon=False, loc="best")
    figure.fit_panel(axes, [])
    return {"yscale": axes.get_yscale(), "ylabel": axes.get_ylabel(), "xlabel": axes.get_xlabel()}


def draw_field(path: Path, device: DeviceArrays, values: np.ndarray, name: str, title: str) -> dict:
    """Draw the P1 field `values` (at device.points) of the device into `path` (PNG);
    returns the picture's metadata."""
    from matplotlib.ticker import FuncFormatter

    what, symbol, unit, signed = FIELD_STYLES.get(name, (name, name, "", False))
    values = np.asarray(values, dtype=float).ravel()
    scale_ = colour_scale(values, signed)
    factor, prefix = (
        (1.0, "") if scale_.kind == "symlog" else si_prefix(max(abs(scale_.vmin), abs(scale_.vmax)))
    )
    label = f"{symbol} ({prefix}{unit})" if unit else symbol
    prefixed = FuncFormatter(lambda value, _: f"{value / factor:g}".replace("-", "\u2212"))
    norm = scale_.norm()
    shown = views(device)
    scale, heights = _scale_and_sizes(device, shown)
    width_in = np.ptp(device.points[:, 0]) * scale or MAP_WIDTH_IN
    figure = _Figure(width_in)
    surf = surface(device)
    panels, contact_labels, axis_labels = [], [], []
    for k, (view, height) in enumerate(zip(shown, heights, strict=True)):
        axes = figure.axes(width_in, height)
        seen_faces = facing(surf.normals, view) > 1e-6
        triangles = surf.triangles[seen_faces]
        if view.depth is not None:  # far faces first
            depth = view.towards * device.points[triangles, view.depth].mean(axis=1)
            triangles = triangles[np.argsort(depth, kind="stable")]
        image = axes.tripcolor(
            device.points[:, view.across],
            device.points[:, view.up],
            triangles,
            values,
            shading="gouraud",
            cmap=scale_.cmap,
            norm=norm,
            rasterized=True,
        )
        _set_map_axes(axes, device, view)
        seen = _contact_patches(axes, device, surf, view)
        labels = _label_contacts(figure, axes, seen) if k == 0 else []
        contact_labels += [t.get_text() for t in labels]
        figure.fit_panel(axes, labels)
        axis_labels.append([axes.get_xlabel(), axes.get_ylabel()])
        panels.append(view.name)
    profile = None
    extent = np.ptp(device.points, axis=0)
    if extent[0] >= ELONGATED * max(extent[1], extent[2] if device.dimension == 3 else 0):
        profile = _profile(figure, device, values, scale_, width_in, label, prefixed)
    # colour bar, scale bar and legend in one row under the panels
    bar_width = min(3.2, max(2.0, 0.45 * width_in))
    colour_axes = figure.axes(bar_width, 0.12)
    colour_bar = figure.figure.colorbar(image, cax=colour_axes, orientation="horizontal")
    colour_bar.set_label(
        label + (" (symmetric-log scale)" if scale_.kind == "symlog" else ""), fontsize=FONT_PT
    )
    if scale_.kind == "symlog":
        colour_bar.set_ticks(symlog_ticks(scale_))
    else:
        colour_bar.formatter = prefixed
        colour_bar.update_ticks()
    colour_axes.tick_params(labelsize=FONT_PT - 1)
    bar = _scale_bar(figure, figure.LEFT_IN + bar_width + 0.6, scale, device)
    figure.fit_panel(colour_axes, [])
    handles = _role_handles(device.contact_roles)
    if handles:
        _legend(figure, handles, width_in)
    wrapped = figure.title(title)
    metadata = _rounded(
        {
            "kind": "field",
            "field": name,
            "quantity": what,
            "title": wrapped,
            "norm": scale_.kind,
            "symmetric": scale_.symmetric,
            "vmin": scale_.vmin,
            "vmax": scale_.vmax,
            "linthresh": scale_.linthresh,
            "span": scale_.span,
            "cmap": scale_.cmap,
            "colour_bar_label": colour_bar.ax.get_xlabel(),
            "views": panels,
            "axis_labels": axis_labels,
            "contact_labels": sorted(contact_labels),
            "legend": [h.get_label() for h in handles],
            "scale_bar": bar["label"],
            "profile": profile,
        }
    )
    figure.save(path, metadata)
    return metadata


def draw_mesh(path: Path, device: DeviceArrays, title: str) -> dict:
    """Draw the mesh of the device into `path` (PNG): every region filled in its colour
    with the element edges, every named boundary (walls included) as a coloured edge,
    contacts labelled; the legend under the picture.  Returns the picture's metadata."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = views(device)
    scale, heights = _scale_and_sizes(device, shown)
    width_in = np.ptp(device.points[:, 0]) * scale or MAP_WIDTH_IN
    figure = _Figure(width_in)
    surf = surface(device)
    from matplotlib import colormaps

    fills = iter(REGION_COLOURS * 10)
    region_colours = {name: next(fills) for name in device.region_names}
    palette = colormaps[BOUNDARY_COLOURMAP]
    named = [n for n in device.facet_names if n != "walls"]
    boundary_colours = {n: palette(i % palette.N) for i, n in enumerate(named)}
    if "walls" in device.facet_names:
        boundary_colours["walls"] = WALL_COLOUR
    on_surface, normals = boundary_facets(device, surf)
    panels, contact_labels, axis_labels = [], [], []
    edge_width = float(np.clip(60.0 / np.sqrt(max(len(surf.triangles), 1)), 0.08, 0.5))
    for k, (view, height) in enumerate(zip(shown, heights, strict=True)):
        axes = figure.axes(width_in, height)
        seen_faces = facing(surf.normals, view) > 1e-6
        order = np.flatnonzero(seen_faces)
        if view.depth is not None:
            depth = view.towards * device.points[surf.triangles[order], view.depth].mean(axis=1)
            order = order[np.argsort(depth, kind="stable")]
        xy = device.points[:, [view.across, view.up]]
        by_tag = {tag: region_colours[n] for n, tag in device.region_names.items()}
        colours = [by_tag.get(int(t), "#cccccc") for t in device.regions[surf.cells[order]]]
        axes.add_collection(
            PolyCollection(
                xy[surf.triangles[order]],
                facecolors=colours,
                edgecolors="0.15",
                linewidths=edge_width,
                rasterized=True,
            )
        )
        for name, tag in device.facet_names.items():
            chosen = (device.facet_tags == tag) & on_surface
            if device.dimension == 3:
                chosen &= facing(normals, view) > -1e-6
            if not chosen.any():
                continue
            shapes = xy[device.facets[chosen]]
            colour = boundary_colours[name]
            width = 1.5 if name == "walls" else 3.0
            if device.dimension == 2:
                collection = LineCollection(shapes, colors=colour, linewidths=width, zorder=3)
            else:
                collection = PolyCollection(
                    shapes, facecolors=colour, edgecolors=colour, linewidths=width, zorder=3
                )
            collection.set_clip_on(False)
            axes.add_collection(collection)
        _set_map_axes(axes, device, view)
        seen = _contact_centres(device, surf, view) if k == 0 else {}
        labels = _label_contacts(figure, axes, seen)
        contact_labels += [t.get_text() for t in labels]
        figure.fit_panel(axes, labels)
        axis_labels.append([axes.get_xlabel(), axes.get_ylabel()])
        panels.append(view.name)
    bar = _scale_bar(figure, figure.LEFT_IN, scale, device)
    figure.cursor_in -= 0.45
    handles = [Patch(facecolor=c, edgecolor="0.15", label=n) for n, c in region_colours.items()]
    handles += [Line2D([], [], color=c, linewidth=3, label=n) for n, c in boundary_colours.items()]
    _legend(figure, handles, width_in)
    wrapped = figure.title(title)
    metadata = _rounded(
        {
            "kind": "mesh",
            "title": wrapped,
            "views": panels,
            "axis_labels": axis_labels,
            "contact_labels": sorted(contact_labels),
            "legend": [h.get_label() for h in handles],
            "scale_bar": bar["label"],
            "cells": int(len(device.cells)),
        }
    )
    figure.save(path, metadata)
    return metadata


def _contact_centres(device: DeviceArrays, surf: Surface, view: View) -> dict:
    """name -> (centre, side) of the contacts seen in `view`, not drawn (the mesh picture
    draws every boundary itself)."""
    return _contact_patches(None, device, surf, view)


def picture_metadata(path: Path) -> dict:
    """The metadata a picture of this module carries (read back from the PNG)."""
    from PIL import Image

    with Image.open(path) as image:
        return json.loads(image.text["weylfem"])
