# # Nonlocal chiral anomaly: a voltage carried by valley diffusion
#
# In a Weyl semimetal, parallel electric and magnetic fields pump electrons from one
# valley (Weyl node chirality) to the other: the chiral anomaly.  The valley imbalance
# $\phi_v = (\mu_+ - \mu_-)/(2e)$ relaxes only slowly, over the intervalley time
# $\tau_v$, so it diffuses a valley length $\lambda_v = \sqrt{D\tau_v}$ away from where
# it was made, and there the chiral magnetic effect (CME) turns it back into a charge
# current along $\mathbf B$.  The steady equations (docs/theory.md §2) are
#
# $$ \mathbf J = -\sigma\nabla\phi_c + \Gamma\phi_v\mathbf B, \qquad \nabla\cdot\mathbf J = 0, $$
#
# $$ \mathbf J_v = -\sigma\nabla\phi_v, \qquad
#    \nabla\cdot\mathbf J_v + \frac{e^2N}{\tau_v}\,\phi_v = -\Gamma\,\mathbf B\cdot\nabla\phi_c, $$
#
# with $D = \sigma/(e^2N)$, insulating walls ($\mathbf J\cdot\mathbf n = \mathbf J_v\cdot
# \mathbf n = 0$) and ohmic contacts.  The nonlocal experiment (Tserkovnyak Sec. IV.C;
# Parameswaran et al., PRX 4, 031035 (2014); Zhang et al., Nat. Commun. 8, 13741 (2017))
# injects a current $I$ *across* a long strip of width $W$ at $x = 0$, with $\mathbf B$
# along that current, and reads the voltage across the strip with floating probe pairs at
# distances $x$: $R_{NL}(x) = (V_\text{bottom} - V_\text{top})/I$.  It has two parts:
#
# * the **ohmic** part, the injected current spreading along the strip: in 2D the slowest
#   potential mode odd across the strip is $\cos(\pi y/W)\,e^{-\pi x/W}$, so
#   $R_{NL}^\text{ohm} \propto e^{-\pi x/W}$;
# * the **valley** part $R_v = R_{NL}(\mathbf B) - R_{NL}(0)$.  Far from the injector no
#   net current crosses the strip, $\sigma\,\partial_y\phi_c = \Gamma B_y\phi_v$ (and along
#   it, $\sigma\,\partial_x\phi_c = \Gamma B_x\phi_v$), so the anomaly term adds
#   $\Gamma^2 B^2\phi_v/\sigma$ to the relaxation and the valley balance becomes
#   $\phi_v'' = \phi_v/\lambda^2$ with
#
# $$ \lambda^{-2} = \lambda_v^{-2} + (\Gamma B/\sigma)^2 . $$
#
# The pumping ($\propto \mathbf B\cdot\mathbf E$, with $\mathbf E$ along $y$ under the
# injector) and the read-out (the CME current $\Gamma\phi_v B_y$ across the strip) each
# bring a factor $B_y = B\cos\alpha$, $\alpha$ the angle between $\mathbf B$ and the
# injected current:
#
# $$ R_v(x) \propto -B^2\cos^2\!\alpha\; e^{-x/\lambda}. $$
#
# It is negative: the CME current flows along the injected current, so an open-circuit
# probe pair is biased against it.  This demo computes both parts on a 2D TaAs strip and
# checks the decay lengths, the $B^2$ law and the $\cos^2\alpha$ law.

# +
import os
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem import default_device, run_device
from weylfem.experiments import four_probe_resistances, nonlocal_strip_table
from weylfem.materials import MATERIALS

comm = MPI.COMM_WORLD
out = Path("demo-output/nonlocal_chiral_anomaly")
if comm.rank == 0:
    out.mkdir(parents=True, exist_ok=True)
SMALL = os.environ.get("WEYLFEM_DEMO_SMALL") == "1"  # coarser and fewer points (tests)

