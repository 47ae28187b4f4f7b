#!/usr/bin/env bash
# Run the project's own set-up and tests on another Debian FEniCSx stack:
#
#   scripts/test-stack.sh RELEASE [MAKE TARGET ...]      (default target: test)
#
#   RELEASE   sid (DOLFINx 0.11, PETSc 3.25, Python 3.14), trixie (DOLFINx 0.9, PETSc 3.22)
#             or bookworm (DOLFINx 0.5.2, PETSc 3.18)
#
# A fresh copy of the cached Debian root (scripts/debian-root.sh: debootstrap, rebuilt when
# older than a week) gets a clone of this checkout's HEAD (committed work only) at
# /work/weylfem; there `make TARGET` runs as root, exactly as on a new Debian machine:
# scripts/install.sh installs the system stack and the venv from nothing.  Downloaded .deb
# files and wheels are kept between runs in $WEYLFEM_STACKS/cache-RELEASE, so that a
# repeated run does not download them again.  The copy is removed afterwards; with
# WEYLFEM_KEEP_STACK=1 it is kept for inspection (chroot into the printed path).
#
# Exits with make's status. A leg that cannot build its root or reach the Debian mirror
# fails (exit 1) with a message; it is never skipped.
set -euo pipefail

release="${1:?usage: test-stack.sh RELEASE [MAKE TARGET ...]}"
shift
targets=("${@:-test}")
checkout="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stacks="${WEYLFEM_STACKS:-/var/cache/weylfem-stacks}"
say() { echo "test-stack[$release]: $*" >&2; }

base="$(bash "$checkout/scripts/debian-root.sh" "$release")" \
    || { say "error: no Debian $release root (see above); this leg fails"; exit 1; }

run="$stacks/$release-run-$$"
cache="$stacks/cache-$release"
mounts=()

cleanup() {
    local status=$?
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -R "${mounts[i]}" 2>/dev/null || umount -lR "${mounts[i]}" 2>/dev/null || true
    done
    if grep -qs " $run/" /proc/mounts; then
        say "warning: $run still has mounted file systems; left in place"
    elif [[ "${WEYLFEM_KEEP_STACK:-0}" == 1 ]]; then
        say "kept $run"
    else
        rm -rf "$run"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bind() { # bind SOURCE MOUNTPOINT-INSIDE-RUN [--rbind]
    mkdir -p "$run$2"
    mount "${3:---bind}" "$1" "$run$2"
    mount --make-rslave "$run$2"
    mounts+=("$run$2")
}

say "copying $base to $run"
cp -a "$base" "$run"
mkdir -p "$cache/apt-archives/partial" "$cache/pip"
mount -t proc proc "$run/proc"
mounts+=("$run/proc")
bind /sys /sys --rbind
bind /dev /dev --rbind
bind "$cache/apt-archives" /var/cache/apt/archives
bind "$cache/pip" /root/.cache/pip

git clone --quiet --no-hardlinks "$checkout" "$run/work/weylfem"
say "checkout $(git -C "$run/work/weylfem" log -1 --format='%h %s' | cut -c1-72)"

# A new machine's environment: nothing of the host's venv, conda or MPI settings leaks in.
say "make ${targets[*]} in $run/work/weylfem"
status=0
chroot "$run" /usr/bin/env -i \
    HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CI="${CI:-}" \
    bash -c 'cd /work/weylfem && exec make "$@"' make "${targets[@]}" || status=$?
say "make ${targets[*]}: exit $status"
exit "$status"
