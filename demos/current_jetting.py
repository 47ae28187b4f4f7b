# # Current jetting: a negative magnetoresistance without any anomaly
#
# The chiral anomaly is looked for as a resistance that falls when $\mathbf B$ is turned
# parallel to the current.  High-mobility semimetals show another effect with the same
# signature: *current jetting*.  The ordinary (Drude) magnetotransport of the carriers
# (docs/theory.md §2, "Ordinary magnetotransport") makes the conductivity a tensor,
#
# $$ \sigma(\mathbf B) = \sum_i \sigma_i\,
#    \frac{1 + \mu_i^2\,\mathbf B\mathbf B^{\mathsf T} - s_i\mu_i\,\mathbf B\times}
#         {1 + \mu_i^2 |\mathbf B|^2}, $$
#
# and with $\mathbf B = B\hat{\mathbf x}$ along the bar, one carrier kind of mobility $\mu$:
# $\sigma_{xx} = \sigma$ but $\sigma_{yy} = \sigma_{zz} = \sigma/(1+\mu^2B^2)$ (plus a
# Hall part across).  Current entering through a *small* contact can no longer spread
# sideways: it stays in a jet along the axis.  Stretching $y$ by
# $a = \sqrt{1+\mu^2B^2}$ makes the problem isotropic: the bar $L\times W$ behaves like a
# bar $L \times aW$ fed at two points, so at $\mu B = 18$ a 12 µm × 3 µm bar acts like a
# 12 µm × 54 µm one.  A voltage pair inside the jet (on the axis) then sees more current
# density and reads a *rising* resistance; a pair outside it (on the edge) sees the field
# of a point source at a distance $aW/2$ and reads a resistance falling as
# $e^{-\pi a W/2L}$: a huge "negative magnetoresistance" with $c_a = 0$.
#
# This demo computes both pairs on the same bar with the anomaly off and on, and the same
# bar with contacts over its whole end faces, where no jet can form.

# +
import os
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.meshing import mesh_device
from weylfem.output.pictures import render_png
from weylfem.output.points import point_values
from weylfem.output.projections import nodal
from weylfem.transport import TransportProblem

comm = MPI.COMM_WORLD
out = Path("demo-output/current_jetting")
if comm.rank == 0:
    out.mkdir(parents=True, exist_ok=True)
SMALL = os.environ.get("WEYLFEM_DEMO_SMALL") == "1"  # coarser and fewer fields (tests)
started = time.perf_counter()
# -

# ## Material and device
#
# TaAs from the library (σ = 2e6 S/m, its Weyl band, $\tau_v$ and $c_a = 2/3$, all
# representative), with its conductivity carried by one electron kind of mobility
# $\mu = 2$ m²/(V s), i.e. $n = \sigma/(e\mu) = 6.2\times10^{24}$ m⁻³.  The mobility is
# *representative*, not a measurement: members of the TaAs family reach far higher values
# at low temperature (NbP: 5×10⁶ cm²/(V s) = 500 m²/(V s) at 1.85 K, C. Shekhar et al.,
# Nat. Phys. 11, 645 (2015)); 2 m²/(V s) keeps the jet wide enough to resolve on a coarse
# mesh and already gives $\mu B = 18$ at 9 T.  Current jetting as the artefact of
# longitudinal-magnetoresistance measurements: R. D. dos Reis et al., New J. Phys. 18,
# 085006 (2016).
#
# "No anomaly" ($c_a = 0$) is the `ohmic` model: with Γ = 0 the valley potential decouples
# from the charge, so the `charge_valley` model would give the same φ_c.  "Anomaly on" is
# the `charge_valley` model with TaAs's $c_a$.  The bar (2D, the xy plane: a slab uniform
# along z) is 12 µm × 3 µm; 1 mA enters through the source at x = 0 and leaves through the
# grounded drain at x = 12 µm, each either 0.3 µm wide at the centre of the end face
# ("point" contacts) or the whole face.  Ideal point probes read φ_c at x = 4 and 8 µm on
# the axis (y = W/2) and on the edge (y = 0); R = (V(4 µm) − V(8 µm))/I, per metre of
# thickness (Ω m).

