#!/usr/bin/env bash
# The one set-up path of weylfem (used by the Makefile, CI, scripts/test-stack.sh and the
# Dockerfile).
#
#  1. FEniCSx: either one that is already importable (a conda or Spack environment, or
#     WEYLFEM_PYTHON=/path/to/python naming its interpreter) — then no system package is
#     installed — or Debian's: DOLFINx 0.5.2 on bookworm, 0.9 on trixie, 0.11 on sid (real
#     build, PETSc with hypre and MUMPS, petsc4py, mpi4py, OpenMPI), plus the shared libraries
#     of the gmsh wheel and of off-screen VTK rendering through EGL.  Package names are
#     resolved against the release's own index; apt-get runs only for what is missing.
#  2. A virtual environment .venv on that interpreter that sees its packages
#     (--system-site-packages).
#  3. `pip install -e ".[test,plot]"` into it, only when pyproject.toml or the interpreter
#     changed; the interpreter's numpy is pinned (DOLFINx and petsc4py are built against it).
#
#  4. Only with --bench (the Makefile's `bench` target): .venv-bench, a plain virtual
#     environment of the benchmark's peer, magnum.np on CPU torch (bench/peers/requirements.txt).
#     It is never a dependency of weylfem: nothing but bench/ uses it.
#
# Idempotent: a second run checks and returns in about a second.
set -euo pipefail

bench=0
for argument in "$@"; do
    case "$argument" in
        --bench) bench=1 ;;
        *) echo "install.sh: error: unknown argument $argument (expected --bench)" >&2; exit 2 ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.weylfem-install-stamp"

say() { echo "install.sh: $*" >&2; }
imports_dolfinx() { "$1" -c "import dolfinx, petsc4py, mpi4py" >/dev/null 2>&1; }

# --- 1. the interpreter that has FEniCSx ---------------------------------------------------
python=""
if [[ -n "${WEYLFEM_PYTHON:-}" ]]; then
    imports_dolfinx "$WEYLFEM_PYTHON" \
        || { say "error: WEYLFEM_PYTHON=$WEYLFEM_PYTHON does not import dolfinx, petsc4py and mpi4py"; exit 1; }
    python="$WEYLFEM_PYTHON"
else
    # An active conda/Spack/other environment whose python3 already has DOLFINx.
    candidate="$(command -v python3 || true)"
    if [[ -n "$candidate" && "$candidate" != "$venv/"* && "$candidate" != /usr/bin/python3 ]] \
        && imports_dolfinx "$candidate"; then
        python="$candidate"
    fi
fi

if [[ -n "$python" ]]; then
    say "using the FEniCSx of $python (no system packages installed)"
else
    python=/usr/bin/python3
    # Each entry is a list of alternatives: the first one the release knows is installed.
    wanted=(
        python3 python3-venv python3-dev
        python3-dolfinx-real python3-dolfinx
        openmpi-bin make
        # shared libraries of the gmsh wheel
        libglu1-mesa libxrender1 libxcursor1 libxft2 libxinerama1 libxext6
        # off-screen rendering for pyvista/VTK without a display, through EGL (every release)
        libgl1 libegl1 libegl-mesa0
    )
    installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
    missing=()
    for pkg in "${wanted[@]}"; do
        installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) -ne 0 ]]; then
            say "error: missing Debian packages: ${missing[*]}"
            say "       run this script as root (or: sudo apt-get install ${missing[*]}),"
            say "       or point WEYLFEM_PYTHON at an interpreter that has FEniCSx"
            exit 1
        fi
        if ! command -v apt-get >/dev/null; then
            say "error: no apt-get and no importable DOLFINx: activate a conda/Spack FEniCSx"
            say "       environment or set WEYLFEM_PYTHON=/path/to/its/python"
            exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        release="$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")"
        unknown=()
        for pkg in "${missing[@]}"; do
            [[ -n "$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"')" ]] \
                || unknown+=("$pkg")
        done
        if ((${#unknown[@]})); then
            say "error: Debian $release has no package ${unknown[*]} (bookworm, trixie and sid do)"
            exit 1
        fi
        say "apt-get install ${missing[*]}"
        apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
fi

# --- 2. the virtual environment ------------------------------------------------------------
interpreter="$("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
if [[ ! -x "$venv/bin/python" ]] || ! grep -q "include-system-site-packages = true" "$venv/pyvenv.cfg" \
    || [[ "$(sed -n 2p "$stamp" 2>/dev/null)" != "$interpreter" ]]; then
    say "creating $venv on $interpreter"
    rm -rf "$venv"
    "$python" -m venv --system-site-packages "$venv"
fi

# --- 3. the package and its Python dependencies --------------------------------------------
wanted_stamp="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"$'\n'"$interpreter"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted_stamp" ]]; then
    say "pip install -e .[test,plot]"
    # Keep the numpy that DOLFINx and petsc4py were compiled against.
    constraints="$venv/constraints.txt"
    "$venv/bin/python" -c 'import numpy; print(f"numpy=={numpy.__version__}")' > "$constraints"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -c "$constraints" -e "$root[test,plot]"
    echo "$wanted_stamp" > "$stamp"
fi

"$venv/bin/python" -c "import dolfinx, gmsh, pyvista, weylfem" \
    || { say "error: the weylfem environment in $venv does not import"; exit 1; }

# --- 4. the benchmark's peer (opt-in) --------------------------------------------------------
if ((bench)); then
    peer="$root/.venv-bench"
    requirements="$root/bench/peers/requirements.txt"
    peer_stamp="$peer/.weylfem-bench-stamp"
    wanted_peer="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [[ ! -x "$peer/bin/python" || "$(cat "$peer_stamp" 2>/dev/null)" != "$wanted_peer" ]]; then
        say "creating $peer (magnum.np on CPU torch, for make bench only)"
        rm -rf "$peer"
        /usr/bin/python3 -m venv "$peer"
        "$peer/bin/python" -m pip install -q --upgrade pip
        "$peer/bin/python" -m pip install -q -r "$requirements"
        "$peer/bin/python" -c "import torch, magnumnp" >/dev/null \
            || { say "error: the benchmark environment in $peer does not import magnumnp"; exit 1; }
        echo "$wanted_peer" > "$peer_stamp"
    fi
fi
