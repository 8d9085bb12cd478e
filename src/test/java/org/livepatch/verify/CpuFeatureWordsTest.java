package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.xen.XenSymbolTable;

/**
 * NCAPINTS is read from the sizes of {@code cleared_caps} and {@code forced_caps} in xen-syms
 * (xen/arch/x86/cpu/common.c: both {@code unsigned int [NCAPINTS]}) when both are there once and
 * agree, else taken from the release's rules; the loader's feature check follows it.
 */
class CpuFeatureWordsTest {
    private static final long BSS = 0xffff82d040600000L;

    /** The synthetic hypervisor with the two arrays of {@code clearedBytes} and {@code forcedBytes} (0: left out). */
    private static XenSymbolTable xen(long clearedBytes, long forcedBytes) {
        Consumer<ObjectBuilder> arrays = b -> {
            ObjectBuilder.SectionHandle bss = b.addNoBits(".bss", Elf.SHF_ALLOC | Elf.SHF_WRITE, 64, 0x200);
            b.setAddress(bss, BSS);
            if (clearedBytes > 0) {
                b.addSymbol("cleared_caps", Elf.STB_LOCAL, Elf.STT_OBJECT, 0, bss, BSS, clearedBytes);
            }
            if (forcedBytes > 0) {
                b.addSymbol("forced_caps", Elf.STB_LOCAL, Elf.STT_OBJECT, 0, bss, BSS + 0x100, forcedBytes);
            }
        };
        try {
            return XenSymbolTable.of(ElfReader.read(Path.of("xen-syms"), EveryRejectReasonTest.xenSyms(true, arrays)));
        } catch (ElfFormatException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theArraysInXenSymsGiveNcapints() {
        // 88 bytes: 22 words, as in the 4.22.0 build, though the rules are 4.17's (21).
        CpuFeatureWords w = CpuFeatureWords.of(xen(88, 88), HypervisorRules.XEN_4_17);
        assertEquals(new CpuFeatureWords(22, "cleared_caps and forced_caps in xen-syms"), w);
        assertEquals(0x2c0, w.limit());
        assertEquals("NCAPINTS 22 (features below 0x2c0), from cleared_caps and forced_caps in xen-syms", w.describe());
    }

    @Test
    void withoutTwoAgreeingArraysTheReleaseSaysIt() {
        String fallback = " (xen-syms has no single cleared_caps/forced_caps of whole words)";
        assertEquals(new CpuFeatureWords(21, "the Xen 4.20 release" + fallback), CpuFeatureWords.of(xen(0, 0), HypervisorRules.XEN_4_20));
        assertEquals(new CpuFeatureWords(22, "the Xen 4.22 release" + fallback), CpuFeatureWords.of(xen(88, 0), HypervisorRules.XEN_4_22));
        assertEquals(new CpuFeatureWords(21, "the Xen 4.17 release" + fallback), CpuFeatureWords.of(xen(88, 84), HypervisorRules.XEN_4_17));
        assertEquals(new CpuFeatureWords(21, "the Xen 4.17 release" + fallback), CpuFeatureWords.of(xen(86, 86), HypervisorRules.XEN_4_17));
        assertEquals(new CpuFeatureWords(22, "the Xen 4.22 release"), CpuFeatureWords.of(null, HypervisorRules.XEN_4_22));
    }

    /** A payload with one alternative for feature {@code 0x2a0}: beyond 21 words, within 22. */
    @Test
    void theLoaderChecksFeaturesAgainstTheHypervisorsOwnCount() {
        byte[] p = HypervisorVersionsTest.withAlternative(5, 0x2a0);
        // 4.20 rules alone say 21 words: refused. The xen-syms given has 22: accepted, and the report says where 22 came from.
        LoadCheck.Report withoutArrays = LoadCheck.check(xen(0, 0), HypervisorRules.Choice.exact(HypervisorRules.XEN_4_20),
                List.of(PayloadFile.of("p", p)), LoadCheck.Options.defaults());
        assertEquals(RejectReason.ALTERNATIVE_FEATURE_OUT_OF_RANGE, withoutArrays.firstRejection().reason());
        LoadCheck.Report withArrays = LoadCheck.check(xen(88, 88), HypervisorRules.Choice.exact(HypervisorRules.XEN_4_20),
                List.of(PayloadFile.of("p", p)), LoadCheck.Options.defaults());
        assertEquals(null, withArrays.firstRejection());
        assertEquals(22, withArrays.cpuFeatures().words());
        java.io.StringWriter out = new java.io.StringWriter();
        new ApplyPlan(withArrays).printVerdicts(new java.io.PrintWriter(out));
        assertEquals("cpu features: NCAPINTS 22 (features below 0x2c0), from cleared_caps and forced_caps in xen-syms",
                out.toString().lines().toList().get(1));
    }
}
