"""Plots of a sweep's table (rank 0, matplotlib): one panel per four-probe resistance
(so a longitudinal R_xx and a planar-Hall R_xy are never on one scale), the two-terminal
resistance, and MR = (R - R0)/R0 of the resistances with R0 != 0, against the first
swept key; one curve per value of the other keys."""

from __future__ import annotations

import textwrap
from pathlib import Path

AXIS_LABELS = {
    "fields.B_T": "|B| (T)",
    "fields.B_theta_deg": "B polar angle θ from z (deg)",
    "fields.B_phi_deg": "B azimuth φ from x (deg)",
}


def _label(key: str) -> str:
    return AXIS_LABELS.get(key, key)


def plot_sweep(path: Path, table: dict) -> None:
    """Draw the sweep `table` (table.json's content) into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rows, keys, unit = table["rows"], table["keys"], table["units"]["resistance"]
    x_key, others = keys[0], keys[1:]
    panels = [c for c in table["columns"] if c.startswith("R_") and c.endswith("_ohm")]
    ratios = [
        c for c in table["columns"] if c.startswith("MR_") and any(r[c] == r[c] for r in rows)
    ]
    count = len(panels) + (1 if ratios else 0)
    columns = min(count, 2)
    lines = -(-count // columns)
    figure, axes = pyplot.subplots(
        lines, columns, figsize=(6.2 * columns, 3.6 * lines), squeeze=False
    )
    curves: dict[tuple, list[dict]] = {}
    for row in rows:
        curves.setdefault(tuple(row[k] for k in others), []).append(row)

    def draw(ax, column: str, scale: float = 1.0, prefix: str = "") -> None:
        for values, members in curves.items():
            label = ", ".join(
                f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                for k, v in zip(others, values, strict=True)
            )
            members = sorted(members, key=lambda r: r[x_key])
            ax.plot(
                [r[x_key] for r in members],
                [scale * r[column] for r in members],
                marker="o",
                markersize=3,
                label=(prefix + label) or None,
            )

    flat = axes.ravel()
    for ax, column in zip(flat, panels, strict=False):
        name = column[2 : -len("_ohm")]
        draw(ax, column)
        ax.set_ylabel(f"R {name} ({unit})")
        ax.set_title("\n".join(textwrap.wrap(f"{table['device']}: R_{name}", 48)), fontsize=10)
        ax.axhline(0.0, color="0.7", linewidth=0.6)
    if ratios:
        ax = flat[len(panels)]
        for column in ratios:
            draw(ax, column, 100.0, f"{column[3:]} " if len(ratios) > 1 else "")
        ax.set_ylabel("MR = ΔR/R0 (%)")
        ax.set_title("magnetoresistance (R0: B = 0, else the first point)", fontsize=10)
    for ax in flat[:count]:
        ax.set_xlabel(_label(x_key))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for ax in flat[count:]:
        ax.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
