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
import org.livepatch.xen.XenSymbolTable;

/**
 * Each hypervisor check on its own: a good payload is changed in one way and exactly that
 * problem must be reported (and nothing for the good one).
 */
class HypervisorLimitsTest {
    static XenSymbolTable xen;
    static ElfFile good;
    static HypervisorLimits limits;

    @BeforeAll
    static void build() throws Exception {
        LinkFixture fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        var p = new PayloadAssembler(xen).assemble(List.of(fx.object("payload_main"), fx.object("payload_helper")), "good",
                PayloadAssembler.Options.defaults());
        good = ElfReader.read(Path.of("good.livepatch"), p.bytes().toArray());
        limits = new HypervisorLimits(xen, FuncLayout.V2);
    }

    private static List<String> problemsAfter(Consumer<ObjectBuilder> change) throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
        change.accept(b);
        byte[] bytes = b.toBytes();
        return limits.problems(ElfReader.read(Path.of("changed.livepatch"), bytes), "changed", bytes.length);
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
        assertEquals(List.of(), limits.problems(good, "good", 9000));
    }

    @Test
    void uploadLimits() {
        String longName = "n".repeat(128);
        assertEquals(List.of("payload name '" + longName + "' is 128 bytes, more than 127 (XEN_LIVEPATCH_NAME_SIZE with its NUL, get_name)"),
                limits.problems(good, longName, 9000));
        assertEquals(List.of(), limits.problems(good, "n".repeat(127), 9000));
        assertEquals(List.of("payload is 2097153 bytes, more than LIVEPATCH_MAX_SIZE (2097152, verify_payload)"),
                limits.problems(good, "good", (2 << 20) + 1));
    }

    @Test
    void mandatorySectionsAndBuildIds() throws Exception {
        assertEquals(List.of(".livepatch.xen_depends is missing (check_special_sections)"),
                problemsAfter(b -> b.removeSection(sec(b, PayloadSections.XEN_DEPENDS))));
        String other = "00".repeat(20);
        List<String> p = problemsAfter(b -> b.setData(sec(b, PayloadSections.XEN_DEPENDS), BuildIdNote.ofHex(other).encode()));
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).startsWith(".livepatch.xen_depends names build-id " + other + " but "), p.get(0));
        assertEquals(List.of(".livepatch.depends first note has type 1, not NT_GNU_BUILD_ID (3) (xen_build_id_check)"),
                problemsAfter(b -> {
                    byte[] d = sec(b, PayloadSections.DEPENDS).data().toArray();
                    d[8] = 1;
                    b.setData(sec(b, PayloadSections.DEPENDS), Bytes.copyOf(d));
                }));
    }

    @Test
    void funcsEntries() throws Exception {
        assertEquals(List.of(".livepatch.funcs entry 0 (patch_me): version 1, expected 2 (prepare_payload: \"Wrong version\")"),
                problemsAfter(b -> editFuncs(b, 32, 1)));
        assertEquals(List.of(".livepatch.funcs entry 0 (patch_me): reserved byte 64 is not zero (hypervisor state before Xen 4.17.3)"),
                problemsAfter(b -> editFuncs(b, 64, 1)));
        assertEquals(List.of(".livepatch.funcs entry 0 (patch_me): old_size 4 is below the 9 bytes a jump needs (arch_livepatch_verify_func)"),
                problemsAfter(b -> editFuncs(b, 28, 4)));
        long extent = xen.extentOf(xen.global("patch_me"));
        assertEquals(List.of(".livepatch.funcs entry 0 (patch_me): old_size 200 is larger than the " + extent + " bytes of patch_me in " + xen.path()),
                problemsAfter(b -> editFuncs(b, 28, 200)));
        // An expectation (enabled, 8 bytes) is fine; one longer than old_size is not.
        assertEquals(List.of(), problemsAfter(b -> editFuncs(b, 72, 1 | 8 << 1)));
        assertEquals(List.of(".livepatch.funcs entry 0 (patch_me): expectation of 31 bytes is longer than old_size 16 (livepatch_verify_expectation_fn)"),
                problemsAfter(b -> {
                    editFuncs(b, 28, 16);
                    editFuncs(b, 72, 1 | 31 << 1);
                }));
        assertEquals(List.of(".livepatch.funcs is 103 bytes, not a multiple of sizeof(struct livepatch_func) = 104 for payload version 2 (prepare_payload)"),
                problemsAfter(b -> b.setData(sec(b, PayloadSections.FUNCS), sec(b, PayloadSections.FUNCS).data().slice(0, 103))));
        assertEquals(List.of(".livepatch.funcs is 104 bytes, not a multiple of sizeof(struct livepatch_func) = 64 for payload version 1 (prepare_payload)"),
                new HypervisorLimits(xen, FuncLayout.V1).problems(good, "good", 9000));
    }

    @Test
    void symbolsRelocationsAndSections() throws Exception {
        assertEquals(List.of("undefined symbol not_in_xen is not a symbol of the hypervisor (\"Unknown symbol\")"),
                problemsAfter(b -> b.addSpecialSymbol("not_in_xen", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0)));
        assertEquals(List.of(), new HypervisorLimits(xen, FuncLayout.V2, Set.of("not_in_xen")).problems(
                ElfReader.read(Path.of("x"), withUndefined("not_in_xen")), "x", 9000), "a payload loaded below may define it");
        assertEquals(List.of("symbol bump is new but the hypervisor already has it (build_symbol_table: \"duplicate new symbol\")"),
                problemsAfter(b -> b.addSymbol("bump", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, sec(b, ".text.helper_scale"), 0, 1)));
        assertEquals(List.of("section .text.patch_me is both writable and executable (move_payload: \"Not supporting\")"),
                problemsAfter(b -> b.setFlags(sec(b, ".text.patch_me"), Elf.SHF_ALLOC | Elf.SHF_EXECINSTR | Elf.SHF_WRITE)));
        assertEquals(List.of("section .text.patch_me is SHF_ALLOC with sh_addralign 0 (move_payload would overlap it with another section)"),
                problemsAfter(b -> b.setAlign(sec(b, ".text.patch_me"), 0)));
        assertEquals(List.of(".rela.text.patch_me at 0x1: relocation type R_X86_64_32S is not handled (only NONE, 64, PC32, PLT32)",
                        ".rela.text.patch_me at 0x1: relocation against STN_UNDEF (\"Encountered STN_UNDEF\")"),
                problemsAfter(b -> {
                    ObjectBuilder.SectionHandle rela = b.sections().stream().filter(s -> s.kind() == ObjectBuilder.Kind.RELA && s.relaTarget() == sec(b, ".text.patch_me")).findFirst().orElseThrow();
                    var rels = new java.util.ArrayList<>(rela.relocations());
                    rels.add(new ObjectBuilder.RelaEntry(1, 11, rels.get(0).symbol(), 0));
                    rels.add(new ObjectBuilder.RelaEntry(1, 2, null, 0));
                    b.setRelocations(rela, rels);
                }));
        assertEquals(List.of(".livepatch.hooks.load is 4 bytes, not a multiple of 8"),
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
