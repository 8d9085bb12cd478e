package org.livepatch.verify;

import static org.livepatch.verify.HypervisorRules.ALT_FLAG_NOT;
import static org.livepatch.verify.HypervisorRules.ALT_INSTR_SIZE;
import static org.livepatch.verify.HypervisorRules.BUG_FRAME_SIZE;
import static org.livepatch.verify.HypervisorRules.ENDBR64_LEN;
import static org.livepatch.verify.HypervisorRules.EX_TABLE_ENTRY_SIZE;
import static org.livepatch.verify.HypervisorRules.KSYM_NAME_LEN;
import static org.livepatch.verify.HypervisorRules.LIVEPATCH_RANGE;
import static org.livepatch.verify.HypervisorRules.MAX_NAME_LENGTH;
import static org.livepatch.verify.HypervisorRules.MAX_PAYLOAD_SIZE;
import static org.livepatch.verify.HypervisorRules.OPAQUE_SIZE;
import static org.livepatch.verify.HypervisorRules.PATCH_INSN_SIZE;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.verify.PayloadElf.SectionHeader;
import org.livepatch.verify.PayloadElf.SymbolEntry;

/**
 * Uploads one payload into a {@link HypervisorModel} with the checks the modelled Xen makes, in
 * its order (xen/common/livepatch.c: livepatch_upload, load_payload_data): ELF structure, layout,
 * symbols, relocations, mandatory and patching sections, funcs/hooks/notes/special sections,
 * the hypervisor build-id and the run-time symbol table. The first failure ends the upload.
 * Where releases differ, the model's {@link HypervisorRules} says how; the wording below is
 * Xen 4.17.5's unless a rule names another release; a message that names the hypervisor names
 * the release whose rules are in force.
 */
final class PayloadLoader {
    private final HypervisorModel hv;
    private final HypervisorRules rules;
    private final String name;
    private final byte[] data;
    private final long base;
    private final List<String> warnings = new ArrayList<>();
    private PayloadElf elf;
    private PayloadLayout layout;
    private PayloadMemory memory;
    private long[] symValue;
    private boolean[] symIgnored;
    private boolean[] symUnresolved;
    private final List<ResolvedRelocation> relocations = new ArrayList<>();

    private PayloadLoader(HypervisorModel hv, String name, byte[] data, long base) {
        this.hv = hv;
        this.rules = hv.rules();
        this.name = name;
        this.data = data;
        this.base = base;
    }

    static LoadedPayload load(HypervisorModel hv, String name, byte[] data, long base) throws PayloadRejectedException {
        return new PayloadLoader(hv, name, data, base).run();
    }

    private PayloadRejectedException reject(RejectReason r, String detail) {
        return new PayloadRejectedException(new Rejection(name, r, detail, rules));
    }

    private LoadedPayload run() throws PayloadRejectedException {
        verifyUpload();
        elf = PayloadElf.parse(name, data, rules);
        Bytes xenDepends = null;
        if (rules.xenBuildIdFirst()) {
            xenDepends = checkXenBuildIdFirst();
        }
        movePayload();
        resolveSymbols();
        performRelocations();
        checkSpecialSections();
        checkPatchingSections();
        List<PatchFunction> funcs = prepareFuncs();
        List<PayloadHook> hooks = prepareHooks();
        Bytes buildId = buildIdNote(PayloadSections.BUILD_ID);
        for (LoadedPayload other : hv.loaded()) {
            if (other.buildId().equals(buildId)) {
                throw reject(RejectReason.ALREADY_LOADED, "Already loaded as " + other.name() + " (same build-id " + buildId.toHex() + ")");
            }
        }
        Bytes depends = buildIdNote(PayloadSections.DEPENDS);
        if (!rules.xenBuildIdFirst()) {
            xenDepends = buildIdNote(PayloadSections.XEN_DEPENDS);
        }
        checkBugFrames();
        checkAlternatives();
        if (rules.altCallSites()) {
            checkAltCallSites();
        }
        checkExTable();
        List<String> metadata = readModinfo();
        // xen/common/livepatch.c: xen_build_id_dep
        if (!rules.xenBuildIdFirst() && !hv.offline() && !hv.xenBuildId().equals(xenDepends)) {
            throw reject(RejectReason.XEN_BUILD_ID_MISMATCH, "check against hypervisor build-id failed: .livepatch.xen_depends is "
                    + xenDepends.toHex() + ", the hypervisor's is " + hv.xenBuildId().toHex());
        }
        List<PayloadSymbol> symbols = buildSymbolTable(funcs);
        return new LoadedPayload(name, data.length, layout, relocations, funcs, hooks, buildId, depends, xenDepends, symbols,
                metadata, safeToReapply(), warnings, memory);
    }

    // xen/common/livepatch.c: verify_payload, get_name, livepatch_upload
    private void verifyUpload() throws PayloadRejectedException {
        // The limit is in bytes (XEN_LIVEPATCH_NAME_SIZE), as the tools pass the name on.
        int nameBytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (name.isEmpty() || nameBytes > MAX_NAME_LENGTH || name.indexOf('\0') >= 0) {
            throw reject(RejectReason.NAME_INVALID, "payload name must have 1 to " + MAX_NAME_LENGTH + " bytes (has " + nameBytes + ")");
        }
        if (data.length == 0 || data.length > MAX_PAYLOAD_SIZE) {
            throw reject(RejectReason.PAYLOAD_SIZE, "payload is " + data.length + " bytes; Xen takes 1 byte to 2 MiB");
        }
        if (hv.find(name) != null) {
            throw reject(RejectReason.DUPLICATE_NAME, "a payload named " + name + " is already loaded");
        }
    }

