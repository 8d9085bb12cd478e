package org.livepatch.link;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.xen.SymbolLookupException;
import org.livepatch.xen.XenSymbol;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * Resolves a payload's references to the hypervisor ahead of time, so that loading it needs no
 * symbol lookup: every undefined symbol becomes {@code SHN_ABS} with its {@code xen-syms} address
 * (the hypervisor uses absolute symbols as they are: {@code xen/common/livepatch_elf.c:
 * livepatch_elf_resolve_symbols}), and every {@code .livepatch.funcs} entry whose {@code old_addr}
 * is 0 gets the address of the function it names.
 *
 * <p>Names are resolved as Xen would at load time. A name {@code file#sym} (create-diff-object's
 * mangling of references to statics, Xen's own naming of them) is the local {@code sym} of that
 * file whatever the symbol's binding, because binutils turns undefined locals global when it
 * rewrites an object. An unmangled local is looked up in the file of the {@code STT_FILE} symbol
 * that precedes it, as upstream's prelink did; anything else is a global. Binding, type, size and
 * name of the symbol are left as they are.
 *
 * <p>{@code old_addr}: upstream's {@code --prelink} had create-diff-object fill it ({@code --resolve});
 * Xen skips its own lookup when it is non-zero ({@code xen/common/livepatch.c:
 * resolve_old_address}). We fill it here, from the entry's {@code name}, so a prelinked payload is
 * complete whoever made the funcs. An entry whose old_addr carries a relocation (Xen's in-tree test
 * payloads do this) is left to that relocation, which now names an absolute symbol; a name the
 * hypervisor does not know (a function of a payload loaded below) is left 0 for the load-time
 * lookup among payloads. {@code old_size} is never changed.
 */
public final class Prelinker {
    private final XenSymbolTable xen;
    private final Consumer<String> debug;

    /** What prelinking did, for logs and tests. */
    public record Result(int resolvedSymbols, int filledOldAddresses, List<String> leftForLoadTime) {
        public Result {
            leftForLoadTime = List.copyOf(leftForLoadTime);
        }
    }

    public Prelinker(XenSymbolTable xen) {
        this(xen, line -> { });
    }

    /** @param debug receives one line per resolution ({@code -d}) */
    public Prelinker(XenSymbolTable xen, Consumer<String> debug) {
        this.xen = xen;
        this.debug = debug;
    }

    /** Prelinks a payload file's model and returns the new object's bytes. */
    public byte[] prelink(ElfFile payload) throws IOException, LinkException {
        requireRelocatable(payload);
        ObjectBuilder b = ObjectBuilder.copyOf(payload).builder();
        prelink(b, payload.path().toString());
        return b.toBytes();
    }

    static void requireRelocatable(ElfFile f) throws LinkException {
        if (!f.header().isRelocatable()) {
            throw new LinkException(f.path() + ": not a relocatable object (e_type " + f.header().type() + "); payloads are ET_REL");
        }
        if (f.header().machine() != Elf.EM_X86_64) {
            throw new LinkException(f.path() + ": machine " + f.header().machine() + " is not x86_64");
        }
    }

    /**
     * Prelinks the object in {@code b} in place.
     *
     * @param source names the payload in messages
     * @throws UnresolvedSymbolsException listing every undefined symbol that does not resolve
     */
    public Result prelink(ObjectBuilder b, String source) throws LinkException {
        List<SymbolLookupException> failures = new ArrayList<>();
        String file = null;
        int resolved = 0;
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (s.type() == Elf.STT_FILE) {
                file = s.name().isEmpty() ? null : s.name();
                continue;
            }
            if (s.section() != null || s.specialIndex() != Elf.SHN_UNDEF || s.name().isEmpty()) {
                continue;
            }
            try {
                XenSymbol x = lookup(s, file);
                b.makeAbsolute(s, x.address());
                resolved++;
                debug.accept("resolved " + s.name() + " -> 0x" + Long.toHexString(x.address()) + " (" + x.runtimeName() + ")");
            } catch (SymbolLookupException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            throw new UnresolvedSymbolsException(source, xen.path().toString(), failures);
        }
        int filled = 0;
        List<String> left = new ArrayList<>();
        ObjectBuilder.SectionHandle funcs = find(b, PayloadSections.FUNCS);
        if (funcs != null && funcs.type() != Elf.SHT_NOBITS) {
            FuncLayout layout;
            try {
                layout = xen.version().funcLayout();
            } catch (XenSymsException e) {
                throw new LinkException(e);
            }
            ObjectBuilder.SectionHandle rela = relaFor(b, funcs);
            List<ObjectBuilder.RelaEntry> rels = rela == null ? List.of() : rela.relocations();
            byte[] data = funcs.data().toArray();
            int n = data.length / layout.size();
            for (int i = 0; i < n; i++) {
                int base = i * layout.size();
                if (u64(data, base + FuncLayout.OLD_ADDR) != 0 || relocationAt(rels, base + FuncLayout.OLD_ADDR) != null) {
                    continue;
                }
                String name = nameOfEntry(rels, base);
                if (name == null) {
                    continue; // no name: nothing to look up (the hypervisor would refuse it; the upload check says so)
                }
                Optional<XenSymbol> x;
                try {
                    x = xen.find(name);
                } catch (SymbolLookupException.Ambiguous e) {
                    throw new LinkException(e);
                }
                if (x.isEmpty()) {
                    left.add(name);
                    debug.accept("old_addr of " + name + " left for the load-time lookup: not a hypervisor symbol");
                    continue;
                }
                long a = x.get().address();
                for (int k = 0; k < 8; k++) {
                    data[base + FuncLayout.OLD_ADDR + k] = (byte) (a >>> (8 * k));
                }
                filled++;
                debug.accept("old_addr of " + name + " = 0x" + Long.toHexString(a));
            }
            b.setData(funcs, Bytes.copyOf(data));
        }
        return new Result(resolved, filled, left);
    }

    private XenSymbol lookup(ObjectBuilder.SymbolHandle s, String file) throws SymbolLookupException {
        String name = s.name();
        int hash = name.indexOf('#');
        if (hash > 0 && hash < name.length() - 1) {
            return xen.local(name.substring(0, hash), name.substring(hash + 1));
        }
        if (s.isLocal() && file != null) {
            return xen.local(file, name);
        }
        return xen.global(name);
    }

    static ObjectBuilder.SectionHandle find(ObjectBuilder b, String name) {
        for (ObjectBuilder.SectionHandle s : b.sections()) {
            if (s.kind() == ObjectBuilder.Kind.DATA && s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    static ObjectBuilder.SectionHandle relaFor(ObjectBuilder b, ObjectBuilder.SectionHandle target) {
        for (ObjectBuilder.SectionHandle s : b.sections()) {
            if (s.kind() == ObjectBuilder.Kind.RELA && s.relaTarget() == target) {
                return s;
            }
        }
        return null;
    }

    static ObjectBuilder.RelaEntry relocationAt(List<ObjectBuilder.RelaEntry> rels, long offset) {
        for (ObjectBuilder.RelaEntry r : rels) {
            if (r.offset() == offset) {
                return r;
            }
        }
        return null;
    }

    /** The string a funcs entry's {@code name} relocation points at, or null. */
    static String nameOfEntry(List<ObjectBuilder.RelaEntry> rels, int entryOffset) {
        ObjectBuilder.RelaEntry r = relocationAt(rels, entryOffset + FuncLayout.NAME);
        if (r == null || r.symbol() == null || r.symbol().section() == null) {
            return null;
        }
        ObjectBuilder.SectionHandle sec = r.symbol().section();
        long off = r.symbol().value() + r.addend();
        if (sec.type() == Elf.SHT_NOBITS || off < 0 || off >= sec.data().length()) {
            return null;
        }
        return sec.data().cString((int) off);
    }

    private static long u64(byte[] b, int o) {
        long v = 0;
        for (int k = 7; k >= 0; k--) {
            v = v << 8 | (b[o + k] & 0xff);
        }
        return v;
    }

    /** Every undefined symbol of a payload that the hypervisor image does not resolve, in one message. */
    public static final class UnresolvedSymbolsException extends LinkException {
        private final List<SymbolLookupException> failures;

        UnresolvedSymbolsException(String payload, String xenSyms, List<SymbolLookupException> failures) {
            super(message(payload, xenSyms, failures));
            this.failures = List.copyOf(failures);
        }

        public List<SymbolLookupException> failures() {
            return failures;
        }

        private static String message(String payload, String xenSyms, List<SymbolLookupException> failures) {
            List<String> parts = new ArrayList<>();
            for (SymbolLookupException f : failures) {
                String m = f.getMessage();
                String prefix = xenSyms + ": ";
                parts.add(m.startsWith(prefix) ? m.substring(prefix.length()) : m);
            }
            return payload + ": " + (failures.size() == 1 ? "undefined " : failures.size() + " undefined symbols do not resolve in " + xenSyms + ": ")
                    + (failures.size() == 1 ? parts.get(0) + " in " + xenSyms : String.join("; ", parts));
        }
    }
}
