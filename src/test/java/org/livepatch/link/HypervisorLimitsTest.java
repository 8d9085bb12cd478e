package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.verify.Rejection;
import org.livepatch.xen.XenSymbolTable;

/**
 * Each hypervisor check on its own, as the assembler makes it (through the verifier's loader): a
 * good payload is changed in one way and exactly that refusal, with its errno, must be reported
 * (and nothing for the good one).
 */
class HypervisorLimitsTest {
    static XenSymbolTable xen;
    static ElfFile good;
    static byte[] goodBytes;
    static HypervisorLimits limits;

    /** The refusal as the tests write it ("REASON, ERRNO (n): detail"); an empty list when the payload would load. */
    static List<String> problems(HypervisorLimits limits, String name, byte[] bytes) {
        return limits.refusal(name, bytes).map(Rejection::describe).stream().toList();
    }

    @BeforeAll
    static void build() throws Exception {
        LinkFixture fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        var p = new PayloadAssembler(xen).assemble(List.of(fx.object("payload_main"), fx.object("payload_helper")), "good",
                PayloadAssembler.Options.defaults());
        goodBytes = p.bytes().toArray();
        good = ElfReader.read(Path.of("good.livepatch"), goodBytes);
        limits = new HypervisorLimits(xen, FuncLayout.V2);
    }

