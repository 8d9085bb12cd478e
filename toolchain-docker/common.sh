# Shared by toolchain-docker/build-image and toolchain-docker/update-pins (sourced, not executed).
# Messages go to stderr, one line each; results (an image tag) go to stdout.

: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"   # CI may run without HOME
TD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TD_ROOT="$(cd "$TD_DIR/.." && pwd)"
TD_CACHE="${LPB_CACHE:-$HOME/.cache/livepatch-build}/toolchain-docker"
TD_LOGS="$TD_CACHE/logs"
TD_MIRROR="${LPB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
TD_SECURITY_MIRROR="${LPB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# shellcheck source=suites.sh
. "$TD_DIR/suites.sh"

# td_use_suite SUITE: every script works on one toolchain suite (bookworm unless told otherwise):
# its packages.txt and packages.lock, its debootstrap base and its registry base.
td_use_suite() {
    TD_SUITE="$1"
    TD_SUITE_DIR=$(td_suite_dir "$1") || die "unknown toolchain $1 (known: $TD_SUITES)"
    TD_PACKAGES="$TD_SUITE_DIR/packages.txt"
    TD_LOCK="$TD_SUITE_DIR/packages.lock"
    TD_GCC_SOURCE=$(td_suite_gcc_source "$1")
    # The base made from Debian's packages when no registry answers.
    TD_LOCAL_BASE="livepatch-build-base:$1-minbase"
    TD_BASE_TARBALL="$TD_CACHE/base/$1-minbase.tar"
    # Log names: bookworm's as they always were, another suite's with its name.
    TD_LOG_SFX=""
    [ "$1" = bookworm ] || TD_LOG_SFX="-$1"
}
td_use_suite bookworm

td_tag="${td_tag:-toolchain-docker}"
say() { printf '[%s] %s\n' "$td_tag" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$td_tag" "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# td_ensure_cmds CMD=PACKAGE... : install (as root) the Debian packages whose command is missing.
td_ensure_cmds() {
    local pair cmd pkg missing=()
    for pair in "$@"; do
        cmd="${pair%%=*}"; pkg="${pair#*=}"
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install it (as root: apt-get install ${missing[*]})"
    mkdir -p "$TD_LOGS"
    say "apt-get install ${missing[*]} (log: $TD_LOGS/apt.log)"
    { apt-get update -q -o DPkg::Lock::Timeout=600 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
          -o DPkg::Lock::Timeout=600 "${missing[@]}"; } >"$TD_LOGS/apt.log" 2>&1 ||
        die "apt-get install ${missing[*]} failed (log: $TD_LOGS/apt.log)"
}

td_engine_answers() { timeout 20 docker version >/dev/null 2>&1; }

# td_require_engine START: fail with one line unless an engine answers; with START=1, start one
# with tests/docker/engine (left running afterwards).
td_require_engine() {
    td_engine_answers && return 0
    if [ "${1:-0}" = 1 ]; then
        [ -x "$TD_ROOT/tests/docker/engine" ] || die "--start-engine: $TD_ROOT/tests/docker/engine not found"
        "$TD_ROOT/tests/docker/engine" start || die "could not start a Docker engine"
        say "engine started and left running; stop it with: tests/docker/engine stop"
        return 0
    fi
    die "no Docker engine answers ('docker version' failed); start one (systemctl start docker, or as root: tests/docker/engine start) or pass --start-engine"
}

td_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# td_default_base: the registry base: bookworm's is named in the Dockerfile (ARG BASE_IMAGE=...,
# pinned by digest); trixie's is Debian's trixie-slim by tag (no registry answers here to read a
# digest from; only the pinned compiler decides payload bytes, and the image's labels record
# every package it got).
td_default_base() {
    case "$TD_SUITE" in
        bookworm) sed -n 's/^ARG BASE_IMAGE=//p' "$TD_DIR/Dockerfile" | head -1 ;;
        *) echo "debian:$TD_SUITE-slim" ;;
    esac
}

