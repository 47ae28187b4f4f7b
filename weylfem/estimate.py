"""The size of a run before it is meshed: cells, dofs, steps and memory, and the budget.

`estimate_run` builds the device's geometry in gmsh on rank 0 (no mesh: OpenCASCADE
measures its regions and facet groups) and integrates the cell density of the size field
gmsh will be given: κ_d / h(x)^d cells per unit volume, with h the global `mesh_size`,
lowered inside regions that a refinement names and near the facet groups it names (a
layer of `size` over `distance`, growing linearly back over `transition`; the layer's
volume is the facet area times the distance, capped at the adjacent region's volume).
Refinements are those of the file and those the physics asks for
(`weylfem.meshing.device_refinements`: valley layers, exchange length).  Overlapping
layers are counted twice (an overestimate); a refinement reaching much farther than the
size of the facet it refines toward (a small contact patch) is underestimated, since the
slab misses the spread around the patch's edges (the 2D nonlocal strip of `weylfem init`
with mesh_size 0.5: 580 estimated, 1667 meshed); so are meshes coarser than the geometry's
small features, which gmsh resolves anyway.  Both errors are small next to the orders of
magnitude the budget is for.  A
`.msh` file is counted exactly.  From the cells: vertices and Lagrange nodes of the
element degree (Euler's relation for simplices), dofs (unknowns per node of the physics:
phi_c; phi_c, phi_v; m in the magnetic regions; the demagnetizing potential) and memory
(bytes per cell for gmsh and the DOLFINx mesh, per dof for the matrix and solver).  The
constants were measured on bars with and without refinement (tests/test_estimate.py
holds the calibration: cells within a factor 2).

`check_budget` refuses a run beyond `Budget` (cells, memory, steps) with one
`ConfigError` naming the estimate; `weylfem run|mesh --allow-large` skips it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mpi4py import MPI

from weylfem.device import Device
from weylfem.errors import ConfigError
from weylfem.geometry import Geometry, Refinement

CELLS_PER_SIZE = {2: 2.3, 3: 5.0}
"""κ_d: gmsh's cells per h^d of area or volume for a size field h (measured on bars:
triangles about 2.3, tetrahedra about 5 per h^3)."""
CELLS_PER_VERTEX = {2: 2.0, 3: 5.3}
"""Cells per vertex of gmsh's simplex meshes (about 2 triangles, 5 to 6 tetrahedra)."""
BYTES_PER_CELL = {2: 1000.0, 3: 1500.0}
"""Peak memory per cell of meshing and mesh distribution (gmsh on rank 0, DOLFINx)."""
BYTES_PER_DOF = {2: 2000.0, 3: 4000.0}
"""Peak memory per dof of assembly and the linear solver (matrix, LU or AMG).  With the
cell constants: measured peak RSS of `weylfem run` 475 MB for a 2D charge_valley bar of
9.3e4 cells and 9.4e4 dofs (estimate 491 MB), 419 MB in 3D for 6.9e4 cells and 3.0e4 dofs
(estimate 433 MB)."""
BASE_BYTES = 200 * 2**20
"""The interpreter, DOLFINx, PETSc and gmsh loaded, before any mesh."""

MAX_CELLS = 5_000_000
"""Default budget: cells of the mesh."""
MAX_MEMORY_FRACTION = 0.8
"""Default budget: this fraction of the machine's memory (RAM, or the cgroup's limit)."""
MAX_STEPS = 10_000_000
"""Default budget: time steps (transient or dynamics) and relaxation steps."""

GIB = 2.0**30


@dataclass(frozen=True)
class Estimate:
    """What a run is expected to need."""

    cells: float
    vertices: float
    dofs: float
    memory_bytes: float
    steps: int
    exact_cells: bool = False
    """the mesh is read from a .msh file: `cells` is its count"""
    driver: str = "geometry.mesh_size"
    """the device key that most of the cells come from"""

    def describe(self) -> str:
        """One line: cells, dofs, steps and memory."""
        approx = "" if self.exact_cells else "~"
        steps = f", {self.steps} steps" if self.steps else ""
        return (
            f"{approx}{self.cells:.3g} cells, ~{self.dofs:.3g} dofs{steps},"
            f" ~{self.memory_bytes / GIB:.2g} GiB"
        )

    def within(self, budget: Budget) -> bool:
        """Whether the mesh, memory and time steps are within `budget`."""
        return (
            self.cells <= budget.max_cells
            and self.memory_bytes <= budget.max_memory_bytes
            and self.steps <= budget.max_steps
        )

    def as_dict(self) -> dict:
        """The estimate as results.json / mesh.json keys."""
        return {
            "cells": round(self.cells),
            "vertices": round(self.vertices),
            "dofs": round(self.dofs),
            "memory_GiB": self.memory_bytes / GIB,
            "steps": self.steps,
        }


