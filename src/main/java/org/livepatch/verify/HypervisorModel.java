package org.livepatch.verify;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Bytes;
import org.livepatch.payload.FuncLayout;
import org.livepatch.xen.RuntimeSymbolTable;
import org.livepatch.xen.XenSymbolTable;

/**
 * The state of a running Xen (4.17.5 unless its {@link HypervisorRules} say otherwise) that matters to live patching, simulated: the hypervisor's
 * symbols and image, the payloads uploaded so far (payload_list), the applied stack
 * (applied_list) and the bytes apply has written into old functions.
 *
 * <p>Uploads go through {@link PayloadLoader}; actions follow xen/common/livepatch.c:
 * livepatch_action and build_id_dep. With no hypervisor ({@code xen == null}) the model runs
 * offline: symbols stay unresolved and checks that need the hypervisor are skipped, which is what
 * {@code info} needs.
 */
final class HypervisorModel {
    /** x86 XEN_VIRT_START in Xen 4.17 (xen/arch/x86/include/asm/config.h); XEN_VIRT_END is 1 GiB above. */
    static final long XEN_VIRT_START = 0xffff82d040000000L;
    static final long XEN_VIRT_SIZE = 1L << 30;

    private final XenSymbolTable xen;
    private final HypervisorRules rules;
    private final Bytes xenBuildId;
    private final List<LoadedPayload> loaded = new ArrayList<>();
    private final List<LoadedPayload> applied = new ArrayList<>();
    private final Map<LoadedPayload, Boolean> reverted = new HashMap<>();
    private final Map<Long, Byte> patchedBytes = new HashMap<>();
    private final Map<LoadedPayload, Map<Long, Byte>> savedBytes = new HashMap<>();
    private long nextBase;
    private final FuncLayout funcLayout;
    private final Set<String> lowerPayloadSymbols;
    private final long lowerPayloadAddress;
    private final boolean placementKnown;
    private final CpuFeatureWords cpuFeatures;

    HypervisorModel(XenSymbolTable xen, HypervisorRules rules, long firstBase) {
        this(xen, rules, firstBase, FuncLayout.V2, Set.of(), true);
    }

    /**
     * @param funcLayout          the {@code struct livepatch_func} this hypervisor reads (V1 before Xen 4.14)
     * @param lowerPayloadSymbols names defined by payloads loaded before the ones checked here but
     *                            not modelled (the assembler knows only their names): Xen resolves
     *                            undefined symbols and function names against them too
     *                            (xen/common/livepatch.c: livepatch_symbols_lookup_by_name)
     * @param placementKnown      whether {@code firstBase} is where the hypervisor will put the
     *                            payload; when it is not (before the payload is written, the host
     *                            is not known), what depends on the place is not checked: PC32
     *                            overflow and the distance from new to old code
     */
    HypervisorModel(XenSymbolTable xen, HypervisorRules rules, long firstBase, FuncLayout funcLayout, Set<String> lowerPayloadSymbols,
                    boolean placementKnown) {
        this.placementKnown = placementKnown;
        this.xen = xen;
        this.rules = rules;
        this.funcLayout = funcLayout;
        this.lowerPayloadSymbols = Set.copyOf(lowerPayloadSymbols);
        // Those payloads sit in the vmap area below this one; where exactly is unknown, so their
        // symbols resolve to the area's start, which keeps every relocation to them in range.
        this.lowerPayloadAddress = firstBase;
        // LoadCheck.readHypervisor refuses an image without one: Xen itself cannot live patch then.
        this.xenBuildId = xen == null ? null : xen.buildId().orElseThrow(
                () -> new IllegalArgumentException(xen.path() + ": no GNU build-id note"));
        this.nextBase = firstBase;
        this.cpuFeatures = CpuFeatureWords.of(xen, rules);
    }

