package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/** Xen 4.17.5's own example payloads ({@code make -C xen tests}) as the reference for our checks and our assembly. */
@Tag("xen")
class XenExamplePayloadsTest {

    private static Path testDir() {
        return XenTree.root().resolve("xen/test/livepatch");
    }

    @Test
    void everyExamplePayloadPassesOurChecksExceptTheOneMadeWithoutXensBuildId() throws Exception {
        XenSymbolTable xen = XenSymbolTable.load(XenTree.xenSyms());
        HypervisorLimits limits = new HypervisorLimits(xen, FuncLayout.V2);
        List<Path> payloads;
        try (Stream<Path> s = Files.list(testDir())) {
            payloads = s.filter(p -> p.toString().endsWith(".livepatch")).sorted().toList();
        }
        assertTrue(payloads.size() >= 13, "payloads: " + payloads);
        Map<String, List<String>> problems = new TreeMap<>();
        for (Path p : payloads) {
            List<String> l = HypervisorLimitsTest.problems(limits, HypervisorLimits.payloadNameOf(p), Files.readAllBytes(p));
            if (!l.isEmpty()) {
                problems.put(p.getFileName().toString(), l);
            }
        }
        assertEquals(Map.of("xen_no_xen_buildid.livepatch", List.of("SECTION_MISSING, EINVAL (22): .livepatch.xen_depends is missing")), problems);
    }

    private record Shape(int type, long flags, long size) {}

    private static Map<String, Shape> shapes(ElfFile e) {
        Map<String, Shape> m = new TreeMap<>();
        for (Section s : e.sections()) {
            if (s.index() == 0 || s.name().equals(".symtab") || s.name().equals(".strtab") || s.name().equals(".shstrtab")) {
                continue;
            }
            m.put(s.name(), new Shape(s.type(), s.flags(), s.size()));
        }
        return m;
    }

    private static List<String> relocations(ElfFile e, String section) {
        List<String> out = new ArrayList<>();
        Section s = e.section(section).orElseThrow();
        for (Relocation r : e.relocationsFor(s).orElseThrow().relocations()) {
            Symbol sym = r.symbol();
            String name = sym.isSectionSymbol() ? "[" + e.section(sym.shndx()).name() + "]" : sym.name();
            out.add(Long.toHexString(r.offset()) + " " + r.type() + " " + name + "+" + r.addend());
        }
        return out;
    }

    @Test
    void helloWorldAssembledFromXensObjectsMatchesXensOwnPayload(@TempDir Path tmp) throws Exception {
        XenSymbolTable xen = XenSymbolTable.load(XenTree.xenSyms());
        Path dir = testDir();
        ElfFile ref = ElfReader.read(dir.resolve("xen_hello_world.livepatch"));
        // Xen's Makefile links these plus note.o and xen_note.o (its dependency notes); we write those ourselves.
        List<Path> objects = List.of(dir.resolve("xen_hello_world_func.o"), dir.resolve("xen_hello_world.o"), dir.resolve("modinfo.o"));
        Path out = tmp.resolve("xen_hello_world.livepatch");
        PayloadAssembler.Payload p = new PayloadAssembler(xen).assembleTo(objects, out, PayloadAssembler.Options.defaults());
        ElfFile ours = ElfReader.read(out);

        // Same sections with the same type, flags and size.
        assertEquals(shapes(ref), shapes(ours));
        // The funcs entry byte for byte, and the same relocations filling it.
        assertEquals(ref.section(PayloadSections.FUNCS).orElseThrow().data(), ours.section(PayloadSections.FUNCS).orElseThrow().data());
        assertEquals(List.of("0 1 [.rodata.hello_world_patch_this_fnc]+0", "8 1 xen_hello_world+0", "10 1 xen_extra_version+0"),
                relocations(ours, PayloadSections.FUNCS));
        assertEquals(relocations(ref, PayloadSections.FUNCS), relocations(ours, PayloadSections.FUNCS));
        // The dependency notes hold the same bytes as those Xen's Makefile made with objcopy.
        for (String n : List.of(PayloadSections.DEPENDS, PayloadSections.XEN_DEPENDS)) {
            assertEquals(ref.section(n).orElseThrow().data(), ours.section(n).orElseThrow().data(), n);
        }
        assertEquals(LinkFixture.readelfBuildId(XenTree.xenSyms()), BuildIdNote.parse(ours.section(PayloadSections.XEN_DEPENDS).orElseThrow().data()).orElseThrow().id().toHex());
        // Both have their own build-id note of the same shape, placed first; the ids differ by design.
        Section refNote = ref.section(1);
        Section ourNote = ours.section(1);
        assertEquals(PayloadSections.BUILD_ID, ourNote.name());
        assertEquals(refNote.name(), ourNote.name());
        assertEquals(refNote.addralign(), ourNote.addralign());
        assertEquals(20, ours.buildId().orElseThrow().length());
        assertEquals(p.buildId().id(), ours.buildId().orElseThrow());
        // Symbols: Xen's, minus the metadata symbols we strip.
        List<String> refSyms = ref.symbols().stream().map(Symbol::name)
                .filter(n -> !n.isEmpty() && !n.equals("livepatch_xen_hello_world") && !n.matches("livepatch_(load|unload)_data_.*")).sorted().toList();
        List<String> ourSyms = ours.symbols().stream().map(Symbol::name).filter(n -> !n.isEmpty()).sorted().toList();
        assertEquals(refSyms, ourSyms);
        System.out.println("[xen] xen_hello_world: ours " + Files.size(out) + " bytes, Xen's " + Files.size(dir.resolve("xen_hello_world.livepatch"))
                + " bytes; our build-id " + p.buildId().hex());
    }

    @Test
    void prelinkedHelloWorldNeedsNoLookupAndPointsAtNmsAddresses(@TempDir Path tmp) throws Exception {
        XenSymbolTable xen = XenSymbolTable.load(XenTree.xenSyms());
        Path dir = testDir();
        List<Path> objects = List.of(dir.resolve("xen_hello_world_func.o"), dir.resolve("xen_hello_world.o"), dir.resolve("modinfo.o"));
        Path out = tmp.resolve("hw.livepatch");
        new PayloadAssembler(xen).assembleTo(objects, out, PayloadAssembler.Options.defaults().withPrelink(true));
        ElfFile e = ElfReader.read(out);
        Map<String, List<Long>> nm = LinkFixture.nm(XenTree.xenSyms());
        assertTrue(e.symbols().stream().noneMatch(s -> s.index() > 0 && s.isUndefined()));
        for (String n : List.of("xen_extra_version", "printk", "__x86_return_thunk")) {
            Symbol s = e.symbolsNamed(n).get(0);
            assertTrue(s.isAbsolute(), n);
            assertEquals(nm.get(n), List.of(s.value()), n);
        }
    }
}
