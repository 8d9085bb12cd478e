package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.CreateDiffObjectCommand;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;
import org.livepatch.xen.XenSymbolTable;

/** What the payloads of particular fixtures hold, and the command line's exit codes and report. */
class DiffPayloadTest {
    @TempDir
    Path tmp;

    private FixtureCase.Build build(String name) throws Exception {
        FixtureCase c = FixtureCase.load(FixtureCase.root().resolve(name));
        return c.build(tmp.resolve(name), 0);
    }

    private ElfFile payload(String name, FixtureCase.Build b) throws Exception {
        DiffResult r = new DiffEngine().diff(ElfReader.read(b.orig()), ElfReader.read(b.patched()),
                new DiffOptions(null, XenSymbolTable.of(ElfReader.read(b.xenSyms())), false));
        assertEquals(DiffResult.Status.CHANGES, r.status(), r.refusals().toString());
        Path out = tmp.resolve(name + ".payload.o");
        Files.write(out, r.output());
        return ElfReader.read(out);
    }

    @Test
    void exceptionTableKeepsOnlyTheChangedFunctionsEntryAndFixupPiece() throws Exception {
        FixtureCase.Build b = build("ex-table");
        ElfFile p = payload("ex-table", b);
        ElfFile orig = ElfReader.read(b.orig());
        assertEquals(8, p.section(".ex_table").orElseThrow().size(), "one 8-byte entry of three");
        assertTrue(p.section(".fixup").orElseThrow().size() < orig.section(".fixup").orElseThrow().size(), "only fn_read_a's fixup piece");
        assertFalse(p.section(".text.fn_read_b").isPresent());
    }

    @Test
    void staticLocalBindsToTheOriginalVariableByXenName() throws Exception {
        ElfFile p = payload("static-local", build("static-local"));
        assertTrue(DiffFixtureTest.undefinedNames(p).contains("static-local.c#count.0"), DiffFixtureTest.undefinedNames(p).toString());
        assertTrue(p.sections().stream().noneMatch(s -> s.name().startsWith(".bss")), "no new copy of the counter");
    }

    @Test
    void assertionBugFramesStayInPairsAndOtherFunctionsFramesAreDropped() throws Exception {
        ElfFile p = payload("bug-frames", build("bug-frames"));
        assertEquals(16, p.section(".bug_frames.3").orElseThrow().size(), "the assert frame and its message frame");
        assertEquals(8, p.section(".bug_frames.1").orElseThrow().size(), "fn_quiet's warn frame dropped");
        assertTrue(DiffFixtureTest.undefinedNames(p).contains("fn_dump"), "run_fn frame points at the running fn_dump");
    }

    @Test
    void alternativesKeepOneFourteenByteEntryAndItsReplacement() throws Exception {
        ElfFile p = payload("alternatives", build("alternatives"));
        assertEquals(14, p.section(".altinstructions").orElseThrow().size());
        assertTrue(p.section(".altinstr_replacement").isPresent());
        assertFalse(p.section(".discard").isPresent());
    }

    @Test
    void hooksMakeAPayloadWithoutFuncs() throws Exception {
        ElfFile p = payload("hooks", build("hooks"));
        assertFalse(p.section(PayloadSections.FUNCS).isPresent());
        for (String h : new String[] {PayloadSections.HOOK_LOAD, PayloadSections.HOOK_APPLY, PayloadSections.HOOK_REVERT}) {
            assertEquals(8, p.section(h).orElseThrow().size(), h);
        }
    }

    @Test
    void endbrFunctionNeedsNineBytes() throws Exception {
        FixtureCase.Build b = build("endbr");
        ElfFile p = payload("endbr", b);
        LivepatchFunc f = LivepatchFunc.decode(p.section(PayloadSections.FUNCS).orElseThrow().data(), 0, FuncLayout.V2);
        assertTrue(f.oldSize() >= 9, "old_size " + f.oldSize());
        ElfFile orig = ElfReader.read(b.orig());
        Section text = orig.section(".text.fn_cb").orElseThrow();
        assertEquals(0xfa1e0ff3L, text.data().u32(0), "fixture function starts with ENDBR64");
    }

    private int cli(String... args) {
        return CommandRunner.run(new CreateDiffObjectCommand(), args);
    }

    @Test
    void commandLineExitCodesOutputAndJsonReport() throws Exception {
        FixtureCase.Build changed = build("changed-function");
        Path out = tmp.resolve("cf.o");
        Path json = tmp.resolve("cf.json");
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream()));
        try {
            assertEquals(0, cli("--json", json.toString(), changed.orig().toString(), changed.patched().toString(), changed.xenSyms().toString(), out.toString()));
            String report = Files.readString(json);
            assertTrue(report.contains("\"changed_functions\": [\"fn_a\"]"), report);
            assertTrue(report.contains("\"kind\": \"changed\""), report);
            assertEquals(104, ElfReader.read(out).section(PayloadSections.FUNCS).orElseThrow().size());

            Path v1 = tmp.resolve("v1.o");
            assertEquals(0, cli("--funcs-version", "1", changed.orig().toString(), changed.patched().toString(), changed.xenSyms().toString(), v1.toString()));
            assertEquals(64, ElfReader.read(v1).section(PayloadSections.FUNCS).orElseThrow().size());

            FixtureCase.Build same = build("unchanged");
            Path none = tmp.resolve("none.o");
            assertEquals(3, cli(same.orig().toString(), same.patched().toString(), same.xenSyms().toString(), none.toString()));
            assertFalse(Files.exists(none));

            FixtureCase.Build data = build("changed-data");
            assertEquals(2, cli(data.orig().toString(), data.patched().toString(), data.xenSyms().toString(), tmp.resolve("d.o").toString()));

            Path notElf = Files.writeString(tmp.resolve("junk.o"), "not an object");
            assertEquals(65, cli(notElf.toString(), changed.patched().toString(), changed.xenSyms().toString(), tmp.resolve("j.o").toString()));
        } finally {
            System.setOut(saved);
        }
    }
}
