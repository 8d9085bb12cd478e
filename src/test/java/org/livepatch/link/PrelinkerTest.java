package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.PrelinkCommand;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.Symbol;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.xen.XenSymbolTable;

/** Prelinking a payload object against the fixture image: every undefined symbol to its nm address, old_addr filled, errors. */
class PrelinkerTest {
    @TempDir
    static Path tmp;
    static LinkFixture fx;
    static XenSymbolTable xen;
    static Map<String, List<Long>> nm;
    static Path linked;

    @BeforeAll
    static void build() throws Exception {
        fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        nm = LinkFixture.nm(fx.xenSyms());
        linked = LinkFixture.ldr(tmp.resolve("linked.o"), fx.object("payload_main"), fx.object("payload_helper"));
    }

    private static Symbol named(ElfFile f, String name) {
        List<Symbol> s = f.symbolsNamed(name);
        assertEquals(1, s.size(), name + " in " + f);
        return s.get(0);
    }

    @Test
    void everyUndefinedSymbolBecomesAbsoluteAtItsNmAddress() throws Exception {
        ElfFile in = ElfReader.read(linked);
        List<String> undefined = in.symbols().stream().filter(s -> s.index() > 0 && s.isUndefined()).map(Symbol::name).sorted().toList();
        assertEquals(List.of("bump", "other.c#dup_counter", "shared_counter"), undefined);

        List<String> log = new ArrayList<>();
        byte[] out = new Prelinker(xen, log::add).prelink(in);
        ElfFile p = ElfReader.read(tmp.resolve("p.o"), out);
        assertTrue(p.symbols().stream().noneMatch(s -> s.index() > 0 && s.isUndefined()), "no undefined symbol left");
        for (String g : List.of("bump", "shared_counter")) {
            Symbol s = named(p, g);
            assertEquals(Elf.SHN_ABS, s.shndx());
            assertEquals(nm.get(g), List.of(s.value()), g);
            assertEquals(Elf.STB_GLOBAL, s.bind(), "binding untouched");
        }
        Symbol d = named(p, "other.c#dup_counter");
        assertEquals(Elf.SHN_ABS, d.shndx());
        assertEquals(LinkFixture.readelfLocal(fx.xenSyms(), "other.c", "dup_counter"), d.value());
        assertEquals(3, log.stream().filter(l -> l.startsWith("resolved ")).count(), String.join("\n", log));
    }

    @Test
    void oldAddrOfTheFuncsEntryIsFilledFromItsName() throws Exception {
        byte[] out = new Prelinker(xen).prelink(ElfReader.read(linked));
        ElfFile p = ElfReader.read(tmp.resolve("p.o"), out);
        LivepatchFunc f = LivepatchFunc.decode(p.section(PayloadSections.FUNCS).orElseThrow().data(), 0, FuncLayout.V2);
        assertEquals(nm.get("patch_me"), List.of(f.oldAddr()));
        assertEquals(0x40, f.oldSize(), "old_size is not ours to change");
        assertEquals(0, f.newAddr(), "new_addr stays a relocation");
    }

    /** Adds symbols to a copy of the linked payload: FILE then LOCAL undefined, or a global undefined. */
    private static ElfFile withExtraSymbols(String file, String... undefinedLocalsThenGlobals) throws Exception {
        ObjectBuilder.EditableCopy c = ObjectBuilder.copyOf(ElfReader.read(linked));
        ObjectBuilder b = c.builder();
        if (file != null) {
            b.addSpecialSymbol(file, Elf.STB_LOCAL, Elf.STT_FILE, 0, Elf.SHN_ABS, 0, 0);
        }
        for (String n : undefinedLocalsThenGlobals) {
            boolean global = n.startsWith("G:");
            b.addSpecialSymbol(global ? n.substring(2) : n, global ? Elf.STB_GLOBAL : Elf.STB_LOCAL, Elf.STT_OBJECT, 0, Elf.SHN_UNDEF, 0, 0);
        }
        return ElfReader.read(tmp.resolve("extra.o"), b.toBytes());
    }

    @Test
    void anUnmangledLocalIsLookedUpInThePrecedingFilesRun() throws Exception {
        ElfFile in = withExtraSymbols("other.c", "dup_counter");
        ElfFile p = ElfReader.read(tmp.resolve("p.o"), new Prelinker(xen).prelink(in));
        Symbol s = p.symbolsNamed("dup_counter").get(0);
        assertEquals(LinkFixture.readelfLocal(fx.xenSyms(), "other.c", "dup_counter"), s.value());
        assertEquals(Elf.STB_LOCAL, s.bind());
    }

    @Test
    void missingAndAmbiguousSymbolsAreAllReportedInOneMessage() throws Exception {
        ElfFile in = withExtraSymbols("dup.c", "dup_counter", "G:no_such_function");
        var e = assertThrows(Prelinker.UnresolvedSymbolsException.class, () -> new Prelinker(xen).prelink(in));
        assertEquals(2, e.failures().size());
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains("no_such_function not found"), m);
        assertTrue(m.contains("dup.c#dup_counter is ambiguous"), m);
        assertTrue(m.startsWith(in.path() + ": 2 undefined symbols do not resolve in " + fx.xenSyms()), m);
    }

    private record Run(int code, String err) {}

    private static Run runCli(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = CommandRunner.run(new PrelinkCommand(), args);
            System.err.flush();
            return new Run(code, buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void commandLineTakesUpstreamsArgumentsAndReportsAMissingSymbolOnOneLine() throws Exception {
        Path out = tmp.resolve("cli.livepatch");
        Run ok = runCli("-d", linked.toString(), out.toString(), fx.xenSyms().toString());
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.err().contains("prelink: resolved shared_counter -> 0x" + Long.toHexString(nm.get("shared_counter").get(0))), ok.err());
        assertTrue(ElfReader.read(out).symbols().stream().noneMatch(s -> s.index() > 0 && s.isUndefined()));

        Path bad = tmp.resolve("bad-in.o");
        Files.write(bad, ObjectBuilder.copyOf(withExtraSymbols(null, "G:no_such_function")).builder().toBytes());
        Path out2 = tmp.resolve("never.livepatch");
        Run fail = runCli(bad.toString(), out2.toString(), fx.xenSyms().toString());
        assertEquals(65, fail.code(), fail.err());
        assertEquals(1, fail.err().strip().lines().count(), fail.err());
        assertTrue(fail.err().startsWith("prelink: " + bad + ": undefined symbol no_such_function not found in " + fx.xenSyms()), fail.err());
        assertFalse(Files.exists(out2), "nothing written on failure");

        Run usage = runCli(linked.toString());
        assertEquals(64, usage.code(), usage.err());
        Run noFile = runCli(tmp.resolve("absent.o").toString(), out2.toString(), fx.xenSyms().toString());
        assertEquals(74, noFile.code(), noFile.err());
        assertTrue(noFile.err().contains("absent.o: no such file"), noFile.err());
    }
}
