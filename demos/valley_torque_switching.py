# # Interface valley torque and current-driven switching
#
# A magnetic Weyl semimetal couples its magnetization $\mathbf m$ to the valley imbalance
# $\phi_v$ (Tserkovnyak, PRB, Sec. IV.B; docs/theory.md §4). A current density $\mathbf J$
# with a magnetic field $\mathbf B$ along it pumps valley charge through the chiral
# anomaly, $\phi_b = \tau_v\Gamma\,\mathbf B\cdot\mathbf E/(e^2N)$ in the bulk. A face that
# relaxes valley (conductance $G_v$) pulls $\phi_v$ down over the valley diffusion length
# $\lambda_v$, and the gradient exerts the valley torque density
#
# $$ \mathbf t_v = \frac{\eta\sigma}{e}\left[\mathbf m\times\nabla\phi_v
#    - \beta\,\mathbf m\times(\mathbf m\times\nabla\phi_v)\right]. $$
#
# Integrated through the boundary layer it is a torque per unit area of the face (TS Eq. 32,
# with the Robin factor $c = G_v\lambda_v/(\sigma + G_v\lambda_v)$ and outward normal
# $\mathbf n$):
#
# $$ \frac{\mathbf T}{A} = -\frac{\eta\sigma}{e}\,c\,\phi_b
#    \left[\mathbf m\times\mathbf n - \beta\,\mathbf m\times(\mathbf m\times\mathbf n)\right]. $$
#
# Part 1 checks this torque per area on a thick film; part 2 lets its damping-like part
# switch a thin film whose easy axis is $\mathbf n$.

# +
import os

import numpy as np
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.coupled.setup import build_coupled
from weylfem.meshing import mesh_device

comm = MPI.COMM_WORLD
small = os.environ.get("WEYLFEM_DEMO_SMALL") == "1"
os.makedirs("demo-output", exist_ok=True)
# -

# ## The material
#
# Co3Sn2S2 itself has $\alpha_\text{min} = (\gamma/M_s)\sigma(\eta/e)^2 = 14.5$ with its
# effective $k_0$: far above any Gilbert damping, so the coupled model would create energy
# (weylfem refuses such a magnet). The model magnet here keeps its $\sigma$, band and
# valley numbers but has $k_0 = 1.2\times10^8$ m$^{-1}$ ($\alpha_\text{min} = 0.022$,
# below $\alpha = 0.05$) and $\beta = 1$.


# +
def film(thickness_um: float, mesh_size_um: float, voltage_V: float, field_T) -> dict:
    """A 2D film along x (current) with the relaxing face at y = 0 (`bottom`); top face and
    contacts valley-insulating, so phi_v depends on y only."""
    return {
        "name": "valley torque film",
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length_unit": "um",
            "length": 2.0,
            "width": thickness_um,
            "mesh_size": mesh_size_um,
            "film_faces": True,
        },
        "materials": {
            "weyl_magnet": {
                "base": "Co3Sn2S2",
                "node_half_separation_per_m": 1.2e8,
                "valley_torque_beta": 1.0,
            }
        },
        "regions": {
            "channel": {
                "material": "weyl_magnet",
                "magnetization_direction": [0.0, 0.0, 1.0],
                "anisotropy_axis": [0.0, 1.0, 0.0],
            }
        },
        "contacts": {
            "source": {"voltage_V": voltage_V, "valley_conductance_S_per_m2": 0.0},
            "drain": {"voltage_V": 0.0, "valley_conductance_S_per_m2": 0.0},
        },
        "walls": {"bottom": {"valley_conductance_S_per_m2": 1e15}},
        "fields": {"magnetic_field_T": list(field_T)},
        "physics": {"transport": "charge_valley"},
        "magnetization": {"demagnetization": "none"},
        "dynamics": {"end_time_s": 1e-12, "time_step_s": 1e-12},
        "output": {"fields_xdmf": False, "png": False},
    }


reference = device_from_mapping(film(8.0, 0.2, 1e-3, (1.0, 0.0, 0.0)))
material = reference.material_of("channel")
sigma, eta = material.conductivity_S_per_m, material.eta
lam, beta = material.valley_diffusion_length_m, material.valley_torque_beta
per_field = (
    material.valley_relaxation_time_s
    * material.anomaly_coefficient_A_per_m2_V_T
    / (ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3)
)  # phi_b / (B.E), in m
if comm.rank == 0:
    print(f"lambda_v = {lam * 1e6:.3f} um, alpha_min = {material.alpha_p:.4f}")
# -

# ## Part 1: torque per area of a relaxing face
#
# The film is 8 µm ($8\lambda_v$) thick with an insulating top, so its boundary layer is
# that of a half-space; 1 mV over 2 µm and $\mathbf B = 1$ T along the current. Every
# magnetic cell is attributed to the nearest valley-relaxing face, here `bottom` alone.

# +
normal = np.array([0.0, -1.0, 0.0])
m0 = np.array([0.0, 0.0, 1.0])
rows = []
for conductance in (1e15, sigma / lam):
    table = film(8.0, 0.2, 1e-3, (1.0, 0.0, 0.0))
    table["walls"]["bottom"]["valley_conductance_S_per_m2"] = conductance
    device = device_from_mapping(table)
    problem = build_coupled(device, mesh_device(device, comm)).problem
    measured = problem.interface_torques()["bottom"].per_area()
    c = conductance * lam / (sigma + conductance * lam)
    bulk = per_field * 1.0 * (1e-3 / 2e-6)
    field_like = -(eta * sigma / ELEMENTARY_CHARGE) * c * bulk * np.cross(m0, normal)
    damping_like = (
        (eta * sigma / ELEMENTARY_CHARGE) * c * bulk * beta * np.cross(m0, np.cross(m0, normal))
    )
    errors = (
        np.linalg.norm(measured["field_like"] - field_like) / np.linalg.norm(field_like),
        np.linalg.norm(measured["damping_like"] - damping_like) / np.linalg.norm(damping_like),
    )
    rows.append((conductance, c, measured["field_like"][0], field_like[0], *errors))
    assert max(errors) < 0.02, errors
