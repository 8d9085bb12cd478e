package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.xen.XenSymbolTable;

/**
 * A minimal payload made with {@link ObjectBuilder} against a hypervisor of three symbols: runs
 * without a Xen tree, so the loader's checks are exercised on every build.
 */
class SyntheticPayloadTest {
    private static final long XEN_TEXT = 0xffff82d040200000L;
    private static final long OLD = XEN_TEXT + 0x100;
    private static final long OLD_ENDBR = XEN_TEXT + 0x200;
    private static final Bytes XEN_ID = Bytes.copyOf(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
    private static final Bytes OWN_ID = Bytes.copyOf(new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9});

    private static XenSymbolTable xen() {
        byte[] image = new byte[0x400];
        image[0x100] = 0x55; // push %rbp: no ENDBR64
        image[0x200] = (byte) 0xf3;
        image[0x201] = 0x0f;
        image[0x202] = 0x1e;
        image[0x203] = (byte) 0xfa;
        return xenSyms(XEN_ID, Map.of("old_func", OLD, "endbr_func", OLD_ENDBR, "printk", XEN_TEXT + 0x300), image);
    }

    /**
     * A xen-syms made with {@link ObjectBuilder}: one text section at {@link #XEN_TEXT} holding
     * {@code image} (without bytes when null, so nothing can be probed), the given global
     * functions and a build-id note.
     */
    private static XenSymbolTable xenSyms(Bytes buildId, Map<String, Long> functions, byte[] image) {
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        long flags = Elf.SHF_ALLOC | Elf.SHF_EXECINSTR;
        ObjectBuilder.SectionHandle text = image == null ? b.addNoBits(".text", flags, 16, 0x400)
                : b.addSection(".text", Elf.SHT_PROGBITS, flags, 16, 0, Bytes.copyOf(image));
        b.setAddress(text, XEN_TEXT);
        b.addSection(".note.gnu.build-id", Elf.SHT_NOTE, Elf.SHF_ALLOC, 4, 0, note(buildId));
        for (String name : new TreeMap<>(functions).keySet()) {
            b.addSymbol(name, Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, functions.get(name), 0);
        }
        try {
            // ObjectBuilder writes ET_REL; marked ET_EXEC, as the real xen-syms is, because its
            // symbol values are addresses, which in a relocatable object (section offsets) the
            // reader refuses as lying outside their section.
            byte[] linked = b.toBytes();
            linked[16] = (byte) Elf.ET_EXEC;
            return XenSymbolTable.of(ElfReader.read(Path.of("xen-syms"), linked));
        } catch (ElfFormatException e) {
            throw new AssertionError(e);
        }
    }

    private static Bytes note(Bytes id) {
        ByteBuffer b = ByteBuffer.allocate(16 + id.length()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(4).putInt(id.length()).putInt(3).put(new byte[] {'G', 'N', 'U', 0}).put(id.toArray());
        return Bytes.copyOf(b.array());
    }

    /** new_func replaces {@code target}, calls printk, and is described by one funcs entry with old_addr 0 (looked up by name). */
    static byte[] payload(String target, long oldSize, int version) {
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        byte[] code = {(byte) 0xe8, 0, 0, 0, 0, (byte) 0xc3, (byte) 0x90, (byte) 0x90};
        ObjectBuilder.SectionHandle text = b.addSection(".text.new_func", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 16, 0, Bytes.copyOf(code));
        ObjectBuilder.SectionHandle strings = b.addSection(".livepatch.strings", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 1, Bytes.ofString(target + "\0"));
        byte[] entry = new LivepatchFunc(0, 0, 0, code.length, oldSize, version, new byte[0]).encode(FuncLayout.V2);
        ObjectBuilder.SectionHandle funcs = b.addSection(".livepatch.funcs", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 8, FuncLayout.V2.size(), Bytes.copyOf(entry));
        b.addSection(".note.gnu.build-id", Elf.SHT_NOTE, Elf.SHF_ALLOC, 4, 0, note(OWN_ID));
        b.addSection(".livepatch.depends", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, note(XEN_ID));
        b.addSection(".livepatch.xen_depends", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, note(XEN_ID));
        ObjectBuilder.SymbolHandle fn = b.addSymbol("new_func", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, 0, code.length);
        ObjectBuilder.SymbolHandle str = b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, strings, 0, 0);
        ObjectBuilder.SymbolHandle printk = b.addSpecialSymbol("printk", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
        b.addRelocations(text, ".rela.text.new_func", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(1, RelocationTypes.R_X86_64_PLT32, printk, -4)));
        b.addRelocations(funcs, ".rela.livepatch.funcs", Elf.SHF_INFO_LINK, List.of(
                new ObjectBuilder.RelaEntry(FuncLayout.NAME, RelocationTypes.R_X86_64_64, str, 0),
                new ObjectBuilder.RelaEntry(FuncLayout.NEW_ADDR, RelocationTypes.R_X86_64_64, fn, 0)));
        return b.toBytes();
    }

