# # Interface valley torque and current-driven switching
#
# A magnetic Weyl semimetal couples its magnetization $\mathbf m$ to the valley imbalance
# $\phi_v$ (Tserkovnyak, PRB, Sec. IV.B; docs/theory.md §4). A current density $\mathbf J$
# with a magnetic field $\mathbf B$ along it pumps valley charge through the chiral
# anomaly, $\phi_b = \tau_v\Gamma\,\mathbf B\cdot\mathbf E/(e^2N)$ in the bulk. A face that
# relaxes valley (conductance $G_v$) pulls $\phi_v$ down over the valley diffusion length
# $\lambda_v$, and the gradient exerts the valley torque density
#
# $$ \mathbf t_v = \frac{\eta\sigma_v}{e}\left[\mathbf m\times\nabla\phi_v
#    - \beta\,\mathbf m\times(\mathbf m\times\nabla\phi_v)\right]. $$
#
# Integrated through the boundary layer it is a torque per unit area of the face (TS Eq. 32,
# with the Robin factor $c = G_v\lambda_v/(\sigma_v + G_v\lambda_v)$ and outward normal
# $\mathbf n$):
#
# $$ \frac{\mathbf T}{A} = -\frac{\eta\sigma_v}{e}\,c\,\phi_b
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
from weylfem.materials import MATERIALS
from weylfem.meshing import mesh_device

comm = MPI.COMM_WORLD
small = os.environ.get("WEYLFEM_DEMO_SMALL") == "1"
os.makedirs("demo-output", exist_ok=True)
# -

# ## The material
#
# The library's Co3Sn2S2 as it is (`weylfem materials Co3Sn2S2`): measured σ_AH = −1130 S/cm
# and μ_F, representative σ = 1.5e6 S/m, valley conductivity σ_v = 1.5e5 S/m (the Weyl
# pockets' share), τ_v = 50 ps, so λ_v = √(σ_v τ_v/(e²N)) = 0.31 µm, pumping damping
# α_p = 0.01 (η = 2.67e-26 J s/m, with the band-model sign), α = 0.05 ≥ α_p (so the coupled
# model dissipates and the run is accepted), β = 0.1. The torque density is
# (ησ_v/e)[m×∇φ_v − β m×(m×∇φ_v)] and c = G_vλ_v/(σ_v + G_vλ_v).


# +
def film(
    thickness_um: float,
    mesh_size_um: float,
    voltage_V: float,
    field_T,
    length_um: float = 2.0,
    changes: dict | None = None,
) -> dict:
    """A 2D film along x (current) with the relaxing face at y = 0 (`bottom`); top face and
    contacts valley-insulating, so phi_v depends on y only.  `changes` to the library
    Co3Sn2S2 make a model magnet (part 2)."""
    return {
        "name": "valley torque film",
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length_unit": "um",
            "length": length_um,
            "width": thickness_um,
            "mesh_size": mesh_size_um,
            "film_faces": True,
        },
        "materials": {"weyl_magnet": {"base": "Co3Sn2S2", **(changes or {})}},
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


material = MATERIALS["Co3Sn2S2"]
sigma, sigma_v, eta = material.conductivity_S_per_m, material.sigma_v, material.eta
lam, beta = material.valley_diffusion_length_m, material.valley_torque_beta
ms = material.saturation_magnetization_A_per_m
per_field = (
    material.valley_relaxation_time_s
    * material.anomaly_coefficient_A_per_m2_V_T
    / (ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3)
)  # phi_b / (B.E), in m
if comm.rank == 0:
    print(
        f"lambda_v = {lam * 1e6:.3f} um, eta = {eta:.3e} J s/m, alpha_p = {material.alpha_p}"
        f" <= alpha = {material.gilbert_damping}"
    )
# -

# ## Part 1: torque per area of a relaxing face
#
# The film is $8\lambda_v$ = 2.5 µm thick with an insulating top, so its boundary layer is
# that of a half-space, and four times as long (the contacts short the Hall field near the
# ends, over a distance of the thickness); elements of $\lambda_v/5$. The drive is a
# realistic current density, $J = 10^{10}$ A/m² ($E = J/\sigma$ = 6.7 kV/m), with
# $\mathbf B = 1$ T along it. Every
# magnetic cell is attributed to the nearest valley-relaxing face, here `bottom` alone.

# +
normal = np.array([0.0, -1.0, 0.0])
m0 = np.array([0.0, 0.0, 1.0])
current_density = 1e10
length = (
    4 * 8 * lam
)  # 4 thicknesses: the contacts short the Hall field (theta = -0.075) near the ends
voltage = current_density / sigma * length
thickness_um, mesh_um = 8 * lam * 1e6, lam / 5 * 1e6
rows = []
for conductance in (1e15, sigma_v / lam):
    table = film(thickness_um, mesh_um, voltage, (1.0, 0.0, 0.0), length * 1e6)
    table["walls"]["bottom"]["valley_conductance_S_per_m2"] = conductance
    device = device_from_mapping(table)
    problem = build_coupled(device, mesh_device(device, comm)).problem
    measured = problem.interface_torques()["bottom"].per_area()
    c = conductance * lam / (sigma_v + conductance * lam)
    bulk = per_field * 1.0 * (voltage / length)
    field_like = -(eta * sigma_v / ELEMENTARY_CHARGE) * c * bulk * np.cross(m0, normal)
    damping_like = (
        (eta * sigma_v / ELEMENTARY_CHARGE) * c * bulk * beta * np.cross(m0, np.cross(m0, normal))
    )
    errors = (
        np.linalg.norm(measured["field_like"] - field_like) / np.linalg.norm(field_like),
        np.linalg.norm(measured["damping_like"] - damping_like) / np.linalg.norm(damping_like),
    )
    rows.append((conductance, c, measured["field_like"][0], field_like[0], *errors))
    assert max(errors) < 0.02, errors
