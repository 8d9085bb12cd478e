package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/**
 * The instruction boundaries {@link X86Decoder} finds are objdump's, for every code section of
 * gcc output built with Xen's flags (every fixture of xen-src-fixtures/diff) and of real Xen
 * objects. The line-number proof rests on them: a wrong length would put a byte difference in
 * the wrong instruction.
 */
class X86DecoderTest {
    @TempDir
    Path tmp;

    private static final Pattern INSN = Pattern.compile("^\\s*([0-9a-f]+):\\t");

    /** Offsets of the instructions objdump shows in section {@code name}. */
    static List<Long> objdumpOffsets(Path obj, String name) throws Exception {
        String out = Tools.run(null, "objdump", "-d", "-w", "-j", name, obj.toString());
        List<Long> l = new ArrayList<>();
        for (String line : out.split("\n")) {
            Matcher m = INSN.matcher(line);
            if (m.find()) {
                l.add(Long.parseLong(m.group(1), 16));
            }
        }
        return l;
    }

    /** Compares every executable section; returns how many were compared. */
    static int compareAll(Path obj) throws Exception {
        ElfFile e = ElfReader.read(obj);
        int n = 0;
        for (Section s : e.sections()) {
            if (!s.isExec() || s.isNoBits() || s.size() == 0 || s.name().equals(".altinstr_replacement")) {
                continue;
            }
            List<X86Insn> insns = X86Decoder.decode(s.data(), 0, s.size());
            assertNotNull(insns, obj + " " + s.name() + ": not decoded");
            assertEquals(objdumpOffsets(obj, s.name()), insns.stream().map(X86Insn::offset).toList(), obj + " " + s.name());
            n++;
        }
        return n;
    }

    @Test
    void boundariesAreObjdumpsOnEveryFixture() throws Exception {
        int sections = 0;
        for (FixtureCase c : FixtureCase.all()) {
            for (int v = 0; v < c.variants().size(); v++) {
                FixtureCase.Build b = c.build(tmp.resolve(c.name() + v), v);
                sections += compareAll(b.orig()) + compareAll(b.patched());
            }
        }
        assertTrue(sections > 50, "compared " + sections + " code sections");
    }

    @Test
    void unknownOrTruncatedCodeIsNotDecoded() {
        // VEX-encoded vzeroupper (c5 f8 77), and a mov $imm32 cut short.
        assertEquals(null, X86Decoder.decode(org.livepatch.elf.Bytes.copyOf(new byte[] {(byte) 0xc5, (byte) 0xf8, 0x77}), 0, 3));
        assertEquals(null, X86Decoder.decode(org.livepatch.elf.Bytes.copyOf(new byte[] {(byte) 0xba, 1, 2}), 0, 3));
    }

    @Test
    @Tag("xen")
    void boundariesAreObjdumpsOnRealXenObjects() throws Exception {
        Path xen = XenTree.root().resolve("xen");
        int sections = 0;
        for (String o : List.of("arch/x86/mm/p2m.o", "arch/x86/mm/p2m-pod.o", "arch/x86/domain.o", "common/grant_table.o",
                "arch/x86/hvm/hvm.o", "arch/x86/mm/shadow/guest_4.o")) {
            sections += compareAll(xen.resolve(o));
        }
        assertTrue(sections > 250, "compared " + sections + " code sections");
    }
}
