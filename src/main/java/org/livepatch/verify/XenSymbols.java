package org.livepatch.verify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * The running hypervisor as the loader needs it: its build-id, its run-time symbol table, and
 * the bytes of its image (for the ENDBR64 probe and expectations).
 *
 * <p>The run-time table is what {@code symbols_lookup_by_name} (xen/common/symbols.c) searches. Xen
 * builds it from {@code nm -pa --format=sysv xen-syms} with xen/tools/symbols.c: read_symbol,
 * whose rules we follow on the symbol table directly: a FILE symbol sets the current file name;
 * undefined, absolute (except {@code __gp}) and debugging symbols (nm type N/n, i.e. symbols of
 * non-allocated sections) are left out, as are names starting with {@code $} and names containing
 * {@code _compiled.}; a local symbol is named {@code <file>#<name>} when a file name is known,
 * anything else by its plain name. A value of 0 means "not found" to Xen, so such symbols never
 * resolve.
 *
 * <p>Minimal on purpose: this is the verifier's own resolution, to be folded into
 * {@code org.livepatch.link.XenSymbolTable} later.
 */
public final class XenSymbols {
    private final Bytes buildId;
    private final Map<String, Long> byName;
    private final Set<String> ambiguous;
    private final List<Section> image;
    private final long rwdataEnd;

    private XenSymbols(Bytes buildId, Map<String, Long> byName, Set<String> ambiguous, List<Section> image, long rwdataEnd) {
        this.buildId = buildId;
        this.byName = byName;
        this.ambiguous = ambiguous;
        this.image = image;
        this.rwdataEnd = rwdataEnd;
    }

    /** Reads a {@code xen-syms}; it must have a GNU build-id note. */
    public static XenSymbols read(Path xenSyms) throws IOException {
        ElfFile elf = ElfReader.read(xenSyms);
        Bytes id = elf.buildId().orElseThrow(() -> new org.livepatch.elf.ElfFormatException(xenSyms, "notes", 0,
                "no GNU build-id note: a hypervisor without a build-id cannot take live patches"));
        return of(elf, id);
    }

    static XenSymbols of(ElfFile elf, Bytes buildId) {
        Map<String, Long> byName = new HashMap<>();
        Set<String> ambiguous = new HashSet<>();
        String file = null;
        for (Symbol s : elf.symbols()) {
            if (s.index() == 0) {
                continue;
            }
            if (s.isFile()) {
                file = s.name().isEmpty() ? null : s.name();
                continue;
            }
            if (s.isUndefined() || s.name().isEmpty() || s.name().startsWith("$") || s.name().contains("_compiled.")) {
                continue;
            }
            if (s.isAbsolute() && !s.name().equals("__gp")) {
                continue;
            }
            if (s.hasSection() && !elf.section(s.shndx()).isAlloc()) {
                continue;
            }
            String name = s.isLocal() && file != null ? file + "#" + s.name() : s.name();
            Long prev = byName.putIfAbsent(name, s.value());
            if (prev != null && prev != s.value()) {
                ambiguous.add(name);
            }
        }
        List<Section> image = new ArrayList<>();
        for (Section s : elf.sections()) {
            if (s.isAlloc() && s.type() != Elf.SHT_NOBITS && s.size() > 0) {
                image.add(s);
            }
        }
        long rwdataEnd = byName.getOrDefault("__2M_rwdata_end", 0L);
        return new XenSymbols(buildId, Collections.unmodifiableMap(byName), Collections.unmodifiableSet(ambiguous), List.copyOf(image), rwdataEnd);
    }

    /** A hypervisor known only by build-id and a few symbols, for tests and for {@code deps --xen-build-id}. */
    public static XenSymbols of(Bytes buildId, Map<String, Long> symbols) {
        return new XenSymbols(buildId, Map.copyOf(symbols), Set.of(), List.of(), 0);
    }

    /**
     * A hypervisor given by build-id, symbols and one run of image bytes at {@code imageAddr}
     * (for the ENDBR64 probe and expectations), for tests without a real xen-syms.
     */
    public static XenSymbols of(Bytes buildId, Map<String, Long> symbols, long imageAddr, byte[] image) {
        Section text = new Section(1, ".text", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, imageAddr, 0, image.length, 0, 0, 16, 0, Bytes.copyOf(image));
        return new XenSymbols(buildId, Map.copyOf(symbols), Set.of(), List.of(text), 0);
    }

    public Bytes buildId() {
        return buildId;
    }

    /** The address {@code symbols_lookup_by_name} returns, or 0 when Xen would not find the name. */
    public long lookup(String name) {
        if (name.isEmpty()) {
            return 0;
        }
        return byName.getOrDefault(name, 0L);
    }

    /**
     * True when several symbols share this run-time name. Xen's sorted binary search then returns
     * one of them arbitrarily; CONFIG_ENFORCE_UNIQUE_SYMBOLS (default with LIVEPATCH) forbids it.
     */
    public boolean isAmbiguous(String name) {
        return ambiguous.contains(name);
    }

    public int symbolCount() {
        return byName.size();
    }

    /** {@code len} bytes of the hypervisor image at {@code addr}, when they lie inside one loaded section. */
    public Optional<byte[]> read(long addr, int len) {
        for (Section s : image) {
            long off = addr - s.addr();
            if (Long.compareUnsigned(addr, s.addr()) >= 0 && Long.compareUnsigned(off, s.size()) < 0 && len <= s.size() - off) {
                return Optional.of(s.data().slice((int) off, len).toArray());
            }
        }
        return Optional.empty();
    }

    /** Where Xen 4.17's VMAP_XEN area (live-patch payloads) begins: {@code __2M_rwdata_end} (xen/arch/x86/livepatch.c: arch_livepatch_init). */
    public long vmapStart() {
        return rwdataEnd;
    }
}