if comm.rank == 0:
    print(f"J = {current_density:.0e} A/m^2, B = 1 T, phi_b = {bulk:.3e} V")
    print("G_v (S/m^2)   c       FL_x FEM (J/m^2)  FL_x Eq. 32     rel. errors FL, DL")
    for g, c, fem_x, exact_x, e_fl, e_dl in rows:
        print(f"{g:10.3e} {c:7.4f}  {fem_x: .5e}  {exact_x: .5e}   {e_fl:.1e}, {e_dl:.1e}")
# -

# What these numbers mean for a device: on a film of thickness $d$ with an insulating top
# the damping-like torque averages to the field (part 2)
# $B_{DL} = \beta\eta\sigma_v\phi_b(1 - \operatorname{sech}(d/\lambda_v))/(e M_s d)$: it grows
# with $d$ up to $d \approx \lambda_v$ and falls as $1/d$ beyond.  Per current density, and
# the current density a macrospin of the library's own 20 T anisotropy would need
# ($B_{DL}(1 - \alpha/\beta) > \alpha B_K$ = 1 T):

# +
anisotropy_field = 2 * material.uniaxial_anisotropy_J_per_m3 / ms
alpha = material.gilbert_damping
phi_b_per_density = per_field * 1.0 / sigma  # phi_b per (A/m^2) at B = 1 T
for d in (10e-9, 100e-9, lam, 1e-6):
    b_dl = beta * eta * sigma_v * phi_b_per_density * (1 - 1 / np.cosh(d / lam))
    b_dl /= ELEMENTARY_CHARGE * ms * d  # T per (A/m^2)
    needed = alpha * anisotropy_field / ((1 - alpha / beta) * b_dl)
    if comm.rank == 0:
        print(
            f"d = {d * 1e9:6.0f} nm: B_DL = {b_dl * 1e11 * 1e3:.3e} mT per 1e11 A/m^2;"
            f" B_K = {anisotropy_field:.0f} T needs J ~ {needed:.1e} A/m^2"
        )
# -

# With the library numbers the best film, $d \approx \lambda_v$ = 0.3 µm, gets about 0.06 mT
# per 10¹¹ A/m² at B = 1 T (φ_b and the torque are linear in B): one to two orders below a
# heavy-metal spin–orbit torque.  Co3Sn2S2's own 20 T anisotropy would need ~3×10¹⁵ A/m², far
# above what a conductor survives (~10¹² A/m²): Co3Sn2S2 itself does not switch by this torque.
# A soft magnetic Weyl layer (B_K = 10 mT) at 1 T would need ~2.5×10¹² A/m²; part 2 checks the
# switching criterion on such a model magnet.

# ## Part 2: switching (a model magnet)
#
# A film $d = \lambda_v/2$ thick of a model magnet: the library Co3Sn2S2 (same σ, σ_v, η,
# β, α, λ_v) made soft, with its easy axis along the face normal ($\hat y$, $B_K = 2K_u/M_s =
# 10$ mT instead of 20 T) and $A$ 100 times larger, so that the film turns as one
# ($\sqrt{A/K_u}$ = 1.1 µm $> 2d$; with Co3Sn2S2's own $A$ a wall through the thickness
# would form and only the bottom switch). It starts near $-\hat y$ (tilted by 0.1 rad).
# With $\mathbf J\cdot\mathbf B > 0$ the damping-like torque pushes $\mathbf m$ toward
# $-\mathbf n = +\hat y$, against the damping; the field-like part acts as a field
# $-(\eta\sigma_v/(eM_s))\partial_y\phi_v\,\hat y$, $1/\beta$ times stronger, along
# $-\hat y$. Averaged over the film the damping-like field is
#
# $$ B_{DL} = \frac{\beta\,\eta\sigma_v}{e M_s d}\,\phi_b\left(1 - \operatorname{sech}
#    \frac{d}{\lambda_v}\right), $$
#
# and a macrospin leaves $-\hat y$ when $B_{DL}(1 - \alpha/\beta) > \alpha B_K$.
# $\mathbf B = 1$ mT along the current is also the Zeeman field. The runs last 150 ns
# (50 ns at the small size, which runs 0.5 and 3 times the threshold only).

# +
field, soft_field, d = 1e-3, 10e-3, lam / 2
run_s = 50e-9 if small else 150e-9
anisotropy = soft_field * ms / 2
stiffness = 100 * material.exchange_stiffness_J_per_m
alpha = material.gilbert_damping
per_volt = (
    (beta * eta * sigma_v / (ELEMENTARY_CHARGE * ms * d))
    * per_field
    * field
    * (1 - 1 / np.cosh(d / lam))
    / 1e-6
)  # B_DL per volt over the 1 um film
threshold_V = alpha * soft_field / ((1 - alpha / beta) * per_volt)
threshold_density = sigma * threshold_V / 1e-6
if comm.rank == 0:
    print(
        f"threshold at B = 1 mT: {threshold_V:.1f} V over 1 um, J = {threshold_density:.2e} A/m^2"
    )


def switch(multiple: float) -> np.ndarray:
    """<m> history of a run at `multiple` times the threshold voltage."""
    soft = {"uniaxial_anisotropy_J_per_m3": anisotropy, "exchange_stiffness_J_per_m": stiffness}
    table = film(d * 1e6, d / 2 * 1e6, multiple * threshold_V, (field, 0, 0), 1.0, soft)
    # the macrospin criterion is for the applied B alone (TS's model): leave the magnet's own
    # mu_0 M_s m (0.09 T, far above the 1 mT here) out of the anomaly's B
    table["coupling"] = {"magnet_induction": False}
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
