"""Read a weylfem XDMF field file with meshio into an .npz (run as a separate process:
meshio reads HDF5 through h5py, whose HDF5 library must not meet DOLFINx's in one
process).  Usage: python read_field_file.py FILE.xdmf OUT.npz single|series

single: ``meshio.read``; keys points, cells, point/NAME, cell/NAME.
series: ``meshio.xdmf.TimeSeriesReader``; keys points, cells, times, K/point/NAME,
K/cell/NAME for every time K.
"""

import sys

import meshio
import numpy as np


def main(path: str, out: str, kind: str) -> None:
    arrays = {}
    if kind == "single":
        mesh = meshio.read(path)
        points, cells = mesh.points, mesh.cells
        frames = [(None, mesh.point_data, mesh.cell_data)]
    else:
        with meshio.xdmf.TimeSeriesReader(path) as reader:
            points, cells = reader.read_points_cells()
            frames = [reader.read_data(k) for k in range(reader.num_steps)]
        arrays["times"] = np.array([frame[0] for frame in frames])
    assert len(cells) == 1, [block.type for block in cells]
    arrays["points"], arrays["cells"] = points, cells[0].data
    arrays["cell_type"] = np.array(cells[0].type)
    for k, (_, point_data, cell_data) in enumerate(frames):
        prefix = "" if kind == "single" else f"{k}/"
        for name, values in point_data.items():
            arrays[f"{prefix}point/{name}"] = values
        for name, blocks in cell_data.items():
            arrays[f"{prefix}cell/{name}"] = blocks[0]
    np.savez(out, **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:4])
