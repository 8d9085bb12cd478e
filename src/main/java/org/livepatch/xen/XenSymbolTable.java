package org.livepatch.xen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * The symbols of a hypervisor image ({@code xen-syms}), indexed once for O(1) lookups by name.
 *
 * <p>Two kinds of lookup, mirroring how the hypervisor names its own symbols at run time
 * ({@code xen/tools/symbols.c: read_symbol}, used by {@code symbols_lookup_by_name}):
 * <ul>
 * <li><b>globals</b> by plain name. {@code STB_WEAK} definitions count as globals: nm prints them
 *     upper case ({@code W}/{@code V}), so Xen's table keeps their plain name and a payload's
 *     reference resolves to them at load time; resolving them here gives the same address. (The
 *     upstream tool's {@code lookup_global_symbol} refused weak ones, so a changed weak function
 *     could not be patched.) A linked image has at most one definition per global name.</li>
 * <li><b>locals</b> by the {@code STT_FILE} symbol whose run they sit in: every symbol after a
 *     FILE symbol up to the next one belongs to that file, which is how both the hypervisor
 *     ({@code file#name}) and upstream's {@code lookup_local_symbol} tell apart the many statics
 *     of the same name (there are 17 {@code cpu_callback}s in a 4.17 defconfig build). Two matches
 *     in one file's runs are an error naming both, never a guess: it happens when one source
 *     file is compiled twice into the image, and {@code CONFIG_ENFORCE_UNIQUE_SYMBOLS} exists
 *     to rule it out.</li>
 * </ul>
 * Undefined, FILE and SECTION symbols and empty names are not indexed.
 *
 * <p>One table serves every stage: the diff stage asks it for an old function's size and room
 * ({@link #locals}, {@link #globals}, {@link #extentOf}), the link stage resolves and checks
 * against it, and the verifier loads payloads against its {@link #runtime() run-time view}, which
 * keeps only what Xen's own table keeps.
 */
public final class XenSymbolTable {
    private final ElfFile elf;
    private final List<XenSymbol> all;
    private final Map<String, List<XenSymbol>> globals;
    private final Map<String, List<XenSymbol>> locals;      // key: file + '#' + name
    private final Map<String, List<XenSymbol>> byBareName;  // every binding, for hints in errors
    private final long[] sortedAddresses;
    private volatile RuntimeSymbolTable runtime;

    private XenSymbolTable(ElfFile elf) {
        this.elf = elf;
        List<XenSymbol> list = new ArrayList<>();
        Map<String, List<XenSymbol>> g = new HashMap<>();
        Map<String, List<XenSymbol>> l = new HashMap<>();
        Map<String, List<XenSymbol>> bare = new HashMap<>();
        String file = null;
        for (Symbol s : elf.symbols()) {
            if (s.index() == 0) {
                continue;
            }
            if (s.isFile()) {
                file = s.name().isEmpty() ? null : s.name();
                continue;
            }
            if (s.isUndefined() || s.isSectionSymbol() || s.name().isEmpty()) {
                continue;
            }
            XenSymbol x = new XenSymbol(s.name(), s.isLocal() ? file : null, s.value(), s.size(), s.bind(), s.type(), s.shndx(), s.index());
            list.add(x);
            bare.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(x);
            if (s.isLocal()) {
                if (file != null) {
                    l.computeIfAbsent(file + "#" + s.name(), k -> new ArrayList<>(1)).add(x);
                }
            } else {
                g.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(x);
            }
        }
        this.all = List.copyOf(list);
        this.globals = g;
        this.locals = l;
        this.byBareName = bare;
        this.sortedAddresses = list.stream().filter(x -> x.shndx() > 0 && x.shndx() < Elf.SHN_LORESERVE)
                .mapToLong(XenSymbol::address).sorted().distinct().toArray();
    }

    /** Reads and indexes {@code xen-syms}. */
    public static XenSymbolTable load(Path xenSyms) throws IOException {
        return of(ElfReader.read(xenSyms));
    }

    public static XenSymbolTable of(ElfFile elf) {
        return new XenSymbolTable(elf);
    }

    public Path path() {
        return elf.path();
    }

    public ElfFile elf() {
        return elf;
    }

    /** Every indexed symbol in symbol-table order. */
    public List<XenSymbol> symbols() {
        return all;
    }

    /** The hypervisor's GNU build-id: what {@code .livepatch.xen_depends} (and a first payload's depends) must hold. */
    public Optional<Bytes> buildId() {
        return elf.buildId();
    }

    public Bytes requireBuildId() throws XenSymsException {
        return buildId().orElseThrow(() -> new XenSymsException(path() + ": no GNU build-id note; Xen built without "
                + "build-id support cannot load live patches (CONFIG_LIVEPATCH depends on XEN_HAS_BUILD_ID)"));
    }

    /** The global (or weak) symbol {@code name}. */
    public XenSymbol global(String name) throws SymbolLookupException {
        return exactlyOne(name, globals(name));
    }

    /** Every global or weak definition of {@code name}: one in a linked image, none when unknown. */
    public List<XenSymbol> globals(String name) {
        return globals.getOrDefault(name, List.of());
    }

    /** The local {@code name} of the file whose STT_FILE symbol is {@code file}. */
    public XenSymbol local(String file, String name) throws SymbolLookupException {
        return exactlyOne(file + "#" + name, locals(file, name));
    }

    /**
     * Every local {@code name} in the runs of the file whose STT_FILE symbol is {@code file}: none
     * when unknown, two or more when the file was compiled into the image twice. Locals after no
     * (or an empty) FILE symbol belong to no file and are never found here.
     */
    public List<XenSymbol> locals(String file, String name) {
        return locals.getOrDefault(file + "#" + name, List.of());
    }

    /**
     * Looks a name up the way the hypervisor does at load time: {@code file#name} is a local of that
     * file, anything else a global.
     */
    public XenSymbol resolve(String runtimeName) throws SymbolLookupException {
        int hash = runtimeName.indexOf('#');
        if (hash > 0 && hash < runtimeName.length() - 1) {
            // The locals are keyed by exactly this form, so no splitting on the fast path.
            return exactlyOne(runtimeName, locals.getOrDefault(runtimeName, List.of()));
        }
        return global(runtimeName);
    }

    /** Like {@link #resolve} but empty for an unknown name; an ambiguous one still throws. */
    public Optional<XenSymbol> find(String runtimeName) throws SymbolLookupException.Ambiguous {
        try {
            return Optional.of(resolve(runtimeName));
        } catch (SymbolLookupException.Unknown e) {
            return Optional.empty();
        } catch (SymbolLookupException.Ambiguous e) {
            throw e;
        } catch (SymbolLookupException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every defined symbol with this bare name, locals of any file and globals alike. */
    public List<XenSymbol> named(String bareName) {
        return byBareName.getOrDefault(bareName, List.of());
    }

    private XenSymbol exactlyOne(String key, List<XenSymbol> found) throws SymbolLookupException {
        if (found.size() == 1) {
            return found.get(0);
        }
        if (found.isEmpty()) {
            int hash = key.indexOf('#');
            String bare = hash >= 0 ? key.substring(hash + 1) : key;
            List<XenSymbol> others = named(bare).stream().filter(x -> !x.runtimeName().equals(key)).toList();
            throw new SymbolLookupException.Unknown(path().toString(), key, others);
        }
        throw new SymbolLookupException.Ambiguous(path().toString(), key, found);
    }

    /**
     * How many bytes belong to {@code s} in the image: up to the next symbol's address (the
     * alignment padding after a function is its own: nothing else lives there), or its st_size when
     * no symbol follows it in its section. An old function's {@code old_size} must not exceed it.
     */
    public long extentOf(XenSymbol s) {
        int i = Arrays.binarySearch(sortedAddresses, s.address());
        int next = i >= 0 ? i + 1 : -i - 1;
        long limit = Long.MAX_VALUE;
        if (s.shndx() > 0 && s.shndx() < elf.sections().size()) {
            Section sec = elf.section(s.shndx());
            limit = sec.addr() + sec.size();
        }
        if (next < sortedAddresses.length && Long.compareUnsigned(sortedAddresses[next], limit) < 0) {
            return Math.max(s.size(), sortedAddresses[next] - s.address());
        }
        return Math.max(s.size(), limit == Long.MAX_VALUE ? s.size() : limit - s.address());
    }

    /** Up to {@code maxLength} bytes from a virtual address to the end of the section holding it. */
    public Optional<Bytes> bytesFrom(long address, int maxLength) {
        for (Section s : elf.sections()) {
            if (!s.isAlloc() || s.isNoBits() || s.data().isEmpty()) {
                continue;
            }
            long off = address - s.addr(); // unsigned: an address below the section wraps to a huge offset
            if (Long.compareUnsigned(off, s.data().length()) < 0) {
                return Optional.of(s.data().slice((int) off, (int) Math.min(maxLength, s.data().length() - off)));
            }
        }
        return Optional.empty();
    }

    /** The image's bytes at a virtual address, if some PROGBITS section holds all of them. */
    public Optional<Bytes> bytesAt(long address, int length) {
        for (Section s : elf.sections()) {
            if (!s.isAlloc() || s.isNoBits() || s.data().isEmpty()) {
                continue;
            }
            long off = address - s.addr();
            if (Long.compareUnsigned(off, s.data().length()) < 0 && off + length <= s.data().length()) {
                return Optional.of(s.data().slice((int) off, length));
            }
        }
        return Optional.empty();
    }

    /**
     * The hypervisor's version, decoded from the code of {@code xen_major_version()} and
     * {@code xen_minor_version()} (xen/common/version.c), so no debug info is needed. Both are
     * {@code mov $imm32,%eax} followed by a return ({@code ret}, or a {@code jmp} to
     * {@code __x86_return_thunk} with return-thunk mitigations), possibly after an ENDBR64 when
     * built with CET-IBT. {@code xen_extra_version()} is {@code lea rel32(%rip),%rax}: the string it
     * points at is decoded too when possible.
     */
    public HypervisorVersion version() throws XenSymsException {
        int major = decodeReturnedImmediate("xen_major_version");
        int minor = decodeReturnedImmediate("xen_minor_version");
        return new HypervisorVersion(major, minor, decodeExtraVersion().orElse(""));
    }

    private Bytes functionCode(String name) throws XenSymsException {
        XenSymbol f;
        try {
            f = global(name);
        } catch (SymbolLookupException e) {
            throw new XenSymsException(path() + ": cannot read the Xen version: " + e.getMessage());
        }
        int len = (int) Math.min(Math.max(f.size(), 0), 32);
        return bytesAt(f.address(), len).orElseThrow(() -> new XenSymsException(path() + ": cannot read the Xen version: code of "
                + name + " at 0x" + Long.toHexString(f.address()) + " is not in the image"));
    }

    private static int skipEndbr(Bytes code) {
        return code.length() >= 4 && code.u8(0) == 0xf3 && code.u8(1) == 0x0f && code.u8(2) == 0x1e && code.u8(3) == 0xfa ? 4 : 0;
    }

    private int decodeReturnedImmediate(String name) throws XenSymsException {
        Bytes code = functionCode(name);
        int p = skipEndbr(code);
        if (code.length() >= p + 5 && code.u8(p) == 0xb8) {          // mov $imm32, %eax
            return code.s32(p + 1);
        }
        if (code.length() >= p + 2 && code.u8(p) == 0x31 && code.u8(p + 1) == 0xc0) {  // xor %eax, %eax
            return 0;
        }
        throw new XenSymsException(path() + ": cannot read the Xen version: " + name + " does not start with mov $imm32,%eax (bytes "
                + code.slice(0, Math.min(code.length(), 8)).toHex() + ")");
    }

    private Optional<String> decodeExtraVersion() {
        XenSymbol f;
        try {
            f = global("xen_extra_version");
        } catch (SymbolLookupException e) {
            return Optional.empty();
        }
        Optional<Bytes> code = bytesAt(f.address(), (int) Math.min(Math.max(f.size(), 0), 32));
        if (code.isEmpty()) {
            return Optional.empty();
        }
        Bytes c = code.get();
        int p = skipEndbr(c);
        // lea rel32(%rip), %rax: 48 8d 05 rel32; the target is relative to the next instruction.
        if (c.length() >= p + 7 && c.u8(p) == 0x48 && c.u8(p + 1) == 0x8d && c.u8(p + 2) == 0x05) {
            long target = f.address() + p + 7 + c.s32(p + 3);
            Optional<Bytes> s = bytesFrom(target, 128);
            if (s.isPresent() && s.get().cString(0) != null) {
                return Optional.of(s.get().cString(0));
            }
        }
        return Optional.empty();
    }

    public int size() {
        return all.size();
    }

    /** The names the running hypervisor itself resolves, built on first use (only the verifier needs it). */
    public RuntimeSymbolTable runtime() {
        RuntimeSymbolTable r = runtime;
        if (r == null) {
            r = RuntimeSymbolTable.of(this);
            runtime = r;
        }
        return r;
    }
}
