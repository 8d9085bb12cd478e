package org.livepatch.link;

import static org.livepatch.verify.HypervisorRules.ENDBR64_LEN;
import static org.livepatch.verify.HypervisorRules.MAX_NAME_LENGTH;
import static org.livepatch.verify.HypervisorRules.MAX_PAYLOAD_SIZE;
import static org.livepatch.verify.HypervisorRules.MAX_SECTIONS;
import static org.livepatch.verify.HypervisorRules.OPAQUE_SIZE;
import static org.livepatch.verify.HypervisorRules.PATCH_INSN_SIZE;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationSection;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.verify.HypervisorRules;
import org.livepatch.verify.PayloadFile;
import org.livepatch.xen.SymbolLookupException;
import org.livepatch.xen.XenSymbol;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;

/**
 * The checks an x86_64 Xen (4.14 to 4.22, payload version 2; 4.7 to 4.13 with version 1) makes
 * when a payload is uploaded, made before we write one, so that a payload Xen would refuse is
 * never produced. Each check names the hypervisor function that imposes it. This is the
 * upload-only view of {@link HypervisorRules}: the limits, the ENDBR64 rule, the build-id note
 * rule and what differs between releases come from there (the release is read from xen-syms);
 * what is here is wording every problem at once, where the verifier's loader stops at the first.
 *
 * <p>What cannot be known before load time is not checked: the distance between old and new code
 * ({@code livepatch_verify_distance}, the payload's address is chosen by Xen), PC32 overflow, and
 * the build-id of the payload this one stacks on ({@code .livepatch.depends} is only compared at
 * apply time, {@code xen/common/livepatch.c: build_id_dep}).
 */
public final class HypervisorLimits {
    private final XenSymbolTable xen;
    private final HypervisorRules rules;
    private final FuncLayout layout;
    private final String target;
    private final Set<String> lowerPayloadSymbols;

    /**
     * @param lowerPayloadSymbols names defined by payloads loaded before this one: Xen resolves
     *                            undefined symbols against those too ({@code livepatch_symbols_lookup_by_name})
     */
    public HypervisorLimits(XenSymbolTable xen, FuncLayout layout, Set<String> lowerPayloadSymbols) {
        this(xen, HypervisorRules.forHypervisor(xen).rules(), layout, lowerPayloadSymbols);
    }

    /** With the rules of a release named by the caller rather than read from xen-syms. */
    public HypervisorLimits(XenSymbolTable xen, HypervisorRules rules, FuncLayout layout, Set<String> lowerPayloadSymbols) {
        this.xen = xen;
        this.rules = rules;
        this.layout = layout;
        this.lowerPayloadSymbols = Set.copyOf(lowerPayloadSymbols);
        String v;
        try {
            v = "Xen " + xen.version();
        } catch (XenSymsException e) {
            v = "the hypervisor of " + xen.path();
        }
        this.target = v;
    }

    public HypervisorLimits(XenSymbolTable xen, FuncLayout layout) {
        this(xen, layout, Set.of());
    }

    /** The name {@code xen-livepatch load FILE} gives a payload: the file's base name without its last extension. */
    public static String payloadNameOf(Path file) {
        return PayloadFile.nameOf(file);
    }

    /** Throws when the hypervisor would refuse the payload, listing every reason. */
    public void check(ElfFile payload, String name, long fileSize) throws PayloadRejectedException {
        List<String> p = problems(payload, name, fileSize);
        if (!p.isEmpty()) {
            throw new PayloadRejectedException(payload.path().toString(), target, p);
        }
    }

    /** Every reason the hypervisor would refuse the payload; empty when it would load it. */
    public List<String> problems(ElfFile elf, String name, long fileSize) {
        List<String> p = new ArrayList<>();
        checkUpload(name, fileSize, p);
        checkHeader(elf, p);
        checkSections(elf, p);
        checkSymbols(elf, p);
        checkRelocations(elf, p);
        checkBuildIds(elf, p);
        checkPatchingSections(elf, p);
        Set<Long> newAddrs = checkFuncs(elf, p);
        checkHooks(elf, p);
        checkArchSections(elf, p);
        if (newAddrs != null) {
            // Without readable funcs Xen stops before it builds the symbol table, and we cannot
            // tell replacements from new symbols: reporting clashes then would only mislead.
            checkNewSymbols(elf, newAddrs, p);
        }
        return p;
    }