    /** Xen's per-CPU sections ({@code DEFINE_PER_CPU} and its variants, xen/include/xen/percpu.h). */
    static boolean isPerCpu(String section) {
        return section.startsWith(".bss.percpu") || section.startsWith(".data.percpu");
    }

    // xen/common/livepatch.c: move_payload, calc_section
    private void movePayload() throws PayloadRejectedException {
        long[] regionSize = new long[3];
        long[] offset = new long[elf.sections().size()];
        Region[] region = new Region[elf.sections().size()];
        for (SectionHeader s : elf.sections()) {
            if (s.index() == 0 || !s.isAlloc()) {
                continue;
            }
            Region r;
            if (s.isExec() && !s.isWrite()) {
                r = Region.TEXT;
            } else if (!s.isExec() && s.isWrite()) {
                r = Region.RW;
            } else if (!s.isExec()) {
                r = Region.RO;
            } else {
                throw reject(RejectReason.WRITABLE_TEXT, "Not supporting " + s.name() + " section! (both SHF_WRITE and SHF_EXECINSTR)");
            }
            if (isPerCpu(s.name())) {
                throw reject(RejectReason.PER_CPU_DATA, "section " + s.name() + " holds new per-CPU data: the hypervisor's per-CPU"
                        + " areas cannot grow, so every access would hit unrelated memory (a check beyond Xen's own)");
            }
            if (s.addralign() == 0) {
                // ROUNDUP(x, 0) is 0 in calc_section: the section would overlay the start of its region.
                throw reject(RejectReason.ZERO_ALIGNMENT, "section " + s.name() + " has sh_addralign 0: Xen would place it over the start of the " + r + " region");
            }
            long start = regionSize[r.ordinal()];
            long aligned = start + s.addralign() - 1;
            if (Long.compareUnsigned(s.addralign(), HypervisorModel.XEN_VIRT_SIZE) > 0 || aligned < start) {
                throw reject(RejectReason.PAYLOAD_TOO_LARGE, "section " + s.name() + " alignment 0x" + Long.toHexString(s.addralign()) + " cannot be met in Xen's 1 GiB of address space");
            }
            aligned &= -s.addralign();
            long end = aligned + s.size();
            if (Long.compareUnsigned(s.size(), HypervisorModel.XEN_VIRT_SIZE) > 0 || Long.compareUnsigned(end, HypervisorModel.XEN_VIRT_SIZE) > 0) {
                throw reject(RejectReason.PAYLOAD_TOO_LARGE, "Could not allocate memory for payload: the " + r + " region would exceed 1 GiB at section " + s.name());
            }
            offset[s.index()] = aligned;
            region[s.index()] = r;
            regionSize[r.ordinal()] = end;
        }
        long text = base;
        long rw = text + PayloadLayout.pageAlign(regionSize[Region.TEXT.ordinal()]);
        long ro = rw + PayloadLayout.pageAlign(regionSize[Region.RW.ordinal()]);
        long total = PayloadLayout.pageAlign(regionSize[0]) + PayloadLayout.pageAlign(regionSize[1]) + regionSize[2];
        long pages = (total + PayloadLayout.PAGE_SIZE - 1) / PayloadLayout.PAGE_SIZE;
        long room = HypervisorModel.XEN_VIRT_START + HypervisorModel.XEN_VIRT_SIZE - base;
        if (!hv.offline() && Long.compareUnsigned(pages * PayloadLayout.PAGE_SIZE, room) > 0) {
            throw reject(RejectReason.PAYLOAD_TOO_LARGE, "Could not allocate memory for payload: " + pages + " pages do not fit in Xen's vmap area");
        }
        long[] regionBase = {text, rw, ro};
        List<PlacedSection> placed = new ArrayList<>();
        Map<Integer, Bytes> initial = new HashMap<>();
        for (SectionHeader s : elf.sections()) {
            if (region[s.index()] == null) {
                continue;
            }
            Region r = region[s.index()];
            placed.add(new PlacedSection(s.index(), s.name(), r, regionBase[r.ordinal()] + offset[s.index()], s.size(), s.addralign(), s.isNoBits()));
            if (!s.isNoBits()) {
                initial.put(s.index(), s.data());
            }
        }
        layout = new PayloadLayout(base, text, regionSize[0], rw, regionSize[1], ro, regionSize[2], pages, placed);
        memory = new PayloadMemory(layout, initial);
    }

    // xen/common/livepatch_elf.c: livepatch_elf_resolve_symbols
    private void resolveSymbols() throws PayloadRejectedException {
        List<SymbolEntry> syms = elf.symbols();
        int n = syms.size();
        symValue = new long[n];
        symIgnored = new boolean[n];
        symUnresolved = new boolean[n];
        int shnum = elf.sections().size();
        for (int i = 1; i < n; i++) {
            SymbolEntry s = syms.get(i);
            int idx = s.shndx();
            long value = s.value();
            if (idx == PayloadElf.SHN_COMMON) {
                throw reject(RejectReason.COMMON_SYMBOL, "Unexpected common symbol: " + s.name());
            } else if (idx == Elf.SHN_UNDEF) {
                value = hv.lookup(s.name()).value();
                if (value == 0) {
                    if (!hv.offline()) {
                        throw reject(RejectReason.UNKNOWN_SYMBOL, "Unknown symbol: " + s.name()
                                + " (not in the hypervisor's symbol table nor a new symbol of a loaded payload)");
                    }
                    symUnresolved[i] = true;
                } else if (hv.xenSymbols() != null && hv.xenSymbols().isAmbiguous(s.name())) {
                    if (hv.beforeWriting()) {
                        // A payload this tool is about to write must not bind to a symbol Xen picks
                        // arbitrarily: that could patch or call the wrong one of two equal names.
                        // An existing payload is only warned about (Xen itself accepts it).
                        throw reject(RejectReason.UNKNOWN_SYMBOL, "Ambiguous symbol: " + s.name()
                                + " names several hypervisor symbols and Xen would bind to one of them arbitrarily");
                    }
                    warnings.add("symbol " + s.name() + " names several hypervisor symbols; Xen resolves it to one of them arbitrarily");
                }
            } else if (idx == Elf.SHN_ABS) {
                // Used as it is.
            } else if (idx >= Elf.SHN_LORESERVE) {
                throw reject(RejectReason.SYMBOL_SECTION_RESERVED, "Out of bounds symbol section 0x" + Integer.toHexString(idx) + " (symbol " + s.name() + ")");
            } else if (idx >= shnum) {
                throw reject(RejectReason.SYMBOL_SECTION_OUT_OF_RANGE, "Out of bounds symbol section 0x" + Integer.toHexString(idx) + " (symbol " + s.name() + ")");
            } else if (!elf.sections().get(idx).isAlloc()) {
                symIgnored[i] = true;
            } else {
                value += layout.section(idx).address();
            }
            symValue[i] = value;
        }
    }

