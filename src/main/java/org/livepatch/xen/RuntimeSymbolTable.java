package org.livepatch.xen;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;

/**
 * The hypervisor's run-time symbol table: what {@code symbols_lookup_by_name} (xen/common/symbols.c)
 * searches when Xen loads a payload. Xen builds it from {@code nm -pa --format=sysv xen-syms} with
 * xen/tools/symbols.c: read_symbol, whose rules this follows on the symbol table directly: absolute
 * symbols (except {@code __gp}) and debugging symbols (nm type N/n, i.e. symbols of non-allocated
 * sections) are left out, as are names starting with {@code $} and names containing
 * {@code _compiled.}; a local is named {@code <file>#<name>} when a file name is known (see
 * {@link XenSymbol#runtimeName()}). A value of 0 means "not found" to Xen, so such symbols never
 * resolve.
 *
 * <p>Deliberately looser than {@link XenSymbolTable#resolve}, which the link stage uses: two
 * symbols with one run-time name are not an error here but a fact of the image (Xen's sorted binary
 * search then returns one of them; the first in table order is taken), and two entries with the
 * same address are one answer, not an ambiguity.
 */
public final class RuntimeSymbolTable {
    private final Map<String, Long> byName;
    private final Set<String> ambiguous;

    private RuntimeSymbolTable(Map<String, Long> byName, Set<String> ambiguous) {
        this.byName = byName;
        this.ambiguous = ambiguous;
    }

    static RuntimeSymbolTable of(XenSymbolTable xen) {
        ElfFile elf = xen.elf();
        Map<String, Long> byName = new HashMap<>();
        Set<String> ambiguous = new HashSet<>();
        for (XenSymbol x : xen.symbols()) {
            String plain = x.name();
            if (plain.startsWith("$") || plain.contains("_compiled.")) {
                continue;
            }
            if (x.shndx() == Elf.SHN_ABS && !plain.equals("__gp")) {
                continue;
            }
            if (x.shndx() != Elf.SHN_UNDEF && x.shndx() < Elf.SHN_LORESERVE && !elf.section(x.shndx()).isAlloc()) {
                continue;
            }
            String name = x.runtimeName();
            Long prev = byName.putIfAbsent(name, x.address());
            if (prev != null && prev != x.address()) {
                ambiguous.add(name);
            }
        }
        return new RuntimeSymbolTable(Map.copyOf(byName), Set.copyOf(ambiguous));
    }

    /** The address {@code symbols_lookup_by_name} returns, or 0 when Xen would not find the name. */
    public long lookup(String name) {
        return byName.getOrDefault(name, 0L);
    }

    /**
     * True when several symbols share this run-time name. Xen's sorted binary search then returns
     * one of them arbitrarily; CONFIG_ENFORCE_UNIQUE_SYMBOLS (default with LIVEPATCH) forbids it.
     */
    public boolean isAmbiguous(String name) {
        return ambiguous.contains(name);
    }
}
