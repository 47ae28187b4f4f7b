#!/usr/bin/env bash
# The one set-up path of weylfem (used by the Makefile, CI and the Dockerfile).
#
#  1. System FEniCSx stack from Debian bookworm (DOLFINx 0.5.2 real build, PETSc 3.18
#     with hypre and MUMPS, petsc4py, mpi4py, OpenMPI) plus the shared libraries the
#     gmsh wheel and off-screen VTK rendering need: apt-get, only for what is missing.
#  2. A virtual environment .venv that sees the system packages.
#  3. `pip install -e ".[test,plot]"` into it, only when pyproject.toml changed.
#
# Idempotent: a second run checks and returns in about a second.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.weylfem-install-stamp"

system_packages=(
    python3 python3-venv python3-dev
    python3-dolfinx-real python3-dolfinx
    openmpi-bin make
    # shared libraries of the gmsh wheel
    libglu1-mesa libxrender1 libxcursor1 libxft2 libxinerama1 libxext6
    # off-screen rendering for pyvista/VTK without a display
    libgl1 libosmesa6
)

missing=()
for pkg in "${system_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "error: missing Debian packages: ${missing[*]}" >&2
        echo "       run this script as root (or: sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
    echo "install.sh: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -x "$venv/bin/python" ]] || ! grep -q "include-system-site-packages = true" "$venv/pyvenv.cfg"; then
    echo "install.sh: creating $venv"
    rm -rf "$venv"
    /usr/bin/python3 -m venv --system-site-packages "$venv"
fi

wanted="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "install.sh: pip install -e .[test,plot]"
    # Keep the system numpy that DOLFINx and petsc4py were compiled against.
    constraints="$venv/constraints.txt"
    "$venv/bin/python" -c 'import numpy; print(f"numpy=={numpy.__version__}")' > "$constraints"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -c "$constraints" -e "$root[test,plot]"
    echo "$wanted" > "$stamp"
fi

"$venv/bin/python" -c "import dolfinx, gmsh, pyvista, weylfem" \
    || { echo "error: the weylfem environment in $venv does not import" >&2; exit 1; }
