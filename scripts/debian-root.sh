#!/usr/bin/env bash
# Build (or reuse) a minimal Debian root for one release, for running weylfem's own set-up and
# tests on another FEniCSx stack:   scripts/debian-root.sh RELEASE [DIR]
#
#   RELEASE   trixie (DOLFINx 0.9), sid (DOLFINx 0.11) or bookworm (DOLFINx 0.5.2)
#   DIR       where the root lives; default $WEYLFEM_STACKS/RELEASE, with WEYLFEM_STACKS
#             defaulting to /var/cache/weylfem-stacks (outside any checkout, so that clean
#             clones share it).
#
# The root is made with debootstrap (variant minbase, plus make, git and the CA
# certificates) and cached: it is reused while it is younger than a week
# (WEYLFEM_STACK_MAX_AGE_DAYS) and rebuilt from scratch after that. It gets this machine's
# /etc/hosts, /etc/resolv.conf and the CA certificates of /usr/local/share/ca-certificates,
# and an apt configuration that accepts an index past its Valid-Until date: the Debian
# mirror reachable from some networks serves a sid index whose Valid-Until has passed.
#
# Prints the root's path on standard output; everything else goes to standard error.
# Needs root (debootstrap, chroot). Fails loudly when the mirror cannot be reached.
set -euo pipefail

release="${1:?usage: debian-root.sh RELEASE [DIR]}"
stacks="${WEYLFEM_STACKS:-/var/cache/weylfem-stacks}"
target="${2:-$stacks/$release}"
max_age_days="${WEYLFEM_STACK_MAX_AGE_DAYS:-7}"
mirror="${WEYLFEM_DEBIAN_MIRROR:-$(
    # The mirror this machine's own apt uses (deb822 or one-line format), else Debian's CDN.
    grep -rhoE '(URIs:|^deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
        /etc/apt/sources.list.d 2>/dev/null | grep -oE 'https?://[^ ]+' | head -n 1 || true
)}"
mirror="${mirror:-http://deb.debian.org/debian}"
stamp="$target/.weylfem-root-stamp"

say() { echo "debian-root: $*" >&2; }

case "$release" in
    bookworm | trixie | sid) ;;
    *) say "error: RELEASE: expected bookworm, trixie or sid, got '$release'"; exit 2 ;;
esac
if [[ $(id -u) -ne 0 ]]; then
    say "error: needs root (debootstrap and chroot)"
    exit 1
fi

if [[ -f "$stamp" ]] && [[ -z "$(find "$stamp" -mtime "+$((max_age_days - 1))" 2>/dev/null)" ]]; then
    say "reusing $target (built $(cut -d' ' -f1 "$stamp"), younger than $max_age_days days)"
else
    if ! command -v debootstrap >/dev/null; then
        say "apt-get install debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2 \
            || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >&2; }
    fi
    # A root that may still have file systems bound into it is never deleted.
    if grep -qs " $target/" /proc/mounts; then
        say "error: $target has mounted file systems (a test run still going?): unmount them first"
        exit 1
    fi
    building="$target.building-$$"
    rm -rf "$building"
    mkdir -p "$(dirname "$target")"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    say "debootstrap $release from $mirror into $target (a few minutes)"
    if ! debootstrap --variant=minbase --include=ca-certificates,make,git \
        --keyring="$keyring" "$release" "$building" "$mirror" >"$building.log" 2>&1; then
        tail -n 20 "$building.log" >&2
        rm -rf "$building" "$building.log"
        say "error: debootstrap of $release from $mirror failed (is the Debian mirror reachable?)"
        exit 1
    fi
    mv "$building.log" "$building/debootstrap.log"
    # Archive indexes whose Valid-Until date has passed are still accepted.
    cat >"$building/etc/apt/apt.conf.d/99weylfem-valid-until" <<'EOF'
// weylfem test root: the reachable mirror may serve an index past its Valid-Until date.
Acquire::Check-Valid-Until "false";
EOF
    echo "deb $mirror $release main" >"$building/etc/apt/sources.list"
    rm -rf "$target"
    mv "$building" "$target"
    echo "$(date -u +%Y-%m-%dT%H:%MZ) $release $mirror" >"$stamp"
    say "built $target"
fi

# The host's network settings and CA certificates, refreshed on every use.
cp /etc/hosts /etc/resolv.conf "$target/etc/"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$target/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$target/usr/local/share/ca-certificates/"
    chroot "$target" update-ca-certificates >/dev/null 2>&1 || true
fi
say "note: apt in this root accepts an index past its Valid-Until date (Acquire::Check-Valid-Until=false)"
echo "$target"