@dataclass(frozen=True)
class Budget:
    """The largest run `weylfem run|mesh` starts without --allow-large."""

    max_cells: float = MAX_CELLS
    max_memory_bytes: float = field(default_factory=lambda: MAX_MEMORY_FRACTION * machine_memory())
    max_steps: int = MAX_STEPS

    def describe(self) -> str:
        """The budget, for `weylfem check`."""
        return (
            f"<= {self.max_cells:.3g} cells, <= {self.max_memory_bytes / GIB:.3g} GiB,"
            f" <= {self.max_steps:.3g} steps"
        )


def machine_memory() -> float:
    """Bytes of memory this process may use: the RAM, or a smaller cgroup limit."""
    total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, float(text))
    return total


@dataclass
class _Shape:
    """Measures of a geometry's groups, in length_unit."""

    regions: dict[str, float]
    """region -> area (2D) or volume (3D)"""
    facets: dict[str, list[tuple[float, tuple[str, ...]]]]
    """facet group -> (length or area, adjacent regions) of each of its entities"""
    mesh_cells: dict[str, int] | None = None
    """region -> cells, for a file that brings its mesh"""


def _measure(geometry: Geometry) -> _Shape:
    """Build `geometry` in gmsh (this rank) and measure its groups."""
    import gmsh

    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("weylfem-estimate")
    try:
        geometry.add_to_gmsh(gmsh)
        dim = geometry.dimension
        owner = {}
        regions = {}
        for _, group in gmsh.model.getPhysicalGroups(dim):
            name = gmsh.model.getPhysicalName(dim, group)
            entities = gmsh.model.getEntitiesForPhysicalGroup(dim, group)
            owner.update({int(t): name for t in entities})
            regions[name] = [int(t) for t in entities]
        if gmsh.model.mesh.getNodes()[0].size:
            cells = {
                name: sum(_element_count(gmsh, dim, t) for t in tags)
                for name, tags in regions.items()
            }
            return _Shape({name: 0.0 for name in regions}, {}, cells)
        measure = _measurer(gmsh, dim)
        shape = _Shape(
            {name: sum(measure(dim, t) for t in tags) for name, tags in regions.items()}, {}
        )
        for _, group in gmsh.model.getPhysicalGroups(dim - 1):
            name = gmsh.model.getPhysicalName(dim - 1, group)
            entries = []
            for tag in gmsh.model.getEntitiesForPhysicalGroup(dim - 1, group):
                upward = gmsh.model.getAdjacencies(dim - 1, int(tag))[0]
                sides = tuple(owner[int(t)] for t in upward if int(t) in owner)
                entries.append((measure(dim - 1, int(tag)), sides))
            shape.facets[name] = entries
        return shape
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()


def _element_count(gmsh, dim: int, tag: int) -> int:
    return sum(len(tags) for tags in gmsh.model.mesh.getElements(dim, tag)[1])


