package org.livepatch.verify;

import java.util.List;
import org.livepatch.elf.Bytes;

/**
 * A payload that passed every upload check: what the hypervisor would hold in its
 * {@code struct payload} (xen/common/livepatch.c) after XEN_SYSCTL_LIVEPATCH_UPLOAD.
 * Immutable to callers; the loaded image stays inside the package for the checks of payloads
 * uploaded after this one.
 */
public final class LoadedPayload {
    private final String name;
    private final long fileSize;
    private final PayloadLayout layout;
    private final List<ResolvedRelocation> relocations;
    private final List<PatchFunction> funcs;
    private final List<PayloadHook> hooks;
    private final Bytes buildId;
    private final Bytes depends;
    private final Bytes xenDepends;
    private final List<PayloadSymbol> symbols;
    private final List<String> metadata;
    private final boolean safeToReapply;
    private final List<String> warnings;
    private final PayloadMemory memory;

    LoadedPayload(String name, long fileSize, PayloadLayout layout, List<ResolvedRelocation> relocations, List<PatchFunction> funcs,
                  List<PayloadHook> hooks, Bytes buildId, Bytes depends, Bytes xenDepends, List<PayloadSymbol> symbols,
                  List<String> metadata, boolean safeToReapply, List<String> warnings, PayloadMemory memory) {
        this.name = name;
        this.fileSize = fileSize;
        this.layout = layout;
        this.relocations = List.copyOf(relocations);
        this.funcs = List.copyOf(funcs);
        this.hooks = List.copyOf(hooks);
        this.buildId = buildId;
        this.depends = depends;
        this.xenDepends = xenDepends;
        this.symbols = List.copyOf(symbols);
        this.metadata = List.copyOf(metadata);
        this.safeToReapply = safeToReapply;
        this.warnings = List.copyOf(warnings);
        this.memory = memory;
    }

    /** The payload name: the file name without its last extension, as {@code xen-livepatch load} uses. */
    public String name() { return name; }
    public long fileSize() { return fileSize; }
    public PayloadLayout layout() { return layout; }
    public List<ResolvedRelocation> relocations() { return relocations; }
    public List<PatchFunction> funcs() { return funcs; }
    public List<PayloadHook> hooks() { return hooks; }
    /** The payload's own {@code .note.gnu.build-id}. */
    public Bytes buildId() { return buildId; }
    /** {@code .livepatch.depends}: the build-id this payload must be applied on top of. */
    public Bytes depends() { return depends; }
    /** {@code .livepatch.xen_depends}: the hypervisor build-id. */
    public Bytes xenDepends() { return xenDepends; }
    public List<PayloadSymbol> symbols() { return symbols; }
    /** The {@code .modinfo} strings ({@code key=value}), as {@code xen-livepatch list} shows them. */
    public List<String> metadata() { return metadata; }
    /** move_payload's safe_to_reapply: no RW data besides {@code .livepatch.funcs}. */
    public boolean safeToReapply() { return safeToReapply; }
    /** Things Xen accepts that deserve a look (never reasons for rejection). */
    public List<String> warnings() { return warnings; }

    /** True when the pre/post apply/revert hooks make REPLACE impossible (livepatch.c: has_payload_any_vetoing_hooks). */
    public boolean hasVetoingHooks() {
        for (PayloadHook h : hooks) {
            if (h.enabled() && switch (h.section()) {
                case ".livepatch.hooks.preapply", ".livepatch.hooks.postapply", ".livepatch.hooks.prerevert", ".livepatch.hooks.postrevert" -> true;
                default -> false;
            }) {
                return true;
            }
        }
        return false;
    }

    PayloadMemory memory() { return memory; }

    /** The value of a new symbol of this payload (livepatch.c: livepatch_symbols_lookup_by_name), or 0. */
    long newSymbol(String symbol) {
        for (PayloadSymbol s : symbols) {
            if (s.newSymbol() && s.name().equals(symbol)) {
                return s.value();
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        return name;
    }
}
