"""The device description: plain dataclasses, SI units stated in the key names.

A `Device` is what a TOML file (see `weylfem init`) or Python code describes:
geometry, regions with materials, contacts, interfaces and valley-relaxing walls,
applied fields, physics model, solver options and outputs, and for magnetization
dynamics the magnetic regions, drives (applied field pulse, spin torques) and time
stepping.  It holds no DOLFINx objects; `weylfem.transport` and `weylfem.magnet.setup`
turn it into them.  The tables of the spin torques, [torques.NAME], are declared by the
torque classes registered in `TORQUES` (`weylfem.magnet.torques`), not here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from weylfem.geometry import Geometry
from weylfem.materials import Material
from weylfem.schema import (
    Registry,
    Terms,
    check,
    in_open_unit_interval,
    non_negative,
    nonzero_direction,
    positive,
    positive_counts,
)

PetscOptionValue = str | int | float | bool


Vector = tuple[float, float, float]


@dataclass(frozen=True)
class Region:
    """A region (a cell group of the mesh), its material and local fields.

    `magnetization_direction` (normalised on use) switches on the anomalous Hall term
    theta m x grad(phi_c) of a magnetic material; None means no net magnetization.  In a
    magnetization-dynamics run it is the initial m.  `magnetic_field_T` overrides the
    device-wide field inside this region.  `anisotropy_axis` is the uniaxial easy axis
    (normalised on use) of a magnetic region.  `magnetic_order` of a magnetic region:
    ``ferromagnet`` (one m), ``antiferromagnet`` (two sublattices, collinear) or
    ``triangular`` (three sublattices in the xy kagome plane, Mn3Sn-type); with sublattices,
    `magnetization_direction` is the initial m of sublattice 1 (docs/theory.md §4).
    """

    material: str
    magnetization_direction: Vector | None = check(nonzero_direction, default=None)
    magnetic_field_T: Vector | None = None
    anisotropy_axis: Vector = check(nonzero_direction, default=(0.0, 0.0, 1.0))
    magnetic_order: Literal["ferromagnet", "antiferromagnet", "triangular"] = "ferromagnet"


@dataclass(frozen=True)
class Contact:
    """An ohmic contact (a facet group): voltage-driven, current-driven or a floating probe.

    Give exactly one of `voltage_V`, `current_A` (into the device) or `floating = true`
    (a voltmeter: zero net current, uniform unknown potential).  The valley potential
    is held at 0 (metals relax valley) unless `valley_conductance_S_per_m2` is given,
    which makes the contact a Robin valley boundary J_v.n = G_v phi_v.
    """

    voltage_V: float | None = None
    current_A: float | None = None
    floating: bool = False
    valley_conductance_S_per_m2: float | None = check(non_negative, default=None)

    @property
    def drive(self) -> Literal["voltage", "current"]:
        """'voltage' for a voltage-driven contact, 'current' for current-driven and floating."""
        return "voltage" if self.voltage_V is not None else "current"

    @property
    def set_current_A(self) -> float:
        """The imposed net current into the device (0 for a floating probe)."""
        return 0.0 if self.floating else float(self.current_A or 0.0)

    def validate(self):
        """Exactly one drive (yields key, message)."""
        given = [self.voltage_V is not None, self.current_A is not None, self.floating]
        if sum(given) != 1:
            yield "voltage_V", "expected exactly one of voltage_V, current_A or floating = true"


@dataclass(frozen=True)
class FourProbe:
    """A four-terminal resistance R = (V_plus - V_minus) / I, the current I entering
    through `current[0]` and leaving through `current[1]`, voltages read at `voltage`."""

    current: tuple[str, str]
    voltage: tuple[str, str]


@dataclass(frozen=True)
class Interface:
    """An internal interface (a facet group between regions) that relaxes valley imbalance."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Wall:
    """An outer surface (a facet group) that relaxes valley imbalance (Robin condition)."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Fields:
    """Applied fields: uniform, overridden per region, or sampled from files.

    A field file is a NumPy ``.npz`` with the grid axes ``x``, ``y`` (and ``z`` in 3D)
    in metres and the samples ``values`` of shape (len(x), len(y)[, len(z)], 3);
    weylfem interpolates it (multilinear) at the mesh nodes.  Relative paths are read
    from the directory of the device file.  A file replaces the uniform and per-region
    values of its field.
    """

    magnetic_field_T: Vector = (0.0, 0.0, 0.0)
    magnetic_field_file: str | None = None
    magnetization_file: str | None = None


@dataclass(frozen=True)
class Physics:
    """Which transport model to solve."""

    transport: Literal["ohmic", "charge_valley", "none"] = "ohmic"
    """ohmic: phi_c with ohmic and anomalous Hall currents; charge_valley: phi_c and
    phi_v coupled by the chiral anomaly and the chiral magnetic effect (docs/theory.md Sec. 2);
    none: no transport (a magnet-only device, for [dynamics])"""
    element_degree: Literal[1, 2, 3] = 1


@dataclass(frozen=True)
class SolverOptions:
    """Linear solver choice; `petsc_options` override the defaults (without prefix)."""

    kind: Literal["auto", "direct", "iterative"] = "auto"
    direct_max_dofs: int | None = None
    """auto: direct up to this many dofs (None: 2e5 in 2D, 3e4 in 3D; weylfem.solvers)"""
    rtol: float = 1e-10
    petsc_options: dict[str, PetscOptionValue] = field(default_factory=dict)

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if not 0 < self.rtol < 1:
            yield "rtol", "expected a number in (0, 1)"
        if self.direct_max_dofs is not None and self.direct_max_dofs < 0:
            yield "direct_max_dofs", "expected an integer >= 0"


@dataclass(frozen=True)
class OutputOptions:
    """What `weylfem run` writes besides results.json."""

    fields_xdmf: bool = True
    png: bool = True


@dataclass(frozen=True)
class DriveWaveform:
    """Base of a drive multiplied by a waveform w(t), given by the dataclass fields
    `waveform`, `frequency_Hz` and `pulse_width_s`: w = 0 before t = 0 (every drive is
    switched on at t = 0); for t >= 0 ``step`` 1, ``sine`` sin 2 pi f t, ``pulse`` 1 for
    t <= pulse_width_s, then 0."""

    waveform: Literal["step", "sine", "pulse"] = field(default="step", kw_only=True)
    frequency_Hz: float | None = check(positive, default=None, kw_only=True)
    pulse_width_s: float | None = check(positive, default=None, kw_only=True)

    def drive_scale(self, time: float) -> float:
        """w(t), the factor on the drive at `time`."""
        if time < 0:
            return 0.0
        if self.waveform == "sine":
            return math.sin(2 * math.pi * self.frequency_Hz * time)
        if self.waveform == "pulse":
            return 1.0 if time <= self.pulse_width_s else 0.0
        return 1.0

    def validate(self):
        """Missing waveform parameters (yields key, message)."""
        if self.waveform == "sine" and self.frequency_Hz is None:
            yield "frequency_Hz", "expected a value for the sine waveform"
        if self.waveform == "pulse" and self.pulse_width_s is None:
            yield "pulse_width_s", "expected a value for the pulse waveform"


@dataclass(frozen=True)
class Transient(DriveWaveform):
    """Time stepping of the valley balance, e^2 N d(phi_v)/dt, under a time-dependent drive.

    Every driven contact's set value (voltage_V or current_A) is multiplied by the
    waveform w(t) (`DriveWaveform`): ``step`` (1 for t >= 0), ``sine`` (sin 2 pi f t),
    ``pulse`` (1 for 0 <= t <= pulse_width_s, then 0).  The device starts from phi_v = 0
    with the charge balance satisfied for the drive switched on at t = 0 (a consistent
    start).  The theta-scheme weights the valley balance (theta = 1: backward Euler, first
    order and L-stable, the safe choice for steps and pulses; theta = 1/2: Crank-Nicolson,
    second order, for smooth drives); the quasi-neutral charge balance is imposed at every
    step.
    """

    end_time_s: float = check(positive)
    time_step_s: float = check(positive)
    theta: float = 1.0
    snapshot_every: int = check(positive, default=10)
    """write the fields every this many steps (and at the end)"""

    def steps(self) -> int:
        """Number of time steps of time_step_s to reach end_time_s (or just pass it)."""
        return max(1, math.ceil(self.end_time_s / self.time_step_s - 1e-9))

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if not 0.5 <= self.theta <= 1.0:
            yield "theta", "expected a number in [0.5, 1]"
        yield from super().validate()
        if self.time_step_s > self.end_time_s:
            yield "time_step_s", f"expected at most end_time_s ({self.end_time_s})"


@dataclass(frozen=True)
class Magnetization:
    """Which regions are magnetic and how the magnetization is modelled (with [dynamics]).

    `regions` lists the magnetic regions (default: every listed region whose material
    has a saturation magnetization).  `demagnetization`: ``open_boundary`` (scalar
    potential on the magnet, the "air" around it and a transformation "shell" that
    stands for all space beyond; u = 0 on the facet group "infinity"), ``truncated``
    (the same without a shell: u = 0 on "infinity", the outer boundary of the "air"),
    ``fem_bem`` (Fredkin and Koehler's FEM-BEM on the magnetic cells alone, no air; zero
    stray field outside the magnet; 3D),
    ``fft`` (the Newell tensor on the grid of `fft_cells` equal cuboids filling the
    magnet's bounding box, convolved by FFT, as the finite-difference codes do; 3D, no
    air, no stray field outside the magnet; `weylfem.magnet.fft_demag`),
    ``thin_film`` (the local energy (mu_0 M_s^2/2)(m.n)^2 of an infinite film of
    normal `thin_film_normal`) or ``none``.  `initial_state_file` is a checkpoint.npz of
    an earlier run on the same mesh and number of MPI ranks: its m replaces the initial
    directions.  `uniform_through_thickness`: m independent of z in a film meshed in
    `geometry.layers` (the LLG equation restricted to such m; `weylfem.magnet.thickness`).
    `boundary_matrix` (fem_bem only): the double-layer matrix ``dense``, an
    ``hmatrix`` (compressed to the relative tolerance `boundary_matrix_tolerance`) or
    ``auto`` (an H-matrix from `weylfem.magnet.fem_bem.HMATRIX_MIN_NODES` surface nodes).
    """

    demagnetization: Literal["open_boundary", "truncated", "fem_bem", "fft", "thin_film", "none"]
    regions: tuple[str, ...] | None = None
    thin_film_normal: Vector | None = check(nonzero_direction, default=None)
    """film normal of the thin-film demagnetization (default: z)"""
    initial_state_file: str | None = None
    uniform_through_thickness: bool = False
    """m uniform through the film's thickness (z), on a magnet meshed in layers"""
    boundary_matrix: Literal["auto", "dense", "hmatrix"] | None = None
    """storage of the FEM-BEM double-layer matrix (default: auto)"""
    boundary_matrix_tolerance: float | None = check(in_open_unit_interval, default=None)
    """relative tolerance of the H-matrix blocks (default 1e-5)"""
    fft_cells: tuple[int, int, int] | None = check(positive_counts, default=None)
    """cells of the fft grid along x, y, z (required with demagnetization = 'fft')"""

    @property
    def film_normal(self) -> Vector:
        """The thin-film normal, defaulted."""
        return self.thin_film_normal or (0.0, 0.0, 1.0)

    @property
    def matrix_storage(self) -> str:
        """boundary_matrix, defaulted."""
        return self.boundary_matrix or "auto"

    @property
    def matrix_tolerance(self) -> float:
        """boundary_matrix_tolerance, defaulted."""
        return self.boundary_matrix_tolerance or 1e-5

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if self.thin_film_normal is not None and self.demagnetization != "thin_film":
            yield "thin_film_normal", "expected no value unless demagnetization = 'thin_film'"
        for key in ("boundary_matrix", "boundary_matrix_tolerance"):
            if getattr(self, key) is not None and self.demagnetization != "fem_bem":
                yield key, "expected no value unless demagnetization = 'fem_bem'"
        if (self.fft_cells is None) != (self.demagnetization != "fft"):
            yield (
                "fft_cells",
                (
                    "expected 3 cell counts [nx, ny, nz] with demagnetization = 'fft'"
                    if self.fft_cells is None
                    else "expected no value unless demagnetization = 'fft'"
                ),
            )
        if self.boundary_matrix_tolerance is not None and self.boundary_matrix == "dense":
            yield "boundary_matrix_tolerance", "expected no value with boundary_matrix = 'dense'"
        if self.regions is not None:
            if not self.regions:
                yield "regions", "expected at least one region"
            elif len(set(self.regions)) != len(self.regions):
                yield "regions", f"expected distinct region names, got {list(self.regions)}"