taas = MATERIALS["TaAs"]
sigma = taas.conductivity_S_per_m
gamma = taas.anomaly_coefficient_A_per_m2_V_T
lambda_v = taas.valley_diffusion_length_m
um = 1e-6
if comm.rank == 0:
    print(f"TaAs: lambda_v = {lambda_v / um:.3f} um, Gamma/sigma = {gamma / sigma:.3e} 1/(m T)")
# -

# ## The device
#
# A 2D strip (the xy plane, per metre of thickness) of width $W = 1$ µm: the `nonlocal_strip`
# builder puts the injector pair (patches on the edges $y = 0$ and $y = W$) at $x = 3$ µm and
# a detector pair at each given distance from it.  1 mA enters through `injector_bottom`
# and leaves through the grounded `injector_top`; every detector is a floating probe.
# A metal contact holds $\phi_v = 0$ by default, which would make each detector pair a
# valley sink; `valley_conductance_S_per_m2 = 0` makes them ideal voltmeters that read
# the signal without draining it.  The strip is 40 µm long so that its far end, an
# insulating wall that reflects the valley signal, lies more than $5\lambda_v$ beyond the
# last detector.  (`weylfem run` without a file solves the same experiment in 3D: the
# built-in default device, last section.)

# +
WIDTH = 1.0  # µm
MESH_SIZE = 0.2 if SMALL else 0.1  # µm
VALLEY_DISTANCES = (2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0)  # µm
FIT_FROM = 4.0  # µm: beyond the injector's near field (faster modes ~ exp(-pi x / W))


def strip_table(distances, field_T=(0.0, 0.0, 0.0), length=40.0):
    """The experiment as plain data (`weylfem.experiments`): edit it like a TOML file."""
    return nonlocal_strip_table(distances, field_T, width=WIDTH, length=length, mesh_size=MESH_SIZE)


def decay_length(distances_um, values):
    """lambda (m) of the least-squares fit log|R| = a - x / lambda."""
    slope = np.polyfit(np.asarray(distances_um) * um, np.log(np.abs(values)), 1)[0]
    return -1.0 / slope


def expected_length(field_T):
    return 1.0 / np.sqrt(lambda_v**-2 + (gamma * field_T / sigma) ** 2)


# -

# ## The valley part against distance, for several fields
#
# One mesh serves every field: only the coefficient $\mathbf B$ changes.  $R_{NL}(0)$ is the
# ohmic part alone; subtracting it leaves the valley part.

# +
x_valley = np.array(VALLEY_DISTANCES)
ohmic_far, strip_mesh = four_probe_resistances(strip_table(VALLEY_DISTANCES))
valley_cache = {}


def valley_part(field_T):
    """R_NL(B) - R_NL(0) at VALLEY_DISTANCES (one solve per field, remembered)."""
    key = tuple(float(b) for b in field_T)
    if key not in valley_cache:
        values, _ = four_probe_resistances(strip_table(VALLEY_DISTANCES, key), strip_mesh)
        valley_cache[key] = values - ohmic_far
    return valley_cache[key]


fields = (0.25, 1.0) if SMALL else (0.25, 0.5, 1.0, 2.0)  # T, along y (the injected current)
fit = x_valley >= FIT_FROM
fitted = {}
for b in fields:
    part = valley_part((0.0, b, 0.0))
    assert np.all(part < 0)  # the CME biases the probes against the injected current
    fitted[b] = decay_length(x_valley[fit], part[fit])
    if comm.rank == 0:
        print(
            f"B = {b:4.2f} T: fitted lambda = {fitted[b] / um:.4f} um, "
            f"lambda(B) = {expected_length(b) / um:.4f} um, lambda_v = {lambda_v / um:.4f} um"
        )
for b, length in fitted.items():
    assert abs(length / expected_length(b) - 1) < 0.01
assert abs(fitted[0.25] / lambda_v - 1) < 0.03  # small B: the material's lambda_v
# -