    private String symbolName(int i) {
        SymbolEntry s = elf.symbols().get(i);
        if (s.name().isEmpty() && s.type() == Elf.STT_SECTION && s.shndx() > 0 && s.shndx() < elf.sections().size()) {
            return elf.sections().get(s.shndx()).name();
        }
        return s.name();
    }

    // xen/common/livepatch_elf.c: livepatch_elf_perform_relocs; xen/arch/x86/livepatch.c: arch_livepatch_perform_rela
    private void performRelocations() throws PayloadRejectedException {
        int shnum = elf.sections().size();
        for (SectionHeader r : elf.sections()) {
            if (r.index() == 0 || (r.type() != Elf.SHT_RELA && r.type() != Elf.SHT_REL)) {
                continue;
            }
            if (Integer.compareUnsigned(r.info(), shnum) >= 0) {
                continue; // not a valid relocation section: Xen skips it silently
            }
            if (r.info() == 0) {
                throw reject(RejectReason.RELOCATION_TARGET_INVALID, r.name() + " applies to section 0, which Xen " + rules.name() + " never fills in (NULL dereference)");
            }
            SectionHeader target = elf.sections().get(r.info());
            if (!target.isAlloc()) {
                continue;
            }
            if (r.link() != elf.symtabIndex()) {
                throw reject(RejectReason.RELOCATION_LINK, "Relative link of " + r.name() + " is incorrect (" + r.link() + ", expected=" + elf.symtabIndex() + ")");
            }
            long entry = r.type() == Elf.SHT_RELA ? 24 : 16;
            if (r.size() == 0) {
                continue;
            }
            if (Long.compareUnsigned(r.entsize(), entry) < 0 || Long.remainderUnsigned(r.size(), r.entsize()) != 0) {
                throw reject(RejectReason.RELOCATION_HEADER_CORRUPT, "Section relative header is corrupted: " + r.name() + " has sh_entsize " + r.entsize() + " and sh_size " + r.size());
            }
            if (r.type() == Elf.SHT_REL) {
                throw reject(RejectReason.REL_UNSUPPORTED, "SHT_REL relocation unsupported (" + r.name() + ")");
            }
            PlacedSection base = layout.section(target.index());
            long count = r.size() / r.entsize();
            for (long i = 0; i < count; i++) {
                int o = (int) (i * r.entsize());
                long rOffset = r.data().u64(o);
                long info = r.data().u64(o + 8);
                long addend = r.data().u64(o + 16);
                long symndx = info >>> 32;
                int type = (int) info;
                if (symndx == 0) {
                    throw reject(RejectReason.RELOCATION_STN_UNDEF, "Encountered STN_UNDEF in entry " + i + " of " + r.name());
                }
                if (symndx >= elf.symbols().size()) {
                    throw reject(RejectReason.RELOCATION_SYMBOL_OUT_OF_RANGE, "Relative relocation wants symbol@" + symndx + " which is past end (entry " + i + " of " + r.name() + ")");
                }
                int sym = (int) symndx;
                if (symIgnored[sym]) {
                    throw reject(RejectReason.RELOCATION_AGAINST_IGNORED_SYMBOL, "Relocation against ignored symbol " + symbolName(sym)
                            + " cannot be resolved (it is in the non-allocated section " + elf.sections().get(elf.symbols().get(sym).shndx()).name() + ", entry " + i + " of " + r.name() + ")");
                }
                long val = addend + symValue[sym];
                long place = base.address() + rOffset;
                String typeName = RelocationTypes.name(Elf.EM_X86_64, type);
                switch (type) {
                    case RelocationTypes.R_X86_64_NONE -> {
                        continue;
                    }
                    case RelocationTypes.R_X86_64_64 -> {
                        checkOffset(r, target, rOffset, 8, i);
                        memory.write(target.index(), rOffset, PayloadMemory.le(val, 8));
                    }
                    case RelocationTypes.R_X86_64_PC32, RelocationTypes.R_X86_64_PLT32 -> {
                        checkOffset(r, target, rOffset, 4, i);
                        val -= place;
                        if (val != (int) val && !symUnresolved[sym] && hv.placementKnown()) {
                            throw reject(RejectReason.RELOCATION_OVERFLOW, "Overflow in relocation " + i + " in " + r.name() + " for " + target.name()
                                    + ": " + typeName + " against " + symbolName(sym) + " needs 0x" + Long.toHexString(val)
                                    + ", more than a signed 32-bit displacement (the payload is placed at 0x" + Long.toHexString(base.address()) + ")");
                        }
                        memory.write(target.index(), rOffset, PayloadMemory.le(val, 4));
                        val = (int) val;
                    }
                    default -> throw reject(RejectReason.RELOCATION_TYPE_UNSUPPORTED, "Unhandled relocation " + Integer.toUnsignedString(type) + " (" + typeName
                            + ") in entry " + i + " of " + r.name() + " against " + symbolName(sym) + "; x86 payloads may only use R_X86_64_NONE, _64, _PC32 and _PLT32");
                }
                relocations.add(new ResolvedRelocation(target.name(), rOffset, typeName, symbolName(sym), addend, place, symValue[sym], val, !symUnresolved[sym]));
            }
        }
    }

