# Shared helpers for tests/xen/* and tests/e2e/* (sourced, not executed).
# shellcheck shell=bash
# Written for livepatch-build (Java); no third-party code.

LPB_CACHE="${LPB_CACHE:-$HOME/.cache/livepatch-build}"
export LPB_CACHE

_lpb_tag="${_lpb_tag:-lpb}"

# Progress and timings go to stderr so stdout carries only the result path.
say()  { printf '[%s] %s\n' "$_lpb_tag" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$_lpb_tag" "$*" >&2; exit 1; }

now() { date +%s.%N; }
# elapsed START -> "12.3"
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# step NAME CMD... : run CMD, then print how long it took.
step() {
    local name="$1"; shift
    local t0; t0=$(now)
    "$@"
    local rc=$?
    say "step '$name': $(elapsed "$t0") s (rc=$rc)"
    return $rc
}

_lpb_apt_updated=0
apt_update_once() {
    [ "$_lpb_apt_updated" = 1 ] && return 0
    say "apt-get update"
    apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null 2>&1 \
        || apt-get update -o DPkg::Lock::Timeout=600 >&2 \
        || die "apt-get update failed"
    _lpb_apt_updated=1
}

# pkg_installed NAME : true if the Debian package NAME is installed.
pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# ensure_pkgs PKG... : apt-get install those that are missing (idempotent, quiet).
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
    apt_update_once
    say "apt-get install ${missing[*]}"
    local log; log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=600 "${missing[@]}" >"$log" 2>&1; then
        tail -n 30 "$log" >&2; rm -f "$log"
        die "apt-get install failed: ${missing[*]}"
    fi
    rm -f "$log"
}

# lock_dir DIR : take an exclusive flock on DIR/.lock, held until this process
# exits.
lock_dir() {
    mkdir -p "$1"
    local fd
    exec {fd}>"$1/.lock"
    if ! flock -n "$fd"; then
        say "waiting for lock $1/.lock (another run in progress)"
        flock "$fd"
    fi
    _lpb_lock_fds="${_lpb_lock_fds:-} $fd"
}

# Close the lock fds in a child that must not keep them (e.g. a long-running qemu).
close_lock_fds() {
    local fd
    for fd in ${_lpb_lock_fds:-}; do eval "exec $fd>&-"; done
}
