package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.livepatch.verify.HypervisorRules;
import org.livepatch.xen.XenSymbolTable;

/**
 * The assembler's upload check reads what differs between releases from the same
 * {@link HypervisorRules} the verifier's loader uses: each difference it can see before load
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
        return new HypervisorLimits(xen, rules, FuncLayout.V2, Set.of()).problems(ElfReader.read(Path.of("changed.livepatch"), bytes), "changed", bytes.length);
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
        assertEquals(List.of(".livepatch.xen_depends is not a loaded (SHF_ALLOC) section with contents: the hypervisor reads it from the loaded image"),
                problems(HypervisorRules.XEN_4_17, unloaded));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_20, unloaded));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_22, unloaded));
        // .livepatch.depends is still read from the loaded image on every release.
        assertEquals(List.of(".livepatch.depends is not a loaded (SHF_ALLOC) section with contents: the hypervisor reads it from the loaded image"),
                problems(HypervisorRules.XEN_4_22, b -> b.setFlags(sec(b, PayloadSections.DEPENDS), 0)));
    }

    @Test
    void altCallSitesAreSizedFrom422() throws Exception {
        Consumer<ObjectBuilder> ragged = b -> b.addSection(".alt_call_sites", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 4, 0, Bytes.copyOf(new byte[3]));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_17, ragged));
        assertEquals(List.of(), problems(HypervisorRules.XEN_4_20, ragged));
        assertEquals(List.of(".alt_call_sites is 3 bytes, not a multiple of sizeof(struct alt_call) = 4 (prepare_payload, Xen 4.22)"),
                problems(HypervisorRules.XEN_4_22, ragged));
    }

    @Test
    void anOverlongAlternativeIsReportedWithEachReleasesConsequence() throws Exception {
        byte[] entry = new byte[14];
        entry[10] = 5; // orig_len
        entry[11] = 6; // repl_len, one more than orig_len + pad_len
        Consumer<ObjectBuilder> overlong = b -> {
            b.addSection(".altinstr_replacement", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 1, 0, Bytes.copyOf(new byte[6]));
            b.addSection(".altinstructions", Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 1, 0, Bytes.copyOf(entry));
        };
        assertEquals(List.of(".altinstructions entry 0: replacement of 6 bytes for a site of 5 (at most 254) (_apply_alternatives: BUG_ON, Xen 4.17 stops)"),
                problems(HypervisorRules.XEN_4_17, overlong));
        assertEquals(List.of(".altinstructions entry 0: replacement of 6 bytes for a site of 5 (at most 254) (_apply_alternatives: ENOSPC)"),
                problems(HypervisorRules.XEN_4_20, overlong));
    }
}