    /**
     * Where the first payload lands: Xen 4.17 vmallocs payloads from the VMAP_XEN area that starts at
     * {@code __2M_rwdata_end} (xen/arch/x86/livepatch.c: arch_livepatch_init); the area's own
     * allocation bitmap fills its first pages and vm_alloc (xen/common/vmap.c) leaves one guard
     * page before each allocation. Other allocations at boot could move this; {@code --base} overrides.
     */
    static long defaultBase(XenSymbolTable xen) {
        long vmapStart = xen == null ? 0 : xen.runtime().lookup("__2M_rwdata_end");
        long start = vmapStart == 0 ? XEN_VIRT_START + (6L << 20) : PayloadLayout.pageAlign(vmapStart);
        long pages = Math.max(0, (XEN_VIRT_START + XEN_VIRT_SIZE - start) / PayloadLayout.PAGE_SIZE);
        long bitmapPages = (pages / 8 + PayloadLayout.PAGE_SIZE - 1) / PayloadLayout.PAGE_SIZE;
        return start + (bitmapPages + 1) * PayloadLayout.PAGE_SIZE;
    }

    /** What this hypervisor's release accepts. */
    HypervisorRules rules() {
        return rules;
    }

    /** NCAPINTS of this hypervisor, which bounds the CPU feature an alternative may name. */
    CpuFeatureWords cpuFeatures() {
        return cpuFeatures;
    }

    boolean offline() {
        return xen == null;
    }

    /** The hypervisor's run-time symbol table; null offline. */
    RuntimeSymbolTable xenSymbols() {
        return xen == null ? null : xen.runtime();
    }

    /** The hypervisor's build-id; null offline. */
    Bytes xenBuildId() {
        return xenBuildId;
    }

    List<LoadedPayload> loaded() {
        return List.copyOf(loaded);
    }

    List<LoadedPayload> applied() {
        return List.copyOf(applied);
    }

    long nextBase() {
        return nextBase;
    }

    /** A name resolved the way the loader does: the hypervisor's table first, then new symbols of every loaded payload. */
    record Resolution(long value, String source) {
        /** Resolved to a payload below that is known by its symbols' names only: nothing at the address can be read. */
        boolean unmodelled() {
            return LOWER_PAYLOADS.equals(source);
        }
    }

    /** The {@link Resolution#source()} of a name defined by a payload below that is not modelled. */
    static final String LOWER_PAYLOADS = "a payload below";

    /** Whether payloads are placed where the hypervisor will put them (else displacements are not checked). */
    /**
     * The payload is one this tool is about to write (assembly, prelink: where Xen will place it is
     * not known yet). Anything whose outcome Xen leaves to chance is then refused, not warned about.
     */
    boolean beforeWriting() {
        return !placementKnown;
    }

    boolean placementKnown() {
        return placementKnown;
    }

    /** The {@code struct livepatch_func} layout this hypervisor reads. */
    FuncLayout funcLayout() {
        return funcLayout;
    }

    Resolution lookup(String name) {
        if (xen != null) {
            long v = xen.runtime().lookup(name);
            if (v != 0) {
                return new Resolution(v, "xen-syms");
            }
        }
        for (LoadedPayload p : loaded) {
            long v = p.newSymbol(name);
            if (v != 0) {
                return new Resolution(v, p.name());
            }
        }
        if (lowerPayloadSymbols.contains(name)) {
            return new Resolution(lowerPayloadAddress, LOWER_PAYLOADS);
        }
        return new Resolution(0, null);
    }

    /**
     * The bytes from {@code addr} to the end of the hypervisor function that starts there (its
     * symbol's extent in xen-syms); -1 when no function of xen-syms starts at {@code addr}.
     */
    long functionRoom(long addr) {
        if (xen == null) {
            return -1;
        }
        return xen.symbols().stream().filter(x -> x.address() == addr && x.isFunction()).findFirst().map(xen::extentOf).orElse(-1L);
    }

    /** Live memory at {@code addr}: the hypervisor image or a loaded payload, with applied patches on top; null if unmapped. */
    byte[] read(long addr, int len) {
        byte[] b = null;
        if (xen != null) {
            b = xen.bytesAt(addr, len).map(Bytes::toArray).orElse(null);
        }
        for (int i = 0; b == null && i < loaded.size(); i++) {
            b = loaded.get(i).memory().read(addr, len);
        }
        if (b != null) {
            for (int i = 0; i < len; i++) {
                Byte p = patchedBytes.get(addr + i);
                if (p != null) {
                    b[i] = p;
                }
            }
        }
        return b;
    }