    private static List<String> problemsAfter(Consumer<ObjectBuilder> change) throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
        change.accept(b);
        byte[] bytes = b.toBytes();
        return problems(limits, "changed", bytes);
    }

    private static ObjectBuilder.SectionHandle sec(ObjectBuilder b, String name) {
        return b.sections().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    private static void editFuncs(ObjectBuilder b, int offset, int value) {
        ObjectBuilder.SectionHandle f = sec(b, PayloadSections.FUNCS);
        byte[] d = f.data().toArray();
        d[offset] = (byte) value;
        b.setData(f, Bytes.copyOf(d));
    }

    @Test
    void theGoodPayloadHasNoProblem() {
        assertEquals(List.of(), problems(limits, "good", goodBytes));
    }

    @Test
    void uploadLimits() {
        String longName = "n".repeat(128);
        assertEquals(List.of("NAME_INVALID, EINVAL (22): payload name must have 1 to 127 bytes (has 128)"),
                problems(limits, longName, goodBytes));
        assertEquals(List.of(), problems(limits, "n".repeat(127), goodBytes));
        assertEquals(List.of("PAYLOAD_SIZE, EINVAL (22): payload is 2097153 bytes; Xen takes 1 byte to 2 MiB"),
                problems(limits, "good", java.util.Arrays.copyOf(goodBytes, (2 << 20) + 1)));
    }

    @Test
    void mandatorySectionsAndBuildIds() throws Exception {
        assertEquals(List.of("SECTION_MISSING, EINVAL (22): .livepatch.xen_depends is missing"),
                problemsAfter(b -> b.removeSection(sec(b, PayloadSections.XEN_DEPENDS))));
        String other = "00".repeat(20);
        List<String> p = problemsAfter(b -> b.setData(sec(b, PayloadSections.XEN_DEPENDS), BuildIdNote.ofHex(other).encode()));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith("XEN_BUILD_ID_MISMATCH, EINVAL (22): check against hypervisor build-id failed: .livepatch.xen_depends is " + other + ", "), p.get(0));
        assertEquals(List.of("BUILD_ID_NOTE_INVALID, EINVAL (22): .livepatch.depends: note type 1 is not NT_GNU_BUILD_ID (3)"),
                problemsAfter(b -> {
                    byte[] d = sec(b, PayloadSections.DEPENDS).data().toArray();
                    d[8] = 1;
                    b.setData(sec(b, PayloadSections.DEPENDS), Bytes.copyOf(d));
                }));
    }

    @Test
    void funcsEntries() throws Exception {
        assertEquals(List.of("FUNC_VERSION, EOPNOTSUPP (95): Wrong version (1). Expected 2 (patch_me)"),
                problemsAfter(b -> editFuncs(b, 32, 1)));
        assertEquals(List.of("FUNC_RESERVED_NOT_ZERO, EINVAL (22): patch_me: reserved byte 64 of its .livepatch.funcs entry is not zero"
                        + " (Xen 4.14 to 4.17.2 kept their own state there; a non-zero 'applied' byte makes them skip the function)"),
                problemsAfter(b -> editFuncs(b, 64, 1)));
        assertEquals(List.of("OLD_FUNCTION_TOO_SMALL, EINVAL (22): patch_me is 4 bytes, too small for the 9-byte jump (5-byte jmp after its 4-byte ENDBR64)"),
                problemsAfter(b -> editFuncs(b, 28, 4)));
        long extent = xen.extentOf(xen.global("patch_me"));
        assertEquals(List.of("OLD_SIZE_PAST_FUNCTION, EINVAL (22): patch_me: old_size 200 is larger than the " + extent + " bytes of the function at 0x"
                        + Long.toHexString(xen.global("patch_me").address()) + " in xen-syms"),
                problemsAfter(b -> editFuncs(b, 28, 200)));
        // An expectation (enabled, 8 bytes) is fine; one longer than old_size is not.
        assertEquals(List.of(), problemsAfter(b -> editFuncs(b, 72, 1 | 8 << 1)));
        assertEquals(List.of("EXPECTATION_LONGER_THAN_OLD, ERANGE (34): expectations of patch_me failed: expects 31 bytes of a 16-byte function"),
                problemsAfter(b -> {
                    editFuncs(b, 28, 16);
                    editFuncs(b, 72, 1 | 31 << 1);
                }));
        assertEquals(List.of("FUNCS_SIZE, EINVAL (22): Wrong size 103 of .livepatch.funcs (must be multiple of 104)"),
                problemsAfter(b -> b.setData(sec(b, PayloadSections.FUNCS), sec(b, PayloadSections.FUNCS).data().slice(0, 103))));
        assertEquals(List.of("FUNCS_SIZE, EINVAL (22): Wrong size 104 of .livepatch.funcs (must be multiple of 64)"),
                problems(new HypervisorLimits(xen, FuncLayout.V1), "good", goodBytes));
    }

    @Test
    void symbolsRelocationsAndSections() throws Exception {
        assertEquals(List.of("UNKNOWN_SYMBOL, ENOENT (2): Unknown symbol: not_in_xen (not in the hypervisor's symbol table nor a new symbol of a loaded payload)"),
                problemsAfter(b -> b.addSpecialSymbol("not_in_xen", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0)));
        // dup.c is compiled twice into the fixture's xen-syms, so its static has one run-time name
        // at two addresses: Xen's lookup by name
        // would pick one arbitrarily, so a payload binding to it is never written.
        List<String> ambiguous = problems(limits, "x", withUndefined("dup.c#dup_counter"));
        assertEquals(1, ambiguous.size(), ambiguous.toString());
        assertTrue(ambiguous.get(0).startsWith("UNKNOWN_SYMBOL, ENOENT (2): Ambiguous symbol: dup.c#dup_counter names several hypervisor symbols"), ambiguous.toString());
        assertEquals(List.of(), problems(new HypervisorLimits(xen, FuncLayout.V2, Set.of("not_in_xen")), 
                "x", withUndefined("not_in_xen")), "a payload loaded below may define it");
        assertEquals(List.of("DUPLICATE_SYMBOL, EEXIST (17): duplicate new symbol: bump (already defined by xen-syms at 0x" + Long.toHexString(xen.global("bump").address()) + ")"),
                problemsAfter(b -> b.addSymbol("bump", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, sec(b, ".text.helper_scale"), 0, 1)));
        assertEquals(List.of("WRITABLE_TEXT, EOPNOTSUPP (95): Not supporting .text.patch_me section! (both SHF_WRITE and SHF_EXECINSTR)"),
                problemsAfter(b -> b.setFlags(sec(b, ".text.patch_me"), Elf.SHF_ALLOC | Elf.SHF_EXECINSTR | Elf.SHF_WRITE)));
        assertEquals(List.of("ZERO_ALIGNMENT, EINVAL (22): section .text.patch_me has sh_addralign 0: Xen would place it over the start of the TEXT region"),
                problemsAfter(b -> b.setAlign(sec(b, ".text.patch_me"), 0)));
        // Xen stops at the first of the two bad relocations: the unhandled type, which comes first.
        assertEquals(List.of("RELOCATION_TYPE_UNSUPPORTED, EOPNOTSUPP (95): Unhandled relocation 11 (R_X86_64_32S) in entry 3 of .rela.text.patch_me against bump;"
                        + " x86 payloads may only use R_X86_64_NONE, _64, _PC32 and _PLT32"),
                problemsAfter(b -> {
                    ObjectBuilder.SectionHandle rela = b.sections().stream().filter(s -> s.kind() == ObjectBuilder.Kind.RELA && s.relaTarget() == sec(b, ".text.patch_me")).findFirst().orElseThrow();
                    var rels = new java.util.ArrayList<>(rela.relocations());
                    rels.add(new ObjectBuilder.RelaEntry(1, 11, rels.get(0).symbol(), 0));
                    rels.add(new ObjectBuilder.RelaEntry(1, 2, null, 0));
                    b.setRelocations(rela, rels);
                }));
        assertEquals(List.of("HOOK_SECTION_SIZE, EINVAL (22): Wrong size 4 of .livepatch.hooks.load (must be multiple of 8)"),
                problemsAfter(b -> {
                    b.removeSection(b.sections().stream().filter(s -> s.kind() == ObjectBuilder.Kind.RELA && s.relaTarget() == sec(b, PayloadSections.HOOK_LOAD)).findFirst().orElseThrow());
                    b.setData(sec(b, PayloadSections.HOOK_LOAD), Bytes.copyOf(new byte[4]));
                }));
    }

    private static byte[] withUndefined(String name) throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
        b.addSpecialSymbol(name, Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
        return b.toBytes();
    }
}
