package org.livepatch.diff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;

/**
 * The target hypervisor's symbol table ({@code xen-syms}): where each function lives and how big
 * it is, looked up the way the hypervisor and prelink name things.
 *
 * <p>Globals by name. Locals by (STT_FILE, name): a local belongs to the run of symbols after an
 * STT_FILE up to the next one, the same rule Xen's own symbol table uses to build
 * {@code file#name}; a name found twice in one run is ambiguous and never guessed.
 */
public final class XenSymbols {
    /** A defined symbol of the hypervisor. */
    public record Found(String name, long address, long size, int sectionIndex) {}

    private final ElfFile elf;
    private final Map<String, Found> globals = new HashMap<>();
    private final Map<String, List<Found>> locals = new HashMap<>();
    private final Map<Integer, TreeMap<Long, Long>> startsBySection = new HashMap<>();

    public XenSymbols(ElfFile elf) {
        this.elf = elf;
        String file = null;
        for (Symbol s : elf.symbols()) {
            if (s.isFile()) {
                file = s.name();
                continue;
            }
            if (s.index() == 0 || s.isUndefined() || s.name().isEmpty() || s.isSectionSymbol()) {
                continue;
            }
            Found f = new Found(s.name(), s.value(), s.size(), s.shndx());
            if (s.isLocal()) {
                locals.computeIfAbsent(file + "#" + s.name(), k -> new ArrayList<>()).add(f);
            } else {
                // Weak definitions count too: the hypervisor's symbol table resolves them by name
                // (upstream accepts only STB_GLOBAL and so cannot patch a weak function).
                if (!globals.containsKey(s.name()) || s.isGlobal()) {
                    globals.put(s.name(), f);
                }
            }
            if (s.hasSection()) {
                startsBySection.computeIfAbsent(s.shndx(), k -> new TreeMap<>()).merge(s.value(), s.size(), Math::max);
            }
        }
    }

    public ElfFile elf() {
        return elf;
    }

    /** A global (or weak) symbol by name, or null. */
    public Found global(String name) {
        return globals.get(name);
    }

    /** Every local of that name in that file's run (empty when none, two or more when ambiguous). */
    public List<Found> locals(String file, String name) {
        return locals.getOrDefault(file + "#" + name, List.of());
    }

    /** Bytes from the hypervisor image at {@code address}, or null when no section holds them. */
    public Bytes bytesAt(long address, int n) {
        for (Section s : elf.sections()) {
            if (s.isAlloc() && !s.isNoBits() && address >= s.addr() && address + n <= s.addr() + s.size()) {
                return s.data().slice((int) (address - s.addr()), n);
            }
        }
        return null;
    }

    /** Bytes from {@code f}'s start to the next symbol that starts after it in the same section. */
    public long roomAt(Found f) {
        TreeMap<Long, Long> m = startsBySection.get(f.sectionIndex());
        if (m == null) {
            return f.size();
        }
        Long next = m.higherKey(f.address());
        if (next == null) {
            Section s = elf.section(f.sectionIndex());
            return s.addr() + s.size() - f.address();
        }
        return next - f.address();
    }

    /**
     * The livepatch_func layout the hypervisor expects, from its version: Xen 4.14 introduced
     * payload version 2 (104-byte entries); older ones use version 1 (64 bytes). The version is
     * read from the code of {@code xen_major_version()} and {@code xen_minor_version()}
     * (xen/common/version.c), which just return a constant: {@code mov $imm32,%eax}, after an
     * optional ENDBR64. Null when that pattern is not found.
     */
    public FuncLayout detectLayout() {
        Integer major = returnedConstant("xen_major_version");
        Integer minor = returnedConstant("xen_minor_version");
        if (major == null || minor == null) {
            return null;
        }
        return major > 4 || (major == 4 && minor >= 14) ? FuncLayout.V2 : FuncLayout.V1;
    }

    /** "4.17", when {@link #detectLayout} could read it. */
    public String version() {
        Integer major = returnedConstant("xen_major_version");
        Integer minor = returnedConstant("xen_minor_version");
        return major == null || minor == null ? null : major + "." + minor;
    }

    private Integer returnedConstant(String function) {
        Found f = global(function);
        if (f == null) {
            return null;
        }
        Bytes b = bytesAt(f.address(), 9);
        if (b == null) {
            return null;
        }
        int p = X86Code.startsWithEndbr(b) ? 4 : 0;
        if (b.u8(p) != 0xb8) {
            return null;
        }
        return b.s32(p + 1);
    }
}
