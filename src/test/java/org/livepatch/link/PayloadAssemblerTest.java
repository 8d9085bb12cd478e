package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.Tools;
import org.livepatch.xen.XenSymbolTable;

/** Payloads assembled from the fixture's create-diff-object-like objects, checked with readelf and nm. */
class PayloadAssemblerTest {
    @TempDir
    static Path tmp;
    static LinkFixture fx;
    static XenSymbolTable xen;
    static String xenId;

    @BeforeAll
    static void build() throws Exception {
        fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        xenId = LinkFixture.readelfBuildId(fx.xenSyms());
    }

    private static List<Path> goodObjects() {
        return List.of(fx.object("payload_main"), fx.object("payload_helper"));
    }

    private static Path out(String dir, String name) throws Exception {
        return Files.createDirectories(tmp.resolve(dir)).resolve(name);
    }

    /** Section names and readelf type/flags, in order, from {@code readelf -W -S}. */
    static List<String> readelfSections(Path file) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Tools.run(null, "readelf", "-W", "-S", file.toString()).split("\n")) {
            var m = java.util.regex.Pattern.compile("^\\s*\\[\\s*(\\d+)\\]\\s+(\\S+)\\s+(\\S+)\\s+[0-9a-f]{16}\\s+[0-9a-f]+\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s*([A-Za-z]*)\\s+\\d+\\s+\\d+\\s+(\\d+)$").matcher(line);
            if (m.matches()) {
                out.add(m.group(2) + " " + m.group(3) + " " + m.group(5) + " align=" + m.group(6));
            }
        }
        return out;
    }

    /** The bytes {@code readelf -x SECTION} dumps. */
    static byte[] readelfHex(Path file, String section) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String line : Tools.run(null, "readelf", "-x", section, file.toString()).split("\n")) {
            String t = line.trim();
            if (t.startsWith("0x")) {
                String[] f = t.split("\\s+");
                for (int i = 1; i < f.length && i <= 4 && f[i].matches("[0-9a-f]+"); i++) {
                    b.writeBytes(HexFormat.of().parseHex(f[i]));
                }
            }
        }
        return b.toByteArray();
    }

    /** A build-id note written out by hand: namesz 4, descsz, type 3, "GNU\0", id. */
    static byte[] expectedNote(String idHex) {
        byte[] id = HexFormat.of().parseHex(idHex);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {4, 0, 0, 0, (byte) id.length, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0});
        b.writeBytes(id);
        return b.toByteArray();
    }

    @Test
    void strippedPrelinkedPayloadHasExactlyTheExpectedSectionsNotesAndBuildIds() throws Exception {
        Path f = out("exact", "fix.livepatch");
        var opts = PayloadAssembler.Options.defaults().withPrelink(true).withStrip(true);
        PayloadAssembler.Payload p = new PayloadAssembler(xen).assembleTo(goodObjects(), f, opts);

        assertEquals(List.of(
                ".note.gnu.build-id NOTE A align=4",
                ".text PROGBITS AX align=1",
                ".text.on_load PROGBITS AX align=16",
                ".rela.text.on_load RELA I align=8",
                ".text.patch_me PROGBITS AX align=16",
                ".rela.text.patch_me RELA I align=8",
                ".text.helper_scale PROGBITS AX align=16",
                ".rela.text.helper_scale RELA I align=8",
                ".rodata.str1.1 PROGBITS AMS align=1",
                ".data PROGBITS WA align=1",
                ".livepatch.funcs PROGBITS WA align=32",
                ".rela.livepatch.funcs RELA I align=8",
                ".livepatch.hooks.load PROGBITS WA align=8",
                ".rela.livepatch.hooks.load RELA I align=8",
                ".bss NOBITS WA align=1",
                ".comment PROGBITS MS align=1",
                ".note.GNU-stack PROGBITS X align=1",
                ".livepatch.depends PROGBITS A align=4",
                ".livepatch.xen_depends PROGBITS A align=4",
                ".symtab SYMTAB  align=8",
                ".strtab STRTAB  align=1",
                ".shstrtab STRTAB  align=1"), readelfSections(f));

        // The payload's own id: what readelf -n shows, SHA-1 of the file with those 20 bytes zeroed.
        String own = LinkFixture.readelfBuildId(f);
        assertEquals(p.buildId().hex(), own);
        byte[] file = Files.readAllBytes(f);
        byte[] zeroed = file.clone();
        int at = indexOf(file, HexFormat.of().parseHex(own));
        java.util.Arrays.fill(zeroed, at, at + 20, (byte) 0);
        assertEquals(own, HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(zeroed)));
        assertEquals(own, PayloadAssembler.contentBuildId(Bytes.copyOf(file)).toHex());

        assertArrayEquals(expectedNote(xenId), readelfHex(f, PayloadSections.DEPENDS), "a first payload depends on the hypervisor");
        assertArrayEquals(expectedNote(xenId), readelfHex(f, PayloadSections.XEN_DEPENDS));

        // Prelinked: no undefined symbol, each at nm's address; old_addr filled.
        Map<String, List<Long>> nm = LinkFixture.nm(fx.xenSyms());
        ElfFile e = ElfReader.read(f);
        for (String g : List.of("shared_counter", "bump")) {
            assertEquals(nm.get(g), List.of(e.symbolsNamed(g).get(0).value()), g);
        }
        assertEquals(LinkFixture.readelfLocal(fx.xenSyms(), "other.c", "dup_counter"), e.symbolsNamed("other.c#dup_counter").get(0).value());
        assertTrue(e.symbols().stream().noneMatch(s -> s.index() > 0 && s.isUndefined()));
        LivepatchFunc fn = LivepatchFunc.decode(e.section(PayloadSections.FUNCS).orElseThrow().data(), 0, FuncLayout.V2);
        assertEquals(nm.get("patch_me"), List.of(fn.oldAddr()));

        // Stripped: only what relocations name, plus the global definitions.
        List<String> syms = e.symbols().stream().skip(1).map(s -> s.name().isEmpty() ? "[" + e.section(s.shndx()).name() + "]" : s.name()).toList();
        assertEquals(List.of("[.text.on_load]", "[.rodata.str1.1]", "helper_scale", "shared_counter", "other.c#dup_counter", "patch_me", "bump"), syms);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void sameInputsGiveTheSameBytesWhereverTheyLie() throws Exception {
        Path a = out("twice-a", "p.livepatch");
        Path b = out("twice-b", "p.livepatch");
        // Copies of the objects elsewhere: paths must not leak into the payload.
        Path copies = Files.createDirectories(tmp.resolve("copies"));
        List<Path> moved = new ArrayList<>();
        for (Path o : goodObjects()) {
            moved.add(Files.copy(o, copies.resolve(o.getFileName())));
        }
        var asm = new PayloadAssembler(xen);
        asm.assembleTo(goodObjects(), a, PayloadAssembler.Options.defaults());
        asm.assembleTo(moved, b, PayloadAssembler.Options.defaults());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void metadataSymbolsAreGoneAndWhatNamedThemNowNamesTheirSection() throws Exception {
        Path f = out("meta", "m.livepatch");
        new PayloadAssembler(xen).assembleTo(goodObjects(), f, PayloadAssembler.Options.defaults());
        String symbols = Tools.run(null, "readelf", "-W", "-s", "-r", f.toString());
        assertFalse(symbols.contains("livepatch_patch_me"), "symbol defined in .livepatch.funcs is stripped");
        assertFalse(symbols.contains("livepatch_load_data_on_load"), "hook data symbol is stripped");
        assertTrue(symbols.contains(".debug_info"), "unstripped payload keeps its debug info");
        // The debug info that pointed at livepatch_patch_me now points at .livepatch.funcs + 0.
        ElfFile e = ElfReader.read(f);
        assertTrue(e.relocationSections().stream().flatMap(r -> r.relocations().stream())
                .anyMatch(r -> r.symbol().isSectionSymbol() && e.section(r.symbol().shndx()).name().equals(PayloadSections.FUNCS)));
        ElfFile before = ElfReader.read(LinkFixture.ldr(tmp.resolve("meta-ld.o"), goodObjects().toArray(Path[]::new)));
        assertEquals(1, before.symbolsNamed("livepatch_patch_me").size(), "the fixture does define it");
        // Nothing else lost: every other named symbol is still there.
        List<String> kept = e.symbols().stream().map(Symbol::name).filter(n -> !n.isEmpty()).sorted().toList();
        List<String> expected = before.symbols().stream().map(Symbol::name)
                .filter(n -> !n.isEmpty() && !n.equals("livepatch_patch_me") && !n.equals("livepatch_load_data_on_load")).sorted().toList();
        assertEquals(expected, kept);
    }

    @Test
    void aStackedPayloadDependsOnThePayloadBelow() throws Exception {
        var asm = new PayloadAssembler(xen);
        var first = asm.assembleTo(goodObjects(), out("stack", "first.livepatch"), PayloadAssembler.Options.defaults());
        Path second = out("stack", "second.livepatch");
        asm.assembleTo(goodObjects(), second, PayloadAssembler.Options.defaults().withDepends(BuildIdNote.ofHex(first.buildId().hex())));
        assertArrayEquals(expectedNote(first.buildId().hex()), readelfHex(second, PayloadSections.DEPENDS));
        assertArrayEquals(expectedNote(xenId), readelfHex(second, PayloadSections.XEN_DEPENDS));
    }

    @Test
    void aPayloadXenWouldRefuseIsNeverWrittenAndItsFirstReasonIsGiven() throws Exception {
        Path f = out("bad", "bad.livepatch");
        var e = assertThrows(PayloadRejectedException.class,
                () -> new PayloadAssembler(xen).assembleTo(List.of(fx.object("payload_bad")), f, PayloadAssembler.Options.defaults()));
        assertFalse(Files.exists(f));
        // Xen stops at the first problem: the relocation it cannot perform (relocations come before funcs).
        String reason = "RELOCATION_TYPE_UNSUPPORTED, EOPNOTSUPP (95): Unhandled relocation 10 (R_X86_64_32) in entry 0 of .rela.text.tiny"
                + " against shared_counter; x86 payloads may only use R_X86_64_NONE, _64, _PC32 and _PLT32";
        assertEquals(reason, e.rejection().describe());
        assertEquals(95, e.rejection().errno().value());
        assertEquals(f + ": Xen 4.17.5 would refuse this payload: " + reason, e.getMessage());
    }

    /** What the loader warns about comes with the payload, for the caller to show; a payload without alternatives has none. */
    @Test
    void theLoadersWarningsComeWithThePayload() throws Exception {
        Path alt = writeWithAlternative(out("warn", "payload_main.o"));
        var p = new PayloadAssembler(xen).assembleTo(List.of(alt, fx.object("payload_helper")), out("warn", "alt.livepatch"),
                PayloadAssembler.Options.defaults());
        assertEquals(List.of(HypervisorLimitsVersionsTest.ALTERNATIVES_WARNING), p.warnings());
        assertEquals(List.of(), new PayloadAssembler(xen).assemble(goodObjects(), "good", PayloadAssembler.Options.defaults()).warnings());
    }

    /** payload_main.o with one alternative (for its .text.patch_me) added, written to {@code file}. */
    static Path writeWithAlternative(Path file) throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(ElfReader.read(LinkFixture.shared().object("payload_main"))).builder();
        HypervisorLimitsVersionsTest.alternative(5, 0).accept(b);
        return Files.write(file, b.toBytes());
    }

    @Test
    void inputsThatCarryTheirOwnNotesAreRefused() throws Exception {
        ObjectBuilder b = ObjectBuilder.copyOf(ElfReader.read(fx.object("payload_helper"))).builder();
        b.addSection(PayloadSections.DEPENDS, Elf.SHT_PROGBITS, Elf.SHF_ALLOC, 4, 0, BuildIdNote.ofHex(xenId).encode());
        Path o = tmp.resolve("with-depends.o");
        Files.write(o, b.toBytes());
        var e = assertThrows(LinkException.class, () -> new PayloadAssembler(xen).assemble(List.of(o), "x", PayloadAssembler.Options.defaults()));
        assertEquals(o + ": already has a .livepatch.depends section; the payload assembler writes it itself", e.getMessage());
        assertThrows(LinkException.class, () -> new PayloadAssembler(xen).assemble(List.of(), "x", PayloadAssembler.Options.defaults()));
    }
}
