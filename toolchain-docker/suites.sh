# The toolchain images, one per Debian release whose compiler builds hypervisors we patch
# (sourced by common.sh and by the wrapper; no output, no side effects).
#
#   bookworm  gcc 12.2 + binutils 2.40: Debian 12's Xen 4.17, and the host's own toolchain here
#   trixie    gcc 14.2 + binutils 2.44: Debian 13's Xen 4.20
#
# A suite's files: packages.txt (what it installs, by name) and packages.lock (pinned compiler,
# floating rest), in toolchain-docker/ for bookworm (where they always were) and in
# toolchain-docker/trixie/ for trixie. The gcc a suite carries is the version its lock pins for
# its gcc-N source package; a hypervisor's xen-syms names its gcc in .comment as
# "GCC: (Debian VERSION) ...", and that VERSION picks the suite.
# shellcheck shell=bash

TD_SUITES="bookworm trixie"
TD_SUITE_DIR_OF_BOOKWORM="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# td_suite_dir SUITE: the directory with the suite's packages.txt and packages.lock.
td_suite_dir() {
    case "$1" in
        bookworm) echo "$TD_SUITE_DIR_OF_BOOKWORM" ;;
        trixie) echo "$TD_SUITE_DIR_OF_BOOKWORM/trixie" ;;
        *) return 1 ;;
    esac
}

# td_suite_gcc_source SUITE: the gcc source package whose binaries the suite pins (with binutils
# and gcc-defaults): these decide payload bytes.
td_suite_gcc_source() {
    case "$1" in
        bookworm) echo gcc-12 ;;
        trixie) echo gcc-14 ;;
        *) return 1 ;;
    esac
}

# td_suite_image SUITE: the image tag build-image gives a suite by default.
td_suite_image() { echo "livepatch-build-toolchain:$1"; }

# td_suite_gcc_version SUITE: the Debian version of the gcc the suite's lock pins (e.g. 14.2.0-19).
td_suite_gcc_version() {
    local dir src
    dir=$(td_suite_dir "$1") && src=$(td_suite_gcc_source "$1") || return 1
    awk -v n="$src" '$1 == "pin" && index($2, n "=") == 1 { print substr($2, length(n) + 2); exit }' "$dir/packages.lock" 2>/dev/null
}

# td_gcc_comment FILE: the compiler a linked Xen names in its .comment ("GCC: (Debian 14.2.0-19)
# 14.2.0"), or nothing. Read with readelf when there is one; otherwise the bytes are searched
# (the wrapper's caller need not have binutils).
td_gcc_comment() {
    local c=""
    [ -f "$1" ] || return 0
    if command -v readelf >/dev/null 2>&1; then
        c=$(LC_ALL=C readelf -p .comment "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *\(GCC: .*\)$/\1/p' | head -n 1)
    else
        c=$(LC_ALL=C grep -a -o 'GCC: ([^)]*) [0-9][0-9.]*' "$1" 2>/dev/null | head -n 1)
    fi
    printf '%s' "$c"
}

# td_suite_for_gcc COMMENT: the suite whose pinned gcc is the one COMMENT names, or nothing.
td_suite_for_gcc() {
    local s v
    for s in $TD_SUITES; do
        v=$(td_suite_gcc_version "$s") || continue
        [ -n "$v" ] || continue
        case "$1" in *"(Debian $v)"*) echo "$s"; return 0 ;; esac
    done
}
