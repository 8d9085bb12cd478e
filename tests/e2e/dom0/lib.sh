# Helpers for e2e scenario scripts, sourced in dom0 before the script runs.
# Documented in tests/e2e/README.md. Busybox ash; no bashisms.
#
# Each helper runs its command, prints "$ command", the command's output and "[rc=N]",
# and on a failed expectation prints one line "E2E-FAIL: ..." and exits 1.
# After any helper, $E2E_OUT holds the command's output (stdout+stderr), $E2E_RC its rc.

E2E_OUT=
E2E_RC=0

# The script runs under `set -x`; helpers switch tracing off inside themselves (the
# `{ ...; } 2>/dev/null` hides the trace of that switch) and back on before returning.
_e2e_restore() { case "$1" in *x*) set -x ;; esac; }

e2e_note() { { _e2e_x=$-; set +x; } 2>/dev/null; echo "E2E-NOTE: $*"; _e2e_restore "$_e2e_x"; }

e2e_fail() { { set +x; } 2>/dev/null; echo "E2E-FAIL: $*"; exit 1; }

# e2e_run CMD... : run CMD, show it, its output and rc; never fails.
e2e_run() {
    { local _x=$-; set +x; } 2>/dev/null
    echo "\$ $*"
    E2E_OUT=$("$@" 2>&1) && E2E_RC=0 || E2E_RC=$?
    [ -n "$E2E_OUT" ] && printf '%s\n' "$E2E_OUT"
    echo "[rc=$E2E_RC]"
    _e2e_restore "$_x"
    return 0
}

# expect_ok CMD... : CMD must exit 0.
expect_ok() {
    { local _x=$-; set +x; } 2>/dev/null
    e2e_run "$@"
    [ "$E2E_RC" = 0 ] || e2e_fail "expected success, got rc=$E2E_RC: $*"
    _e2e_restore "$_x"
}

# expect_fail CMD... : CMD must exit non-zero.
expect_fail() {
    { local _x=$-; set +x; } 2>/dev/null
    e2e_run "$@"
    [ "$E2E_RC" != 0 ] || e2e_fail "expected failure, got rc=0: $*"
    _e2e_restore "$_x"
}

_e2e_has() { case "$2" in *"$1"*) return 0 ;; esac; return 1; }

# expect_contains TEXT CMD... : CMD must exit 0 and its output contain TEXT.
expect_contains() {
    { local _x=$-; set +x; } 2>/dev/null
    local text="$1"; shift
    e2e_run "$@"
    [ "$E2E_RC" = 0 ] || e2e_fail "expected success, got rc=$E2E_RC: $*"
    _e2e_has "$text" "$E2E_OUT" || e2e_fail "output of '$*' lacks '$text'"
    _e2e_restore "$_x"
}

# expect_not_contains TEXT CMD... : CMD must exit 0 and its output not contain TEXT.
expect_not_contains() {
    { local _x=$-; set +x; } 2>/dev/null
    local text="$1"; shift
    e2e_run "$@"
    [ "$E2E_RC" = 0 ] || e2e_fail "expected success, got rc=$E2E_RC: $*"
    _e2e_has "$text" "$E2E_OUT" && e2e_fail "output of '$*' contains '$text'"
    _e2e_restore "$_x"
}

# expect_fail_contains TEXT CMD... : CMD must exit non-zero and its output contain TEXT.
expect_fail_contains() {
    { local _x=$-; set +x; } 2>/dev/null
    local text="$1"; shift
    e2e_run "$@"
    [ "$E2E_RC" != 0 ] || e2e_fail "expected failure, got rc=0: $*"
    _e2e_has "$text" "$E2E_OUT" || e2e_fail "output of failing '$*' lacks '$text'"
    _e2e_restore "$_x"
}

# xl_info FIELD : print FIELD of `xl info` (e.g. xen_extra -> ".5", build_id -> hex).
xl_info() {
    { local _x=$-; set +x; } 2>/dev/null
    xl info 2>/dev/null | sed -n "s/^$1[[:space:]]*:[[:space:]]*//p" | sed 's/[[:space:]]*$//'
    _e2e_restore "$_x"
}

# xen_extra : print the xen_extra field of `xl info` (e.g. ".5" or "Hello World").
xen_extra() { { local _x=$-; set +x; } 2>/dev/null; xl_info xen_extra; _e2e_restore "$_x"; }

# expect_xl_info FIELD VALUE : `xl info` must report FIELD exactly equal to VALUE.
expect_xl_info() {
    { local _x=$-; set +x; } 2>/dev/null
    local got; got=$(xl_info "$1")
    echo "xl info: $1='$got'"
    [ "$got" = "$2" ] || e2e_fail "xl info $1 is '$got', expected '$2'"
    _e2e_restore "$_x"
}

# expect_extra TEXT : `xl info` must report xen_extra exactly equal to TEXT.
expect_extra() {
    { local _x=$-; set +x; } 2>/dev/null
    expect_xl_info xen_extra "$1"
    _e2e_restore "$_x"
}

# expect_dmesg TEXT : the hypervisor messages since the previous expect_dmesg/xen_dmesg
# (`xl dmesg -c`; /init clears the ring before the script) must contain TEXT. Shows the
# lines that mention livepatch or TEXT.
expect_dmesg() {
    { local _x=$-; set +x; } 2>/dev/null
    echo "\$ xl dmesg -c | grep -e livepatch -e '$1'"
    local d; d=$(xl dmesg -c 2>&1) || e2e_fail "xl dmesg failed: $d"
    printf '%s\n' "$d" | grep -i -e livepatch -F -e "$1" || true
    _e2e_has "$1" "$d" || e2e_fail "hypervisor log lacks '$1'"
    _e2e_restore "$_x"
}

# xen_dmesg : print and clear the hypervisor messages since the last call.
xen_dmesg() { { local _x=$-; set +x; } 2>/dev/null; xl dmesg -c 2>&1; _e2e_restore "$_x"; }

# lp_state NAME : print NAME's state in `xen-livepatch list` (APPLIED, CHECKED, ...),
# or "absent" if it is not listed.
lp_state() {
    { local _x=$-; set +x; } 2>/dev/null
    xen-livepatch list 2>/dev/null | awk -F'|' -v n="$1" '
        { name = $1; gsub(/^[ \t]+|[ \t]+$/, "", name) }
        name == n { split($2, w, " "); print w[1]; found = 1; exit }
        END { if (!found) print "absent" }'
    _e2e_restore "$_x"
}

# expect_state NAME STATE [NAME STATE ...] : each NAME must be in STATE ("absent" allowed).
expect_state() {
    { local _x=$-; set +x; } 2>/dev/null
    e2e_run xen-livepatch list
    while [ $# -ge 2 ]; do
        local got; got=$(lp_state "$1")
        [ "$got" = "$2" ] || e2e_fail "payload $1 is $got, expected $2"
        shift 2
    done
    _e2e_restore "$_x"
}
