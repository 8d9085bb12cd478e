package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationSection;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.AltEntries;
import org.livepatch.testsupport.FixupTraces;
import org.livepatch.testsupport.Tools;
import org.livepatch.xen.XenSymbol;
import org.livepatch.xen.XenSymbolTable;

/**
 * Every case of {@code xen-src-fixtures/diff}, compiled with gcc and diffed in-process: the
 * result, the exact sets of changed and new functions, and the refusals must be what the case's
 * {@code expect} file says; every payload written must be a valid object (readelf and {@code ld -r}
 * accept it) whose {@code .livepatch.funcs} names exactly the changed functions with sizes from
 * the (stand-in) xen-syms.
 */
class DiffFixtureTest {
    @TempDir
    Path tmp;

    @TestFactory
    Stream<DynamicTest> everyFixture() throws Exception {
        List<FixtureCase> cases = FixtureCase.all();
        assertFalse(cases.isEmpty(), "no fixtures under " + FixtureCase.root());
        // A fixture directory without its expect file would be skipped silently: none may lack one.
        try (var dirs = java.nio.file.Files.list(FixtureCase.root())) {
            List<String> all = dirs.filter(java.nio.file.Files::isDirectory).map(d -> d.getFileName().toString())
                    .filter(n -> !n.equals("include")).sorted().toList();
            assertEquals(all, cases.stream().map(FixtureCase::name).sorted().toList(), "fixture directories with an expect file");
        }
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    private void check(FixtureCase c) throws Exception {
        Set<String> changed = new TreeSet<>();
        Set<String> added = new TreeSet<>();
        Set<String> lineOnly = new TreeSet<>();
        List<Refusal> refusals = new ArrayList<>();
        boolean anyChange = false;
        for (int v = 0; v < c.variants().size(); v++) {
            Path work = tmp.resolve(c.name() + "-" + v);
            FixtureCase.Build b = c.build(work, v);
            XenSymbolTable xen = XenSymbolTable.of(ElfReader.read(b.xenSyms()));
            DiffResult r = new DiffEngine().diff(ElfReader.read(b.orig()), ElfReader.read(b.patched()), new DiffOptions(null, xen, false));
            changed.addAll(r.changedFunctions());
            added.addAll(r.newFunctions());
            lineOnly.addAll(r.lineOnlyFunctions());
            refusals.addAll(r.refusals());
            switch (r.status()) {
                case CHANGES -> {
                    anyChange = true;
                    assertNotNull(r.output());
                    checkPayload(work, r, xen);
                    checkAlternatives(b.patched(), work.resolve("payload.o"));
                    checkFixups(b.patched(), work.resolve("payload.o"));
                }
                case NO_CHANGE -> assertNull(r.output());
                case REFUSED -> {
                    assertNull(r.output());
                    assertFalse(r.refusals().isEmpty());
                }
            }
        }
        String result = !refusals.isEmpty() ? "refused" : anyChange ? "changes" : "nochange";
        assertEquals(c.result(), result, c.name() + ": result; refusals " + refusals);
        assertEquals(new TreeSet<>(c.changed()), changed, c.name() + ": changed functions");
        assertEquals(new TreeSet<>(c.added()), added, c.name() + ": new functions");
        // Absent from the expect file means none: every case states its line-only functions.
        assertEquals(new TreeSet<>(c.lineOnly()), lineOnly, c.name() + ": functions with only line-number changes");
        for (String want : c.refused()) {
            assertTrue(refusals.stream().anyMatch(f -> f.toString().contains(want)),
                    c.name() + ": expected a refusal mentioning '" + want + "', got " + refusals);
        }
    }

    /** The payload is a valid relocatable object and its funcs section matches the result. */
    static void checkPayload(Path work, DiffResult r, XenSymbolTable xen) throws Exception {
        Path out = work.resolve("payload.o");
        Files.write(out, r.output());
        Tools.run(null, "readelf", "-W", "-S", "-s", "-r", out.toString());
        Tools.run(null, "ld", "-r", "-o", work.resolve("linked.o").toString(), out.toString());
        ElfFile p = ElfReader.read(out);
        List<String> names = funcNames(p, r.layout());
        assertEquals(r.changedFunctions().size(), names.size(), "one funcs entry per changed function: " + names);
        Section funcs = p.section(PayloadSections.FUNCS).orElse(null);
        for (int i = 0; i < names.size(); i++) {
            LivepatchFunc f = LivepatchFunc.decode(funcs.data(), i, r.layout());
            assertEquals(r.layout().version(), f.version());
            String plain = names.get(i).contains("#") ? names.get(i).substring(names.get(i).indexOf('#') + 1) : names.get(i);
            List<XenSymbol> globals = xen.globals(plain);
            XenSymbol old = globals.isEmpty() ? xen.locals(names.get(i).substring(0, names.get(i).indexOf('#')), plain).get(0) : globals.get(0);
            assertTrue(f.oldSize() >= old.size(), names.get(i) + ": old_size " + f.oldSize() + " below xen-syms size " + old.size());
            assertTrue(f.oldSize() >= 5, names.get(i) + ": old_size " + f.oldSize() + " cannot hold a jump");
            assertEquals(0, f.oldAddr(), "old_addr is left for the hypervisor to resolve");
            assertTrue(f.newSize() > 0);
        }
        // A cold part (foo.cold) returns into its parent at fixed offsets: the new copy of a
        // function must never use the running hypervisor's cold part, which returns into the old one.
        for (Symbol s : p.symbols()) {
            assertFalse(s.shndx() == 0 && s.name().matches(".*\\.cold(\\.[0-9]+)?$"), "payload refers to the hypervisor's cold part " + s.name());
        }
        // Every relocation names a symbol, and every defined symbol sits in a section of the payload.
        for (RelocationSection rs : p.relocationSections()) {
            for (Relocation rel : rs.relocations()) {
                assertTrue(rel.symbol().index() != 0, rs.section().name() + ": relocation without symbol");
            }
        }
    }

    /**
     * Every alternative of the carried code is in the payload with exactly the replacement bytes
     * it has in the patched object, read with binutils on both sides: however the replacement
     * code was cut and laid out again, each entry still finds its own bytes, all of them. An
     * entry that is missing, points past the payload's {@code .altinstr_replacement}, or finds
     * another entry's bytes there fails.
     */
    static void checkAlternatives(Path patched, Path payload) throws Exception {
        Map<String, List<String>> in = AltEntries.of(patched);
        Map<String, List<String>> out = AltEntries.of(payload);
        Set<String> carriedCode = new TreeSet<>();
        for (var sec : org.livepatch.testsupport.ReadelfFacts.sections(payload)) {
            if (sec.name().startsWith(".text")) {
                carriedCode.add(sec.name());
            }
        }
        Map<String, List<String>> want = new TreeMap<>();
        for (var e : in.entrySet()) {
            if (carriedCode.contains(e.getKey().substring(0, e.getKey().indexOf('+')))) {
                want.put(e.getKey(), e.getValue());
            }
        }
        assertEquals(want, out, payload + ": alternatives of the carried code, site -> entries");
    }

    /**
     * The fixup code of every exception-table entry of the carried code runs the same
     * instructions in the payload as in the patched object (objdump on both sides, following the
     * jumps the assembler resolved inside {@code .fixup}).
     */
    static void checkFixups(Path patched, Path payload) throws Exception {
        Map<String, String> in = FixupTraces.of(patched);
        Map<String, String> out = FixupTraces.of(payload);
        Set<String> carriedCode = new TreeSet<>();
        for (var sec : org.livepatch.testsupport.ReadelfFacts.sections(payload)) {
            if (sec.name().startsWith(".text")) {
                carriedCode.add(sec.name());
            }
        }
        Map<String, String> want = new TreeMap<>();
        for (var e : in.entrySet()) {
            if (carriedCode.contains(e.getKey().substring(0, e.getKey().indexOf('+')))) {
                want.put(e.getKey(), e.getValue());
            }
        }
        assertEquals(want, out, payload + ": fixup code of the carried code, site -> instructions run");
    }

    /** The names of the funcs entries, read back through their relocations into .livepatch.strings. */
    static List<String> funcNames(ElfFile p, FuncLayout layout) {
        Section funcs = p.section(PayloadSections.FUNCS).orElse(null);
        if (funcs == null) {
            return List.of();
        }
        Section strings = p.section(PayloadSections.STRINGS).orElseThrow();
        RelocationSection rs = p.relocationsFor(funcs).orElseThrow();
        List<String> names = new ArrayList<>();
        for (Relocation r : rs.relocations()) {
            if (r.offset() % layout.size() == FuncLayout.NAME) {
                assertEquals(strings.index(), r.symbol().shndx());
                names.add(strings.data().cString((int) r.addend()));
            }
        }
        assertEquals(funcs.size() / layout.size(), names.size());
        return names;
    }

    static Set<String> undefinedNames(ElfFile p) {
        Set<String> s = new LinkedHashSet<>();
        for (Symbol sym : p.symbols()) {
            if (sym.index() > 0 && sym.isUndefined()) {
                s.add(sym.name());
            }
        }
        return s;
    }
}