@dataclass(frozen=True)
class AppliedField(DriveWaveform):
    """A time-dependent applied field w(t) `amplitude_T` on top of the static field
    (fields.magnetic_field_T or the regions' own), switched on at t = 0 of [dynamics]."""

    amplitude_T: Vector


ADAPTIVE_SCHEMES = ("rk45", "rkf45")
"""The adaptive explicit schemes of [dynamics] (weylfem.magnet.adaptive.PAIRS)."""
ADAPTIVE_NAMES = " or ".join(repr(scheme) for scheme in ADAPTIVE_SCHEMES)
"""'rk45' or 'rkf45', for messages"""

TORQUES = Registry()
"""The spin torques a device file may list as [torques.NAME]: each registered class
(`weylfem.magnet.torques`) declares its table and is built from it."""


class Torques(Terms):
    """Spin torques on the magnetic regions, each switched on at t = 0 of [dynamics]:
    registered name -> the input of its [torques.NAME] table (None: absent)."""

    registry = TORQUES


@dataclass(frozen=True)
class Dynamics:
    """Magnetization dynamics (the Landau-Lifshitz-Gilbert equation) of the magnetic regions.

    Optionally relaxed first to max |m x B_eff| below `relax_torque_tolerance_T`, with
    the drives off: by damped gradient flow (``gradient_flow``, the energy never rises) or
    steepest descent with Barzilai-Borwein steps (``barzilai_borwein``, faster, no linear
    solve, energy not monotone).  Then stepped with equal steps from
    t = 0 to end_time_s (0 with relax_first: relaxation only).  ``bdf2`` is the
    second-order tangent-plane BDF2 scheme, ``tangent_plane`` the theta scheme
    (`theta` in (1/2, 1], default 1), ``rk45`` the adaptive explicit Dormand-Prince 5(4)
    scheme and ``rkf45`` the Runge-Kutta-Fehlberg 4(5) one (error per internal step on m
    at most `tolerance`, default 1e-5; time_step_s is then the interval of the run loop,
    taken in as many internal steps as needed, and the first trial step).  Every
    `series_every` steps a row of series.csv, every `snapshot_every` steps m and B_eff in
    magnetization.xdmf, every `checkpoint_every` steps checkpoint.npz (and all three at
    the last step).
    """

    end_time_s: float = check(non_negative)
    time_step_s: float = check(positive)
    scheme: Literal["bdf2", "tangent_plane", "rk45", "rkf45"] = "bdf2"
    theta: float | None = None
    tolerance: float | None = None
    """error per internal step of an adaptive scheme (rk45, rkf45), dimensionless"""
    relax_first: bool = False
    relax_method: Literal["gradient_flow", "barzilai_borwein"] = "gradient_flow"
    relax_torque_tolerance_T: float = check(positive, default=1e-5)
    relax_damping: float = check(positive, default=1.0)
    """alpha of the gradient flow"""
    relax_max_steps: int = check(positive, default=5000)
    series_every: int = check(positive, default=1)
    snapshot_every: int = check(positive, default=100)
    checkpoint_every: int = check(positive, default=100)

    @property
    def theta_value(self) -> float:
        """theta of the tangent-plane scheme, defaulted (BDF2: unused)."""
        return 1.0 if self.theta is None else self.theta

    @property
    def adaptive(self) -> bool:
        """True for the adaptive explicit schemes (rk45, rkf45), which step the nodal field."""
        return self.scheme in ADAPTIVE_SCHEMES

    @property
    def tolerance_value(self) -> float:
        """tolerance of an adaptive scheme, defaulted (1e-5, mumax3's MaxErr)."""
        return 1e-5 if self.tolerance is None else self.tolerance

    def steps(self) -> int:
        """Number of steps of time_step_s to reach end_time_s (or just pass it)."""
        return math.ceil(self.end_time_s / self.time_step_s - 1e-9)

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if self.theta is not None:
            if self.scheme != "tangent_plane":
                yield "theta", "expected no value unless scheme = 'tangent_plane'"
            elif not 0.5 < self.theta <= 1.0:
                yield "theta", "expected a number in (0.5, 1]"
        if self.tolerance is not None:
            if not self.adaptive:
                yield (
                    "tolerance",
                    f"expected no value unless scheme = {ADAPTIVE_NAMES} (adaptive)",
                )
            elif not 0 < self.tolerance < 0.1:
                yield "tolerance", f"expected a number in (0, 0.1), got {self.tolerance}"
        if self.end_time_s == 0 and not self.relax_first:
            yield "end_time_s", "expected a positive number (0 only with relax_first = true)"
        if 0 < self.end_time_s < self.time_step_s:
            yield "time_step_s", f"expected at most end_time_s ({self.end_time_s})"


