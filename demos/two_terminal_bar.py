# # Two-terminal bar: ohmic resistance from the Python API
#
# A bar of a magnetic Weyl semimetal (Co3Sn2S2) of length $L$ and cross-section
# $A = W t$ sits between two ohmic contacts, `source` at $x = 0$ held at $V_s$ and
# `drain` at $x = L$ held at $V_d$.  Without a magnetic field the valley sector
# decouples and the charge current is ohmic,
#
# $$ \mathbf J = -\sigma \nabla\phi_c, \qquad \nabla\cdot\mathbf J = 0, $$
#
# with $\phi_c = V_k$ on contact $k$ and $\mathbf J\cdot\mathbf n = 0$ on the walls.
# The exact solution is linear in $x$ and the resistance is $R = L/(\sigma A)$.
# This demo describes the device as plain data, runs it, and compares.

# +
from pathlib import Path

from mpi4py import MPI

from weylfem import device_from_mapping, run_device
from weylfem.materials import MATERIALS

comm = MPI.COMM_WORLD
out = Path("demo-output/two_terminal_bar")
# -

# ## The device as plain data
#
# The same nested tables a TOML device file holds (`weylfem init` writes an annotated
# one): a 3D bar, 8 µm × 1 µm × 0.5 µm, of the library material Co3Sn2S2, with 10 mV
# across it.  Keys left out take their defaults (`weylfem check` fills them in).

# +
table = {
    "name": "two-terminal bar",
    "geometry": {
        "kind": "bar",
        "dimension": 3,
        "length_unit": "um",
        "length": 8.0,
        "width": 1.0,
        "thickness": 0.5,
        "mesh_size": 0.25,
    },
    "regions": {"channel": {"material": "Co3Sn2S2"}},
    "contacts": {"source": {"voltage_V": 10e-3}, "drain": {"voltage_V": 0.0}},
    "physics": {"transport": "ohmic"},
}
device = device_from_mapping(table, "demo")
assert device.material_of("channel") == MATERIALS["Co3Sn2S2"]
# -

# ## Solve and compare with $L/(\sigma A)$

# +
results = run_device(device, out, comm)
sigma = device.material_of("channel").conductivity_S_per_m
length = device.geometry.length * 1e-6
area = device.geometry.cross_section() * 1e-12
analytic = length / (sigma * area)
computed = results["two_terminal_resistance_ohm"]
relative_error = abs(computed - analytic) / analytic
if comm.rank == 0:
    print(f"R (FEM)      = {computed:.9e} ohm")
    print(f"R = L/(σA)   = {analytic:.9e} ohm")
    print(f"relative error {relative_error:.1e} with {results['mesh']['dofs']} dofs")
assert relative_error < 1e-3
# -

# ## The potential inside: the explicit pipeline
#
# `run_device` is mesh → problem → solve → write.  The same steps by hand give access
# to the fields: here the nodal values of $\phi_c$ against the exact
# $V_s + (V_d - V_s)\,x/L$.  P1 elements reproduce a linear potential exactly.
# The fields are also in `fields.xdmf` (ParaView: *Xdmf3 Reader*) and `phi_c.png`.

# +
import numpy as np  # noqa: E402

from weylfem.geometry import build_device_mesh  # noqa: E402
from weylfem.transport import TransportProblem  # noqa: E402

device_mesh = build_device_mesh(device.geometry, comm)
problem = TransportProblem(device, device_mesh)
solution = problem.solve()
x = problem.space.tabulate_dof_coordinates()[:, 0]
phi = solution.charge_potential.x.array
exact = 10e-3 * (1 - x / length)
nodal_error = comm.allreduce(np.max(np.abs(phi - exact)), op=MPI.MAX)
if comm.rank == 0:
    print(f"max nodal error {nodal_error:.1e} V")
assert nodal_error < 1e-9 * 10e-3

samples = comm.gather((x, phi), root=0)
if comm.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = np.concatenate([s[0] for s in samples]) * 1e6
    values = np.concatenate([s[1] for s in samples])
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.plot(xs, values * 1e3, ".", markersize=3, label="FEM nodes")
    axis.plot([0, xs.max()], [10.0, 0.0], "k-", linewidth=1, label="exact")
    axis.set_xlabel("x (µm)")
    axis.set_ylabel("φ_c (mV)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / "profile.png", dpi=100)
# -
