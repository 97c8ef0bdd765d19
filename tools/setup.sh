# tools/setup.sh: shared set-up for tools/run and tools/test (sourced, not executed).
#
# - Installs the Debian/Ubuntu packages vx86 needs, but only the missing ones (checked with
#   dpkg-query), printing what it installs; as root directly, otherwise through sudo (sudo -n
#   when there is no terminal, so CI never hangs on a password prompt).
# - Configures a meson build directory when it does not exist yet, and re-applies the options
#   when it does, so running the scripts twice is cheap and changes nothing.
# Everything is idempotent: a second run installs nothing and rebuilds only what changed.

set -euo pipefail

VX86_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VX86_PACKAGES=(g++ meson ninja-build pkg-config nasm libzydis-dev libasmjit-dev libcapstone-dev
               doctest-dev libsdl2-dev seabios zlib1g-dev binutils
               xorriso mtools grub-pc-bin grub-common)
VX86_JOBS="$(nproc 2>/dev/null || echo 2)"

vx86_log() { echo "[vx86 setup] $*"; }

vx86_missing_packages() {
    local p
    for p in "${VX86_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            echo "$p"
        fi
    done
}

vx86_ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        vx86_log "dpkg-query not found: not a Debian/Ubuntu system; install these yourself: ${VX86_PACKAGES[*]}"
        return 0
    fi
    local missing
    missing="$(vx86_missing_packages | tr '\n' ' ')"
    missing="${missing% }"
    if [ -z "$missing" ]; then
        vx86_log "all required packages are installed"
        return 0
    fi
    vx86_log "installing missing packages: $missing"
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            vx86_log "not root and sudo is not available: install these packages first: $missing" >&2
            return 1
        fi
        if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    # shellcheck disable=SC2086
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    # shellcheck disable=SC2086
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

# vx86_configure DIR [meson options...]
vx86_configure() {
    local dir="$1"
    shift
    if [ -f "$VX86_ROOT/$dir/build.ninja" ]; then
        meson configure "$VX86_ROOT/$dir" "$@" >/dev/null
    else
        vx86_log "configuring $dir"
        meson setup "$VX86_ROOT/$dir" "$VX86_ROOT" "$@"
    fi
}

# vx86_build DIR
vx86_build() {
    vx86_log "building $1 with $VX86_JOBS jobs"
    ninja -C "$VX86_ROOT/$1" -j "$VX86_JOBS"
}

# Options of the main build directory: release, warnings as errors in CI.
vx86_main_options() {
    local werror=false
    if [ "${CI:-}" = "true" ]; then werror=true; fi
    echo "--buildtype=release" "-Dwerror_ci=$werror"
}
