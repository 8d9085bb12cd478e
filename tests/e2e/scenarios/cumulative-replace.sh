# e2e scenario (issue 18): two consecutive cumulative payloads of the stable-4.17 series, built by
# ./livepatch-build --batch --cumulative against the booted hypervisor. Payload k is applied,
# then payload k+1 replaces it (xen-livepatch replace: k is reverted and k+1 applied in one
# step), its fix is seen to work, then it is reverted and both are unloaded. Runs in dom0 with
# tests/e2e/dom0/lib.sh; the driver is tests/e2e/test-cumulative-replace, which writes
# series.plan: "NAME FUNCTION..." for k, then for k+1 (the functions each must patch).

xen_id=$(cat xen-syms.build-id)
expect_xl_info build_id "$xen_id"
orig=$(xen_extra)
expect_contains "Nothing to list" xen-livepatch list
chmod +x xen-hypercall

# patched_functions NAME: the functions the live hypervisor says NAME patches ('x' debug key:
# "  name=NAME state=..." then one "    FUNCTION patch OLD(SIZE) with NEW (SIZE)" line each).
patched_functions() {
    xen_dmesg >/dev/null
    xl debug-keys x
    { set +x; } 2>/dev/null
    d=$(xen_dmesg)
    printf '%s\n' "$d" | grep -e "name=" -e " patch " || true
    printf '%s\n' "$d" | grep -q "name=$1 state=APPLIED" || e2e_fail "'x' debug key does not show $1 APPLIED"
    # Only NAME's block: the replaced payload is still loaded (CHECKED) and listed with its own
    # functions. The dump may appear more than once: each function once.
    got=$(printf '%s\n' "$d" | sed -n "/name=$1 state=/,/name=/p" \
        | sed -n 's/.*[[:space:]]\([^[:space:]]\{1,\}\) patch [0-9a-fx]\{1,\}(.*/\1/p' | sort -u | tr '\n' ' ')
    set -x
}

# dm_op(domid 0, nr_bufs 0, NULL), the call XSA-506 (0052) fixes: the fixed code returns -ENODATA
# (61) first; the original copies zero buffers and stops at "not a remote domain", -EPERM (1).
dm_op_gives() {
    expect_ok ./xen-hypercall 41 0 0 0
    [ "$E2E_OUT" = "rc=$1" ] || e2e_fail "dm_op gave '$E2E_OUT', expected rc=$1 ($2)"
}

line=$(sed -n 1p series.plan); k=${line%% *}; funcs_k=${line#* }
line=$(sed -n 2p series.plan); k1=${line%% *}; funcs_k1=${line#* }
want_k=$(for f in $funcs_k; do echo "$f"; done | sort | tr '\n' ' ')
want_k1=$(for f in $funcs_k1; do echo "$f"; done | sort | tr '\n' ' ')

e2e_note "payload k = $k: $funcs_k"
dm_op_gives -1 "base"
expect_contains completed xen-livepatch load "$k.livepatch"
expect_state "$k" APPLIED
patched_functions "$k"
[ "$got" = "$want_k" ] || e2e_fail "$k patches '$got', expected '$want_k'"
dm_op_gives -1 "k does not hold 0052 yet"

e2e_note "payload k+1 = $k1 replaces it: $funcs_k1"
expect_contains completed xen-livepatch upload "$k1" "$k1.livepatch"
expect_state "$k1" CHECKED
expect_contains completed xen-livepatch replace "$k1"
expect_state "$k1" APPLIED
expect_state "$k" CHECKED
patched_functions "$k1"
[ "$got" = "$want_k1" ] || e2e_fail "$k1 patches '$got', expected '$want_k1'"
dm_op_gives -61 "k+1 holds 0052"
expect_ok xl debug-keys r
expect_xl_info build_id "$xen_id"
expect_extra "$orig"

e2e_note "revert k+1: back to the base"
expect_contains completed xen-livepatch revert "$k1"
expect_state "$k1" CHECKED
dm_op_gives -1 "reverted"
expect_contains completed xen-livepatch unload "$k1"
expect_contains completed xen-livepatch unload "$k"
expect_contains "Nothing to list" xen-livepatch list
expect_xl_info build_id "$xen_id"
e2e_note "cumulative-replace: $k applied, replaced by $k1, reverted, both unloaded"
