# # Corbino ring: a curved device and mesh convergence
#
# Curved boundaries are where finite elements beat finite differences. A Corbino disk,
# an annulus $r_1 \le r \le r_2$ with contacts on both circles, has the exact radial
# solution of $\nabla\cdot(\sigma\nabla\phi_c) = 0$,
#
# $$ \phi_c(r) = V\,\frac{\ln(r_2/r)}{\ln(r_2/r_1)}, \qquad
#    R = \frac{\ln(r_2/r_1)}{2\pi\sigma t}, $$
#
# with $t$ the thickness (in 2D the sheet has unit thickness, $t = 1$ m). Gmsh meshes the
# circles with straight-sided triangles, so the computed resistance carries a geometric
# error that shrinks as the mesh is refined; this demo measures the convergence rate.

# +
from math import log, pi

import numpy as np
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.run import run_device

comm = MPI.COMM_WORLD
inner_radius, outer_radius = 1.0, 3.0  # µm
# -

# ## The device
#
# The `ring` builder names its boundaries `inner` and `outer`; we drive 1 mV across them
# and refine toward the inner circle, where the current density is largest.


# +
def ring_device(mesh_size: float):
    table = {
        "name": "Corbino ring",
        "geometry": {
            "kind": "ring",
            "dimension": 2,
            "inner_radius": inner_radius,
            "outer_radius": outer_radius,
            "mesh_size": mesh_size,
            "refine": [{"groups": ["inner"], "size": mesh_size / 2, "transition": 1.0}],
        },
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {"inner": {"voltage_V": 1e-3}, "outer": {"voltage_V": 0.0}},
        "physics": {"transport": "ohmic"},
        "output": {"png": False, "fields_xdmf": False},
    }
    return device_from_mapping(table, "corbino")


sigma = ring_device(0.4).material_of("channel").conductivity_S_per_m
exact = log(outer_radius / inner_radius) / (2 * pi * sigma * 1.0)
# -

# ## Convergence of the resistance

# +
sizes = [0.4, 0.2, 0.1]
errors = []
for h in sizes:
    results = run_device(ring_device(h), f"demo-output/corbino_ring/h{h}", comm)
    resistance = results["two_terminal_resistance_ohm"]
    errors.append(abs(resistance - exact) / exact)
    if comm.rank == 0:
        print(
            f"h = {h:4.2f} µm  dofs {results['mesh']['dofs']:6d}  "
            f"R = {resistance:.8e} Ω  relative error {errors[-1]:.2e}"
        )
rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
if comm.rank == 0:
    print(f"exact R = {exact:.8e} Ω; observed rates {np.round(rates, 2)}")
assert errors[-1] < 5e-4
assert min(rates) > 1.8
# -

# The error falls as $h^2$: the polygonal approximation of the circles, not the
# finite-element discretisation of the potential, dominates here, and both are
# second order in the element size.

# +
if comm.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4, 3))
    axis.loglog(sizes, errors, "o-", label="|R − R_exact| / R_exact")
    axis.loglog(sizes, [errors[0] * (h / sizes[0]) ** 2 for h in sizes], "k--", label="h²")
    axis.set_xlabel("mesh size h (µm)")
    axis.legend()
    figure.tight_layout()
    figure.savefig("demo-output/corbino_ring/convergence.png", dpi=100)
# -