    private void checkOffset(SectionHeader r, SectionHeader target, long rOffset, int width, long entry) throws PayloadRejectedException {
        if (Long.compareUnsigned(rOffset, target.size()) >= 0 || Long.compareUnsigned(rOffset + width, target.size()) > 0) {
            throw reject(RejectReason.RELOCATION_OFFSET_OUT_OF_SECTION, "Relative relocation offset is past " + target.name() + " section (entry " + entry
                    + " of " + r.name() + " writes " + width + " bytes at 0x" + Long.toHexString(rOffset) + ", the section has 0x" + Long.toHexString(target.size()) + ")");
        }
    }

    /** A section Xen reads through its load address: it must have been loaded (SHF_ALLOC), or Xen dereferences NULL. */
    private PlacedSection loadedSection(SectionHeader s) throws PayloadRejectedException {
        PlacedSection p = layout.section(s.index());
        if (p == null) {
            throw reject(RejectReason.SECTION_NOT_LOADED, s.name() + " is not SHF_ALLOC, so Xen never loads it but reads it through a NULL load address");
        }
        return p;
    }

    // xen/common/livepatch.c: check_special_sections
    private void checkSpecialSections() throws PayloadRejectedException {
        // From 4.20 .livepatch.xen_depends is checked before everything else (checkXenBuildIdFirst).
        List<String> names = rules.xenBuildIdFirst() ? List.of(PayloadSections.DEPENDS, PayloadSections.BUILD_ID)
                : List.of(PayloadSections.DEPENDS, PayloadSections.XEN_DEPENDS, PayloadSections.BUILD_ID);
        for (String n : names) {
            SectionHeader s = elf.sectionNamed(n);
            if (s == null) {
                throw reject(RejectReason.SECTION_MISSING, n + " is missing");
            }
            if (s.size() == 0) {
                throw reject(RejectReason.SECTION_EMPTY, n + " is empty");
            }
        }
    }

    // xen/common/livepatch.c: check_patching_sections
    private void checkPatchingSections() throws PayloadRejectedException {
        List<String> names = new ArrayList<>();
        names.add(PayloadSections.FUNCS);
        names.addAll(PayloadSections.HOOKS);
        boolean found = false;
        for (String n : names) {
            SectionHeader s = elf.sectionNamed(n);
            if (s == null) {
                continue;
            }
            if (s.size() == 0) {
                throw reject(RejectReason.SECTION_EMPTY, n + " is empty");
            }
            found = true;
        }
        if (!found) {
            throw reject(RejectReason.NOTHING_TO_PATCH, "Nothing to patch. Aborting... (no .livepatch.funcs and no .livepatch.hooks.* section)");
        }
    }

