"""The micromagnetic state: the nodal magnetization, its energy terms and derived fields.

m is a P1 3-vector field on the whole device mesh; only the nodes of magnetic cells
are unknowns (|m| = 1 there), every other node holds m = 0 and is never touched.  The
forms of the energies and of the effective field are compiled once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.energy import EnergyTerm
from weylfem.magnet.torques import TorqueTerm

if TYPE_CHECKING:
    from weylfem.magnet.field_operator import FieldOperator
    from weylfem.magnet.thickness import ThicknessAverage

InitialMagnetization = tuple[float, float, float] | Callable[[np.ndarray], np.ndarray]
"""A uniform direction, or f(x (3, n)) -> (3, n) directions (normalised on use)."""


class MicromagneticProblem:
    """Magnetization m, energy terms and torques on the magnetic cells of a device mesh."""

    def __init__(
        self,
        device_mesh: DeviceMesh,
        coefficients: MagnetCoefficients,
        terms: Sequence[EnergyTerm],
        initial: InitialMagnetization,
        torques: Sequence[TorqueTerm] = (),
    ):
        names = [term.name for term in terms]
        if len(set(names)) != len(names):
            raise ValueError(f"energy terms must have distinct names, got {names}")
        self.device_mesh = device_mesh
        self.coefficients = coefficients
        self.terms = tuple(terms)
        self.torques = tuple(torques)
        mesh = device_mesh.mesh
        self.space = compat.function_space(mesh, "Lagrange", 1, (3,))
        self.m = fem.Function(self.space, name="m")
        self.dx = coefficients.measure(device_mesh)
        index_map = self.space.dofmap.index_map
        self.owned_nodes = index_map.size_local
        magnetic = compat.locate_dofs_topological(self.space, mesh.topology.dim, coefficients.cells)
        self.magnetic_nodes = np.unique(magnetic[magnetic < self.owned_nodes]).astype(np.int32)
        """owned block (node) indices of the magnetic nodes"""
        self.thickness_average: ThicknessAverage | None = None
        """the column mean of a film uniform through its thickness (None: m is free)"""
        self._fill(initial)
        self.set_time(0.0)

        test = ufl.TestFunction(self.space)
        self._energy_forms = {t.name: fem.form(t.density(self.m) * self.dx) for t in terms}
        self._field_form = fem.form(-sum(t.variation(self.m, test, self.dx) for t in terms))
        self._field_vector = compat.create_vector(self._field_form)
        saturation = coefficients.saturation_magnetization
        compat.assemble_vector_into(
            self._field_vector,
            fem.form(saturation * ufl.dot(ufl.as_vector((1.0, 1.0, 1.0)), test) * self.dx),
        )
        self._lumped = self._field_vector.array.reshape(-1, 3)[self.magnetic_nodes, 0].copy()
        """lumped M_s-weighted mass of each magnetic node, int M_s phi_i dx"""
        self.volume = mesh.comm.allreduce(
            fem.assemble_scalar(fem.form(fem.Constant(mesh, 1.0) * self.dx)), op=MPI.SUM
        )
        self._average_forms = [fem.form(self.m[i] * self.dx) for i in range(3)]
        self.effective_field = fem.Function(self.space, name="B_eff")
        self._field_operator: FieldOperator | None = None

    # -- state ------------------------------------------------------------------------------

    def set_magnetization(self, initial: InitialMagnetization | np.ndarray) -> None:
        """Set m at the magnetic nodes (normalised; an (n, 3) array gives the owned
        magnetic nodes in order)."""
        self._fill(initial)

    def make_uniform_through_thickness(self, normal_axis: int = 2) -> None:
        """Restrict m to functions uniform along the mesh axis `normal_axis` (a film meshed
        in layers; `weylfem.magnet.thickness`): m becomes its column means, normalised, and
        every nodal field from here on is its column mean.  Collective."""
        from weylfem.magnet.thickness import ThicknessAverage

        points = self.space.tabulate_dof_coordinates()[self.magnetic_nodes]
        self.thickness_average = ThicknessAverage(
            points, self._lumped, self.device_mesh.comm, normal_axis
        )
        self._fill(self.owned_magnetization())

    def _fill(self, initial: InitialMagnetization | np.ndarray) -> None:
        values = self.m.x.array.reshape(-1, 3)
        values[:] = 0.0
        nodes = self.magnetic_nodes
        if isinstance(initial, np.ndarray):
            directions = initial.reshape(-1, 3)
        elif callable(initial):
            points = self.space.tabulate_dof_coordinates()[nodes].T
            directions = np.asarray(initial(points), dtype=float).T
        else:
            directions = np.tile(np.asarray(initial, dtype=float), (len(nodes), 1))
        if self.thickness_average is not None:
            directions = self.thickness_average.apply(directions)
        norms = np.linalg.norm(directions, axis=1)
        if np.any(norms == 0):
            raise ValueError("the initial magnetization must be nonzero at every magnetic node")
        values[nodes] = directions / norms[:, None]
        self.m.x.scatter_forward()
        self.mark_changed()

    def owned_magnetization(self) -> np.ndarray:
        """(n, 3) copy of m at the owned magnetic nodes (for checkpoints)."""
        return self.m.x.array.reshape(-1, 3)[self.magnetic_nodes].copy()

    def set_time(self, time_s: float) -> None:
        """Move the time-dependent inputs (fields, currents) to `time_s`."""
        self.time_s = time_s
        for term in (*self.terms, *self.torques):
            term.set_time(time_s)
        self._field_current = False

    def mark_changed(self) -> None:
        """Declare that m changed in place (the integrators call this after a step)."""
        self._terms_current = False
        self._field_current = False

    def update_terms(self) -> None:
        """Bring the non-local terms (the demagnetizing potential) up to date with m."""
        if not self._terms_current:
            for term in self.terms:
                term.update(self.m)
            self._terms_current = True

    def update(self) -> None:
        """Bring the non-local terms and the nodal effective field up to date with m."""
        self.update_terms()
        if self._field_current:
            return
        compat.assemble_vector_into(self._field_vector, self._field_form)
        field = self.effective_field.x.array.reshape(-1, 3)
        field[:] = 0.0
        nodes = self.magnetic_nodes
        field[nodes] = self.nodal(self._field_vector.array.reshape(-1, 3)[nodes])
        self.effective_field.x.scatter_forward()
        self._field_current = True

    # -- derived quantities ------------------------------------------------------------------

    def energies(self) -> dict[str, float]:
        """Energy of each term (J) and their sum under "total"."""
        self.update_terms()
        comm = self.device_mesh.comm
        values = {
            name: comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)
            for name, form in self._energy_forms.items()
        }
        values["total"] = sum(values.values())
        return values

    def average_magnetization(self) -> np.ndarray:
        """Volume average <m> over the magnetic regions."""
        comm = self.device_mesh.comm
        return (
            np.array(
                [comm.allreduce(fem.assemble_scalar(f), op=MPI.SUM) for f in self._average_forms]
            )
            / self.volume
        )

    def max_torque_T(self) -> float:
        """max over magnetic nodes of |m x B_eff| (T)."""
        self.update()
        nodes = self.magnetic_nodes
        m = self.m.x.array.reshape(-1, 3)[nodes]
        b = self.effective_field.x.array.reshape(-1, 3)[nodes]
        local = float(np.max(np.linalg.norm(np.cross(m, b), axis=1), initial=0.0))
        return self.device_mesh.comm.allreduce(local, op=MPI.MAX)

    def max_norm_deviation(self) -> float:
        """max over magnetic nodes of ||m| - 1|."""
        m = self.m.x.array.reshape(-1, 3)[self.magnetic_nodes]
        local = float(np.max(np.abs(np.linalg.norm(m, axis=1) - 1.0), initial=0.0))
        return self.device_mesh.comm.allreduce(local, op=MPI.MAX)

    @property
    def field_operator(self) -> FieldOperator:
        """B_eff from operators built once (`weylfem.magnet.field_operator`), built on
        first use (collective)."""
        if self._field_operator is None:
            from weylfem.magnet.field_operator import FieldOperator

            self._field_operator = FieldOperator(self)
        return self._field_operator

    def nodal(self, weak: np.ndarray) -> np.ndarray:
        """Nodal values (n, 3) of the owned magnetic nodes' weak vector `weak` (n, 3): over
        the lumped mass, and their column means when m is uniform through the thickness.
        Collective."""
        values = weak / self._lumped[:, None]
        if self.thickness_average is not None:
            values = self.thickness_average.apply(values)
        return values

    @property
    def nodal_weights(self) -> np.ndarray:
        """int M_s phi_i dx of each owned magnetic node (the lumped mass of B_eff)."""
        return self._lumped

    @property
    def magnetic_node_count(self) -> int:
        """Global number of magnetic nodes (collective: read it on every rank)."""
        return self.device_mesh.comm.allreduce(len(self.magnetic_nodes), op=MPI.SUM)