    // xen/common/livepatch.c: get_name, verify_payload
    private static void checkUpload(String name, long fileSize, List<String> p) {
        if (name.isEmpty()) {
            p.add("payload name is empty (get_name)");
        } else if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_LENGTH) {
            p.add("payload name '" + name + "' is " + name.length() + " bytes, more than " + MAX_NAME_LENGTH + " (XEN_LIVEPATCH_NAME_SIZE with its NUL, get_name)");
        }
        if (fileSize <= 0 || fileSize > MAX_PAYLOAD_SIZE) {
            p.add("payload is " + fileSize + " bytes, more than LIVEPATCH_MAX_SIZE (" + MAX_PAYLOAD_SIZE + ", verify_payload)");
        }
    }

    // xen/common/livepatch_elf.c: livepatch_header_check; xen/arch/x86/livepatch.c: arch_livepatch_verify_elf
    private static void checkHeader(ElfFile elf, List<String> p) {
        var h = elf.header();
        if (!h.isRelocatable()) {
            p.add("e_type " + h.type() + " is not ET_REL (livepatch_header_check)");
        }
        if (h.machine() != Elf.EM_X86_64) {
            p.add("e_machine " + h.machine() + " is not EM_X86_64 (arch_livepatch_verify_elf)");
        }
        if (h.osAbi() != 0 && h.osAbi() != 9) {
            p.add("EI_OSABI " + h.osAbi() + " is neither SYSV nor FreeBSD (livepatch_header_check)");
        }
        if (h.abiVersion() != 0) {
            p.add("EI_ABIVERSION " + h.abiVersion() + " is not 0 (livepatch_header_check)");
        }
        if (h.phnum() != 0) {
            p.add("has " + h.phnum() + " program headers (livepatch_header_check)");
        }
        if (h.shnum() >= MAX_SECTIONS) {
            p.add(h.shnum() + " sections, the limit is " + (MAX_SECTIONS - 1) + " (livepatch_header_check)");
        }
    }

    // xen/common/livepatch_elf.c: elf_resolve_sections; xen/common/livepatch.c: move_payload
    private static void checkSections(ElfFile elf, List<String> p) {
        for (Section s : elf.sections()) {
            if (s.index() == 0 || !s.isAlloc()) {
                continue;
            }
            if (s.addralign() == 0) {
                // move_payload places a section at ROUNDUP(offset, sh_addralign): 0 puts it on top of the region's start.
                p.add("section " + s.name() + " is SHF_ALLOC with sh_addralign 0 (move_payload would overlap it with another section)");
            }
            if (s.isExec() && s.isWrite()) {
                p.add("section " + s.name() + " is both writable and executable (move_payload: \"Not supporting\")");
            }
            if (s.isNoBits() && s.isWrite() && s.size() > MAX_PAYLOAD_SIZE) {
                p.add("section " + s.name() + " is " + s.size() + " bytes of .bss, more than LIVEPATCH_MAX_SIZE (elf_resolve_sections)");
            }
        }
    }

    // xen/common/livepatch_elf.c: livepatch_elf_resolve_symbols
    private void checkSymbols(ElfFile elf, List<String> p) {
        for (Symbol s : elf.symbols()) {
            if (s.index() == 0) {
                continue;
            }
            if (s.shndx() == Elf.SHN_COMMON) {
                p.add("symbol " + s.name() + " is a common symbol (\"Unexpected common symbol\")");
            } else if (s.isUndefined()) {
                // Every undefined symbol is looked up, referenced or not; a value of 0 counts as not found.
                if (!resolvesAtLoad(s.name())) {
                    p.add("undefined symbol " + (s.name().isEmpty() ? "#" + s.index() : s.name()) + " is not a symbol of the hypervisor"
                            + (lowerPayloadSymbols.isEmpty() ? "" : " or of the payloads below") + " (\"Unknown symbol\")");
                }
            } else if (s.shndx() >= Elf.SHN_LORESERVE && s.shndx() != Elf.SHN_ABS) {
                p.add("symbol " + s.name() + " has reserved section index 0x" + Integer.toHexString(s.shndx()) + " (livepatch_elf_resolve_symbols)");
            }
        }
    }

    private boolean resolvesAtLoad(String name) {
        if (name.isEmpty()) {
            return false;
        }
        if (lowerPayloadSymbols.contains(name)) {
            return true;
        }
        try {
            Optional<XenSymbol> x = xen.find(name);
            return x.isPresent() && x.get().address() != 0;
        } catch (SymbolLookupException.Ambiguous e) {
            // Xen's own table would hold two equal names; which one it returns is not ours to guess.
            return false;
        }
    }

    // xen/common/livepatch_elf.c: livepatch_elf_perform_relocs; xen/arch/x86/livepatch.c: arch_livepatch_perform_rela
    private static void checkRelocations(ElfFile elf, List<String> p) {
        for (RelocationSection rs : elf.relocationSections()) {
            Section target = rs.target();
            if (!target.isAlloc()) {
                continue; // Xen skips relocations of sections it does not load (.debug_*)
            }
            for (Relocation r : rs.relocations()) {
                String where = rs.section().name() + " at 0x" + Long.toHexString(r.offset());
                if (r.symbol().index() == 0) {
                    p.add(where + ": relocation against STN_UNDEF (\"Encountered STN_UNDEF\")");
                    continue;
                }
                Symbol s = r.symbol();
                if (s.hasSection() && !elf.section(s.shndx()).isAlloc()) {
                    p.add(where + ": relocation against " + s + " in unloaded section " + elf.section(s.shndx()).name() + " (\"cannot be resolved\")");
                }
                int width = switch (r.type()) {
                    case RelocationTypes.R_X86_64_NONE -> 0;
                    case RelocationTypes.R_X86_64_64 -> 8;
                    case RelocationTypes.R_X86_64_PC32, RelocationTypes.R_X86_64_PLT32 -> 4;
                    default -> -1;
                };
                if (width < 0) {
                    p.add(where + ": relocation type " + RelocationTypes.name(Elf.EM_X86_64, r.type()) + " is not handled (only NONE, 64, PC32, PLT32)");
                } else if (width > 0 && (r.offset() < 0 || r.offset() + width > target.size())) {
                    p.add(where + ": relocation runs past " + target.name() + " (" + target.size() + " bytes)");
                }
            }
        }
    }

    // xen/common/livepatch.c: check_special_sections, prepare_payload; xen/common/version.c: xen_build_id_check
    private void checkBuildIds(ElfFile elf, List<String> p) {
        for (String n : List.of(PayloadSections.DEPENDS, PayloadSections.XEN_DEPENDS, PayloadSections.BUILD_ID)) {
            Optional<Section> s = elf.section(n);
            // From 4.20 .livepatch.xen_depends has its own check, made first (check_xen_buildid).
            String checker = rules.xenBuildIdFirst() && n.equals(PayloadSections.XEN_DEPENDS) ? "check_xen_buildid" : "check_special_sections";
            if (s.isEmpty()) {
                p.add(n + " is missing (" + checker + ")");
                continue;
            }
            if (s.get().size() == 0) {
                p.add(n + " is empty (" + checker + ")");
                continue;
            }
            boolean readFromFile = rules.xenBuildIdFirst() && n.equals(PayloadSections.XEN_DEPENDS);
            if (s.get().isNoBits() || !readFromFile && !s.get().isAlloc()) {
                p.add(n + " is not a loaded (SHF_ALLOC) section with contents: the hypervisor reads it from the loaded image");
                continue;
            }
            BuildIdNote.problemWith(s.get().data()).ifPresent(why -> p.add(n + " " + why + " (xen_build_id_check)"));
        }
        Optional<Bytes> xenId = xen.buildId();
        elf.section(PayloadSections.XEN_DEPENDS).flatMap(s -> BuildIdNote.parse(s.data())).ifPresent(note -> {
            if (xenId.isPresent() && !note.id().equals(xenId.get())) {
                p.add(PayloadSections.XEN_DEPENDS + " names build-id " + note.hex() + " but " + xen.path() + " is " + xenId.get().toHex()
                        + " (\"check against hypervisor build-id failed\")");
            }
        });
    }

    // xen/common/livepatch.c: check_patching_sections
    private static void checkPatchingSections(ElfFile elf, List<String> p) {
        boolean any = false;
        List<String> names = new ArrayList<>();
        names.add(PayloadSections.FUNCS);
        names.addAll(PayloadSections.HOOKS);
        for (String n : names) {
            Optional<Section> s = elf.section(n);
            if (s.isPresent()) {
                any = true;
                if (s.get().size() == 0) {
                    p.add(n + " is empty (check_patching_sections)");
                }
            }
        }
        if (!any) {
            p.add("neither .livepatch.funcs nor a hook section: \"Nothing to patch\" (check_patching_sections)");
        }
    }

    /** One funcs entry with the fields resolved as far as they can be before load. */
    private record Entry(int index, String name, long oldAddr, boolean oldAddrKnown, boolean hasNewAddr, LivepatchFuncBytes raw) {}

    /** The raw bytes of one entry. */
    private record LivepatchFuncBytes(Bytes b) {
        long newSize() { return b.u32(FuncLayout.NEW_SIZE); }
        long oldSize() { return b.u32(FuncLayout.OLD_SIZE); }
        int version() { return b.u8(FuncLayout.VERSION); }
    }

    // xen/common/livepatch.c: prepare_payload, resolve_old_address; xen/arch/x86/livepatch.c: arch_livepatch_verify_func
    /** @return where the entries' new functions are (section, offset), or null when the section cannot be read as entries */
    private Set<Long> checkFuncs(ElfFile elf, List<String> p) {
        Set<Long> newAddrTargets = new HashSet<>();
        Optional<Section> fs = elf.section(PayloadSections.FUNCS);
        if (fs.isEmpty() || fs.get().size() == 0) {
            return newAddrTargets;
        }
        Section funcs = fs.get();
        if (!funcs.isAlloc() || funcs.isNoBits()) {
            p.add(PayloadSections.FUNCS + " is not a loaded section with contents");
            return null;
        }
        if (funcs.size() % layout.size() != 0) {
            p.add(PayloadSections.FUNCS + " is " + funcs.size() + " bytes, not a multiple of sizeof(struct livepatch_func) = " + layout.size()
                    + " for payload version " + layout.version() + " (prepare_payload)");
            return null;
        }
        Map<Long, Relocation> rels = new HashMap<>();
        elf.relocationsFor(funcs).ifPresent(rs -> rs.relocations().forEach(r -> rels.put(r.offset(), r)));
        Map<Long, Entry> byOldAddr = new HashMap<>();
        Map<String, Entry> byName = new HashMap<>();
        int n = (int) (funcs.size() / layout.size());
        for (int i = 0; i < n; i++) {
            int base = i * layout.size();
            LivepatchFuncBytes raw = new LivepatchFuncBytes(funcs.data().slice(base, layout.size()));
            String name = stringAt(elf, rels.get((long) base + FuncLayout.NAME));
            String what = PayloadSections.FUNCS + " entry " + i + (name != null ? " (" + name + ")" : "");
            Relocation newRel = rels.get((long) base + FuncLayout.NEW_ADDR);
            boolean hasNewAddr = newRel != null || raw.b().u64(FuncLayout.NEW_ADDR) != 0;
            if (newRel != null && newRel.symbol().hasSection()) {
                newAddrTargets.add(((long) newRel.symbol().shndx() << 48) ^ (newRel.symbol().value() + newRel.addend()));
            }
            if (raw.version() != layout.version()) {
                p.add(what + ": version " + raw.version() + ", expected " + layout.version() + " (prepare_payload: \"Wrong version\")");
            }
            if (raw.oldSize() == 0) {
                p.add(what + ": old_size is 0 (prepare_payload: \"Address or size fields are zero\")");
            }
            if (layout == FuncLayout.V2) {
                // Bytes 33..71 held the hypervisor's own state (saved instructions, the applied marker)
                // before 4.17.3; a non-zero 'applied' makes apply_payload skip the function.
                for (int k = FuncLayout.VERSION + 1; k < layout.expectOffset(); k++) {
                    if (raw.b().u8(k) != 0) {
                        p.add(what + ": reserved byte " + k + " is not zero (hypervisor state before Xen 4.17.3)");
                        break;
                    }
                }
                int head = raw.b().u8(layout.expectOffset());
                if ((head & 1) != 0) {
                    int len = (head >> 1) & 0x1f;
                    if ((head >> 6) != 0) {
                        p.add(what + ": expectation reserved bits are set (livepatch_verify_expectation_fn)");
                    }
                    if (len > raw.oldSize()) {
                        p.add(what + ": expectation of " + len + " bytes is longer than old_size " + raw.oldSize() + " (livepatch_verify_expectation_fn)");
                    }
                }
            }
            // Where the old function is: old_addr as written, or its relocation, or the name.
            long oldAddr = raw.b().u64(FuncLayout.OLD_ADDR);
            boolean known = oldAddr != 0;
            Relocation oldRel = rels.get((long) base + FuncLayout.OLD_ADDR);
            if (!known && oldRel != null) {
                Symbol s = oldRel.symbol();
                if (s.isAbsolute()) {
                    oldAddr = s.value() + oldRel.addend();
                    known = true;
                } else if (s.isUndefined()) {
                    Optional<XenSymbol> x = findQuietly(s.name());
                    if (x.isPresent()) {
                        oldAddr = x.get().address() + oldRel.addend();
                        known = true;
                    }
                }
            }
            if (!known && oldRel == null) {
                if (name == null) {
                    p.add(what + ": neither old_addr nor a name (resolve_old_address would dereference a NULL name)");
                } else {
                    Optional<XenSymbol> x = findQuietly(name);
                    if (x.isPresent()) {
                        oldAddr = x.get().address();
                        known = true;
                    } else if (!lowerPayloadSymbols.contains(name)) {
                        p.add(what + ": " + name + " is not a hypervisor function (resolve_old_address: \"Could not resolve old address\")");
                    }
                }
            }
            Entry e = new Entry(i, name, oldAddr, known, hasNewAddr, raw);
            checkOldFunction(e, what, p);
            if (known) {
                Entry prev = byOldAddr.putIfAbsent(oldAddr, e);
                if (prev != null) {
                    p.add(what + ": patches the same function (0x" + Long.toHexString(oldAddr) + ") as entry " + prev.index()
                            + "; one entry per function");
                }
            } else if (name != null) {
                Entry prev = byName.putIfAbsent(name, e);
                if (prev != null) {
                    p.add(what + ": patches the same function as entry " + prev.index() + "; one entry per function");
                }
            }
        }
        return newAddrTargets;
    }

    private Optional<XenSymbol> findQuietly(String name) {
        try {
            return xen.find(name);
        } catch (SymbolLookupException.Ambiguous e) {
            return Optional.empty();
        }
    }

    // xen/arch/x86/livepatch.c: arch_livepatch_verify_func, and the old function's room in xen-syms
    private void checkOldFunction(Entry e, String what, List<String> p) {
        long oldSize = e.raw().oldSize();
        if (!e.hasNewAddr()) {
            // A NOP patch: new_size bytes of the old function are overwritten with NOPs.
            if (e.raw().newSize() > OPAQUE_SIZE) {
                p.add(what + ": NOP patch of " + e.raw().newSize() + " bytes, more than " + OPAQUE_SIZE + " (arch_livepatch_verify_func)");
            }
            if (oldSize < e.raw().newSize()) {
                p.add(what + ": NOP patch of " + e.raw().newSize() + " bytes is longer than old_size " + oldSize + " (arch_livepatch_verify_func)");
            }
        }
        if (!e.oldAddrKnown()) {
            return;
        }
        int needed = PATCH_INSN_SIZE;
        Optional<Bytes> head = xen.bytesAt(e.oldAddr(), ENDBR64_LEN);
        if (head.isPresent() && HypervisorRules.startsWithEndbr64(head.get())) {
            // The jump goes after the ENDBR64 (or its boot-time poison), so 4 more bytes are needed.
            needed += ENDBR64_LEN;
        }
        if (e.hasNewAddr() && oldSize != 0 && oldSize < needed) {
            p.add(what + ": old_size " + oldSize + " is below the " + needed + " bytes a jump needs (arch_livepatch_verify_func)");
        }
        Optional<XenSymbol> sym = xen.symbols().stream().filter(x -> x.address() == e.oldAddr() && x.isFunction()).findFirst();
        if (sym.isPresent()) {
            long extent = xen.extentOf(sym.get());
            if (oldSize > extent) {
                p.add(what + ": old_size " + oldSize + " is larger than the " + extent + " bytes of " + sym.get().runtimeName() + " in " + xen.path());
            }
        }
    }

    private static String stringAt(ElfFile elf, Relocation r) {
        if (r == null || !r.symbol().hasSection()) {
            return null;
        }
        Section s = elf.section(r.symbol().shndx());
        long off = r.symbol().value() + r.addend();
        if (s.isNoBits() || off < 0 || off >= s.data().length()) {
            return null;
        }
        return s.data().cString((int) off);
    }

    // xen/common/livepatch.c: prepare_payload (LIVEPATCH_ASSIGN_MULTI_HOOK / _SINGLE_HOOK)
    private static void checkHooks(ElfFile elf, List<String> p) {
        for (String n : PayloadSections.HOOKS) {
            elf.section(n).ifPresent(s -> {
                boolean multi = n.equals(PayloadSections.HOOK_LOAD) || n.equals(PayloadSections.HOOK_UNLOAD);
                if (multi && s.size() % PayloadSections.HOOK_ENTRY_SIZE != 0) {
                    p.add(n + " is " + s.size() + " bytes, not a multiple of " + PayloadSections.HOOK_ENTRY_SIZE);
                } else if (!multi && s.size() != PayloadSections.HOOK_ENTRY_SIZE) {
                    p.add(n + " is " + s.size() + " bytes; it must hold exactly one pointer (" + PayloadSections.HOOK_ENTRY_SIZE + ")");
                }
            });
        }
    }

    // xen/common/livepatch.c: prepare_payload (bug frames, alternatives, exception table, .modinfo)
    private void checkArchSections(ElfFile elf, List<String> p) {
        for (int i = 0; i < 4; i++) {
            String n = ".bug_frames." + i;
            elf.section(n).filter(s -> s.size() % 8 != 0).ifPresent(s -> p.add(n + " is " + s.size() + " bytes, not a multiple of sizeof(struct bug_frame) = 8"));
        }
        elf.section(".altinstructions").ifPresent(s -> {
            if (s.size() % 14 != 0) {
                p.add(".altinstructions is " + s.size() + " bytes, not a multiple of sizeof(struct alt_instr) = 14");
            } else if (s.size() > 0 && elf.section(".altinstr_replacement").isEmpty()) {
                p.add(".altinstructions without .altinstr_replacement (prepare_payload)");
            } else {
                checkAlternativeLengths(s, p);
            }
        });
        if (rules.altCallSites()) {
            elf.section(".alt_call_sites").filter(s -> s.size() % HypervisorRules.ALT_CALL_SIZE != 0)
                    .ifPresent(s -> p.add(".alt_call_sites is " + s.size() + " bytes, not a multiple of sizeof(struct alt_call) = "
                            + HypervisorRules.ALT_CALL_SIZE + " (prepare_payload, Xen " + rules.name() + ")"));
        }
        elf.section(".ex_table").filter(s -> s.size() % 8 != 0)
                .ifPresent(s -> p.add(".ex_table is " + s.size() + " bytes, not a multiple of sizeof(struct exception_table_entry) = 8"));
        elf.section(".modinfo").ifPresent(s -> {
            if (s.size() == 0 || s.isNoBits()) {
                p.add(".modinfo is empty (prepare_payload would read the byte before it)");
            } else if (s.data().u8(s.data().length() - 1) != 0) {
                p.add(".modinfo does not end with a NUL (\"Incorrect metadata format\")");
            }
        });
    }

    // xen/arch/x86/alternative.c: _apply_alternatives (ENOSPC from 4.20, a BUG_ON before)
    private void checkAlternativeLengths(Section s, List<String> p) {
        Bytes d = s.data();
        for (int o = 0; o + HypervisorRules.ALT_INSTR_SIZE <= d.length(); o += HypervisorRules.ALT_INSTR_SIZE) {
            int replLen = d.u8(o + 11);
            int total = d.u8(o + 10) + d.u8(o + 12);
            if (replLen > total || total > HypervisorRules.MAX_ALT_PATCH_LEN) {
                p.add(".altinstructions entry " + o / HypervisorRules.ALT_INSTR_SIZE + ": replacement of " + replLen + " bytes for a site of " + total
                        + " (at most " + HypervisorRules.MAX_ALT_PATCH_LEN + ") (_apply_alternatives: "
                        + (rules.alternativesChecked() ? "ENOSPC" : "BUG_ON, Xen " + rules.name() + " stops") + ")");
            }
        }
    }

    // xen/common/livepatch.c: build_symbol_table, is_payload_symbol
    private void checkNewSymbols(ElfFile elf, Set<Long> newAddrTargets, List<String> p) {
        for (Symbol s : elf.symbols()) {
            if (s.index() == 0 || !s.hasSection() || s.name().isEmpty()) {
                continue;
            }
            Section sec = elf.section(s.shndx());
            if (!sec.isAlloc() || (s.isLocal() && (sec.flags() & Elf.SHF_MERGE) != 0 && s.name().startsWith(".L"))) {
                continue;
            }
            if (newAddrTargets.contains(((long) s.shndx() << 48) ^ s.value())) {
                continue; // the replacement of a function: it may share the old one's name
            }
            if (resolvesAtLoad(s.name())) {
                p.add("symbol " + s.name() + " is new but the hypervisor already has it (build_symbol_table: \"duplicate new symbol\")");
            }
        }
    }
}
