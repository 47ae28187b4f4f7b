"""Energy terms of a sublattice magnet (docs/theory.md §4), each a small class owning its
density of the sublattice directions m_1 ... m_k.

The field on sublattice k is B_k = -(1/M_s,k) dE/dm_k, from `ufl.derivative` of the
densities (`SublatticeProblem`).  As in `weylfem.magnet.energy`, a term that a material
parameter switches on declares it with `@switched_on_by(PARAMETER)` (registry
`OPTIONAL_TERMS`, read by `weylfem.antiferro.setup`).

Densities (J/m^3; pairs i < j, "cyclic" pairs (1,2), (2,3), (3,1) of three sublattices,
(1,2) of two):

    intralattice exchange     A sum_k |grad m_k|^2
    interlattice exchange     lambda sum_{i<j} m_i . m_j          (lambda > 0: antiparallel)
    interlattice stiffness    A_ij sum_{i<j} grad m_i : grad m_j
    anisotropy                -K sum_k (m_k . u_k)^2              (u_k per sublattice)
    homogeneous DMI           D z . sum_cyclic m_i x m_j          (kagome: D > 0 selects the
                                                                   inverse-triangular order)
    Zeeman                    -sum_k M_s,k B . m_k
    Neel orbital Zeeman       -M_W l . B,  l = (m_1 - m_2)/2,  M_W = sigma_AH^(l) mu_F / e
    thin-film demagnetization (mu_0/2) (M_net . n)^2,  M_net = sum_k M_s,k m_k

A term without gradients is `local`: `SublatticeProblem` integrates it by the vertex rule, so
that its nodal field is its pointwise field at the node (the lumped mass of the sublattice
fields).  Exact integration of lambda m_1 . m_2 with P1 directions, |m_k| = 1 at the nodes
only, would add to the Neel vector's stiffness a spurious (lambda h^2/6) |grad l|^2, as large
as 2A - A_ij when h ~ sqrt(6 (2A - A_ij)/lambda) (docs/theory.md §3a, "Moving wall of l").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

import ufl

from weylfem.antiferro.coefficients import KAGOME_NORMAL, SublatticeCoefficients
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.magnet.energy import Zeeman, gradient3, vector_input

Directions = Sequence[ufl.core.expr.Expr]
"""m_1 ... m_k"""


def pairs(count: int) -> list[tuple[int, int]]:
    """All pairs i < j of `count` sublattices."""
    return [(i, j) for i in range(count) for j in range(i + 1, count)]


def cyclic_pairs(count: int) -> list[tuple[int, int]]:
    """(1,2), (2,3), (3,1) of three sublattices; (1,2) of two."""
    return [(0, 1)] if count == 2 else [(i, (i + 1) % count) for i in range(count)]


def neel_vector(m: Directions) -> ufl.core.expr.Expr:
    """l = (m_1 - m_2)/2 of a collinear antiferromagnet."""
    return (m[0] - m[1]) / 2


class SublatticeTerm:
    """One contribution to a sublattice magnet's energy; subclasses give `density`."""

    name: str = ""
    material_parameter: ClassVar[str | None] = None
    local: ClassVar[bool] = True
    """a density of the directions alone (no gradients): integrated by the vertex rule"""

    def density(self, m: Directions) -> ufl.core.expr.Expr:
        """Energy density (J/m^3) of the sublattice directions m."""
        raise NotImplementedError

    def set_time(self, time_s: float) -> None:
        """Evaluate time-dependent inputs at `time_s`; static terms: nothing."""


Term = TypeVar("Term", bound=type[SublatticeTerm])

OPTIONAL_TERMS: list[type[SublatticeTerm]] = []
"""Terms switched on by a material parameter, in the order they join the energy."""


def switched_on_by(parameter: str) -> Callable[[Term], Term]:
    """Class decorator: the term joins the energy where some magnetic material has a
    nonzero `parameter`; it is built from the sublattice coefficients alone."""

    def register(term: Term) -> Term:
        term.material_parameter = parameter
        OPTIONAL_TERMS.append(term)
        return term

    return register


class IntralatticeExchange(SublatticeTerm):
    """A sum_k |grad m_k|^2."""

    name = "exchange"
    local = False

    def __init__(self, coefficients: SublatticeCoefficients):
        self.stiffness = coefficients.exchange

    def density(self, m):
        return self.stiffness * sum(ufl.inner(gradient3(mk), gradient3(mk)) for mk in m)