# +
LENGTH, WIDTH, CONTACT = 12.0, 3.0, 0.3  # µm
PROBES_X = (4.0, 8.0)  # µm
MOBILITY = 2.0  # m^2/(V s), representative
MESH_SIZE = 0.1 if SMALL else 0.05  # µm, P2 elements
FIELDS = (0.0, 3.0, 9.0) if SMALL else tuple(np.arange(0.0, 9.01, 1.0))  # T, along x
CURRENT = 1.0e-3  # A
um = 1e-6
PAIRS = {"axis": WIDTH / 2, "edge": 0.0}  # y of each probe pair (µm)


def jetting_table(anomaly: bool, point_contacts: bool, field_T: float) -> dict:
    """The device as plain data (edit it like a TOML file)."""
    geometry = {"kind": "bar", "dimension": 2, "length": LENGTH, "width": WIDTH}
    geometry["mesh_size"] = MESH_SIZE
    if point_contacts:
        geometry["contact_width"] = CONTACT
    carriers = [{"mobility_m2_per_Vs": MOBILITY, "charge": "electron"}]
    return {
        "name": "current jetting",
        "geometry": geometry,
        "materials": {"jetting_taas": {"base": "TaAs", "carriers": carriers}},
        "regions": {"channel": {"material": "jetting_taas"}},
        "contacts": {"source": {"current_A": CURRENT}, "drain": {"voltage_V": 0.0}},
        "fields": {"magnetic_field_T": [field_T, 0.0, 0.0]},
        "physics": {"transport": "charge_valley" if anomaly else "ohmic", "element_degree": 2},
        "solver": {"kind": "direct"},
    }


PROBES = um * np.array([[x, y, 0.0] for y in PAIRS.values() for x in PROBES_X])


def sweep(anomaly: bool, point_contacts: bool) -> tuple[dict[str, np.ndarray], dict]:
    """R(B) of the axis and edge pairs (Ohm m) over FIELDS, and phi_c at 0 and 9 T."""
    mesh, resistances, potentials = None, {name: [] for name in PAIRS}, {}
    for field in FIELDS:
        device = device_from_mapping(jetting_table(anomaly, point_contacts, field), "jetting")
        mesh = mesh if mesh is not None else mesh_device(device, comm)
        solution = TransportProblem(device, mesh).solve()
        values = point_values(solution.charge_potential, PROBES).reshape(len(PAIRS), 2)
        for name, (near, far) in zip(PAIRS, values, strict=True):
            resistances[name].append((near - far) / CURRENT)
        if field in (0.0, 9.0):
            potentials[field] = nodal(solution.charge_potential, "phi_c")
    return {name: np.array(r) for name, r in resistances.items()}, potentials


CASES = {  # (anomaly, point contacts)
    "point contacts, c_a = 0": (False, True),
    "point contacts, anomaly on": (True, True),
    "whole-face contacts, c_a = 0": (False, False),
    "whole-face contacts, anomaly on": (True, False),
}
results, maps = {}, {}
for case, (anomaly, point_contacts) in CASES.items():
    results[case], maps[case] = sweep(anomaly, point_contacts)
if comm.rank == 0:
    for case, pairs in results.items():
        print(case)
        for name, values in pairs.items():
            line = "  ".join(f"{b:g} T: {r:.4e}" for b, r in zip(FIELDS, values, strict=True))
            print(f"  {name:>4} pair R·t (Ohm m)  {line}")
# -