@dataclass(frozen=True)
class Coupling(DriveWaveform):
    """Transport coupled to the magnetization dynamics (physics.transport =
    'charge_valley' with [dynamics]): the valley torque in the LLG and the valley-motive
    force in the valley current (docs/theory.md Sec. 3, "Valley–magnet coupling").

    `valley`: ``quasi_static`` (the transport is solved anew after every LLG step, the
    default: electrons are fast) or ``transient`` (one backward-Euler step of the valley
    balance e^2 N dphi_v/dt per LLG step).  Every contact's set value is multiplied by
    the waveform w(t) (`DriveWaveform`; default ``step``: on from t = 0).  Contact
    voltages are averaged in time from `average_from_s` on (the DC voltages of a
    pumping run).  `magnet_induction`: the B of the anomaly and the chiral magnetic effect
    includes the magnet's own mu_0 (M_s m + H_d) (the default, docs/theory.md Sec. 2,
    "Self-consistent B"), or (false) is the applied field alone, as in TS's model.
    """

    valley: Literal["quasi_static", "transient"] = "quasi_static"
    average_from_s: float = check(non_negative, default=0.0)
    magnet_induction: bool = True


@dataclass(frozen=True)
class Device:
    """A complete device description."""

    geometry: Geometry
    regions: dict[str, Region]
    contacts: dict[str, Contact]
    name: str = "device"
    description: str = ""
    materials: dict[str, Material] = field(default_factory=dict)
    """Materials by name: the library ones used by regions plus user-defined ones."""
    interfaces: dict[str, Interface] = field(default_factory=dict)
    walls: dict[str, Wall] = field(default_factory=dict)
    four_probe: dict[str, FourProbe] = field(default_factory=dict)
    """Named four-terminal (nonlocal) resistances to report"""
    fields: Fields = field(default_factory=Fields)
    physics: Physics = field(default_factory=Physics)
    solver: SolverOptions = field(default_factory=SolverOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    transient: Transient | None = None
    """time-dependent run (None: steady state)"""
    magnetization: Magnetization | None = None
    """magnetic regions and demagnetization (with dynamics)"""
    applied_field: AppliedField | None = None
    """time-dependent applied field of the dynamics"""
    torques: Torques = field(default_factory=Torques)
    dynamics: Dynamics | None = None
    """magnetization dynamics run (alone with physics.transport = 'none', coupled to the
    transport with 'charge_valley')"""
    coupling: Coupling | None = None
    """options of transport coupled to dynamics (None: the defaults when coupled)"""

    def material_of(self, region: str) -> Material:
        """The material of a region."""
        return self.materials[self.regions[region].material]

    def magnetic_regions(self) -> tuple[str, ...]:
        """The regions of the magnetization dynamics: magnetization.regions, by default
        every region whose material has a saturation magnetization."""
        if self.magnetization is not None and self.magnetization.regions is not None:
            return self.magnetization.regions
        return tuple(
            name
            for name in self.regions
            if self.material_of(name).saturation_magnetization_A_per_m is not None
        )
