# e2e scenario: Xen's own example payloads (xen/test/livepatch/*.livepatch, built by
# `make -C xen tests` against the booted hypervisor) behave as Xen intends.
# Runs in dom0 (busybox sh -e -x) with the helpers of tests/e2e/dom0/lib.sh;
# the driver is tests/e2e/test-xen-in-tree.

# --- the hypervisor that runs is the one the payloads were built against ---------------
if [ -f xen-syms.build-id ]; then
    expect_xl_info build_id "$(cat xen-syms.build-id)"
fi
orig=$(xen_extra)
[ -n "$orig" ] || e2e_fail "xl info shows no xen_extra"
expect_contains "Nothing to list" xen-livepatch list

# --- refused payloads ------------------------------------------------------------------
# bye depends on hello's build-id: with nothing applied it must depend on the
# hypervisor's, so applying it is refused (EINVAL); `load` then unloads it again.
expect_fail_contains "Error 22" xen-livepatch load xen_bye_world.livepatch
expect_dmesg "xen_bye_world: check against hypervisor build-id failed"
expect_state xen_bye_world absent
expect_extra "$orig"

# A payload without a .livepatch.xen_depends section is refused at upload.
expect_fail xen-livepatch upload xen_no_xen_buildid xen_no_xen_buildid.livepatch
expect_state xen_no_xen_buildid absent

# Expectations that do not match the running code: apply refused.
expect_fail xen-livepatch load xen_expectations_fail.livepatch
expect_dmesg "xen_expectations_fail: expectations of xen_extra_version failed"
expect_state xen_expectations_fail absent

# A pre-apply hook that fails: apply refused.
expect_fail xen-livepatch load xen_prepost_hooks_fail.livepatch
expect_state xen_prepost_hooks_fail absent
expect_extra "$orig"

# --- hello, then bye on top --------------------------------------------------------------
expect_contains completed xen-livepatch load xen_hello_world.livepatch
expect_state xen_hello_world APPLIED
expect_extra "Hello World"

expect_contains completed xen-livepatch load xen_bye_world.livepatch
expect_state xen_hello_world APPLIED xen_bye_world APPLIED
expect_extra "Bye World!"

# Only the top-most payload may be reverted.
expect_fail xen-livepatch revert xen_hello_world
expect_dmesg "xen_hello_world: can't unload. Top is xen_bye_world"
expect_state xen_hello_world APPLIED xen_bye_world APPLIED

# --- replace: it alone is applied, the others are reverted -------------------------------
expect_ok xen-livepatch upload xen_replace_world xen_replace_world.livepatch
expect_state xen_replace_world CHECKED
expect_contains completed xen-livepatch replace xen_replace_world
expect_state xen_replace_world APPLIED xen_hello_world CHECKED xen_bye_world CHECKED
# 4.17's tools read the extra version through XENVER_extraversion, a 16-byte field, so they
# show 16 bytes of "Hello Again World!"; 4.20's and 4.22's ask XENVER_extraversion2, which has
# no such limit. Which tools this dom0 has is what decides.
case "$(ls -d /usr/lib/xen-*/bin)" in
    /usr/lib/xen-4.17/bin) expect_extra "Hello Again Wor" ;;
    *) expect_extra "Hello Again World!" ;;
esac

# --- revert and unload everything: the original version is back --------------------------
expect_contains completed xen-livepatch revert xen_replace_world
expect_extra "$orig"
expect_contains completed xen-livepatch unload xen_replace_world
expect_contains completed xen-livepatch unload xen_bye_world
expect_contains completed xen-livepatch unload xen_hello_world
expect_contains "Nothing to list" xen-livepatch list

# --- expectations that match, action hooks ---------------------------------------------------
expect_contains completed xen-livepatch load xen_expectations.livepatch
expect_extra "Hello World"
expect_contains completed xen-livepatch revert xen_expectations
expect_contains completed xen-livepatch unload xen_expectations
expect_extra "$orig"

# Its apply/revert action hooks replace the default patching (they only mark the
# function applied), so the code is not changed; its post-revert hook BUG()s unless
# each hook ran exactly once.
expect_contains completed xen-livepatch load xen_action_hooks.livepatch
expect_state xen_action_hooks APPLIED
expect_dmesg "apply_hook: applying: xen_extra_version"
expect_extra "$orig"
expect_contains completed xen-livepatch revert xen_action_hooks
expect_dmesg "post_revert_hook: Hook done."
expect_contains completed xen-livepatch unload xen_action_hooks
expect_extra "$orig"

# Not used: xen_nop.livepatch. It NOPs all but the last byte of xen_minor_version,
# assuming the function ends in a 1-byte `ret`; with CONFIG_RETURN_THUNK=y (default in
# 4.17.5 and 4.20.4) it ends in `jmp __x86_return_thunk` (5 bytes), so applying it leaves a
# stray byte and Xen dies with a double fault the next time the function runs.

expect_contains "Nothing to list" xen-livepatch list
expect_extra "$orig"
e2e_note "xen-in-tree: all checks passed"
