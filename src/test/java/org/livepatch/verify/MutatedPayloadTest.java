package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.testsupport.ReadelfFacts;
import org.livepatch.testsupport.XenTree;

/**
 * Xen's hello-world payload rewritten through {@link ObjectBuilder} with one defect each: every
 * defect must be refused for the reason, and with the errno, the hypervisor would give.
 */
@Tag("xen")
class MutatedPayloadTest {
    private static final String HELLO = "xen_hello_world";

    private interface Edit {
        void apply(ObjectBuilder b) throws Exception;
    }

    private static byte[] mutate(Edit edit) throws Exception {
        ElfFile elf = ElfReader.read(InTreePayloads.payload(HELLO));
        ObjectBuilder b = ObjectBuilder.copyOf(elf).builder();
        edit.apply(b);
        return b.toBytes();
    }

    private static ObjectBuilder.SectionHandle sec(ObjectBuilder b, String name) {
        return b.sections().stream().filter(s -> s.name().equals(name) && !s.isRemoved()).findFirst().orElseThrow(() -> new AssertionError("no section " + name));
    }

    private static ObjectBuilder.SymbolHandle sym(ObjectBuilder b, String name) {
        return b.symbols().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no symbol " + name));
    }

    private static byte[] funcs(ObjectBuilder b) {
        return sec(b, ".livepatch.funcs").data().toArray();
    }

    /** Sets one byte of the first (only) funcs entry: offsets are those of struct livepatch_func. */
    private static void setFuncsByte(ObjectBuilder b, int offset, int value) {
        byte[] f = funcs(b);
        f[offset] = (byte) value;
        b.setData(sec(b, ".livepatch.funcs"), Bytes.copyOf(f));
    }

    private static LoadCheck.Report check(byte[] payload) throws Exception {
        return check(List.of(PayloadFile.of(HELLO, payload)), LoadCheck.Options.defaults());
    }

    private static LoadCheck.Report check(List<PayloadFile> payloads, LoadCheck.Options options) throws Exception {
        return LoadCheck.check(InTreePayloads.xen(), payloads, options);
    }

    private static Rejection refused(byte[] payload, RejectReason reason, int errno) throws Exception {
        LoadCheck.Report r = check(payload);
        Rejection rej = r.firstRejection();
        assertNotNull(rej, "expected " + reason + ", but the payload was accepted");
        assertEquals(reason, rej.reason(), rej.message());
        assertEquals(errno, rej.errno().value(), rej.message());
        return rej;
    }

    @Test
    void rewrittenUnchangedStillLoads() throws Exception {
        LoadCheck.Report r = check(mutate(b -> { }));
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
    }

    @Test
    void wrongXenBuildId() throws Exception {
        byte[] p = mutate(b -> {
            byte[] note = sec(b, ".livepatch.xen_depends").data().toArray();
            note[note.length - 1] ^= 1;
            b.setData(sec(b, ".livepatch.xen_depends"), Bytes.copyOf(note));
        });
        Rejection r = refused(p, RejectReason.XEN_BUILD_ID_MISMATCH, 22);
        assertTrue(r.detail().contains(InTreePayloads.xen().buildId().orElseThrow().toHex()), r.detail());
    }

    @Test
    void wrongDependsIsRefusedAtApplyNotUpload() throws Exception {
        byte[] p = mutate(b -> {
            byte[] note = sec(b, ".livepatch.depends").data().toArray();
            note[20] ^= 0xff;
            b.setData(sec(b, ".livepatch.depends"), Bytes.copyOf(note));
        });
        Rejection r = refused(p, RejectReason.DEPENDS_MISMATCH, 22);
        assertEquals(RejectReason.Stage.APPLY, r.reason().stage());
        assertTrue(check(List.of(PayloadFile.of(HELLO, p)), LoadCheck.Options.defaults().withNodeps(true)).accepted(), "--nodeps skips it");
    }