# At 0.25 T the fitted length is $\lambda_v$ to a fraction of a percent; at 2 T the
# $(\Gamma B/\sigma)^2$ term has shortened it by 17%, as predicted.
#
# ## The ohmic part
#
# A floating probe pair is an equipotential patch on each edge: it short-circuits a
# stretch of the edge and carries the evanescent ohmic field further, so probes behind it
# would see that field altered (here by about 17% per pair half a width apart).  The ohmic
# part is therefore measured with one detector pair per strip, at a few widths from the
# injector, and fitted to $e^{-\kappa x}$.  (The valley signal varies over $\lambda_v \gg$
# the patch length and passes the ideal probes unchanged.)

# +
x_ohmic = np.array((1.0, 1.5, 2.0) if SMALL else (0.5, 1.0, 1.5, 2.0, 2.5, 3.0))
ohmic = np.array([four_probe_resistances(strip_table([x], length=12.0))[0][0] for x in x_ohmic])
near = x_ohmic >= 1.0  # a width from the injector: the next odd mode, exp(-3 pi x / W), is gone
rate = 1.0 / decay_length(x_ohmic[near], ohmic[near])  # 1/m
rate_per_width = rate * WIDTH * um
if comm.rank == 0:
    print(f"ohmic part: fitted rate {rate_per_width:.4f} / W = {rate_per_width / np.pi:.4f} pi / W")
assert abs(rate_per_width / np.pi - 1) < 0.03
# -

# +
if comm.rank == 0:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4.2))
    axis.semilogy(x_ohmic, ohmic, "ks", label="ohmic part, B = 0")
    line = np.linspace(x_ohmic[0], 4.0, 50)
    axis.semilogy(
        line, ohmic[-1] * np.exp(-np.pi * (line - x_ohmic[-1]) / WIDTH), "k:", label="∝ exp(−πx/W)"
    )
    line = np.linspace(FIT_FROM, x_valley[-1], 50)
    for b in fields:
        part = -valley_part((0.0, b, 0.0))
        (marks,) = axis.semilogy(x_valley, part, "o", label=f"−valley part, B = {b:g} T")
        anchor = part[fit][0]
        axis.semilogy(
            line,
            anchor * np.exp(-(line - FIT_FROM) * um / expected_length(b)),
            "-",
            color=marks.get_color(),
            linewidth=1,
        )
    axis.set_xlabel("detector distance x (µm)")
    axis.set_ylabel("|R_NL| · t (Ω m; 2D, t: thickness)")
    title = f"TaAs strip, W = {WIDTH:g} µm; lines: exp(−x/λ(B)), λ_v = {lambda_v / um:.2f} µm"
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "distance.png", dpi=110)
    plt.close(figure)
# -

# Near the injector the ohmic part dominates; it falls by $e^{-\pi} \approx 1/23$ per width,
# the valley part by $e^{-1/4.4}$ per micrometre, so a few widths away (2.5 $W$ at 1 T,
# 3.5 $W$ at 0.25 T) the valley signal takes over and $R_{NL}$ changes sign.
#
# ## $B^2$ at small fields
#
# At a fixed detector the valley part grows as $B^2$ while $(\Gamma B\lambda_v/\sigma)^2 \ll 1$
# (0.11 at 1 T); beyond, the shrinking $\lambda(B)$ bends it down.

# +
small_fields = (0.05, 0.1)
ratio = valley_part((0.0, 0.1, 0.0)) / valley_part((0.0, 0.05, 0.0))
if comm.rank == 0:
    print(f"R_v(0.1 T) / R_v(0.05 T) = {np.round(ratio, 4)} (B^2: 4)")
assert np.all(np.abs(ratio / 4 - 1) < 0.01)

