"""The nodal effective field B_eff(m) from operators built once (docs/theory.md §3,
"Integrators").

The weak field f_i = -dE[m; phi_i] of every P1 vector basis function phi_i, divided by
the lumped M_s-weighted mass int M_s phi_i dx, is the nodal B_eff that
`MicromagneticProblem.update` assembles.  Here each term contributes by what its energy
is in m (`EnergyTerm.field_dependence`):

- "quadratic" (exchange, uniaxial anisotropy, DMI, thin-film demagnetization): f = K m
  with one constant sparse matrix K, the derivative of the terms' -variation in m,
  assembled once;
- "linear" (Zeeman, Weyl orbital Zeeman): f = b_0 + sum_c s_c(t) b_c, constant vectors
  for the static part and one per time scale s_c (`EnergyTerm.time_scales`, the
  fem.Constants that carry the waveforms), assembled once;
- nonlocal terms with `add_weak_field` (demagnetization by a potential or on a cell
  grid): their own operators built once (a right-side matrix, a solve, a gradient
  matrix; a projection and a transformed tensor);
- anything else ("general", such as the cubic anisotropy): its -variation assembled at
  every evaluation, so that no term is lost.
"""

from __future__ import annotations

import numpy as np
import ufl
from dolfinx import fem
from petsc4py import PETSc

from weylfem import compat
from weylfem.magnet.energy import EnergyTerm
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.timings import WORK_TIMERS


def is_nonlocal(term: EnergyTerm) -> bool:
    """True for a term that adds its weak field itself (`add_weak_field`)."""
    return callable(getattr(term, "add_weak_field", None))


class FieldOperator:
    """B_eff at the magnetic nodes of `problem` for any nodal m, from operators built once."""

    def __init__(self, problem: MicromagneticProblem):
        self.problem = problem
        m, dx = problem.m, problem.dx
        test, trial = ufl.TestFunction(problem.space), ufl.TrialFunction(problem.space)
        self.nonlocal_terms = [t for t in problem.terms if is_nonlocal(t)]
        kinds = {"quadratic": [], "linear": [], "general": []}
        for term in problem.terms:
            if not is_nonlocal(term):
                kinds[term.field_dependence].append(term)
        self.quadratic_terms, self.linear_terms, self.general_terms = (
            kinds["quadratic"],
            kinds["linear"],
            kinds["general"],
        )
        self._m = compat.petsc_vector(m)
        with compat.timer(WORK_TIMERS["assemble"]):
            self.matrix = None
            if self.quadratic_terms:
                weak = -sum(t.variation(m, test, dx) for t in self.quadratic_terms)
                self.matrix = compat.assemble_matrix(fem.form(ufl.derivative(weak, m, trial)), [])
            self._constant, self._scaled = self._linear_vectors(test, dx)
            self._general_form = None
            if self.general_terms:
                weak = -sum(t.variation(m, test, dx) for t in self.general_terms)
                self._general_form = fem.form(weak)
        self.weak = self._m.duplicate()
        """the weak field of the last evaluation (owned entries)"""
        self._work = self._m.duplicate()
        self.evaluations = 0

    def _linear_vectors(self, test, dx) -> tuple[PETSc.Vec | None, list]:
        """b_0 and [(s_c, b_c)] of the linear terms: their weak field is affine in each
        time scale s_c, so b_0 is assembled with every s_c = 0 and b_c with s_c = 1."""
        if not self.linear_terms:
            return None, []
        weak = fem.form(-sum(t.variation(self.problem.m, test, dx) for t in self.linear_terms))
        scales = []
        for term in self.linear_terms:
            scales += [s for s in term.time_scales() if all(s is not c for c in scales)]
        saved = [float(s.value) for s in scales]

        def assembled(active) -> PETSc.Vec:
            for scale in scales:
                scale.value = 1.0 if scale is active else 0.0
            vector = compat.create_vector(weak)
            compat.assemble_vector_into(vector, weak)
            return vector

        constant = assembled(None)
        scaled = []
        for scale in scales:
            vector = assembled(scale)
            vector.axpy(-1.0, constant)
            scaled.append((scale, vector))
        for scale, value in zip(scales, saved, strict=True):
            scale.value = value
        return constant, scaled

    def field(self, m: np.ndarray | None = None) -> np.ndarray:
        """B_eff (T) at the owned magnetic nodes, (n, 3), for the nodal m (n, 3) given
        (written into problem.m; unnormalised values are taken as they are) or, with None,
        problem.m as it is; at the problem's current time.  Collective."""
        problem = self.problem
        nodes = problem.magnetic_nodes
        if m is not None:
            problem.m.x.array.reshape(-1, 3)[nodes] = m
            problem.m.x.scatter_forward()
            problem.mark_changed()
        weak = self.weak
        if self.matrix is not None:
            self.matrix.mult(self._m, weak)
        else:
            weak.zeroEntries()
        if self._constant is not None:
            weak.axpy(1.0, self._constant)
            for scale, vector in self._scaled:
                weak.axpy(float(scale.value), vector)
        for term in self.nonlocal_terms:
            term.add_weak_field(self._m, weak)
        if self._general_form is not None:
            with compat.timer(WORK_TIMERS["assemble"]):
                compat.assemble_vector_into(self._work, self._general_form)
            weak.axpy(1.0, self._work)
        self.evaluations += 1
        return problem.nodal(weak.array.reshape(-1, 3)[nodes])
