"""The state of a sublattice magnet: the nodal directions m_1 ... m_k (P1 3-vectors,
|m_k| = 1 at the magnetic nodes, 0 elsewhere), its energy terms and the nodal fields.

The field on sublattice k is the lumped weak form B_k(node i) = -dE/dm_k[phi_i] /
int M_s,k phi_i dx, as the ferromagnet's `MicromagneticProblem` computes B_eff; the local
terms (`SublatticeTerm.local`) are integrated by the vertex rule (`vertex_measure`), so their
nodal field is the pointwise one.  Everything a time stepper needs is on the owned magnetic
nodes as one flat array y of shape (nodes, k, 3) (`state`, `set_state`, `fields`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.antiferro.coefficients import SublatticeCoefficients
from weylfem.antiferro.energy import SublatticeTerm, neel_vector
from weylfem.geometry import DeviceMesh
from weylfem.timings import WORK_TIMERS

VERTEX_RULES: dict[str, tuple[tuple[tuple[float, ...], ...], float]] = {
    "interval": (((0.0,), (1.0,)), 1 / 2),
    "triangle": (((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)), 1 / 6),
    "tetrahedron": (((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), 1 / 24),
    "quadrilateral": (((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)), 1 / 4),
    "hexahedron": (
        tuple((x, y, z) for z in (0.0, 1.0) for y in (0.0, 1.0) for x in (0.0, 1.0)),
        1 / 8,
    ),
}
"""reference-cell vertices and the weight of each (the reference volume over their number)"""


def vertex_measure(dx: ufl.Measure, cell: str) -> ufl.Measure:
    """`dx` integrating by the vertex rule of `cell` (a DOLFINx cell type name), given as a
    custom rule: the same metadata for every FFCx (FFCx 0.5's own "vertex" rule fails on
    intervals); tuples, which UFL's form signature takes as they are (FFCx makes arrays)."""
    points, weight = VERTEX_RULES[cell]
    rule = {
        "quadrature_rule": "custom",
        "quadrature_points": points,
        "quadrature_weights": (weight,) * len(points),
    }
    return dx(metadata=rule)


InitialDirections = Sequence[tuple[float, float, float]] | Callable[[np.ndarray], np.ndarray]
"""One direction per sublattice, or f(x (3, n)) -> (k, 3, n) directions."""