    @Test
    void buildIdNoteOfTheWrongType() throws Exception {
        byte[] p = mutate(b -> {
            byte[] note = sec(b, ".note.gnu.build-id").data().toArray();
            note[8] = 1;
            b.setData(sec(b, ".note.gnu.build-id"), Bytes.copyOf(note));
        });
        refused(p, RejectReason.BUILD_ID_NOTE_INVALID, 22);
    }

    @Test
    void unsupportedRelocationType() throws Exception {
        byte[] p = mutate(b -> {
            ObjectBuilder.SectionHandle rela = sec(b, ".rela.text.xen_hello_world");
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rela.relocations());
            ObjectBuilder.RelaEntry r0 = rels.get(0);
            rels.set(0, new ObjectBuilder.RelaEntry(r0.offset(), RelocationTypes.R_X86_64_32S, r0.symbol(), r0.addend()));
            b.setRelocations(rela, rels);
        });
        Rejection r = refused(p, RejectReason.RELOCATION_TYPE_UNSUPPORTED, 95);
        assertTrue(r.detail().contains("R_X86_64_32S") && r.detail().contains(".rela.text.xen_hello_world"), r.detail());
    }

    @Test
    void relocationWithoutSymbol() throws Exception {
        byte[] p = mutate(b -> {
            ObjectBuilder.SectionHandle rela = sec(b, ".rela.text.xen_hello_world");
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rela.relocations());
            rels.set(0, new ObjectBuilder.RelaEntry(rels.get(0).offset(), RelocationTypes.R_X86_64_PC32, null, 0));
            b.setRelocations(rela, rels);
        });
        refused(p, RejectReason.RELOCATION_STN_UNDEF, 95);
    }

    @Test
    void relocationPastItsSection() throws Exception {
        byte[] p = mutate(b -> {
            ObjectBuilder.SectionHandle rela = sec(b, ".rela.text.xen_hello_world");
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rela.relocations());
            ObjectBuilder.RelaEntry r0 = rels.get(0);
            rels.set(0, new ObjectBuilder.RelaEntry(0x38, r0.type(), r0.symbol(), r0.addend()));
            b.setRelocations(rela, rels);
        });
        refused(p, RejectReason.RELOCATION_OFFSET_OUT_OF_SECTION, 22);
    }

    @Test
    void pc32OutOfRangeOfAFarPlacement() throws Exception {
        byte[] p = Files.readAllBytes(InTreePayloads.payload(HELLO));
        LoadCheck.Report r = check(List.of(PayloadFile.of(HELLO, p)), LoadCheck.Options.defaults().withBase(0xffff800000000000L));
        assertEquals(RejectReason.RELOCATION_OVERFLOW, r.firstRejection().reason());
        assertEquals(75, r.firstRejection().errno().value());
    }

    @Test
    void truncatedFuncsSection() throws Exception {
        byte[] p = mutate(b -> b.setData(sec(b, ".livepatch.funcs"), Bytes.copyOf(Arrays.copyOf(funcs(b), 100))));
        Rejection r = refused(p, RejectReason.FUNCS_SIZE, 22);
        assertTrue(r.detail().contains("multiple of 104"), r.detail());
    }

    @Test
    void sectionRunningPastTheFileIsMalformed() throws Exception {
        byte[] p = Files.readAllBytes(InTreePayloads.payload(HELLO));
        ByteBuffer bb = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        long shoff = bb.getLong(40);
        // Section 3 (.text.xen_hello_world): sh_size far past the end of the file.
        bb.putLong((int) shoff + 3 * 64 + 32, p.length);
        Rejection r = refused(p, RejectReason.SECTION_DATA_OUT_OF_FILE, 22);
        assertTrue(r.reason().malformed());
        // A file cut short loses its section headers.
        Rejection cut = refused(Arrays.copyOf(Files.readAllBytes(InTreePayloads.payload(HELLO)), 2000), RejectReason.SECTION_HEADERS_CORRUPT, 22);
        assertTrue(cut.reason().malformed());
    }

    @Test
    void funcsEntryWithBadVersion() throws Exception {
        byte[] p = mutate(b -> setFuncsByte(b, 32, 1));
        Rejection r = refused(p, RejectReason.FUNC_VERSION, 95);
        assertTrue(r.detail().contains("Wrong version (1)"), r.detail());
    }

    @Test
    void oldFunctionTooSmallForTheJump() throws Exception {
        byte[] p = mutate(b -> setFuncsByte(b, 28, 4));
        Rejection r = refused(p, RejectReason.OLD_FUNCTION_TOO_SMALL, 22);
        assertTrue(r.detail().contains("xen_extra_version"), r.detail());
    }

    /** A hypervisor function that starts with ENDBR64 needs 9 bytes: the jump goes after the ENDBR64. */
    @Test
    void endbr64NeedsFourMoreBytes() throws Exception {
        String target = endbrFunction();
        for (int oldSize : new int[] {8, 9}) {
            byte[] p = mutate(b -> {
                ObjectBuilder.SymbolHandle t = b.addSpecialSymbol(target, Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
                ObjectBuilder.SectionHandle rela = sec(b, ".rela.livepatch.funcs");
                List<ObjectBuilder.RelaEntry> rels = new ArrayList<>();
                for (ObjectBuilder.RelaEntry r : rela.relocations()) {
                    rels.add(r.offset() == 16 ? new ObjectBuilder.RelaEntry(16, r.type(), t, 0) : r);
                }
                b.setRelocations(rela, rels);
                setFuncsByte(b, 28, oldSize);
            });
            LoadCheck.Report r = check(List.of(PayloadFile.of(HELLO, p)), LoadCheck.Options.defaults().withUploadOnly(true));
            if (oldSize == 8) {
                assertEquals(RejectReason.OLD_FUNCTION_TOO_SMALL, r.firstRejection().reason(), String.valueOf(r.firstRejection()));
                assertTrue(r.firstRejection().detail().contains("ENDBR64"), r.firstRejection().detail());
            } else {
                assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
                PatchFunction f = r.outcomes().get(0).payload().funcs().get(0);
                assertEquals(4, f.patchOffset());
                assertEquals(ReadelfFacts.globalAddress(XenTree.xenSyms(), target), f.oldAddr());
                assertEquals(0xe9, f.patchBytes()[0] & 0xff);
            }
        }
    }

    /**
     * The first global function of xen-syms, at least 16 bytes long and the only symbol of its name,
     * whose first bytes are f3 0f 1e fa: found with readelf and the file's bytes, not with the
     * symbol table and ENDBR64 test under test.
     */
    private static String endbrFunction() throws Exception {
        List<ReadelfFacts.Sym> syms = ReadelfFacts.symbols(XenTree.xenSyms());
        List<ReadelfFacts.Sec> secs = ReadelfFacts.sections(XenTree.xenSyms());
        for (ReadelfFacts.Sym s : syms) {
            if (s.bind().equals("GLOBAL") && s.type().equals("FUNC") && s.defined() && s.size() >= 16
                    && syms.stream().filter(o -> o.name().equals(s.name())).count() == 1
                    && Arrays.equals(ReadelfFacts.ENDBR64, ReadelfFacts.bytesAt(XenTree.xenSyms(), secs, s.value(), 4))) {
                return s.name();
            }
        }
        throw new AssertionError("no ENDBR64 function in xen-syms (CONFIG_XEN_IBT off?)");
    }

    @Test
    void symbolThatDoesNotExist() throws Exception {
        byte[] p = mutate(b -> b.rename(sym(b, "printk"), "no_such_function_in_xen"));
        Rejection r = refused(p, RejectReason.UNKNOWN_SYMBOL, 2);
        assertTrue(r.detail().contains("no_such_function_in_xen"), r.detail());
    }

    @Test
    void functionPatchedTwiceInOnePayload() throws Exception {
        byte[] p = mutate(b -> {
            byte[] one = funcs(b);
            byte[] two = Arrays.copyOf(one, one.length * 2);
            System.arraycopy(one, 0, two, one.length, one.length);
            b.setData(sec(b, ".livepatch.funcs"), Bytes.copyOf(two));
            ObjectBuilder.SectionHandle rela = sec(b, ".rela.livepatch.funcs");
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rela.relocations());
            for (ObjectBuilder.RelaEntry r : rela.relocations()) {
                rels.add(new ObjectBuilder.RelaEntry(r.offset() + one.length, r.type(), r.symbol(), r.addend()));
            }
            b.setRelocations(rela, rels);
        });
        Rejection r = refused(p, RejectReason.PATCHED_TWICE, 17);
        assertTrue(r.reason().beyondXen());
        assertTrue(r.detail().contains("xen_extra_version"), r.detail());
    }

    @Test
    void functionPatchedUnderneathAnotherPayloadWithNodeps() throws Exception {
        // replace_world patches xen_extra_version too but was built on the hypervisor, not on hello.
        LoadCheck.Report r = check(List.of(InTreePayloads.file(HELLO), InTreePayloads.file("xen_replace_world")), LoadCheck.Options.defaults().withNodeps(true));
        assertEquals(RejectReason.PATCHED_TWICE, r.firstRejection().reason());
        assertEquals("xen_replace_world", r.firstRejection().payload());
    }

    @Test
    void samePayloadTwiceUnderAnotherName() throws Exception {
        byte[] p = Files.readAllBytes(InTreePayloads.payload(HELLO));
        LoadCheck.Report r = check(List.of(PayloadFile.of("a", p), PayloadFile.of("b", p)), LoadCheck.Options.defaults().withUploadOnly(true));
        assertEquals(RejectReason.ALREADY_LOADED, r.firstRejection().reason());
        assertEquals(17, r.firstRejection().errno().value());
        LoadCheck.Report sameName = check(List.of(PayloadFile.of("a", p), PayloadFile.of("a", p)), LoadCheck.Options.defaults().withUploadOnly(true));
        assertEquals(RejectReason.DUPLICATE_NAME, sameName.firstRejection().reason());
    }

    @Test
    void writableText() throws Exception {
        byte[] p = mutate(b -> b.setFlags(sec(b, ".text.xen_hello_world"), Elf.SHF_ALLOC | Elf.SHF_EXECINSTR | Elf.SHF_WRITE));
        refused(p, RejectReason.WRITABLE_TEXT, 95);
    }

    @Test
    void missingAndEmptyMandatorySections() throws Exception {
        byte[] missing = mutate(b -> b.rename(sec(b, ".note.gnu.build-id"), ".note.other"));
        Rejection r = refused(missing, RejectReason.SECTION_MISSING, 22);
        assertTrue(r.detail().contains(".note.gnu.build-id"), r.detail());
        byte[] empty = mutate(b -> b.setData(sec(b, ".livepatch.depends"), Bytes.EMPTY));
        refused(empty, RejectReason.SECTION_EMPTY, 22);
    }

    @Test
    void singleHookSectionWithTwoPointers() throws Exception {
        byte[] p = mutate(b -> b.rename(sec(b, ".livepatch.hooks.load"), ".livepatch.hooks.preapply"));
        refused(p, RejectReason.HOOK_SECTION_SIZE, 22);
    }

    @Test
    void modinfoWithoutTerminator() throws Exception {
        byte[] p = mutate(b -> b.setData(sec(b, ".modinfo"), Bytes.ofString("LIVEPATCH_RULEZ")));
        refused(p, RejectReason.MODINFO_FORMAT, 22);
    }

    @Test
    void alternativeOutsideText() throws Exception {
        byte[] p = mutate(b -> {
            ObjectBuilder.SectionHandle rela = sec(b, ".rela.altinstructions");
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(rela.relocations());
            ObjectBuilder.RelaEntry r0 = rels.get(0);
            rels.set(0, new ObjectBuilder.RelaEntry(r0.offset(), r0.type(), r0.symbol(), 0x100000));
            b.setRelocations(rela, rels);
        });
        refused(p, RejectReason.ALTERNATIVES_INVALID, 22);
    }
}
