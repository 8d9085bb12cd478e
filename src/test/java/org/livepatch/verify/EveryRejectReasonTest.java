package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.payload.FuncLayout;
import org.livepatch.testsupport.Tools;
import org.livepatch.xen.XenSymbolTable;

/**
 * Every reason the verifier can refuse a payload for, provoked from outside: a payload written
 * byte by byte (or a well-formed one with one field overwritten) handed to {@link LoadCheck#check},
 * the entry {@code livepatch-verify check} uses, against a three-function hypervisor. Each case
 * names the reason and Xen's errno as literals, so a check that stops firing, fires for another
 * reason or changes its errno fails here; no Xen tree is needed, so this runs on every build.
 *
 * <p>Two reasons cannot be provoked through any public entry and are listed in
 * {@link #UNREACHABLE} with why.
 */
class EveryRejectReasonTest {
    private static final long XEN_TEXT = 0xffff82d040200000L;
    private static final long OLD = XEN_TEXT + 0x100;
    private static final long OLD_ENDBR = XEN_TEXT + 0x200;
    private static final long PRINTK = XEN_TEXT + 0x300;
    static final byte[] XEN_ID = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    private static final byte[] OWN_ID = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

    // Field offsets of the ELF64 structures, from the ELF specification (not from the code under test).
    private static final int E_TYPE = 16, E_MACHINE = 18, E_SHOFF = 40, E_SHNUM = 60, E_SHSTRNDX = 62;
    private static final int SH_NAME = 0, SH_TYPE = 4, SH_FLAGS = 8, SH_ADDR = 16, SH_OFFSET = 24, SH_SIZE = 32,
            SH_LINK = 40, SH_INFO = 44, SH_ADDRALIGN = 48, SH_ENTSIZE = 56;
    private static final int ST_NAME = 0, ST_SHNDX = 6;
    private static final int SHT_SYMTAB = 2, SHT_REL = 9;
    // struct livepatch_func (xen/include/public/sysctl.h, version 2): 104 bytes.
    private static final int F_NAME = 0, F_NEW_ADDR = 8, F_OLD_ADDR = 16, F_NEW_SIZE = 24, F_OLD_SIZE = 28, F_VERSION = 32,
            F_EXPECT = 72, F_SIZE = 104;
    private static final int R_X86_64_64 = 1, R_X86_64_PC32 = 2, R_X86_64_32S = 11, R_X86_64_PLT32 = 4;

    /**
     * Reasons no outside input can produce, and why. A reason added to {@link RejectReason}
     * must be provoked below or listed here ({@link #everyReasonIsProvokedOrExplained}).
     */
    static final Set<String> UNREACHABLE = Set.of(
            // HypervisorModel.apply is called once per upload by LoadCheck, the only caller; a
            // payload reverted by REPLACE is never applied again, so "re-apply after revert" has no input.
            "REAPPLY_WITH_DATA",
            // Needs an applied function with old_addr 0, but with a hypervisor (which LoadCheck.check
            // requires: readHypervisor refuses xen-syms without a build-id) upload resolves every
            // old_addr or refuses with OLD_ADDRESS_UNRESOLVED first.
            "EXPECTATION_WITHOUT_ADDRESS");

    // ---------------------------------------------------------------- the hypervisor and the payload