    // xen/common/livepatch.c: prepare_payload, resolve_old_address; xen/arch/x86/livepatch.c: arch_livepatch_verify_func;
    // xen/include/xen/livepatch.h: livepatch_verify_distance
    private List<PatchFunction> prepareFuncs() throws PayloadRejectedException {
        SectionHeader sec = elf.sectionNamed(PayloadSections.FUNCS);
        if (sec == null) {
            return List.of();
        }
        FuncLayout funcLayout = hv.funcLayout();
        int size = funcLayout.size();
        requireWholeEntries(sec, size, RejectReason.FUNCS_SIZE);
        PlacedSection placed = loadedSection(sec);
        byte[] b = memory.section(sec.index());
        List<PatchFunction> funcs = new ArrayList<>();
        for (int i = 0; i < sec.size() / size; i++) {
            int o = i * size;
            long namePtr = PayloadMemory.u64(b, o + FuncLayout.NAME);
            long newAddr = PayloadMemory.u64(b, o + FuncLayout.NEW_ADDR);
            long oldAddr = PayloadMemory.u64(b, o + FuncLayout.OLD_ADDR);
            long newSize = PayloadMemory.u32(b, o + FuncLayout.NEW_SIZE);
            long oldSize = PayloadMemory.u32(b, o + FuncLayout.OLD_SIZE);
            int version = b[o + FuncLayout.VERSION] & 0xff;
            int head = funcLayout == FuncLayout.V2 ? b[o + FuncLayout.V2.expectOffset()] & 0xff : 0;
            String where = "entry " + i + " of .livepatch.funcs (at 0x" + Long.toHexString(placed.address() + o) + ")";
            String fname = readString(namePtr);
            String label = fname != null ? fname : where;
            if (version != funcLayout.version()) {
                throw reject(RejectReason.FUNC_VERSION, "Wrong version (" + version + "). Expected " + funcLayout.version() + " (" + label + ")");
            }
            if (funcLayout == FuncLayout.V2) {
                for (int k = FuncLayout.VERSION + 1; k < funcLayout.expectOffset(); k++) {
                    if (b[o + k] != 0) {
                        throw reject(RejectReason.FUNC_RESERVED_NOT_ZERO, label + ": reserved byte " + k + " of its .livepatch.funcs entry is not zero"
                                + " (Xen 4.14 to 4.17.2 kept their own state there; a non-zero 'applied' byte makes them skip the function)");
                    }
                }
            }
            if (oldSize == 0) {
                throw reject(RejectReason.FUNC_ZERO_SIZE, "Address or size fields are zero: old_size of " + label + " is 0");
            }
            String source = "payload";
            if (oldAddr == 0) {
                if (namePtr == 0) {
                    throw reject(RejectReason.FUNC_NAME_UNREADABLE, where + " has neither old_addr nor name: Xen " + rules.name() + " would look up a NULL name");
                }
                if (fname == null) {
                    throw reject(RejectReason.FUNC_NAME_UNREADABLE, "the name of " + where + " points to 0x" + Long.toHexString(namePtr)
                            + ", not to a NUL-terminated string in the payload or the hypervisor");
                }
                HypervisorModel.Resolution res = hv.lookup(fname);
                if (res.value() == 0 && !hv.offline()) {
                    throw reject(RejectReason.OLD_ADDRESS_UNRESOLVED, "Could not resolve old address of " + fname);
                }
                oldAddr = res.value();
                source = res.value() == 0 ? "unresolved" : res.source();
            }
            int patchOffset = 0;
            boolean unmodelled = HypervisorModel.LOWER_PAYLOADS.equals(source);
            if (!hv.offline() && oldAddr != 0 && !unmodelled) {
                byte[] first = hv.read(oldAddr, ENDBR64_LEN);
                if (first == null) {
                    throw reject(RejectReason.OLD_ADDRESS_UNMAPPED, "old_addr 0x" + Long.toHexString(oldAddr) + " of " + label
                            + " is in no section of xen-syms or a loaded payload; Xen would read from it");
                }
                if (HypervisorRules.startsWithEndbr64(Bytes.copyOf(first))) {
                    patchOffset = ENDBR64_LEN;
                }
            }
            if (newAddr == 0) {
                if (newSize > OPAQUE_SIZE) {
                    throw reject(RejectReason.NOP_TOO_LARGE, label + ": NOP patch of " + newSize + " bytes; at most " + OPAQUE_SIZE);
                }
                if (oldSize < newSize) {
                    throw reject(RejectReason.NOP_LARGER_THAN_OLD, label + ": NOP patch of " + newSize + " bytes is larger than the old function (" + oldSize + " bytes)");
                }
                if (newSize < patchOffset) {
                    throw reject(RejectReason.NOP_SHORTER_THAN_ENDBR, label + ": NOP patch of " + newSize + " bytes on a function starting with ENDBR64: the patch length "
                            + newSize + "-4 underflows");
                }
            } else {
                int needed = PATCH_INSN_SIZE + patchOffset;
                if (!hv.offline() && !unmodelled && oldSize < needed) {
                    throw reject(RejectReason.OLD_FUNCTION_TOO_SMALL, label + " is " + oldSize + " bytes, too small for the " + needed + "-byte jump"
                            + (patchOffset > 0 ? " (5-byte jmp after its 4-byte ENDBR64)" : ""));
                }
                long room = hv.offline() || unmodelled ? -1 : hv.functionRoom(oldAddr);
                if (room >= 0 && oldSize > room) {
                    throw reject(RejectReason.OLD_SIZE_PAST_FUNCTION, label + ": old_size " + oldSize + " is larger than the " + room
                            + " bytes of the function at 0x" + Long.toHexString(oldAddr) + " in xen-syms");
                }
                long distance = oldAddr - newAddr;
                if (!hv.offline() && hv.placementKnown() && oldAddr != 0 && (distance < -LIVEPATCH_RANGE || distance >= LIVEPATCH_RANGE)) {
                    throw reject(RejectReason.PATCH_OUT_OF_RANGE, label + ": new code at 0x" + Long.toHexString(newAddr) + " is more than 2 GiB from the old function at 0x"
                            + Long.toHexString(oldAddr));
                }
                if (!layout.inText(newAddr, Math.max(1, newSize))) {
                    warnings.add(label + ": new_addr 0x" + Long.toHexString(newAddr) + "+" + newSize + " is not inside the payload's text");
                }
            }
            byte[] expect = null;
            if ((head & 1) != 0) {
                int len = (head >> 1) & 0x1f;
                expect = new byte[len];
                System.arraycopy(b, o + FuncLayout.V2.expectOffset() + 1, expect, 0, len);
            }
            funcs.add(new PatchFunction(i, fname, newAddr, oldAddr, newSize, oldSize, version, source, patchOffset,
                    newAddr == 0 ? null : symbolAt(newAddr), expect, head >> 6));
        }
        checkNotPatchedTwice(funcs);
        return funcs;
    }

    /**
     * Two entries patching overlapping bytes of one function: Xen 4.17.5 applies both, saving the
     * first jump as the "original" bytes of the second, and reverting in entry order then leaves
     * that jump to freed payload code in place.
     */
    private void checkNotPatchedTwice(List<PatchFunction> funcs) throws PayloadRejectedException {
        for (int i = 0; i < funcs.size(); i++) {
            PatchFunction a = funcs.get(i);
            for (int j = i + 1; j < funcs.size(); j++) {
                PatchFunction c = funcs.get(j);
                if (a.oldAddr() == 0 || c.oldAddr() == 0) {
                    continue;
                }
                boolean aBelow = HypervisorModel.LOWER_PAYLOADS.equals(a.oldAddrSource());
                boolean cBelow = HypervisorModel.LOWER_PAYLOADS.equals(c.oldAddrSource());
                if (aBelow || cBelow) {
                    // Functions of payloads below are known by name only, all at one stand-in address.
                    if (aBelow && cBelow && a.name().equals(c.name())) {
                        throw reject(RejectReason.PATCHED_TWICE, "function " + c.name() + " of a payload below is patched by entries "
                                + a.index() + " and " + c.index() + " of .livepatch.funcs");
                    }
                    continue;
                }
                long aStart = a.oldAddr() + a.patchOffset();
                long cStart = c.oldAddr() + c.patchOffset();
                if (a.oldAddr() == c.oldAddr() || (aStart < cStart + c.patchLength() && cStart < aStart + a.patchLength())) {
                    throw reject(RejectReason.PATCHED_TWICE, "function " + c.name() + " at 0x" + Long.toHexString(c.oldAddr()) + " is patched by entries "
                            + a.index() + " and " + c.index() + " of .livepatch.funcs");
                }
            }
        }
    }

