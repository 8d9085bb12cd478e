# e2e scenario (issue 15): payloads of real fixes from Xen's stable-4.17 branch, built by
# ./livepatch-build against the booted hypervisor, are applied one after the other and behave.
# Runs in dom0 with tests/e2e/dom0/lib.sh; the driver is tests/e2e/test-real-fixes, which builds
# the payloads and writes fixes.plan: one line per payload, "NAME FUNCTION...", the functions
# the payload must patch (the names Xen resolved them by).

xen_id=$(cat xen-syms.build-id)
expect_xl_info build_id "$xen_id"
orig=$(xen_extra)
expect_contains "Nothing to list" xen-livepatch list

# patched_functions NAME: sets $got to the functions the live hypervisor says payload NAME
# patches, sorted, from its own dump ('x' debug key: "    NAME patch OLD(SIZE) with NEW (SIZE)").
patched_functions() {
    xen_dmesg >/dev/null
    xl debug-keys x
    { set +x; } 2>/dev/null
    d=$(xen_dmesg)
    printf '%s\n' "$d" | grep -e "name=" -e " patch " || true
    printf '%s\n' "$d" | grep -q "name=$1 state=APPLIED" || e2e_fail "'x' debug key does not show $1 APPLIED"
    got=$(printf '%s\n' "$d" | sed -n 's/.*[[:space:]]\([^[:space:]]\{1,\}\) patch [0-9a-fx]\{1,\}(.*/\1/p' | sort | tr '\n' ' ')
    set -x
}

# exercise: hypercalls and scheduling while a payload is applied. Both vCPUs of dom0 spin (not
# traced: the serial line is slow) and sleep, so both physical CPUs switch between dom0 and idle
# many times; then hypercalls (sysctl, console, debug keys) and the build-id.
exercise() {
    { set +x; } 2>/dev/null
    for cpu in 1 2; do
        (for round in 1 2; do i=0; while [ $i -lt 5000 ]; do i=$((i + 1)); done; sleep 1; done) &
    done
    wait
    set -x
    expect_ok xl debug-keys r
    expect_xl_info build_id "$xen_id"
    expect_ok xl dmesg -c
}

# probe NAME original|fixed: where a fix's code is reachable from a guest-less dom0, call it and
# check the result is the original's or the fixed one's.
probe() {
    case "$1" in
    xsa506)
        # dm_op(domid 0, nr_bufs 0, NULL): the fix returns -ENODATA (61) first; the original
        # copies zero buffers and stops at dm_op's "not a remote domain" check, -EPERM (1).
        if [ "$2" = fixed ]; then want=-61; else want=-1; fi
        expect_ok ./xen-hypercall 41 0 0 0
        [ "$E2E_OUT" = "rc=$want" ] || e2e_fail "$1 $2: dm_op gave '$E2E_OUT', expected rc=$want" ;;
    esac
}

chmod +x xen-hypercall
n=0
exec 3< fixes.plan
while read -r name funcs <&3; do
    n=$((n + 1))
    e2e_note "fix $n: $name, expected to patch: $funcs"
    probe "$name" original
    if [ "$n" = 1 ]; then
        # the first one the way an operator would: load = upload + apply
        expect_contains completed xen-livepatch load "$name.livepatch"
    else
        expect_contains completed xen-livepatch upload "$name" "$name.livepatch"
        expect_state "$name" CHECKED
        expect_contains completed xen-livepatch apply "$name"
    fi
    expect_state "$name" APPLIED
    want=$(for f in $funcs; do echo "$f"; done | sort | tr '\n' ' ')
    patched_functions "$name"
    echo "patched by $name: $got"
    [ "$got" = "$want" ] || e2e_fail "$name patches '$got', expected '$want'"
    exercise
    probe "$name" fixed
    expect_extra "$orig"
    expect_contains completed xen-livepatch revert "$name"
    expect_state "$name" CHECKED
    exercise
    probe "$name" original
    expect_contains completed xen-livepatch unload "$name"
    expect_state "$name" absent
done
exec 3<&-
[ "$n" -ge 3 ] || e2e_fail "only $n fixes in fixes.plan"

expect_contains "Nothing to list" xen-livepatch list
expect_xl_info build_id "$xen_id"
expect_extra "$orig"
e2e_note "real-fixes: $n fixes applied, exercised, reverted and unloaded"