    private static LoadCheck.Report check(byte[] p) {
        return LoadCheck.check(xen(), List.of(PayloadFile.of("synthetic", p)), LoadCheck.Options.defaults());
    }

    @Test
    void wellFormedPayloadLoadsWithResolvedAddresses() {
        LoadCheck.Report r = check(payload("old_func", 16, 2));
        assertTrue(r.accepted(), String.valueOf(r.firstRejection()));
        LoadedPayload p = r.outcomes().get(0).payload();
        PatchFunction f = p.funcs().get(0);
        assertEquals("old_func", f.name());
        assertEquals(OLD, f.oldAddr());
        assertEquals("xen-syms", f.oldAddrSource());
        assertEquals(p.layout().textAddr(), f.newAddr());
        assertEquals("new_func", f.newSymbol());
        assertEquals(0, f.patchOffset());
        ResolvedRelocation call = p.relocations().stream().filter(x -> x.symbol().equals("printk")).findFirst().orElseThrow();
        assertEquals(XEN_TEXT + 0x300 - 4 - (p.layout().textAddr() + 1), call.value());
        assertEquals(p.layout().textAddr() + 1, call.place());
        assertTrue(p.safeToReapply());
        assertEquals(OWN_ID, p.buildId());
    }

    @Test
    void eachDefectHasItsReason() {
        assertEquals(RejectReason.OLD_FUNCTION_TOO_SMALL, check(payload("old_func", 4, 2)).firstRejection().reason());
        assertEquals(RejectReason.OLD_FUNCTION_TOO_SMALL, check(payload("endbr_func", 8, 2)).firstRejection().reason());
        LoadCheck.Report endbr = check(payload("endbr_func", 9, 2));
        assertTrue(endbr.accepted(), String.valueOf(endbr.firstRejection()));
        assertEquals(4, endbr.outcomes().get(0).payload().funcs().get(0).patchOffset());
        assertEquals(RejectReason.FUNC_VERSION, check(payload("old_func", 16, 1)).firstRejection().reason());
        assertEquals(RejectReason.FUNC_ZERO_SIZE, check(payload("old_func", 0, 2)).firstRejection().reason());
        Rejection missing = check(payload("no_such_func", 16, 2)).firstRejection();
        assertEquals(RejectReason.OLD_ADDRESS_UNRESOLVED, missing.reason());
        assertEquals(Errno.ENOENT, missing.errno());
        assertTrue(missing.message().contains("no_such_func"), missing.message());
        // A different hypervisor build-id.
        LoadCheck.Report other = LoadCheck.check(xenSyms(Bytes.copyOf(new byte[20]), Map.of("old_func", OLD, "printk", XEN_TEXT), null),
                List.of(PayloadFile.of("synthetic", payload("old_func", 16, 2))), LoadCheck.Options.defaults().withUploadOnly(true));
        assertEquals(RejectReason.OLD_ADDRESS_UNMAPPED, other.firstRejection().reason(), "no image to probe for ENDBR64");
    }

    @Test
    void fuzzedSyntheticPayloadsNeverThrow() {
        byte[] good = payload("old_func", 16, 2);
        Random rnd = new Random(42);
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] b = good.clone();
            if (i % 3 == 0) {
                b = Arrays.copyOf(b, rnd.nextInt(b.length));
            } else {
                for (int k = 0; k < 1 + rnd.nextInt(6); k++) {
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
            }
            try {
                LoadCheck.Report r = check(b);
                if (!r.accepted()) {
                    refused++;
                    assertNotNull(r.firstRejection().errno());
                }
                LoadCheck.inspect(PayloadFile.of("x", b));
            } catch (RuntimeException e) {
                fail("iteration " + i + ": " + e, e);
            }
        }
        assertTrue(refused > 1000, "refused " + refused);
    }
}