    /** A string in this payload's memory, else in the hypervisor or another payload; null if unreadable. */
    private String readString(long addr) {
        if (addr == 0) {
            return null;
        }
        String s = memory.cString(addr, 4096);
        if (s != null) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4096; i++) {
            byte[] c = hv.read(addr + i, 1);
            if (c == null) {
                return null;
            }
            if (c[0] == 0) {
                return sb.toString();
            }
            sb.append((char) (c[0] & 0xff));
        }
        return null;
    }

    /** The name of a payload symbol whose resolved value is {@code addr}, preferring functions. */
    private String symbolAt(long addr) {
        String best = null;
        for (SymbolEntry s : elf.symbols()) {
            if (s.index() == 0 || s.name().isEmpty() || symValue[s.index()] != addr || s.shndx() == Elf.SHN_UNDEF || s.type() == Elf.STT_SECTION) {
                continue;
            }
            if (s.type() == Elf.STT_FUNC) {
                return s.name();
            }
            if (best == null) {
                best = s.name();
            }
        }
        return best;
    }

    // xen/common/livepatch.c: LIVEPATCH_ASSIGN_MULTI_HOOK, LIVEPATCH_ASSIGN_SINGLE_HOOK
    private List<PayloadHook> prepareHooks() throws PayloadRejectedException {
        List<PayloadHook> hooks = new ArrayList<>();
        for (String n : PayloadSections.HOOKS) {
            SectionHeader s = elf.sectionNamed(n);
            if (s == null) {
                continue;
            }
            boolean multi = n.equals(PayloadSections.HOOK_LOAD) || n.equals(PayloadSections.HOOK_UNLOAD);
            requireWholeEntries(s, PayloadSections.HOOK_ENTRY_SIZE, RejectReason.HOOK_SECTION_SIZE);
            if (!multi && s.size() != PayloadSections.HOOK_ENTRY_SIZE) {
                throw reject(RejectReason.HOOK_SECTION_SIZE, n + " holds " + s.size() / 8 + " pointers; a single hook section holds exactly one");
            }
            loadedSection(s);
            byte[] b = memory.section(s.index());
            for (int o = 0; o + 8 <= b.length; o += 8) {
                long addr = PayloadMemory.u64(b, o);
                hooks.add(new PayloadHook(n, addr, addr == 0 ? null : symbolAt(addr)));
            }
        }
        return hooks;
    }

    // xen/common/livepatch.c: prepare_payload (4.20: parse_buildid); xen/common/version.c: xen_build_id_check
    private Bytes buildIdNote(String sectionName) throws PayloadRejectedException {
        SectionHeader s = elf.sectionNamed(sectionName);
        if (s.size() <= BuildIdNoteCheck.HEADER_SIZE) {
            throw reject(RejectReason.BUILD_ID_NOTE_INVALID, sectionName + " is " + s.size() + " bytes, too small for a note");
        }
        loadedSection(s);
        Bytes b = Bytes.copyOf(memory.section(s.index()));
        BuildIdNoteCheck.Result r = BuildIdNoteCheck.check(b);
        if (!r.accepted()) {
            // 4.20's parse_buildid passes xen_build_id_check's ENODATA on; 4.17 made every failure EINVAL.
            RejectReason reason = rules.buildIdErrnoPassedOn() && r.problem().enodata() ? RejectReason.BUILD_ID_NOTE_NO_DATA
                    : RejectReason.BUILD_ID_NOTE_INVALID;
            throw reject(reason, sectionName + ": " + noteProblem(r));
        }
        return r.id(b);
    }

    /** The loader's wording of a refused build-id note. */
    private static String noteProblem(BuildIdNoteCheck.Result r) {
        return switch (r.problem()) {
            case TOO_SMALL -> "is " + r.size() + " bytes, too small for a note";
            case WRONG_TYPE -> "note type " + r.type() + " is not NT_GNU_BUILD_ID (3)";
            case NAME_TOO_SHORT -> "note name size " + r.namesz() + " is shorter than \"GNU\\0\"";
            case OVERRUNS -> "note name (" + r.namesz() + ") and descriptor (" + r.descsz() + ") exceed the section's "
                    + (r.size() - BuildIdNoteCheck.HEADER_SIZE) + " bytes";
            case NOT_GNU -> "note name is not \"GNU\"";
            case EMPTY -> "build-id is empty";
            case DESCRIPTOR_PAST_END -> "the descriptor runs past the section once the name is padded to 4 bytes";
        };
    }

    /**
     * Xen 4.20 and later (xen/common/livepatch.c: check_xen_buildid, called by load_payload_data
     * straight after livepatch_elf_load): .livepatch.xen_depends must exist, be a build-id note
     * and match the hypervisor's before anything else is looked at. It is read from the uploaded
     * file, so it need not be SHF_ALLOC. Every failure is EINVAL.
     */
    private Bytes checkXenBuildIdFirst() throws PayloadRejectedException {
        String n = PayloadSections.XEN_DEPENDS;
        SectionHeader s = elf.sectionNamed(n);
        if (s == null) {
            throw reject(RejectReason.SECTION_MISSING, n + " is missing (checked first, before layout and symbols, since Xen 4.20)");
        }
        BuildIdNoteCheck.Result r = BuildIdNoteCheck.check(s.data());
        if (!r.accepted()) {
            throw reject(RejectReason.BUILD_ID_NOTE_INVALID, "failed to parse section " + n + " as build-id: " + noteProblem(r));
        }
        Bytes id = r.id(s.data());
        if (!hv.offline() && !hv.xenBuildId().equals(id)) {
            throw reject(RejectReason.XEN_BUILD_ID_MISMATCH, "build-id mismatch: .livepatch.xen_depends is " + id.toHex()
                    + ", the hypervisor's is " + hv.xenBuildId().toHex() + " (checked first, before layout and symbols, since Xen 4.20)");
        }
        return id;
    }

    // xen/common/livepatch.c: section_ok. Xen checks every table section it reads the same way; the
    // reason differs only so that a refusal names the table.
    private void requireWholeEntries(SectionHeader s, long entrySize, RejectReason reason) throws PayloadRejectedException {
        if (Long.remainderUnsigned(s.size(), entrySize) != 0) {
            throw reject(reason, "Wrong size " + s.size() + " of " + s.name() + " (must be multiple of " + entrySize + ")");
        }
    }

    // xen/common/livepatch.c: prepare_payload (.bug_frames.N, BUGFRAME_NR = 4 on x86)
    private void checkBugFrames() throws PayloadRejectedException {
        for (int i = 0; i < 4; i++) {
            SectionHeader s = elf.sectionNamed(".bug_frames." + i);
            if (s == null) {
                continue;
            }
            requireWholeEntries(s, BUG_FRAME_SIZE, RejectReason.BUG_FRAMES_SIZE);
            loadedSection(s);
        }
    }

    // xen/common/livepatch.c: prepare_payload (.altinstructions, struct alt_instr of 14 bytes)
    private void checkAlternatives() throws PayloadRejectedException {
        SectionHeader s = elf.sectionNamed(".altinstructions");
        if (s == null) {
            return;
        }
        requireWholeEntries(s, ALT_INSTR_SIZE, RejectReason.ALTERNATIVES_INVALID);
        if (s.size() == 0) {
            return;
        }
        PlacedSection alt = loadedSection(s);
        if (layout.textSize() == 0) {
            throw reject(RejectReason.ALTERNATIVES_INVALID, "Alternatives provided, but no .text");
        }
        SectionHeader replHeader = elf.sectionNamed(".altinstr_replacement");
        if (replHeader == null) {
            throw reject(RejectReason.ALTERNATIVES_INVALID, ".altinstructions provided, but no .altinstr_replacement");
        }
        PlacedSection repl = loadedSection(replHeader);
        byte[] b = memory.section(s.index());
        for (int o = 0; o < b.length; o += ALT_INSTR_SIZE) {
            long a = alt.address() + o;
            long orig = a + (int) PayloadMemory.u32(b, o);
            long replAddr = a + 4 + (int) PayloadMemory.u32(b, o + 4);
            int origLen = b[o + 10] & 0xff;
            int replLen = b[o + 11] & 0xff;
            if (!layout.inText(orig, origLen)) {
                throw reject(RejectReason.ALTERNATIVES_INVALID, "Alternative orig 0x%x+0x%x outside payload text 0x%x+0x%x (entry %d)"
                        .formatted(orig, origLen, layout.textAddr(), layout.textSize(), o / ALT_INSTR_SIZE));
            }
            if (!repl.contains(replAddr, replLen)) {
                throw reject(RejectReason.ALTERNATIVES_INVALID, "Alternative repl 0x%x+0x%x outside .altinstr_replacement 0x%x+0x%x (entry %d)"
                        .formatted(replAddr, replLen, repl.address(), repl.size(), o / ALT_INSTR_SIZE));
            }
        }
        // xen/arch/x86/alternative.c: _apply_alternatives, run on the whole table after the bounds
        // above; each entry's lengths, then its feature (4.20+ return an error, 4.17 has a BUG_ON for each).
        String bug = rules.alternativesChecked() ? "" : " (Xen " + rules.name() + " does not refuse this: a BUG_ON in _apply_alternatives stops the host)";
        CpuFeatureWords features = hv.cpuFeatures();
        for (int o = 0; o < b.length; o += ALT_INSTR_SIZE) {
            int origLen = b[o + 10] & 0xff;
            int replLen = b[o + 11] & 0xff;
            int total = origLen + (b[o + 12] & 0xff);
            String problem = replLen > total ? "replacement size 0x%x larger than origin 0x%x".formatted(replLen, total)
                    : total > HypervisorRules.MAX_ALT_PATCH_LEN ? "origin size 0x%x bigger than buffer 0x%x".formatted(total, HypervisorRules.MAX_ALT_PATCH_LEN)
                    : null;
            if (problem != null) {
                throw reject(RejectReason.ALTERNATIVE_TOO_LONG, "Alt entry " + o / ALT_INSTR_SIZE + ": " + problem + bug);
            }
            // cpuid: the feature number, its top bit (ALT_FLAG_NOT) the polarity.
            int feature = PayloadMemory.u16(b, o + 8) & ~ALT_FLAG_NOT;
            if (feature >= features.limit()) {
                throw reject(RejectReason.ALTERNATIVE_FEATURE_OUT_OF_RANGE, "Alt entry %d: feature 0x%x outside of featureset range 0x%x (%s)%s"
                        .formatted(o / ALT_INSTR_SIZE, feature, features.limit(), features.describe(), bug));
            }
        }
        warnings.add("Xen applies this payload's " + b.length / ALT_INSTR_SIZE + " alternatives at upload; their effect depends on the CPU and is not modelled");
    }

    /**
     * Xen 4.21 and later (xen/common/livepatch.c: prepare_payload; xen/arch/x86/alternative.c:
     * apply_alt_calls): each 4-byte entry is a rel32 to a 6-byte {@code call *disp32(%rip)}
     * inside the payload's text, which Xen turns into a direct call at upload. Every failure is EINVAL.
     */
    private void checkAltCallSites() throws PayloadRejectedException {
        SectionHeader s = elf.sectionNamed(".alt_call_sites");
        if (s == null) {
            return;
        }
        requireWholeEntries(s, HypervisorRules.ALT_CALL_SIZE, RejectReason.ALT_CALL_SITES_INVALID);
        if (s.size() == 0) {
            return; // "Tolerate an empty .alt_call_sites section"
        }
        PlacedSection sites = loadedSection(s);
        if (layout.textSize() == 0) {
            throw reject(RejectReason.ALT_CALL_SITES_INVALID, "Alternative calls provided, but no .text");
        }
        byte[] b = memory.section(s.index());
        for (int o = 0; o < b.length; o += HypervisorRules.ALT_CALL_SIZE) {
            long orig = sites.address() + o + (int) PayloadMemory.u32(b, o);
            if (!layout.inText(orig, HypervisorRules.ALT_CALL_LEN)) {
                throw reject(RejectReason.ALT_CALL_SITES_INVALID, "Alternative call 0x%x+0x%x outside payload text 0x%x+0x%x (entry %d)"
                        .formatted(orig, HypervisorRules.ALT_CALL_LEN, layout.textAddr(), layout.textSize(), o / HypervisorRules.ALT_CALL_SIZE));
            }
            byte[] insn = memory.read(orig, 2);
            if (insn == null || (insn[0] & 0xff) != 0xff || (insn[1] & 0xff) != 0x15) {
                throw reject(RejectReason.ALT_CALL_SITES_INVALID, "Altcall at 0x%x (entry %d) is not CALL *RIPREL (ff 15)"
                        .formatted(orig, o / HypervisorRules.ALT_CALL_SIZE));
            }
        }
        warnings.add("Xen turns this payload's " + b.length / HypervisorRules.ALT_CALL_SIZE
                + " alternative calls into direct calls at upload, through function pointers read then; that is not modelled");
    }

    // xen/common/livepatch.c: prepare_payload (.ex_table)
    private void checkExTable() throws PayloadRejectedException {
        SectionHeader s = elf.sectionNamed(".ex_table");
        if (s == null) {
            return;
        }
        requireWholeEntries(s, EX_TABLE_ENTRY_SIZE, RejectReason.EX_TABLE_SIZE);
        loadedSection(s);
    }

    // xen/common/livepatch.c: prepare_payload (.modinfo)
    private List<String> readModinfo() throws PayloadRejectedException {
        SectionHeader s = elf.sectionNamed(".modinfo");
        if (s == null) {
            return List.of();
        }
        if (s.size() == 0) {
            throw reject(RejectReason.MODINFO_FORMAT, "Incorrect metadata format detected: .modinfo is empty (Xen " + rules.name() + " would read the byte before it)");
        }
        loadedSection(s);
        byte[] b = memory.section(s.index());
        if (b[b.length - 1] != 0) {
            throw reject(RejectReason.MODINFO_FORMAT, "Incorrect metadata format detected: .modinfo does not end with NUL");
        }
        List<String> list = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                if (i > start) {
                    list.add(new String(b, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                }
                start = i + 1;
            }
        }
        return list;
    }

    // xen/common/livepatch.c: is_payload_symbol, build_symbol_table
    private List<PayloadSymbol> buildSymbolTable(List<PatchFunction> funcs) throws PayloadRejectedException {
        List<PayloadSymbol> list = new ArrayList<>();
        int shnum = elf.sections().size();
        for (SymbolEntry s : elf.symbols()) {
            if (s.index() == 0 || s.shndx() == Elf.SHN_UNDEF || s.shndx() >= shnum) {
                continue;
            }
            SectionHeader sec = elf.sections().get(s.shndx());
            if (!sec.isAlloc() || s.name().isEmpty() || (sec.flags() & Elf.SHF_MERGE) != 0 && s.name().startsWith(".L")) {
                continue;
            }
            String n = s.name().length() > KSYM_NAME_LEN - 1 ? s.name().substring(0, KSYM_NAME_LEN - 1) : s.name();
            long value = symValue[s.index()];
            boolean isNew = true;
            for (PatchFunction f : funcs) {
                if (f.newAddr() == value) {
                    isNew = false;
                    break;
                }
            }
            if (isNew) {
                HypervisorModel.Resolution clash = hv.lookup(n);
                if (clash.value() != 0) {
                    throw reject(RejectReason.DUPLICATE_SYMBOL, "duplicate new symbol: " + n + " (already defined by " + clash.source() + " at 0x" + Long.toHexString(clash.value()) + ")");
                }
            }
            list.add(new PayloadSymbol(n, value, s.size(), isNew));
        }
        return list;
    }

    // xen/common/livepatch.c: move_payload — only one non-empty RW section, and it is .livepatch.funcs, or none.
    private boolean safeToReapply() {
        int count = 0;
        String only = null;
        for (PlacedSection s : layout.sections()) {
            if (s.region() == Region.RW && s.size() > 0) {
                count++;
                only = s.name();
            }
        }
        return count == 0 || count == 1 && PayloadSections.FUNCS.equals(only);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
