package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.verify.HypervisorRules;
import org.livepatch.verify.LoadCheck;
import org.livepatch.xen.XenSymbolTable;

/**
 * The assembler's upload check is the verifier's loader ({@code LoadCheck.beforeWriting}), so it
 * reads what differs between releases from the same {@link HypervisorRules}: each difference it can see before load
 * time, on an assembled payload changed in one way, with the problem each release reports
 * written out (the Xen source lines are named in {@code verify/HypervisorVersionsTest}).
 */
class HypervisorLimitsVersionsTest {
    static XenSymbolTable xen;
    static ElfFile good;

    @BeforeAll
    static void build() throws Exception {
        LinkFixture fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        var p = new PayloadAssembler(xen).assemble(List.of(fx.object("payload_main"), fx.object("payload_helper")), "good",
                PayloadAssembler.Options.defaults());
        good = ElfReader.read(Path.of("good.livepatch"), p.bytes().toArray());
    }

    private static List<String> problems(HypervisorRules rules, Consumer<ObjectBuilder> change) throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
        change.accept(b);
        byte[] bytes = b.toBytes();
        return HypervisorLimitsTest.problems(new HypervisorLimits(xen, rules, FuncLayout.V2, Set.of()), "changed", bytes);
    }

    private static ObjectBuilder.SectionHandle sec(ObjectBuilder b, String name) {
        return b.sections().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theGoodPayloadPassesEveryRelease() throws Exception {
        for (HypervisorRules r : HypervisorRules.known()) {
            assertEquals(List.of(), problems(r, b -> { }), r.toString());
        }
    }

    @Test
    void xenDependsNeedNotBeLoadedFrom420() throws Exception {
        Consumer<ObjectBuilder> unloaded = b -> b.setFlags(sec(b, PayloadSections.XEN_DEPENDS), 0);
        assertEquals(List.of("SECTION_NOT_LOADED, EINVAL (22): .livepatch.xen_depends is not SHF_ALLOC, so Xen never loads it but reads it through a NULL load address"),
                problems(HypervisorRules.XEN_4_17, unloaded));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_20, unloaded));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_22, unloaded));
        // .livepatch.depends is still read from the loaded image on every release.
        assertEquals(List.of("SECTION_NOT_LOADED, EINVAL (22): .livepatch.depends is not SHF_ALLOC, so Xen never loads it but reads it through a NULL load address"),
                problems(HypervisorRules.XEN_4_22, b -> b.setFlags(sec(b, PayloadSections.DEPENDS), 0)));
    }

    @Test
    void altCallSitesAreSizedFrom422() throws Exception {
        Consumer<ObjectBuilder> ragged = b -> b.addSection(".alt_call_sites", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 4, 0, Bytes.copyOf(new byte[3]));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_17, ragged));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_20, ragged));
        assertEquals(List.of("ALT_CALL_SITES_INVALID, EINVAL (22): Wrong size 3 of .alt_call_sites (must be multiple of 4)"),
                problems(HypervisorRules.XEN_4_22, ragged));
    }

    /** One .altinstructions entry for the first 5 bytes of .text.patch_me, with a replacement of {@code replLen} bytes for feature {@code cpuid}. */
    static Consumer<ObjectBuilder> alternative(int replLen, int cpuid) {
        byte[] entry = new byte[14];
        entry[8] = (byte) cpuid;
        entry[9] = (byte) (cpuid >> 8);
        entry[10] = 5; // orig_len
        entry[11] = (byte) replLen;
        return b -> {
            ObjectBuilder.SectionHandle repl = b.addSection(".altinstr_replacement", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 1, 0, Bytes.copyOf(new byte[6]));
            ObjectBuilder.SectionHandle alt = b.addSection(".altinstructions", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, Bytes.copyOf(entry));
            ObjectBuilder.SymbolHandle text = b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, sec(b, ".text.patch_me"), 0, 0);
            ObjectBuilder.SymbolHandle replSym = b.addSymbol("", Elf.STB_LOCAL, Elf.STT_SECTION, 0, repl, 0, 0);
            b.addRelocations(alt, ".rela.altinstructions", Elf.SHF_INFO_LINK, List.of(
                    new ObjectBuilder.RelaEntry(0, RelocationTypes.R_X86_64_PC32, text, 0),
                    new ObjectBuilder.RelaEntry(4, RelocationTypes.R_X86_64_PC32, replSym, 0)));
        };
    }

    /**
     * The assembler's refusal carries the one reason; a check the release does not make itself
     * (4.17's BUG_ON on a feature outside NCAPINTS) is worded as what it is and names the rules'
     * release, a real refusal (4.20's ERANGE) as a refusal.
     */
    @Test
    void aFeatureOutsideTheCapabilityWordsIsRefusedWithEachReleasesWording() throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
        alternative(5, 0x2a0).accept(b);
        byte[] bytes = b.toBytes();
        Path file = Path.of("feature.livepatch");
        String target = "Xen " + xen.version();
        String detail = "Alt entry 0: feature 0x2a0 outside of featureset range 0x2a0 (NCAPINTS 21 (features below 0x2a0), from ";
        PayloadRejectedException r417 = assertThrows(PayloadRejectedException.class,
                () -> new HypervisorLimits(xen, HypervisorRules.XEN_4_17, FuncLayout.V2, Set.of()).check(file, "feature", bytes));
        assertEquals("ALTERNATIVE_FEATURE_OUT_OF_RANGE", r417.rejection().reason().name());
        assertEquals(34, r417.rejection().errno().value());
        assertTrue(r417.getMessage().startsWith("feature.livepatch: " + target + " would take this payload and then crash or misbehave"
                + " (Xen 4.17 does not check this); refused: ALTERNATIVE_FEATURE_OUT_OF_RANGE, ERANGE (34): " + detail), r417.getMessage());
        PayloadRejectedException r420 = assertThrows(PayloadRejectedException.class,
                () -> new HypervisorLimits(xen, HypervisorRules.XEN_4_20, FuncLayout.V2, Set.of()).check(file, "feature", bytes));
        assertEquals(34, r420.rejection().errno().value());
        assertTrue(r420.getMessage().startsWith("feature.livepatch: " + target + " would refuse this payload: ALTERNATIVE_FEATURE_OUT_OF_RANGE, ERANGE (34): "
                + detail), r420.getMessage());
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_22, alternative(5, 0x2a0)));
    }

    /** What the loader warns about in a payload it takes, here that it cannot model alternatives. */
    static final String ALTERNATIVES_WARNING = "Xen applies this payload's 1 alternatives at upload; their effect depends on the CPU and is not modelled";

    /** A payload the loader takes with a warning gives the warning on every release; a refused one gives none (the upload stopped). */
    @Test
    void theLoadersWarningsComeWithAPayloadItTakes() throws Exception {
        for (HypervisorRules r : HypervisorRules.known()) {
            ObjectBuilder b = ObjectBuilder.copyOf(good).builder();
            alternative(5, 0).accept(b);
            LoadCheck.UploadVerdict v = new HypervisorLimits(xen, r, FuncLayout.V2, Set.of()).verdict("alt", b.toBytes());
            assertEquals(Optional.empty(), v.refusal(), r.toString());
            assertEquals(List.of(ALTERNATIVES_WARNING), v.warnings(), r.toString());
            ObjectBuilder bad = ObjectBuilder.copyOf(good).builder();
            alternative(6, 0).accept(bad);
            LoadCheck.UploadVerdict refused = new HypervisorLimits(xen, r, FuncLayout.V2, Set.of()).verdict("alt", bad.toBytes());
            assertEquals("ALTERNATIVE_TOO_LONG", refused.refusal().orElseThrow().reason().name());
            assertEquals(List.of(), refused.warnings());
        }
        assertEquals(List.of(), new HypervisorLimits(xen, FuncLayout.V2).verdict("good", ObjectBuilder.copyOf(good).builder().toBytes()).warnings());
    }

    @Test
    void anOverlongAlternativeIsReportedWithEachReleasesConsequence() throws Exception {
        // The site is the first 5 bytes of .text.patch_me, the replacement .altinstr_replacement: the
        // loader checks both lie where they must before it compares their lengths (repl_len 6 is
        // one more than orig_len + pad_len).
        Consumer<ObjectBuilder> overlong = alternative(6, 0);
        assertEquals(List.of("ALTERNATIVE_TOO_LONG, ENOSPC (28): Alt entry 0: replacement size 0x6 larger than origin 0x5 (Xen 4.17 does not refuse this: a BUG_ON in _apply_alternatives stops the host)"),
                problems(HypervisorRules.XEN_4_17, overlong));
        assertEquals(List.of("ALTERNATIVE_TOO_LONG, ENOSPC (28): Alt entry 0: replacement size 0x6 larger than origin 0x5"),
                problems(HypervisorRules.XEN_4_20, overlong));
    }
}