if comm.rank == 0:
    print("G_v (S/m^2)   c       FL_x FEM (J/m^2)  FL_x Eq. 32     rel. errors FL, DL")
    for g, c, fem_x, exact_x, e_fl, e_dl in rows:
        print(f"{g:10.3e} {c:7.4f}  {fem_x: .5e}  {exact_x: .5e}   {e_fl:.1e}, {e_dl:.1e}")
# -

# ## Part 2: switching
#
# A film $d = \lambda_v/2$ thick with its easy axis along the face normal ($\hat y$,
# $B_K = 2K_u/M_s = 10$ mT) starts near $-\hat y$ (tilted by 0.1 rad). With
# $\mathbf J\cdot\mathbf B > 0$ the damping-like torque pushes $\mathbf m$ toward
# $-\mathbf n = +\hat y$, against the damping; the field-like part acts as a field
# $-(\eta\sigma/(eM_s))\partial_y\phi_v\,\hat y$, $1/\beta$ times stronger, along
# $-\hat y$. Averaged over the film the damping-like field is
#
# $$ B_{DL} = \frac{\beta\,\eta\sigma}{e M_s d}\,\phi_b\left(1 - \operatorname{sech}
#    \frac{d}{\lambda_v}\right), $$
#
# and a macrospin leaves $-\hat y$ when $B_{DL}(1 - \alpha/\beta) > \alpha B_K$. The torque
# acts within $\lambda_v$ of the face; the film turns as one only if it is thinner than a
# domain wall, $d < \sqrt{A/K_u}$, else a wall through the thickness forms and only the
# bottom switches. With Co3Sn2S2's $A$ that would need $d \lesssim 0.1$ µm, so this model
# magnet has $A$ 100 times larger ($\sqrt{A/K_u} = 1.1$ µm $> 2d$).
# $\mathbf B = 1$ mT along the current is also the Zeeman field. The runs last 150 ns
# (50 ns at the small size, which runs 0.5 and 3 times the threshold only); just above
# the threshold the reversal is slow (about 110 ns at 1.25 times).

# +
field, anisotropy_field, d = 1e-3, 10e-3, lam / 2
run_s = 50e-9 if small else 150e-9
anisotropy = anisotropy_field * material.saturation_magnetization_A_per_m / 2
stiffness = 100 * material.exchange_stiffness_J_per_m
alpha = material.gilbert_damping
per_volt = (
    (beta * eta * sigma / (ELEMENTARY_CHARGE * material.saturation_magnetization_A_per_m * d))
    * per_field
    * field
    * (1 - 1 / np.cosh(d / lam))
    / 1e-6
)  # B_DL per volt over the 1 um film
threshold_V = alpha * anisotropy_field / ((1 - alpha / beta) * per_volt)
current_density = sigma * threshold_V / 1e-6
if comm.rank == 0:
    print(f"threshold {threshold_V:.1f} V over 1 um: J = {current_density:.2e} A/m^2")


def switch(multiple: float) -> np.ndarray:
    """<m> history of a run at `multiple` times the threshold voltage."""
    table = film(d * 1e6, 0.1, multiple * threshold_V, (field, 0, 0))
    table["geometry"]["length"] = 1.0
    table["materials"]["weyl_magnet"].update(
        uniaxial_anisotropy_J_per_m3=anisotropy, exchange_stiffness_J_per_m=stiffness
    )
    table["regions"]["channel"]["magnetization_direction"] = [0.0, -1.0, 0.1]
    device = device_from_mapping(table)
    problem = build_coupled(device, mesh_device(device, comm)).problem
    # explicit anisotropy: steps below 2 alpha/(gamma B_K) = 57 ps keep the energy law
    step, history = 2e-11, []
    for n in range(round(run_s / step)):
        problem.step(step)
        if n % 20 == 0:
            history.append((problem.magnet.time_s, *problem.magnet.average_magnetization()))
    return np.array(history)


multiples = (0.5, 3.0) if small else (0.5, 0.8, 1.25, 2.0, 3.0)
histories = {k: switch(k) for k in multiples}
final = {k: h[-1, 2] for k, h in histories.items()}
if comm.rank == 0:
    for k, value in final.items():
        print(f"{k:5.2f} x threshold: final <m_y> = {value: .4f}")
for k, value in final.items():
    # below the macrospin threshold m stays near -y; above it, it ends near -n = +y
    assert value < -0.9 if k < 1 else value > 0.9, (k, value)
# -

# ## Plot

# +
if comm.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4))
    for k, h in histories.items():
        axes.plot(h[:, 0] * 1e9, h[:, 2], label=f"{k} x threshold")
    axes.set_xlabel("t (ns)")
    axes.set_ylabel("<m_y>")
    axes.set_title("valley-torque switching toward -n")
    axes.legend()
    figure.tight_layout()
    figure.savefig("demo-output/valley_torque_switching.png", dpi=120)
comm.barrier()  # every rank finds the plot once the demo returns
# -