class SublatticeProblem:
    """Sublattice directions, energy terms and fields on the magnetic cells of a mesh."""

    def __init__(
        self,
        device_mesh: DeviceMesh,
        coefficients: SublatticeCoefficients,
        terms: Sequence[SublatticeTerm],
        initial: InitialDirections,
    ):
        names = [term.name for term in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"energy terms must have distinct names, got {names}")
        self.device_mesh = device_mesh
        self.coefficients = coefficients
        self.terms = tuple(terms)
        self.count = coefficients.count
        mesh = device_mesh.mesh
        self.space = compat.function_space(mesh, "Lagrange", 1, (3,))
        self.m = [fem.Function(self.space, name=f"m{k + 1}") for k in range(self.count)]
        self.dx = coefficients.base.measure(device_mesh)
        self.vertex_dx = vertex_measure(self.dx, mesh.topology.cell_type.name)
        """dx by the vertex rule: the measure of the local terms"""
        self.owned_nodes = self.space.dofmap.index_map.size_local
        cells = coefficients.base.cells
        magnetic = compat.locate_dofs_topological(self.space, mesh.topology.dim, cells)
        self.magnetic_nodes = np.unique(magnetic[magnetic < self.owned_nodes]).astype(np.int32)
        """owned block (node) indices of the magnetic nodes"""
        self.set_directions(initial)
        self.time_s = 0.0

        test = ufl.TestFunction(self.space)
        energies = {t.name: t.density(self.m) * self._measure(t) for t in terms}
        energy = sum(energies.values())
        self._energy_forms = {name: fem.form(form) for name, form in energies.items()}
        self._field_forms = [fem.form(-ufl.derivative(energy, mk, test)) for mk in self.m]
        self._field_vectors = [compat.create_vector(form) for form in self._field_forms]
        ones = ufl.as_vector((1.0, 1.0, 1.0))
        self.lumped = np.stack(
            [self.nodal_integral(ms * ufl.dot(ones, test)) for ms in coefficients.saturation],
            axis=1,
        )
        """(nodes, k): int M_s,k phi_i dx of each owned magnetic node and sublattice"""
        weights = self.nodal_integral(ufl.dot(ones, test))
        self.gamma = self._nodal_means(coefficients.gyromagnetic_ratio, weights)
        self.alpha = self._nodal_means(coefficients.damping, weights)
        self.volume = mesh.comm.allreduce(
            fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * self.dx)), op=MPI.SUM
        )
        self._average_forms = [[fem.form(mk[i] * self.dx) for i in range(3)] for mk in self.m]

    # -- set-up helpers ------------------------------------------------------------------------

    def _measure(self, term: SublatticeTerm) -> ufl.Measure:
        """The vertex rule for a local term, exact integration for a gradient term."""
        return self.vertex_dx if term.local else self.dx

    def nodal_integral(self, linear: ufl.core.expr.Expr) -> np.ndarray:
        """The owned magnetic nodes' x components of the assembled int linear dx."""
        form = fem.form(linear * self.dx)
        vector = compat.create_vector(form)
        compat.assemble_vector_into(vector, form)
        return vector.array.reshape(-1, 3)[self.magnetic_nodes, 0].copy()

    def _nodal_means(self, values: Sequence, weights: np.ndarray) -> np.ndarray:
        """(nodes, k, 1): the volume-weighted mean of each sublattice's DG0 coefficient at
        each owned magnetic node."""
        test = ufl.TestFunction(self.space)
        ones = ufl.as_vector((1.0, 1.0, 1.0))
        means = [self.nodal_integral(v * ufl.dot(ones, test)) / weights for v in values]
        return np.stack(means, axis=1)[:, :, None]

    # -- state ---------------------------------------------------------------------------------

    def set_directions(self, initial: InitialDirections | np.ndarray) -> None:
        """Set every m_k at the magnetic nodes (normalised): one direction per sublattice,
        a function of the node coordinates, or a (nodes, k, 3) array."""
        nodes = self.magnetic_nodes
        if isinstance(initial, np.ndarray):
            directions = initial.reshape(len(nodes), self.count, 3)
        elif callable(initial):
            points = self.space.tabulate_dof_coordinates()[nodes].T
            directions = np.moveaxis(np.asarray(initial(points), dtype=float), 2, 0)
        else:
            given = np.asarray(initial, dtype=float).reshape(self.count, 3)
            directions = np.broadcast_to(given, (len(nodes), self.count, 3))
        norms = np.linalg.norm(directions, axis=2)
        if np.any(norms == 0):
            raise ValueError("the initial directions must be nonzero at every magnetic node")
        self.set_state((directions / norms[:, :, None]).reshape(-1))

    def state(self) -> np.ndarray:
        """Flat copy of (nodes, k, 3): the directions at the owned magnetic nodes."""
        nodes = self.magnetic_nodes
        values = [mk.x.array.reshape(-1, 3)[nodes] for mk in self.m]
        return np.stack(values, axis=1).reshape(-1)

    def set_state(self, y: np.ndarray) -> None:
        """Set the directions at the owned magnetic nodes from a flat (nodes, k, 3) array
        (as given; the stepper normalises) and update the ghosts."""
        nodes = self.magnetic_nodes
        directions = np.asarray(y).reshape(len(nodes), self.count, 3)
        for k, mk in enumerate(self.m):
            values = mk.x.array.reshape(-1, 3)
            values[nodes] = directions[:, k]
            mk.x.scatter_forward()

    def set_time(self, time_s: float) -> None:
        """Move the time-dependent inputs (fields) to `time_s`."""
        self.time_s = time_s
        for term in self.terms:
            term.set_time(time_s)

    def fields(self) -> np.ndarray:
        """(nodes, k, 3): B_k (T) at the owned magnetic nodes for the current directions."""
        nodes = self.magnetic_nodes
        result = np.empty((len(nodes), self.count, 3))
        with compat.timer(WORK_TIMERS["assemble"]):
            for k, (form, vector) in enumerate(
                zip(self._field_forms, self._field_vectors, strict=True)
            ):
                compat.assemble_vector_into(vector, form)
                result[:, k] = vector.array.reshape(-1, 3)[nodes] / self.lumped[:, k, None]
        return result

    # -- derived quantities --------------------------------------------------------------------

    def energies(self) -> dict[str, float]:
        """Energy of each term (J) and their sum under "total"."""
        comm = self.device_mesh.comm
        values = {
            name: comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
            for name, form in self._energy_forms.items()
        }
        values["total"] = sum(values.values())
        return values

    def averages(self) -> np.ndarray:
        """(k, 3): the volume average <m_k> of each sublattice."""
        comm = self.device_mesh.comm
        return (
            np.array(
                [
                    [comm.allreduce(fem.assemble_scalar(f), op=MPI.SUM) for f in forms]
                    for forms in self._average_forms
                ]
            )
            / self.volume
        )

    def neel_vector(self) -> np.ndarray | None:
        """<l> = <(m_1 - m_2)/2> of a collinear order (None for a triangular one)."""
        if self.count != 2:
            return None
        averages = self.averages()
        return (averages[0] - averages[1]) / 2

    def net_direction(self) -> np.ndarray:
        """<n> = <sum_k m_k>/k: the net moment per sublattice, in units of one sublattice's."""
        return self.averages().sum(axis=0) / self.count

    def torques(self) -> np.ndarray:
        """(nodes, k, 3): m_k x B_k at the owned magnetic nodes."""
        y = self.state().reshape(len(self.magnetic_nodes), self.count, 3)
        return np.cross(y, self.fields())

    def max_torque_T(self) -> float:
        """max over magnetic nodes and sublattices of |m_k x B_k| (T)."""
        local = float(np.max(np.linalg.norm(self.torques(), axis=2), initial=0.0))
        return self.device_mesh.comm.allreduce(local, op=MPI.MAX)

    def max_norm_deviation(self) -> float:
        """max over magnetic nodes and sublattices of ||m_k| - 1|."""
        y = self.state().reshape(-1, 3)
        local = float(np.max(np.abs(np.linalg.norm(y, axis=1) - 1.0), initial=0.0))
        return self.device_mesh.comm.allreduce(local, op=MPI.MAX)

    def neel_expression(self) -> ufl.core.expr.Expr:
        """l = (m_1 - m_2)/2 as UFL (collinear order)."""
        return neel_vector(self.m)

    @property
    def magnetic_node_count(self) -> int:
        """Global number of magnetic nodes (collective)."""
        return self.device_mesh.comm.allreduce(len(self.magnetic_nodes), op=MPI.SUM)