def _measurer(gmsh, dim: int):
    """measure(d, tag) of a model entity: OpenCASCADE's mass, or (a built-in-kernel .geo)
    the sum over a coarse mesh's simplices."""
    import numpy as np

    coarse: list[bool] = []

    def simplex_sum(d: int, tag: int) -> float:
        if not coarse:
            xmin, ymin, zmin, xmax, ymax, zmax = gmsh.model.getBoundingBox(-1, -1)
            diagonal = math.dist((xmin, ymin, zmin), (xmax, ymax, zmax))
            gmsh.option.setNumber("Mesh.MeshSizeMax", diagonal / 8)
            gmsh.model.mesh.generate(dim)
            coarse.append(True)
        nodes, coords, _ = gmsh.model.mesh.getNodes()
        points = dict(zip(nodes.tolist(), coords.reshape(-1, 3), strict=True))
        total = 0.0
        for node_lists in gmsh.model.mesh.getElements(d, tag)[2]:
            corners = np.array([points[n] for n in node_lists]).reshape(-1, d + 1, 3)
            edges = corners[:, 1:, :] - corners[:, :1, :]
            gram = np.einsum("eik,ejk->eij", edges, edges)
            total += float(np.sqrt(np.abs(np.linalg.det(gram))).sum()) / math.factorial(d)
        return total

    def measure(d: int, tag: int) -> float:
        try:
            return float(gmsh.model.occ.getMass(d, tag))
        except Exception:  # not an OpenCASCADE entity (a .geo of the built-in kernel)
            return simplex_sum(d, tag)

    return measure


def _layer_cells(
    area: float, volume: float, refinement: Refinement, inner: float, outer: float, dim: int
) -> float:
    """κ-free extra density integral ∫ (h^-d - inner^-d) over the layer of one facet entity
    of `area`, inside a region of `volume` meshed at size `inner`; the layer's size field
    ramps from refinement.size to `outer` (the global mesh size)."""
    size = min(refinement.size, inner)
    if size >= inner or area <= 0:
        return 0.0
    transition = max(refinement.transition, size)
    depth = min(refinement.distance + transition, volume / area)
    samples = 400
    total = 0.0
    for i in range(samples):
        r = (i + 0.5) * depth / samples
        ramp = (r - refinement.distance) / transition
        h = size if ramp <= 0 else min(size + (outer - size) * ramp, inner)
        total += h**-dim - inner**-dim
    return area * total * depth / samples


def _geometry_cells(
    geometry: Geometry, shape: _Shape, refinements: Sequence[tuple[str, Refinement]]
) -> tuple[dict[str, float], str]:
    """Cells per region, and the key most of them come from."""
    dim, size = geometry.dimension, geometry.mesh_size
    if shape.mesh_cells is not None:
        return {name: float(n) for name, n in shape.mesh_cells.items()}, "geometry.path"
    kappa = CELLS_PER_SIZE[dim]
    inner = dict.fromkeys(shape.regions, size)
    inner_key = dict.fromkeys(shape.regions, "geometry.mesh_size")
    for key, refinement in refinements:
        for name in refinement.groups:
            if name in inner and refinement.size < inner[name]:
                inner[name], inner_key[name] = refinement.size, key
    cells = {name: kappa * volume / inner[name] ** dim for name, volume in shape.regions.items()}
    by_key: dict[str, float] = {}
    for name, count in cells.items():
        by_key[inner_key[name]] = by_key.get(inner_key[name], 0.0) + count
    for key, refinement in refinements:
        for name in refinement.groups:
            for area, sides in shape.facets.get(name, ()):
                for region in sides:
                    extra = kappa * _layer_cells(
                        area, shape.regions[region], refinement, inner[region], size, dim
                    )
                    cells[region] += extra
                    by_key[key] = by_key.get(key, 0.0) + extra
    driver = max(by_key, key=by_key.get) if by_key else "geometry.mesh_size"
    return cells, driver


def _keyed_refinements(device: Device) -> list[tuple[str, Refinement]]:
    """Every refinement of the mesh with the device key it comes from, in length_unit."""
    from weylfem.meshing import device_refinements

    geometry = device.geometry
    keyed = [(f"geometry.refine[{i}].size", r) for i, r in enumerate(geometry.refine)]
    physics = device_refinements(device)
    if geometry.resolve_valley_layers and physics:
        keyed.append(("geometry.resolve_valley_layers", physics.pop(0)))
    keyed += [("geometry.resolve_exchange_length", r) for r in physics]
    return keyed


def _nodes(cells: float, dim: int, degree: int) -> float:
    """Lagrange nodes of `degree` on a simplex mesh of `cells` (Euler's relation)."""
    vertices = cells / CELLS_PER_VERTEX[dim]
    if dim == 2:
        edges = vertices + cells  # V - E + F = 1
        return vertices + (degree - 1) * edges + (degree - 1) * (degree - 2) / 2 * cells
    faces = 2 * cells
    edges = vertices + cells  # V - E + F - C = 1
    return (
        vertices
        + (degree - 1) * edges
        + (degree - 1) * (degree - 2) / 2 * faces
        + (degree - 1) * (degree - 2) * (degree - 3) / 6 * cells
    )