    LoadedPayload find(String name) {
        for (LoadedPayload p : loaded) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** XEN_SYSCTL_LIVEPATCH_UPLOAD. */
    LoadedPayload upload(String name, byte[] data) throws PayloadRejectedException {
        LoadedPayload p = PayloadLoader.load(this, name, data, nextBase);
        loaded.add(p);
        // vm_alloc leaves a guard page between allocations.
        nextBase = p.layout().end() + PayloadLayout.PAGE_SIZE;
        return p;
    }

    private PayloadRejectedException reject(LoadedPayload p, RejectReason r, String detail) {
        return new PayloadRejectedException(new Rejection(p.name(), r, detail, rules));
    }

    /** The build-id APPLY checks depends against: the last applied payload's, or the hypervisor's (livepatch.c: build_id_dep). */
    private String expectedDependency(LoadedPayload p, boolean againstXen) throws PayloadRejectedException {
        byte[] want;
        String against;
        if (againstXen || applied.isEmpty()) {
            if (xen == null) {
                return null;
            }
            want = xenBuildId.toArray();
            against = "hypervisor";
        } else {
            LoadedPayload top = applied.get(applied.size() - 1);
            want = top.buildId().toArray();
            against = top.name();
        }
        if (!java.util.Arrays.equals(want, p.depends().toArray())) {
            throw reject(p, RejectReason.DEPENDS_MISMATCH, "check against " + against + " build-id failed: .livepatch.depends is "
                    + p.depends().toHex() + ", " + against + " has " + HexFormat.of().formatHex(want));
        }
        return against;
    }

    /** LIVEPATCH_ACTION_APPLY ({@code nodeps} = LIVEPATCH_ACTION_APPLY_NODEPS). Hooks cannot be run, so their verdicts are not modelled. */
    void apply(LoadedPayload p, boolean nodeps) throws PayloadRejectedException {
        if (applied.contains(p)) {
            return; // Xen: wrong state is a no-op.
        }
        if (reverted.containsKey(p) && !p.safeToReapply()) {
            throw reject(p, RejectReason.REAPPLY_WITH_DATA, "can't revert as payload has .data. Please unload");
        }
        if (!nodeps) {
            expectedDependency(p, false);
        }
        checkExpectations(p);
        checkNotPatchedUnderneath(p, nodeps);
        writePatches(p);
        applied.add(p);
    }

    /** LIVEPATCH_ACTION_REPLACE: depends must be the hypervisor's; every applied payload is reverted first. */
    List<LoadedPayload> replace(LoadedPayload p) throws PayloadRejectedException {
        expectedDependency(p, true);
        if (p.hasVetoingHooks()) {
            throw reject(p, RejectReason.REPLACE_WITH_VETOING_HOOKS, "REPLACE action is not supported on livepatches with vetoing hooks (" + p.name() + " has pre/post apply/revert hooks)");
        }
        for (LoadedPayload a : applied) {
            if (a.hasVetoingHooks()) {
                throw reject(p, RejectReason.REPLACE_WITH_VETOING_HOOKS, "REPLACE action is not supported on livepatches with vetoing hooks (applied " + a.name() + " has pre/post apply/revert hooks)");
            }
        }
        List<LoadedPayload> revertedNow = new ArrayList<>();
        for (int i = applied.size() - 1; i >= 0; i--) {
            LoadedPayload a = applied.remove(i);
            restore(a);
            reverted.put(a, true);
            revertedNow.add(a);
        }
        checkExpectations(p);
        writePatches(p);
        applied.add(p);
        return revertedNow;
    }

    /**
     * Two payloads patching one function are only safe stacked, each built on the one below (the
     * newer jump then saves and restores the older one). Applied with --nodeps on top of a payload
     * that patches the same function, the new code was built for the original function.
     */
    private void checkNotPatchedUnderneath(LoadedPayload p, boolean nodeps) throws PayloadRejectedException {
        if (!nodeps || applied.isEmpty()) {
            return;
        }
        LoadedPayload top = applied.get(applied.size() - 1);
        if (top.buildId().equals(p.depends())) {
            return;
        }
        for (PatchFunction f : p.funcs()) {
            for (LoadedPayload a : applied) {
                for (PatchFunction g : a.funcs()) {
                    if (f.oldAddr() == g.oldAddr()) {
                        throw reject(p, RejectReason.PATCHED_TWICE, "function " + f.name() + " at 0x" + Long.toHexString(f.oldAddr())
                                + " is already patched by applied payload " + a.name() + ", which " + p.name() + " does not depend on");
                    }
                }
            }
        }
    }

    // xen/common/livepatch.c: livepatch_check_expectations, livepatch_verify_expectation_fn
    private void checkExpectations(LoadedPayload p) throws PayloadRejectedException {
        checkExpectations(p, true);
    }

    /**
     * @param againstMemory also compare each expectation with the bytes it expects; without, only
     *                      what the payload alone decides (reserved bits, length), which is what
     *                      the assembler can check before the functions below it are known
     */
    void checkExpectations(LoadedPayload p, boolean againstMemory) throws PayloadRejectedException {
        for (PatchFunction f : p.funcs()) {
            byte[] want = f.expectation();
            if (want == null) {
                continue;
            }
            String what = "expectations of " + (f.name() == null ? "unknown" : f.name()) + " failed";
            if (f.oldAddr() == 0) {
                throw reject(p, RejectReason.EXPECTATION_WITHOUT_ADDRESS, what + ": there is nothing to expect (old_addr is 0)");
            }
            if (f.expectReserved() != 0) {
                throw reject(p, RejectReason.EXPECTATION_RESERVED_BITS, what + ": reserved bits of the expectation are " + f.expectReserved() + ", must be 0");
            }
            if (f.oldSize() < want.length) {
                throw reject(p, RejectReason.EXPECTATION_LONGER_THAN_OLD, what + ": expects " + want.length + " bytes of a " + f.oldSize() + "-byte function");
            }
            if (xen == null || !againstMemory || LOWER_PAYLOADS.equals(f.oldAddrSource())) {
                continue;
            }
            byte[] have = read(f.oldAddr(), want.length);
            if (have == null) {
                throw reject(p, RejectReason.OLD_ADDRESS_UNMAPPED, what + ": old_addr 0x" + Long.toHexString(f.oldAddr()) + " is not in xen-syms or a loaded payload");
            }
            if (!java.util.Arrays.equals(have, want)) {
                throw reject(p, RejectReason.EXPECTATION_FAILED, f.name() + ": expectation failed: expected:" + HexFormat.of().formatHex(want)
                        + ", actual:" + HexFormat.of().formatHex(have));
            }
        }
    }

    // xen/arch/x86/livepatch.c: arch_livepatch_apply — remember what is overwritten, write the jump or NOPs.
    private void writePatches(LoadedPayload p) {
        Map<Long, Byte> saved = new HashMap<>();
        for (PatchFunction f : p.funcs()) {
            if (f.oldAddr() == 0) {
                continue;
            }
            byte[] bytes = f.patchBytes();
            long at = f.oldAddr() + f.patchOffset();
            for (int i = 0; i < bytes.length; i++) {
                if (!saved.containsKey(at + i)) {
                    saved.put(at + i, patchedBytes.get(at + i));
                }
                patchedBytes.put(at + i, bytes[i]);
            }
        }
        savedBytes.put(p, saved);
    }

    private void restore(LoadedPayload p) {
        Map<Long, Byte> saved = savedBytes.remove(p);
        if (saved == null) {
            return;
        }
        for (Map.Entry<Long, Byte> e : saved.entrySet()) {
            if (e.getValue() == null) {
                patchedBytes.remove(e.getKey());
            } else {
                patchedBytes.put(e.getKey(), e.getValue());
            }
        }
    }
}
