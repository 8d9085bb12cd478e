# e2e scenario (issue 7): payloads built by ./livepatch-build from the patches in
# xen-src-fixtures/patches/xen-4.17/, against the booted hypervisor's build-id, behave as the
# seed's transcript shows. Runs in dom0 with tests/e2e/dom0/lib.sh; the driver is
# tests/e2e/test-our-payloads, which builds the payloads first.

expect_xl_info build_id "$(cat xen-syms.build-id)"
orig=$(xen_extra)
[ -n "$orig" ] || e2e_fail "xl info shows no xen_extra"
expect_contains "Nothing to list" xen-livepatch list

# --- a payload whose --depends names another build-id is refused by Xen ------------------
expect_fail_contains "Error 22" xen-livepatch load bad-depends.livepatch
expect_dmesg "bad-depends: check against hypervisor build-id failed"
expect_state bad-depends absent
expect_extra "$orig"

# --- hello, then bye built with --depends on hello's build-id ------------------------------
expect_contains completed xen-livepatch load hello.livepatch
expect_state hello APPLIED
expect_extra "Hello World"

expect_contains completed xen-livepatch load bye.livepatch
expect_state hello APPLIED bye APPLIED
expect_extra "Bye World"

# --- replace, built against the hypervisor: only it is applied ------------------------------
expect_contains completed xen-livepatch upload replace replace.livepatch
expect_state replace CHECKED
expect_contains completed xen-livepatch replace replace
expect_state hello CHECKED bye CHECKED replace APPLIED
expect_extra "Replaced"

# --- revert and unload everything: the original extra version is back -----------------------
expect_contains completed xen-livepatch revert replace
expect_state replace CHECKED
expect_extra "$orig"
expect_contains completed xen-livepatch unload replace
expect_contains completed xen-livepatch unload bye
expect_contains completed xen-livepatch unload hello
expect_contains "Nothing to list" xen-livepatch list
expect_extra "$orig"

# --- a hypercall handler with exception-table entries, compiled twice (native + compat) ------
# XENVER_extraversion is what `xl info` asks, so the patched handler shows directly.
expect_contains completed xen-livepatch load kernel-extraversion.livepatch
expect_state kernel-extraversion APPLIED
expect_extra "Patched Kernel"
expect_contains completed xen-livepatch revert kernel-extraversion
expect_extra "$orig"
expect_contains completed xen-livepatch unload kernel-extraversion
expect_contains "Nothing to list" xen-livepatch list

# --- bug frames: the payload's own WARN_ON fires from the patched keyhandler ----------------
# Xen finds the frame through the payload's virtual region; a wrong frame would be a fatal trap.
expect_contains completed xen-livepatch load bug-frame.livepatch
xen_dmesg >/dev/null
xl debug-keys h
d=$(xen_dmesg)
printf '%s\n' "$d" | grep -e "livepatched handler list" -e "Xen WARN" || true
printf '%s\n' "$d" | grep -q "livepatched handler list" || e2e_fail "patched show_handlers did not run"
printf '%s\n' "$d" | grep -q "Xen WARN at .*keyhandler.c" || e2e_fail "the payload's WARN_ON bug frame did not report"
expect_contains completed xen-livepatch revert bug-frame
expect_contains completed xen-livepatch unload bug-frame

# --- hooks: a load hook carried by the payload runs ------------------------------------------
expect_contains completed xen-livepatch load hooks.livepatch
expect_dmesg "livepatch-build: load hook ran"
expect_extra "Hooked"
expect_contains completed xen-livepatch revert hooks
expect_contains completed xen-livepatch unload hooks
expect_extra "$orig"
expect_contains "Nothing to list" xen-livepatch list

e2e_note "our-payloads: all checks passed"