@switched_on_by("interlattice_exchange_J_per_m3")
class InterlatticeExchange(SublatticeTerm):
    """lambda sum_{i<j} m_i . m_j: the homogeneous exchange between sublattices (per
    sublattice the exchange field B_E = lambda / M_s)."""

    name = "interlattice_exchange"

    def __init__(self, coefficients: SublatticeCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)
        self.count = coefficients.count

    def density(self, m):
        return self.constant * sum(ufl.dot(m[i], m[j]) for i, j in pairs(self.count))


@switched_on_by("interlattice_exchange_stiffness_J_per_m")
class InterlatticeStiffness(SublatticeTerm):
    """A_ij sum_{i<j} grad m_i : grad m_j: the inhomogeneous exchange between sublattices
    (a collinear wall's Neel vector then has the stiffness 2A - A_ij)."""

    name = "interlattice_stiffness"
    local = False

    def __init__(self, coefficients: SublatticeCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)
        self.count = coefficients.count

    def density(self, m):
        terms = (ufl.inner(gradient3(m[i]), gradient3(m[j])) for i, j in pairs(self.count))
        return self.constant * sum(terms)


@switched_on_by("uniaxial_anisotropy_J_per_m3")
class SublatticeAnisotropy(SublatticeTerm):
    """-K sum_k (m_k . u_k)^2, each sublattice with its own easy axis u_k."""

    name = "uniaxial_anisotropy"

    def __init__(self, coefficients: SublatticeCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)
        self.axes = coefficients.easy_axes

    def density(self, m):
        return -self.constant * sum(ufl.dot(mk, u) ** 2 for mk, u in zip(m, self.axes, strict=True))


@switched_on_by("interlattice_dmi_J_per_m3")
class HomogeneousDMI(SublatticeTerm):
    """D z . sum_cyclic m_i x m_j: the homogeneous Dzyaloshinskii-Moriya interaction
    between sublattices, its vector along the kagome normal z (Liu-Balents)."""

    name = "interlattice_dmi"

    def __init__(self, coefficients: SublatticeCoefficients):
        mesh = coefficients.base.saturation_magnetization.function_space.mesh
        self.constant = coefficients.parameter(self.material_parameter)
        self.normal = vector_input(mesh, KAGOME_NORMAL)
        self.count = coefficients.count

    def density(self, m):
        chirality = sum(ufl.cross(m[i], m[j]) for i, j in cyclic_pairs(self.count))
        return self.constant * ufl.dot(self.normal, chirality)


class SublatticeZeeman(SublatticeTerm):
    """-sum_k M_s,k B_ext . m_k, B_ext that of the ferromagnet's `Zeeman` term (static
    and time-dependent)."""

    name = "zeeman"

    def __init__(self, coefficients: SublatticeCoefficients, zeeman: Zeeman):
        self.saturation = coefficients.saturation
        self.zeeman = zeeman

    def density(self, m):
        field = self.zeeman.field()
        return -sum(ms * ufl.dot(field, mk) for ms, mk in zip(self.saturation, m, strict=True))

    def set_time(self, time_s: float) -> None:
        self.zeeman.set_time(time_s)


class NeelOrbitalZeeman(SublatticeTerm):
    """-M_W l . B_ext: the linear coupling of the Neel vector to the field through the Weyl
    electrons' orbital magnetization M_W l, M_W = sigma_AH^(l) mu_F / e (TS Eq. 40, the
    equilibrium part of h*; docs/theory.md §4).  Collinear order only."""

    name = "neel_orbital_zeeman"
    material_parameter = "orbital_magnetization_A_per_m"

    def __init__(self, coefficients: SublatticeCoefficients, zeeman: Zeeman):
        if coefficients.count != 2:
            raise ValueError(
                "the Neel orbital Zeeman energy needs a collinear (2-sublattice) order"
            )
        self.orbital = coefficients.parameter(self.material_parameter)
        self.zeeman = zeeman

    def density(self, m):
        return -self.orbital * ufl.dot(self.zeeman.field(), neel_vector(m))


class NetThinFilmDemagnetization(SublatticeTerm):
    """(mu_0/2)(M_net . n)^2, M_net = sum_k M_s,k m_k: the local demagnetization of the
    net magnetization of an infinite film of normal n."""

    name = "demagnetization"

    def __init__(self, coefficients: SublatticeCoefficients, normal=(0.0, 0.0, 1.0)):
        mesh = coefficients.base.saturation_magnetization.function_space.mesh
        self.saturation = coefficients.saturation
        self.normal = vector_input(mesh, normal)

    def density(self, m):
        net = sum(ms * mk for ms, mk in zip(self.saturation, m, strict=True))
        return 0.5 * VACUUM_PERMEABILITY * ufl.dot(net, self.normal) ** 2