# ## What the numbers say
#
# * **Point contacts, $c_a = 0$**: the edge pair's resistance falls by orders of magnitude
#   — a "negative magnetoresistance" with no anomaly at all — while the axis pair's rises:
#   the current is squeezed into the jet the axis pair sits in.
# * **Whole-face contacts, $c_a = 0$**: the current is uniform, $\sigma(\mathbf B)\hat{\mathbf
#   x} = \sigma\hat{\mathbf x}$, and both pairs read exactly the field-free resistance.
# * **Anomaly on**: the Son–Spivak conductivity along $\mathbf B$ lowers *both* pairs below
#   their $c_a = 0$ values, and with whole-face contacts it is the only field dependence.

# +
point, jet = results["point contacts, c_a = 0"], results["point contacts, anomaly on"]
uniform = results["whole-face contacts, c_a = 0"]
anomalous = results["whole-face contacts, anomaly on"]
assert np.all(np.diff(point["edge"]) < 0) and np.all(np.diff(point["axis"]) > 0)
assert point["edge"][-1] < 0.05 * point["edge"][0] and point["axis"][-1] > 3 * point["axis"][0]
for name in PAIRS:
    assert np.allclose(uniform[name], uniform[name][0], rtol=1e-8)  # exactly no jet, no MR
    assert np.all(np.diff(anomalous[name]) < 0)  # the anomaly alone: a falling R
    assert np.all(jet[name][1:] < point[name][1:])  # the anomaly lowers both pairs
    assert abs(jet[name][0] / point[name][0] - 1) < 1e-9  # at B = 0 the anomaly is idle
# -

# ## Pictures
#
# The potential with point contacts and $c_a = 0$ at 0 T and 9 T: at 9 T the potential
# drops along a narrow jet on the axis and the edges are nearly equipotential.

# +
for field in (0.0, 9.0):
    render_png(
        out / f"potential_{field:g}T.png",
        maps["point contacts, c_a = 0"][field],
        f"phi_c (V), B = {field:g} T",
    )
if comm.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    styles = {"c_a = 0": "-", "anomaly on": "--"}
    for axis, contacts in zip(axes, ("point contacts", "whole-face contacts"), strict=True):
        for case, pairs in results.items():
            if not case.startswith(contacts):
                continue
            style = styles[case.split(", ")[1]]
            for name, marker in (("axis", "o"), ("edge", "s")):
                ratio = pairs[name] / pairs[name][0]
                axis.plot(
                    FIELDS, ratio, style + marker, ms=4, label=f"{name}, {case.split(', ')[1]}"
                )
        if contacts == "point contacts":
            axis.set_yscale("symlog", linthresh=1e-2)
        axis.set_title(contacts, fontsize=9)
        axis.set_xlabel("B along the bar (T)")
        axis.legend(fontsize=7)
    axes[0].set_ylabel("R(B) / R(0)")
    figure.tight_layout()
    figure.savefig(out / "resistance_vs_field.png", dpi=110)
    plt.close(figure)
# -

# ## Which layout tells jetting from the anomaly
#
# One pair of voltage probes cannot: with point contacts both effects make an off-jet pair
# read a falling resistance.  Two layouts can.
#
# * **Two pairs, on and off the jet.** Jetting drives them apart — the axis pair up, the
#   edge pair down — while the anomaly lowers both.  A falling edge resistance with a
#   rising axis one is jetting.  (In a 3D crystal fed through point contacts on its end
#   faces the jet runs through the bulk, so a pair on the top face is off the jet even
#   when it sits on the centre line: such a pair behaves like the edge pair here.)
# * **Contacts over the whole end faces** (or a bar much longer than $aW$), with the
#   voltage pair far from them: the current is uniform, jetting cannot occur, and
#   $\sigma(\mathbf B)\hat{\mathbf x} = \sigma\hat{\mathbf x}$ leaves the resistance
#   exactly field-independent; any remaining decrease is the anomaly.

# +
elapsed = comm.allreduce(time.perf_counter() - started, op=MPI.MAX)
if comm.rank == 0:
    print(f"{sum(len(FIELDS) for _ in CASES)} solves in {elapsed:.1f} s")
# -
