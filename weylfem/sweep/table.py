"""The table of a sweep (table.csv, table.json: one row per point) and its results.json.

Columns: ``point``; every swept key; ``B_x_T``, ``B_y_T``, ``B_z_T`` (the field of the
point); per contact ``V_<name>_V`` and ``I_<name>_A`` (current into the device); per
four-probe resistance ``R_<name>_ohm`` and ``MR_<name>`` = (R - R0)/R0, R0 the value at
the first point with B = 0 (else at the first point); ``R_two_terminal_ohm`` for two
contacts.  A 2D device without a depth gives currents in A/m and resistances in ohm m
(`units`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.output.staging import replace_atomically

TABLE_CSV, TABLE_JSON, PLOT = "table.csv", "table.json", "sweep.png"


def point_file(index: int) -> str:
    return f"point-{index:05d}.json"


def table_rows(directory: Path, record: dict) -> tuple[list[str], list[dict]]:
    """The columns and rows of the sweep in `directory` (its point files)."""
    rows = []
    for index, point in enumerate(record["points"]):
        result = json.loads((directory / point_file(index)).read_text())
        field = result["magnetic_field_T"]
        row = {"point": index, **point}
        row.update({"B_x_T": field[0], "B_y_T": field[1], "B_z_T": field[2]})
        for name in result["contact_order"]:
            contact = result["contacts"][name]
            row[f"V_{name}_V"] = contact["voltage_V"]
            row[f"I_{name}_A"] = contact["current_A"]
        for name, value in result["nonlocal_resistances_ohm"].items():
            row[f"R_{name}_ohm"] = value
        if "two_terminal_resistance_ohm" in result:
            row["R_two_terminal_ohm"] = result["two_terminal_resistance_ohm"]
        rows.append(row)
    resistances = [
        c
        for c in rows[0]
        if c.startswith("R_") and c.endswith("_ohm") and c != "R_two_terminal_ohm"
    ]
    zero = next((r for r in rows if r["B_x_T"] == r["B_y_T"] == r["B_z_T"] == 0), rows[0])
    for column in resistances:
        reference = zero[column]
        for row in rows:
            mr = (row[column] - reference) / reference if reference != 0 else float("nan")
            row["MR_" + column[2 : -len("_ohm")]] = mr
    return list(rows[0]), rows


def write_table(directory: Path, record: dict, device: Device) -> dict:
    """Write table.csv, table.json and sweep.png from the point files (rank 0); returns
    the sweep's results.json content."""
    from weylfem.sweep.plots import plot_sweep

    columns, rows = table_rows(directory, record)
    units = Depth.of(device).units
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    replace_atomically(directory / TABLE_CSV, lambda file: file.write(text.getvalue().encode()))
    table = {
        "device": record["device"],
        "keys": record["keys"],
        "units": units,
        "columns": columns,
        "rows": rows,
    }
    data = json.dumps(table, indent=1) + "\n"
    replace_atomically(directory / TABLE_JSON, lambda file: file.write(data.encode()))
    outputs = {
        "results": "results.json",
        "spec": "sweep.json",
        "table_csv": TABLE_CSV,
        "table_json": TABLE_JSON,
    }
    if device.output.png:
        plot_sweep(directory / PLOT, table)
        outputs["plot"] = PLOT
    outputs.update({f"point_{i}": point_file(i) for i in range(len(rows))})
    return {
        "weylfem_version": record["weylfem_version"],
        "device": record["device"],
        "sweep": {k: record[k] for k in ("set", "zipped", "keys")},
        "points": len(rows),
        "units": units,
        "outputs": outputs,
    }