# td_local_base: make (or reuse) the base image from Debian's packages: debootstrap minbase
# the suite (TD_SUITE) into the cache, tar it once (cached), `docker import` it when the engine lacks it.
td_local_base() {
    local tarball="$TD_BASE_TARBALL" rootfs t0
    if td_image_exists "$TD_LOCAL_BASE"; then
        say "base $TD_LOCAL_BASE: already in the engine"
        return 0
    fi
    mkdir -p "$TD_CACHE/base" "$TD_LOGS"
    if [ ! -s "$tarball" ]; then
        [ "$(id -u)" = 0 ] || die "making the base image needs root (debootstrap); run as root or pass --base IMAGE"
        td_ensure_cmds debootstrap=debootstrap
        t0=$(now)
        rootfs="$TD_CACHE/base/rootfs$TD_LOG_SFX.tmp"
        rm -rf "$rootfs" "$tarball.tmp"
        say "debootstrap --variant=minbase $TD_SUITE (log: $TD_LOGS/debootstrap$TD_LOG_SFX.log)"
        debootstrap --variant=minbase "$TD_SUITE" "$rootfs" "$TD_MIRROR" >"$TD_LOGS/debootstrap$TD_LOG_SFX.log" 2>&1 ||
            die "debootstrap failed (log: $TD_LOGS/debootstrap$TD_LOG_SFX.log)"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" . || die "could not tar $rootfs"
        rm -rf "$rootfs"
        mv "$tarball.tmp" "$tarball"
        say "debootstrap base: $(elapsed "$t0") s, $(du -m "$tarball" | cut -f1) MiB ($tarball)"
    else
        say "base rootfs cached: $tarball"
    fi
    t0=$(now)
    docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' \
        "$tarball" "$TD_LOCAL_BASE" >"$TD_LOGS/import$TD_LOG_SFX.log" 2>&1 ||
        die "docker import failed (log: $TD_LOGS/import$TD_LOG_SFX.log)"
    say "imported $TD_LOCAL_BASE in $(elapsed "$t0") s"
}

# td_pick_base FORCE_LOCAL: print the base image to build on. The Dockerfile's registry base
# (pinned by digest) when it is present or can be pulled; otherwise the debootstrap base.
td_pick_base() {
    local ref err
    ref=$(td_default_base)
    if [ "${1:-0}" != 1 ] && [ -n "$ref" ]; then
        if td_image_exists "$ref"; then echo "$ref"; return 0; fi
        mkdir -p "$TD_LOGS"
        if timeout 120 docker pull "$ref" >"$TD_LOGS/pull.log" 2>&1; then
            say "pulled $ref"; echo "$ref"; return 0
        fi
        say "no registry answers (docker pull failed, log: $TD_LOGS/pull.log); using a base made from Debian's packages"
    fi
    td_local_base
    echo "$TD_LOCAL_BASE"
}

# td_resolve MODE BASE OUT [LOCK]: what an install on BASE brings in, resolved by apt in a throwaway
# container (toolchain-docker/resolve, configured as the image build configures apt). Writes
# "NAME=VERSION SOURCE" lines to OUT; MODE is toolchain, all or free (see resolve). LOCK defaults
# to packages.lock. Returns 0, or 3 after one line per pinned version the archive no longer
# serves (naming it and what to do), or 1 (log named).
td_resolve() {
    local mode="$1" base="$2" out="$3" lock="${4:-$TD_LOCK}" log rc=0
    mkdir -p "$TD_LOGS"
    log="$TD_LOGS/resolve$TD_LOG_SFX-$mode.log"
    # A lock that does not exist yet (update-pins writing a suite's first one; "free" mode does not
    # read it): an empty one, not a bind mount of a missing path (docker would create a directory).
    [ -f "$lock" ] || lock=/dev/null
    docker run --rm --network host \
        -v "$TD_DIR/resolve:/lpb/resolve:ro" -v "$TD_DIR/apt-setup:/lpb/apt-setup:ro" \
        -v "$(readlink -f "$lock"):/lpb/packages.lock:ro" -v "$TD_PACKAGES:/lpb/packages.txt:ro" \
        "$base" sh /lpb/resolve "$TD_MIRROR" "$TD_SECURITY_MIRROR" "$mode" /lpb/packages.lock /lpb/packages.txt "$TD_SUITE" \
        >"$out" 2>"$log" || rc=$?
    case "$rc" in
        0) grep '^also from trixie:' "$log" | sed "s/^/[$td_tag]   /" >&2 || true; return 0 ;;
        3) # One line however many are gone: a gcc-12 update replaces all of its binaries at once.
           local gone
           gone=$(sed -n 's/^GONE \([^ ]*\) (the archive serves: \(.*\))$/\1 (served: \2)/p' "$log" | paste -sd ';' | sed 's/;/, /g')
           if [ "$mode" = all ]; then
               say "ERROR: not served by $TD_MIRROR: $gone; that snapshot does not have the locked set: pick the snapshot of the lock's date (see its header)"
           else
               say "ERROR: pinned toolchain packages no longer served by Debian's mirror: $gone; payloads must be built with the compiler that built the running hypervisor; build from the archive snapshot of the lock's date (build-image --snapshot YYYYMMDDTHHMMSSZ), or, for a hypervisor rebuilt with the new compiler, run toolchain-docker/update-pins"
           fi
           return 3 ;;
        *) say "ERROR: resolving the image's packages failed (log: $log)"; return 1 ;;
    esac
}