reference = list(x_valley).index(8.0)
sweep = sorted(set(small_fields) | set(fields))
at_reference = np.array([-valley_part((0.0, b, 0.0))[reference] for b in sweep])
if comm.rank == 0:
    figure, axis = plt.subplots(figsize=(4.5, 3.5))
    axis.loglog(sweep, at_reference, "o", label="−R_v at x = 8 µm")
    axis.loglog(sweep, at_reference[0] * (np.array(sweep) / sweep[0]) ** 2, "k--", label="∝ B²")
    axis.set_xlabel("B (T), along the injected current")
    axis.set_ylabel("|R_v| · t (Ω m)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out / "field.png", dpi=110)
    plt.close(figure)
# -

# ## The angle between $\mathbf B$ and the injected current
#
# Rotate a 1 T field in the plane from along the injected current ($\alpha = 0$, along $y$)
# to along the strip ($\alpha = 90°$, along $x$).  $|\mathbf B|$, hence $\lambda$, stays the
# same, so $R_v(\alpha)/R_v(0) = \cos^2\alpha$ at every distance.  At $90°$ only
# $E_x$ pumps, and $E_x$ is odd across the strip: the imbalance it makes is odd in
# $y - W/2$ and dies over $W/\pi$, not $\lambda_v$.  (An out-of-plane $B_z$ gives nothing at
# all: $E_z = 0$ in a strip whose contacts span its thickness.)

# +
angles = np.array((0.0, 45.0, 90.0) if SMALL else (0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0))
along = valley_part((0.0, 1.0, 0.0))
relative = []
for angle in np.radians(angles):
    relative.append(valley_part((np.sin(angle), np.cos(angle), 0.0)) / along)
relative = np.array(relative)
far = x_valley >= 6.0  # the nonlocal regime: the ohmic near field is below 1e-8 there
cos2 = np.cos(np.radians(angles)) ** 2
if comm.rank == 0:
    for angle, values, c2 in zip(angles, relative, cos2, strict=True):
        print(f"alpha = {angle:4.0f} deg: R_v/R_v(0) = {np.round(values[far], 5)}, cos^2 {c2:.5f}")
crossed = np.abs(relative[-1][far])
if comm.rank == 0:
    print(f"B across the current: |R_v| / |R_v(along)| <= {crossed.max():.1e} for x >= 6 um")
assert np.all(crossed < 1e-6)
for values, c2 in zip(relative[:-1], cos2[:-1], strict=True):
    assert np.all(np.abs(values[far] - c2) < 0.01 * c2)

if comm.rank == 0:
    figure, axis = plt.subplots(figsize=(4.5, 3.5))
    fine = np.linspace(0, 90, 91)
    axis.plot(fine, np.cos(np.radians(fine)) ** 2, "k-", linewidth=1, label="cos² α")
    for index, marker, size in zip(np.flatnonzero(far)[::2], "os^", (10, 7, 4), strict=False):
        label = f"x = {x_valley[index]:g} µm"
        axis.plot(angles, relative[:, index], marker, mfc="none", ms=size, label=label)
    axis.set_xlabel("angle α between B and the injected current (deg)")
    axis.set_ylabel("R_v(α) / R_v(0), |B| = 1 T")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "angle.png", dpi=110)
    plt.close(figure)
# -

# ## The default device: the same experiment in 3D
#
# `weylfem run` without a device file solves the built-in default device (`weylfem init`
# writes it as annotated TOML): this experiment on a 3D TaAs strip 1 µm wide and 0.5 µm
# thick, 1 T along the injected current, detectors 1 to 12 µm away.  Its resistances are in
# ohms; between the two farthest detectors they fall over $\lambda(1\,\text{T})$.

# +
device = default_device()
results = run_device(device, out / "default_device", comm)
resistances = results["nonlocal_resistances_ohm"]
if comm.rank == 0:
    for name, value in resistances.items():
        print(f"{name:>10}: {value: .4e} ohm")
distances = device.geometry.detector_distances
last, before = resistances[f"R_NL_{distances[-1]:g}um"], resistances[f"R_NL_{distances[-2]:g}um"]
local_length = (distances[-1] - distances[-2]) * um / np.log(before / last)
b = np.linalg.norm(device.fields.magnetic_field_T)
if comm.rank == 0:
    print(f"3D: lambda = {local_length / um:.4f} um, lambda(B) = {expected_length(b) / um:.4f} um")
assert resistances[f"R_NL_{distances[0]:g}um"] > 0 > last
assert abs(local_length / expected_length(b) - 1) < 0.03
# -