    /** old_func (push %rbp, 16 bytes of image), endbr_func (starts f3 0f 1e fa) and printk, in one text section. */
    static XenSymbolTable xen(boolean withImage) {
        try {
            return XenSymbolTable.of(ElfReader.read(Path.of("xen-syms"), xenSyms(withImage)));
        } catch (ElfFormatException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] xenSyms(boolean withImage) {
        return xenSyms(withImage, b -> { });
    }

    /** {@link #xenSyms(boolean)} with more sections or symbols added by {@code extra}. */
    static byte[] xenSyms(boolean withImage, java.util.function.Consumer<ObjectBuilder> extra) {
        byte[] image = new byte[0x400];
        image[0x100] = 0x55;
        image[0x200] = (byte) 0xf3;
        image[0x201] = 0x0f;
        image[0x202] = 0x1e;
        image[0x203] = (byte) 0xfa;
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        long flags = Elf.SHF_ALLOC | Elf.SHF_EXECINSTR;
        ObjectBuilder.SectionHandle text = withImage ? b.addSection(".text", Elf.SHT_PROGBITS, flags, 16, 0, Bytes.copyOf(image))
                : b.addNoBits(".text", flags, 16, 0x400);
        b.setAddress(text, XEN_TEXT);
        b.addSection(".note.gnu.build-id", Elf.SHT_NOTE, Elf.SHF_ALLOC, 4, 0, note(XEN_ID, 3));
        b.addSymbol("endbr_func", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, OLD_ENDBR, 16);
        b.addSymbol("old_func", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, OLD, 16);
        b.addSymbol("printk", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, PRINTK, 16);
        extra.accept(b);
        // Marked ET_EXEC, as the real xen-syms is: its symbol values are addresses, which the
        // reader refuses in a relocatable object (there they are section offsets).
        byte[] linked = b.toBytes();
        linked[16] = (byte) Elf.ET_EXEC;
        return linked;
    }

    static Bytes note(byte[] id, int type) {
        ByteBuffer b = ByteBuffer.allocate(16 + id.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(4).putInt(id.length).putInt(type).put(new byte[] {'G', 'N', 'U', 0}).put(id);
        return Bytes.copyOf(b.array());
    }

    /** The parts of the payload an edit may change before it is written. */
    static final class Parts {
        final ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        ObjectBuilder.SectionHandle text;
        ObjectBuilder.SectionHandle textRela;
        ObjectBuilder.SectionHandle strings;
        ObjectBuilder.SectionHandle funcs;
        ObjectBuilder.SectionHandle funcsRela;
        ObjectBuilder.SymbolHandle newFunc;
        ObjectBuilder.SymbolHandle stringsSym;
        ObjectBuilder.SymbolHandle printk;
        String target = "old_func";
        byte[] entry = new byte[F_SIZE];

        void funcsEntry(byte[] e) {
            entry = e;
            b.setData(funcs, Bytes.copyOf(e));
        }

        ObjectBuilder.SectionHandle section(String name, long flags, long align, byte[] data) {
            return b.addSection(name, Elf.SHT_PROGBITS, flags, align, 0, Bytes.copyOf(data));
        }
    }

    interface Edit {
        void apply(Parts p);
    }

    /**
     * new_func (call printk; ret) replaces old_func, found by name: one funcs entry with old_addr 0,
     * old_size 16, new_size 8, version 2, its name and new_addr filled by relocations.
     */
    static byte[] payload(Edit edit) {
        Parts p = new Parts();
        ObjectBuilder b = p.b;
        byte[] code = {(byte) 0xe8, 0, 0, 0, 0, (byte) 0xc3, (byte) 0x90, (byte) 0x90};
        p.text = b.addSection(".text.new_func", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 16, 0, Bytes.copyOf(code));
        p.strings = b.addSection(".livepatch.strings", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 1, Bytes.ofString("old_func\0endbr_func\0no_such_func\0"));
        le(p.entry, F_NEW_SIZE, 4, 8);
        le(p.entry, F_OLD_SIZE, 4, 16);
        p.entry[F_VERSION] = 2;
        p.funcs = b.addSection(".livepatch.funcs", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 8, F_SIZE, Bytes.copyOf(p.entry));
        b.addSection(".note.gnu.build-id", Elf.SHT_NOTE, Elf.SHF_ALLOC, 4, 0, note(OWN_ID, 3));
        b.addSection(".livepatch.depends", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, note(XEN_ID, 3));
        b.addSection(".livepatch.xen_depends", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, note(XEN_ID, 3));
        p.newFunc = b.addSymbol("new_func", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, p.text, 0, code.length);
        p.stringsSym = b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, p.strings, 0, 0);
        p.printk = b.addSpecialSymbol("printk", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
        p.textRela = b.addRelocations(p.text, ".rela.text.new_func", Elf.SHF_INFO_LINK,
                List.of(new ObjectBuilder.RelaEntry(1, R_X86_64_PLT32, p.printk, -4)));
        p.funcsRela = b.addRelocations(p.funcs, ".rela.livepatch.funcs", Elf.SHF_INFO_LINK, List.of(
                new ObjectBuilder.RelaEntry(F_NAME, R_X86_64_64, p.stringsSym, 0),
                new ObjectBuilder.RelaEntry(F_NEW_ADDR, R_X86_64_64, p.newFunc, 0)));
        edit.apply(p);
        return b.toBytes();
    }

    static byte[] good() {
        return payload(p -> { });
    }

    /** Points the entry's name at the string for {@code name} in .livepatch.strings. */
    private static void nameIs(Parts p, String name) {
        long at = p.strings.data().length() == 0 ? 0 : new String(p.strings.data().toArray(), StandardCharsets.ISO_8859_1).indexOf(name + "\0");
        List<ObjectBuilder.RelaEntry> rels = new ArrayList<>();
        for (ObjectBuilder.RelaEntry r : p.funcsRela.relocations()) {
            rels.add(r.offset() == F_NAME ? new ObjectBuilder.RelaEntry(F_NAME, r.type(), r.symbol(), at) : r);
        }
        p.b.setRelocations(p.funcsRela, rels);
    }

    /** Drops the funcs relocation at {@code offset} (name or new_addr), leaving that field 0. */
    static void dropFuncsRela(Parts p, int offset) {
        p.b.setRelocations(p.funcsRela, p.funcsRela.relocations().stream().filter(r -> r.offset() != offset).toList());
    }

    private static void setEntry(Parts p, int offset, int width, long value) {
        byte[] e = p.entry.clone();
        le(e, offset, width, value);
        p.funcsEntry(e);
    }

    private static void le(byte[] b, int off, int width, long v) {
        for (int i = 0; i < width; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    // ------------------------------------------------------------ raw edits of the written file

    private static ByteBuffer buf(byte[] f) {
        return ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** File offset of the section header of the section named {@code name}, found through e_shstrndx. */
    private static int shdr(byte[] f, String name) {
        ByteBuffer bb = buf(f);
        int shoff = (int) bb.getLong(E_SHOFF);
        int shnum = bb.getShort(E_SHNUM) & 0xffff;
        int strtab = (int) bb.getLong(shoff + (bb.getShort(E_SHSTRNDX) & 0xffff) * 64 + SH_OFFSET);
        for (int i = 1; i < shnum; i++) {
            int h = shoff + i * 64;
            if (cString(f, strtab + bb.getInt(h + SH_NAME)).equals(name)) {
                return h;
            }
        }
        throw new AssertionError("no section " + name);
    }

    private static int shdrIndex(byte[] f, String name) {
        return (shdr(f, name) - (int) buf(f).getLong(E_SHOFF)) / 64;
    }

    /** File offset of the symbol-table entry of {@code name}. */
    private static int sym(byte[] f, String name) {
        ByteBuffer bb = buf(f);
        int st = shdr(f, ".symtab");
        int off = (int) bb.getLong(st + SH_OFFSET);
        int n = (int) (bb.getLong(st + SH_SIZE) / 24);
        int strtab = (int) bb.getLong((int) bb.getLong(E_SHOFF) + bb.getInt(st + SH_LINK) * 64 + SH_OFFSET);
        for (int i = 1; i < n; i++) {
            if (cString(f, strtab + bb.getInt(off + i * 24 + ST_NAME)).equals(name)) {
                return off + i * 24;
            }
        }
        throw new AssertionError("no symbol " + name);
    }

    private static String cString(byte[] f, int at) {
        int end = at;
        while (f[end] != 0) {
            end++;
        }
        return new String(f, at, end - at, StandardCharsets.ISO_8859_1);
    }

    private interface Raw {
        void apply(byte[] f, ByteBuffer bb);
    }

    private static byte[] raw(byte[] f, Raw edit) {
        byte[] c = f.clone();
        edit.apply(c, buf(c));
        return c;
    }

    // ------------------------------------------------------------------------------ checking

    private static LoadCheck.Report check(List<PayloadFile> files, LoadCheck.Options o) {
        return LoadCheck.check(xen(true), files, o);
    }

    private static Rejection refused(byte[] payload, String reason, int errno) {
        return refused(check(List.of(PayloadFile.of("p", payload)), LoadCheck.Options.defaults()), reason, errno);
    }

    private static Rejection refused(LoadCheck.Report r, String reason, int errno) {
        Rejection rej = r.firstRejection();
        assertNotNull(rej, "expected " + reason + ", but the payload was accepted");
        assertEquals(reason, rej.reason().name(), rej.message());
        assertEquals(errno, rej.errno().value(), rej.message());
        return rej;
    }

    @Test
    void theUneditedPayloadLoads() {
        LoadCheck.Report r = check(List.of(PayloadFile.of("p", good())), LoadCheck.Options.defaults());
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
        assertEquals(OLD, r.outcomes().get(0).payload().funcs().get(0).oldAddr());
    }

    // A. upload hypercall

    @Test
    void uploadChecks() {
        byte[] p = good();
        refused(check(List.of(PayloadFile.of("", p)), LoadCheck.Options.defaults()), "NAME_INVALID", 22);
        refused(check(List.of(PayloadFile.of("n".repeat(128), p)), LoadCheck.Options.defaults()), "NAME_INVALID", 22);
        refused(new byte[0], "PAYLOAD_SIZE", 22);
        refused(Arrays.copyOf(p, (2 << 20) + 1), "PAYLOAD_SIZE", 22);
        byte[] other = payload(b -> b.b.setData(b.b.sections().stream().filter(s -> s.name().equals(".note.gnu.build-id")).findFirst().orElseThrow(),
                note(new byte[] {7, 7, 7, 7}, 3)));
        refused(check(List.of(PayloadFile.of("same", p), PayloadFile.of("same", other)), LoadCheck.Options.defaults().withUploadOnly(true)),
                "DUPLICATE_NAME", 17);
    }

    // B. ELF header

    @Test
    void headerChecks() {
        byte[] p = good();
        refused(Arrays.copyOf(p, 63), "HEADER_TRUNCATED", 22);
        refused(raw(p, (f, bb) -> f[1] = 'X'), "NOT_ELF", 22);
        refused(raw(p, (f, bb) -> bb.putShort(E_TYPE, (short) 2)), "INVALID_ELF", 95);
        refused(raw(p, (f, bb) -> f[7] = 3), "INVALID_ELF", 95); // EI_OSABI Linux
        refused(raw(p, (f, bb) -> bb.putShort(E_MACHINE, (short) 3)), "UNSUPPORTED_MACHINE", 95);
        refused(raw(p, (f, bb) -> bb.putShort(E_SHNUM, (short) 1024)), "TOO_MANY_SECTIONS", 95);
        refused(raw(p, (f, bb) -> bb.putShort(E_SHSTRNDX, (short) 0)), "SECTION_HEADERS_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putLong(E_SHOFF, f.length)), "SECTION_HEADERS_CORRUPT", 22);
    }

    // C, D. section headers and their names

    @Test
    void sectionHeaderChecks() {
        byte[] p = good();
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".text.new_func") + SH_OFFSET, 0x10)), "SECTION_DATA_OUT_OF_FILE", 22);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".text.new_func") + SH_SIZE, f.length)), "SECTION_DATA_OUT_OF_FILE", 22);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".text.new_func") + SH_ADDRALIGN, 3)), "SECTION_ALIGNMENT_UNSUPPORTED", 95);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".text.new_func") + SH_ADDR, 8)), "SECTION_MISALIGNED", 22);
        refused(payload(b -> b.b.addNoBits(".bss.big", Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, (2 << 20) + 1)), "BSS_TOO_LARGE", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".livepatch.strings") + SH_TYPE, SHT_SYMTAB)), "MULTIPLE_SYMBOL_TABLES", 95);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".symtab") + SH_TYPE, Elf.SHT_PROGBITS)), "SYMBOL_TABLE_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".symtab") + SH_ENTSIZE, 0)), "SYMBOL_TABLE_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".symtab") + SH_LINK, 5000)), "SYMBOL_TABLE_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".symtab") + SH_LINK, 0)), "STRING_TABLE_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".strtab") + SH_TYPE, Elf.SHT_PROGBITS)), "STRING_TABLE_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".shstrtab") + SH_TYPE, Elf.SHT_PROGBITS)), "SECTION_NAMES_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".text.new_func") + SH_NAME, 0x7fff0000)), "SECTION_NAMES_CORRUPT", 22);
    }

    // E. symbols

    @Test
    void symbolChecks() {
        byte[] p = good();
        refused(raw(p, (f, bb) -> bb.putInt(sym(f, "new_func") + ST_NAME, 0x7fff0000)), "SYMBOL_NAME_OUT_OF_TABLE", 22);
        refused(payload(b -> b.b.addSpecialSymbol("common_var", Elf.STB_GLOBAL, Elf.STT_OBJECT, 0, Elf.SHN_COMMON, 8, 8)), "COMMON_SYMBOL", 22);
        refused(payload(b -> b.b.rename(b.printk, "no_such_function_in_xen")), "UNKNOWN_SYMBOL", 2);
        // 0xff00 (SHN_LORESERVE): reserved, and neither SHN_ABS nor SHN_COMMON.
        refused(raw(p, (f, bb) -> bb.putShort(sym(f, "new_func") + ST_SHNDX, (short) 0xff00)), "SYMBOL_SECTION_RESERVED", 95);
        refused(raw(p, (f, bb) -> bb.putShort(sym(f, "new_func") + ST_SHNDX, (short) 500)), "SYMBOL_SECTION_OUT_OF_RANGE", 22);
    }

    // F. layout

    @Test
    void layoutChecks() {
        byte[] p = good();
        refused(payload(b -> b.b.setFlags(b.text, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR | Elf.SHF_WRITE)), "WRITABLE_TEXT", 95);
        Rejection zero = refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".text.new_func") + SH_ADDRALIGN, 0)), "ZERO_ALIGNMENT", 22);
        assertTrue(zero.reason().beyondXen());
        // New per-CPU data (DEFINE_PER_CPU): Xen 4.17.5 loads it as plain data; we refuse it and say
        // the check is our own. Both section families of xen/include/xen/percpu.h.
        Rejection bss = refused(payload(b -> {
            ObjectBuilder.SectionHandle pc = b.b.addNoBits(".bss.percpu", Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, 8);
            b.b.addSymbol("per_cpu__new_counter", Elf.STB_LOCAL, Elf.STT_OBJECT, 0, pc, 0, 8);
        }), "PER_CPU_DATA", 22);
        assertTrue(bss.reason().beyondXen());
        assertTrue(bss.message().contains(".bss.percpu") && bss.message().contains("a check beyond Xen's own")
                && bss.message().endsWith("[Xen 4.17 does not check this and would misbehave]"), bss.message());
        Rejection data = refused(payload(b -> b.b.addSection(".data.percpu.read_mostly", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, 0,
                Bytes.copyOf(new byte[8]))), "PER_CPU_DATA", 22);
        assertTrue(data.detail().contains(".data.percpu.read_mostly"), data.detail());
        // Ordinary writable data is not per-CPU data.
        assertTrue(check(List.of(PayloadFile.of("p", payload(b -> b.b.addNoBits(".bss.counters", Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, 8)))),
                LoadCheck.Options.defaults()).accepted());
        // An alignment beyond Xen's 1 GiB of address space.
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".livepatch.strings") + SH_ADDRALIGN, 1L << 31)), "PAYLOAD_TOO_LARGE", 12);
        // Placed one page below the end of the vmap area, two pages do not fit.
        long lastPage = 0xffff82d040000000L + (1L << 30) - 0x1000;
        refused(check(List.of(PayloadFile.of("p", p)), LoadCheck.Options.defaults().withBase(lastPage)), "PAYLOAD_TOO_LARGE", 12);
    }

    // G. relocations

    @Test
    void relocationChecks() {
        byte[] p = good();
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".rela.text.new_func") + SH_LINK, shdrIndex(f, ".livepatch.strings"))), "RELOCATION_LINK", 22);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".rela.text.new_func") + SH_ENTSIZE, 0)), "RELOCATION_HEADER_CORRUPT", 22);
        refused(raw(p, (f, bb) -> bb.putLong(shdr(f, ".rela.text.new_func") + SH_SIZE, 23)), "RELOCATION_HEADER_CORRUPT", 22);
        Rejection t = refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".rela.text.new_func") + SH_INFO, 0)), "RELOCATION_TARGET_INVALID", 22);
        assertTrue(t.reason().beyondXen());
        refused(raw(p, (f, bb) -> bb.putInt(shdr(f, ".rela.text.new_func") + SH_TYPE, SHT_REL)), "REL_UNSUPPORTED", 95);
        refused(payload(b -> b.b.setRelocations(b.textRela, List.of(new ObjectBuilder.RelaEntry(1, R_X86_64_PLT32, null, -4)))), "RELOCATION_STN_UNDEF", 95);
        refused(raw(p, (f, bb) -> {
            int rela = (int) bb.getLong(shdr(f, ".rela.text.new_func") + SH_OFFSET);
            bb.putInt(rela + 8 + 4, 9999); // r_info's symbol index
        }), "RELOCATION_SYMBOL_OUT_OF_RANGE", 22);
        refused(payload(b -> {
            ObjectBuilder.SectionHandle comment = b.b.addSection(".comment", Elf.SHT_PROGBITS, 0, 1, 1, Bytes.ofString("GCC: x\0"));
            ObjectBuilder.SymbolHandle s = b.b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, comment, 0, 0);
            b.b.setRelocations(b.textRela, List.of(new ObjectBuilder.RelaEntry(1, R_X86_64_PC32, s, -4)));
        }), "RELOCATION_AGAINST_IGNORED_SYMBOL", 22);
        Rejection type = refused(payload(b -> b.b.setRelocations(b.textRela, List.of(new ObjectBuilder.RelaEntry(1, R_X86_64_32S, b.printk, 0)))),
                "RELOCATION_TYPE_UNSUPPORTED", 95);
        assertTrue(type.detail().contains("R_X86_64_32S"), type.detail());
        refused(payload(b -> b.b.setRelocations(b.textRela, List.of(new ObjectBuilder.RelaEntry(6, R_X86_64_PLT32, b.printk, -4)))),
                "RELOCATION_OFFSET_OUT_OF_SECTION", 22);
        // printk is 2^47 bytes away from a payload placed there: no 32-bit displacement reaches it.
        refused(check(List.of(PayloadFile.of("p", p)), LoadCheck.Options.defaults().withBase(0xffff800000000000L)), "RELOCATION_OVERFLOW", 75);
    }

    // H, I. mandatory and patching sections

    @Test
    void mandatoryAndPatchingSections() {
        refused(payload(b -> b.b.rename(b.b.sections().stream().filter(s -> s.name().equals(".note.gnu.build-id")).findFirst().orElseThrow(), ".note.x")),
                "SECTION_MISSING", 22);
        refused(payload(b -> b.b.setData(b.b.sections().stream().filter(s -> s.name().equals(".livepatch.depends")).findFirst().orElseThrow(), Bytes.EMPTY)),
                "SECTION_EMPTY", 22);
        refused(payload(b -> b.b.rename(b.funcs, ".livepatch.funcz")), "NOTHING_TO_PATCH", 22);
        Rejection nl = refused(payload(b -> b.b.setFlags(b.funcs, 0)), "SECTION_NOT_LOADED", 22);
        assertTrue(nl.reason().beyondXen());
    }

    // J. .livepatch.funcs

    @Test
    void funcsChecks() {
        refused(payload(b -> b.funcsEntry(Arrays.copyOf(b.entry, 100))), "FUNCS_SIZE", 22);
        refused(payload(b -> setEntry(b, F_VERSION, 1, 1)), "FUNC_VERSION", 95);
        refused(payload(b -> setEntry(b, F_OLD_SIZE, 4, 0)), "FUNC_ZERO_SIZE", 22);
        refused(payload(b -> dropFuncsRela(b, F_NAME)), "FUNC_NAME_UNREADABLE", 14);
        refused(payload(b -> nameIs(b, "no_such_func")), "OLD_ADDRESS_UNRESOLVED", 2);
        // old_addr given directly, inside no section of xen-syms.
        refused(payload(b -> {
            setEntry(b, F_OLD_ADDR, 8, XEN_TEXT + 0x10000);
        }), "OLD_ADDRESS_UNMAPPED", 14);
        refused(payload(b -> {
            dropFuncsRela(b, F_NEW_ADDR);
            setEntry(b, F_NEW_SIZE, 4, 32);
        }), "NOP_TOO_LARGE", 95);
        refused(payload(b -> {
            dropFuncsRela(b, F_NEW_ADDR);
            setEntry(b, F_NEW_SIZE, 4, 20);
        }), "NOP_LARGER_THAN_OLD", 22);
        refused(payload(b -> {
            nameIs(b, "endbr_func");
            dropFuncsRela(b, F_NEW_ADDR);
            setEntry(b, F_NEW_SIZE, 4, 3);
        }), "NOP_SHORTER_THAN_ENDBR", 22);
        refused(payload(b -> setEntry(b, F_OLD_SIZE, 4, 4)), "OLD_FUNCTION_TOO_SMALL", 22);
        // Checks beyond Xen's own: old_size past old_func's room in xen-syms (0x100 bytes, up to
        // endbr_func); a reserved byte (the 'applied' marker of 4.14 to 4.17.2, byte 64) set.
        refused(payload(b -> setEntry(b, F_OLD_SIZE, 4, 0x101)), "OLD_SIZE_PAST_FUNCTION", 22);
        refused(payload(b -> setEntry(b, 64, 1, 1)), "FUNC_RESERVED_NOT_ZERO", 22);
        // endbr_func needs 4 + 5 bytes: 8 is too small, as the bytes f3 0f 1e fa say.
        refused(payload(b -> {
            nameIs(b, "endbr_func");
            setEntry(b, F_OLD_SIZE, 4, 8);
        }), "OLD_FUNCTION_TOO_SMALL", 22);
        // Placed 2^47 bytes from old_func (and without the call to printk, which could not reach either).
        refusedAt(0xffff800000000000L, payload(b -> b.b.setRelocations(b.textRela, List.of())), "PATCH_OUT_OF_RANGE", 75);
        refused(payload(b -> {
            byte[] two = Arrays.copyOf(b.entry, 2 * F_SIZE);
            System.arraycopy(b.entry, 0, two, F_SIZE, F_SIZE);
            b.funcsEntry(two);
            List<ObjectBuilder.RelaEntry> rels = new ArrayList<>(b.funcsRela.relocations());
            for (ObjectBuilder.RelaEntry r : b.funcsRela.relocations()) {
                rels.add(new ObjectBuilder.RelaEntry(r.offset() + F_SIZE, r.type(), r.symbol(), r.addend()));
            }
            b.b.setRelocations(b.funcsRela, rels);
        }), "PATCHED_TWICE", 17);
    }

    private static void refusedAt(long base, byte[] payload, String reason, int errno) {
        refused(check(List.of(PayloadFile.of("p", payload)), LoadCheck.Options.defaults().withBase(base)), reason, errno);
    }

    // K, L, M, N. hooks, build-ids, special sections, symbol table

    @Test
    void hooksNotesSpecialSectionsAndSymbols() {
        refused(payload(b -> b.section(".livepatch.hooks.preapply", Elf.SHF_ALLOC, 8, new byte[16])), "HOOK_SECTION_SIZE", 22);
        refused(payload(b -> b.section(".livepatch.hooks.load", Elf.SHF_ALLOC, 8, new byte[12])), "HOOK_SECTION_SIZE", 22);
        refused(payload(b -> b.b.setData(b.b.sections().stream().filter(s -> s.name().equals(".note.gnu.build-id")).findFirst().orElseThrow(),
                note(OWN_ID, 1))), "BUILD_ID_NOTE_INVALID", 22);
        byte[] p = good();
        refused(check(List.of(PayloadFile.of("a", p), PayloadFile.of("b", p)), LoadCheck.Options.defaults().withUploadOnly(true)), "ALREADY_LOADED", 17);
        refused(payload(b -> b.b.setData(b.b.sections().stream().filter(s -> s.name().equals(".livepatch.xen_depends")).findFirst().orElseThrow(),
                note(OWN_ID, 3))), "XEN_BUILD_ID_MISMATCH", 22);
        refused(payload(b -> b.section(".bug_frames.0", Elf.SHF_ALLOC, 4, new byte[12])), "BUG_FRAMES_SIZE", 22);
        refused(payload(b -> b.section(".altinstructions", Elf.SHF_ALLOC, 1, new byte[14])), "ALTERNATIVES_INVALID", 22);
        refused(payload(b -> b.section(".ex_table", Elf.SHF_ALLOC, 4, new byte[12])), "EX_TABLE_SIZE", 22);
        refused(payload(b -> b.section(".modinfo", Elf.SHF_ALLOC, 1, "LIVEPATCH_RULEZ".getBytes(StandardCharsets.US_ASCII))), "MODINFO_FORMAT", 22);
        // A new symbol named like a hypervisor function: the run-time symbol table refuses the clash.
        refused(payload(b -> b.b.addSymbol("old_func", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, b.text, 5, 1)), "DUPLICATE_SYMBOL", 17);
    }

    // Apply and replace

    @Test
    void applyChecks() {
        Rejection dep = refused(payload(b -> b.b.setData(b.b.sections().stream().filter(s -> s.name().equals(".livepatch.depends")).findFirst().orElseThrow(),
                note(OWN_ID, 3))), "DEPENDS_MISMATCH", 22);
        assertEquals(RejectReason.Stage.APPLY, dep.reason().stage());
        // The expectation head byte: enabled (bit 0), len (bits 1-5), reserved (bits 6-7).
        refused(payload(b -> {
            byte[] e = b.entry.clone();
            e[F_EXPECT] = (byte) (1 | (1 << 1) | 0x40);
            e[F_EXPECT + 1] = 0x55;
            b.funcsEntry(e);
        }), "EXPECTATION_RESERVED_BITS", 22);
        refused(payload(b -> {
            byte[] e = b.entry.clone();
            e[F_EXPECT] = (byte) (1 | (20 << 1));
            e[F_EXPECT + 1] = 0x55;
            b.funcsEntry(e);
        }), "EXPECTATION_LONGER_THAN_OLD", 34);
        refused(payload(b -> {
            byte[] e = b.entry.clone();
            e[F_EXPECT] = (byte) (1 | (1 << 1));
            e[F_EXPECT + 1] = (byte) 0x90; // old_func starts with 0x55
            b.funcsEntry(e);
        }), "EXPECTATION_FAILED", 22);
        LoadCheck.Report ok = check(List.of(PayloadFile.of("p", payload(b -> {
            byte[] e = b.entry.clone();
            e[F_EXPECT] = (byte) (1 | (1 << 1));
            e[F_EXPECT + 1] = 0x55;
            b.funcsEntry(e);
        }))), LoadCheck.Options.defaults());
        assertTrue(ok.accepted(), "the right expectation passes: " + ok.firstRejection());
        byte[] hooked = payload(b -> {
            ObjectBuilder.SectionHandle h = b.section(".livepatch.hooks.preapply", Elf.SHF_ALLOC, 8, new byte[8]);
            b.b.addRelocations(h, ".rela.livepatch.hooks.preapply", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(0, R_X86_64_64, b.newFunc, 0)));
        });
        refused(check(List.of(PayloadFile.of("p", hooked)), LoadCheck.Options.defaults().withReplaceLast(true)), "REPLACE_WITH_VETOING_HOOKS", 95);
    }

    @Test
    void noImageToProbeForEndbr64() {
        LoadCheck.Report r = LoadCheck.check(xen(false), List.of(PayloadFile.of("p", good())), LoadCheck.Options.defaults());
        refused(r, "OLD_ADDRESS_UNMAPPED", 14);
    }

    /** The same refusals through {@code livepatch-verify check}: one line with reason and errno, exit 1, or 65 when malformed. */
    @Test
    void theCommandLineReportsReasonAndErrno(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path xenSyms = Files.write(tmp.resolve("xen-syms"), xenSyms(true));
        Path nop = Files.write(tmp.resolve("nop.livepatch"), payload(b -> {
            dropFuncsRela(b, F_NEW_ADDR);
            setEntry(b, F_NEW_SIZE, 4, 32);
        }));
        Path notElf = Files.write(tmp.resolve("not-elf.livepatch"), raw(good(), (f, bb) -> f[1] = 'X'));
        Path ok = Files.write(tmp.resolve("ok.livepatch"), good());

        String[] refused = cli("check", "--xen-syms", xenSyms.toString(), nop.toString());
        assertEquals("1", refused[0], refused[1] + refused[2]);
        assertTrue(refused[1].contains("NOP_TOO_LARGE, EOPNOTSUPP (95)"), refused[1]);
        String[] malformed = cli("check", "--xen-syms", xenSyms.toString(), notElf.toString());
        assertEquals("65", malformed[0], malformed[1] + malformed[2]);
        assertTrue(malformed[1].contains("NOT_ELF, EINVAL (22)"), malformed[1]);
        String[] accepted = cli("check", "--xen-syms", xenSyms.toString(), ok.toString());
        assertEquals("0", accepted[0], accepted[1] + accepted[2]);
    }

    /** Exit code, stdout and stderr of livepatch-verify. */
    private static String[] cli(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = org.livepatch.cli.CommandRunner.runWith(new picocli.CommandLine(new org.livepatch.cli.LivepatchVerifyCommand()),
                new java.io.PrintWriter(out), new java.io.PrintWriter(err), args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    /**
     * The assembler's check of a stacked payload ({@link LoadCheck#beforeWriting}): a function
     * name no symbol of the hypervisor has is refused, unless a payload below defines it.
     */
    @Test
    void beforeWritingResolvesNamesThePayloadsBelowDefine() {
        XenSymbolTable x = xen(true);
        PayloadFile p = PayloadFile.of("p", payload(b -> nameIs(b, "no_such_func")));
        assertEquals(RejectReason.OLD_ADDRESS_UNRESOLVED,
                LoadCheck.beforeWriting(x, HypervisorRules.XEN_4_17, FuncLayout.V2, p, Set.of()).refusal().orElseThrow().reason());
        assertEquals(java.util.Optional.empty(), LoadCheck.beforeWriting(x, HypervisorRules.XEN_4_17, FuncLayout.V2, p, Set.of("no_such_func")).refusal());
    }

    /**
     * Every constant of {@link RejectReason} is named as a literal by a test of this package
     * or is listed in {@link #UNREACHABLE}: a new check cannot arrive untested.
     */
    @Test
    void everyReasonIsProvokedOrExplained() throws Exception {
        StringBuilder sources = new StringBuilder();
        try (var s = Files.list(Tools.repoRoot().resolve("src/test/java/org/livepatch/verify"))) {
            for (Path f : s.filter(x -> x.toString().endsWith(".java")).toList()) {
                sources.append(Files.readString(f));
            }
        }
        Set<String> named = new TreeSet<>();
        Matcher m = Pattern.compile("\"([A-Z][A-Z0-9_]+)\", \\d+\\)").matcher(sources);
        while (m.find()) {
            named.add(m.group(1));
        }
        Set<String> missing = new TreeSet<>();
        for (RejectReason r : RejectReason.values()) {
            if (!named.contains(r.name()) && !UNREACHABLE.contains(r.name())) {
                missing.add(r.name());
            }
        }
        assertEquals(Set.of(), missing, "reasons no test provokes");
        for (String u : UNREACHABLE) {
            assertTrue(!named.contains(u), u + " is provoked after all: take it off UNREACHABLE");
        }
    }
}