def run_steps(device: Device) -> list[tuple[str, int]]:
    """The step counts of a run, each with the key that sets it."""
    steps = []
    if device.transient is not None:
        transient = device.transient
        steps.append(("transient.time_step_s", _ceil(transient.end_time_s / transient.time_step_s)))
    if device.dynamics is not None:
        dynamics = device.dynamics
        steps.append(("dynamics.time_step_s", _ceil(dynamics.end_time_s / dynamics.time_step_s)))
        if dynamics.relax_first:
            steps.append(("dynamics.relax_max_steps", dynamics.relax_max_steps))
    return steps


def _ceil(ratio: float) -> int:
    """ceil(ratio) as the steps() methods count, saturated for absurd ratios."""
    if not math.isfinite(ratio) or ratio > 1e18:
        return 10**18
    return max(0, math.ceil(ratio - 1e-9))


def estimate_run(
    device: Device, source: str = "device", comm: MPI.Comm = MPI.COMM_WORLD
) -> Estimate:
    """The estimated size of `device`'s mesh and run (collective; gmsh on rank 0); a
    geometry gmsh cannot build is a ConfigError of file `source`."""
    geometry, dim = device.geometry, device.geometry.dimension
    shared = None
    if comm.rank == 0:
        try:
            shared = _measure(geometry)
        except Exception as error:  # gmsh raises a bare Exception; reported on every rank
            shared = error
    shared = comm.bcast(shared, root=0)
    if isinstance(shared, Exception):
        raise ConfigError(source, "geometry", f"expected a geometry gmsh can build ({shared})")
    cells, driver = _geometry_cells(geometry, shared, _keyed_refinements(device))
    total = sum(cells.values())
    nodes = _nodes(total, dim, device.physics.element_degree)
    unknowns = {"ohmic": 1, "charge_valley": 2, "none": 0}[device.physics.transport]
    dofs = unknowns * nodes
    if device.dynamics is not None:
        magnetic = sum(cells.get(r, 0.0) for r in device.magnetic_regions())
        dofs += 3 * magnetic / CELLS_PER_VERTEX[dim]
        magnetization = device.magnetization
        if magnetization is not None and magnetization.demagnetization in (
            "open_boundary",
            "truncated",
        ):
            dofs += total / CELLS_PER_VERTEX[dim]
    memory = BASE_BYTES + BYTES_PER_CELL[dim] * total + BYTES_PER_DOF[dim] * dofs
    steps = sum(n for key, n in run_steps(device) if key != "dynamics.relax_max_steps")
    return Estimate(
        cells=total,
        vertices=total / CELLS_PER_VERTEX[dim],
        dofs=dofs,
        memory_bytes=memory,
        steps=steps,
        exact_cells=shared.mesh_cells is not None,
        driver=driver,
    )


def check_budget(
    device: Device, source: str, estimate: Estimate, budget: Budget | None = None
) -> None:
    """Raise one ConfigError if the run of `device` (file `source`) exceeds `budget`."""
    budget = budget or Budget()
    if estimate.cells > budget.max_cells or estimate.memory_bytes > budget.max_memory_bytes:
        approx = "" if estimate.exact_cells else "an estimated "
        raise ConfigError(
            source,
            estimate.driver,
            f"expected a mesh within the budget (<= {budget.max_cells:.3g} cells,"
            f" <= {budget.max_memory_bytes / GIB:.3g} GiB), got {approx}{estimate.cells:.3g}"
            f" cells, {estimate.memory_bytes / GIB:.3g} GiB; use --allow-large to run anyway",
        )
    for key, steps in run_steps(device):
        if steps > budget.max_steps:
            what = "relaxation steps" if key.endswith("relax_max_steps") else "time steps"
            raise ConfigError(
                source,
                key,
                f"expected at most {budget.max_steps:.3g} {what} within the budget, got"
                f" {steps:.3g}; use --allow-large to run anyway",
            )
