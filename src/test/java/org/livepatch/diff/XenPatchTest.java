package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Section;
import org.livepatch.payload.FuncLayout;
import org.livepatch.payload.LivepatchFunc;
import org.livepatch.payload.PayloadSections;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/**
 * Real patches on the real Xen 4.17.5 tree. The reference tree is copied (never touched), one
 * source line is edited, and only the affected objects are rebuilt with the reference build's
 * own build-time strings (XEN_BUILD_DATE etc. from its compile.h), so that, as in a real
 * live-patch build, only the edit differs.
 */
@Tag("xen")
class XenPatchTest {
    @TempDir
    static Path tmp;
    static Path ref;
    static Path copy;
    static List<String> buildEnv;
    static XenSymbolTable xen;

    @BeforeAll
    static void copyTree() throws Exception {
        ref = XenTree.root();
        copy = tmp.resolve("tree");
        Tools.run(null, "cp", "-a", ref.toString(), copy.toString());
        String compileH = Files.readString(ref.resolve("xen/include/xen/compile.h"));
        buildEnv = List.of("XEN_BUILD_DATE=" + define(compileH, "XEN_COMPILE_DATE"), "XEN_BUILD_TIME=" + define(compileH, "XEN_COMPILE_TIME"),
                "XEN_WHOAMI=" + define(compileH, "XEN_COMPILE_BY"), "XEN_DOMAIN=" + define(compileH, "XEN_COMPILE_DOMAIN"),
                "XEN_BUILD_HOST=" + define(compileH, "XEN_COMPILE_HOST"));
        xen = XenSymbolTable.of(ElfReader.read(XenTree.xenSyms()));
    }

    private static String define(String header, String name) {
        Matcher m = Pattern.compile("#define\\s+" + name + "\\s+\"([^\"]*)\"").matcher(header);
        assertTrue(m.find(), name + " in compile.h");
        return m.group(1);
    }

    /** Edits one line of {@code file} in the copy and rebuilds {@code objects} (by directory, as Xen's build allows). */
    static void patchAndRebuild(String file, String from, String to, String... objects) throws Exception {
        Path src = copy.resolve("xen").resolve(file);
        String text = Files.readString(src);
        assertTrue(text.contains(from), file + " does not contain: " + from);
        Files.writeString(src, text.replace(from, to));
        List<String> cmd = new ArrayList<>(List.of("make", "-C", copy.resolve("xen").toString()));
        cmd.addAll(buildEnv);
        for (String o : objects) {
            // The copied dependency files name the reference tree's headers, so a file included
            // by another (common/compat/kernel.c includes ../kernel.c) is not seen as changed:
            // remove the objects to be sure they are rebuilt.
            Files.deleteIfExists(copy.resolve("xen").resolve(o));
            // Build the nearest directory with its own Makefile (common/compat/ is built by common/).
            Path dir = copy.resolve("xen").resolve(o).getParent();
            while (!Files.exists(dir.resolve("Makefile"))) {
                dir = dir.getParent();
            }
            String target = copy.resolve("xen").relativize(dir) + "/";
            if (!cmd.contains(target)) {
                cmd.add(target);
            }
        }
        Tools.run(null, cmd);
        String compileH = Files.readString(copy.resolve("xen/include/xen/compile.h"));
        assertEquals(Files.readString(ref.resolve("xen/include/xen/compile.h")), compileH, "rebuilt with the same build-time strings");
    }

    static DiffResult diff(String object) throws IOException {
        ElfFile orig = ElfReader.read(ref.resolve("xen").resolve(object));
        ElfFile patched = ElfReader.read(copy.resolve("xen").resolve(object));
        return new DiffEngine().diff(orig, patched, new DiffOptions(null, xen, false));
    }

    static ElfFile checkedPayload(String name, DiffResult r) throws Exception {
        Path work = Files.createDirectories(tmp.resolve(name));
        DiffFixtureTest.checkPayload(work, r, xen);
        return ElfReader.read(work.resolve("payload.o"));
    }

    @Test
    void oneLineChangeOfXenExtraVersionGivesExactlyThatFunction() throws Exception {
        patchAndRebuild("common/version.c", "    return XEN_EXTRAVERSION;\n", "    return XEN_EXTRAVERSION \"-lp\";\n", "common/version.o");
        DiffResult r = diff("common/version.o");
        assertEquals(DiffResult.Status.CHANGES, r.status(), r.refusals().toString());
        assertEquals(List.of("xen_extra_version"), r.changedFunctions());
        assertEquals(List.of(), r.newFunctions());
        assertEquals(FuncLayout.V2, r.layout(), "Xen 4.17 detected from xen-syms");
        ElfFile p = checkedPayload("version", r);
        assertEquals(List.of("xen_extra_version"), DiffFixtureTest.funcNames(p, FuncLayout.V2));
        LivepatchFunc f = LivepatchFunc.decode(p.section(PayloadSections.FUNCS).orElseThrow().data(), 0, FuncLayout.V2);
        assertEquals(xen.global("xen_extra_version").size(), f.oldSize(), "old_size is xen-syms' st_size");
        // The new string travels with the payload; the old function is not referenced.
        assertTrue(p.sections().stream().anyMatch(s -> s.name().startsWith(".rodata.xen_extra_version.str")));
    }

    @Test
    void hypercallWithExceptionTableCompiledTwiceGivesBothFunctions() throws Exception {
        patchAndRebuild("common/kernel.c", "        memset(extraversion, 0, sizeof(extraversion));",
                "        memset(extraversion, 0, sizeof(extraversion) - 1);", "common/kernel.o", "common/compat/kernel.o");
        DiffResult nativeResult = diff("common/kernel.o");
        DiffResult compat = diff("common/compat/kernel.o");
        assertEquals(List.of("do_xen_version"), nativeResult.changedFunctions(), nativeResult.refusals().toString());
        assertEquals(List.of("compat_xen_version"), compat.changedFunctions(), compat.refusals().toString());
        for (DiffResult r : List.of(nativeResult, compat)) {
            ElfFile p = checkedPayload(r.changedFunctions().get(0), r);
            Section ex = p.section(".ex_table").orElseThrow(() -> new AssertionError("no .ex_table carried"));
            ElfFile orig = ElfReader.read(ref.resolve("xen").resolve(r == compat ? "common/compat/kernel.o" : "common/kernel.o"));
            assertTrue(ex.size() > 0 && ex.size() % 8 == 0 && ex.size() <= orig.section(".ex_table").orElseThrow().size());
            assertTrue(p.section(".fixup").isPresent(), "the fixup code of the kept entries is carried");
            Section alt = p.section(".altinstructions").orElseThrow();
            assertEquals(0, alt.size() % 14, "alt_instr entries are 14 bytes on 4.17");
        }
    }

    @Test
    void changedInitialisedDataIsRefused() throws Exception {
        patchAndRebuild("common/livepatch.c", "static unsigned int payload_version = 1;", "static unsigned int payload_version = 2;",
                "common/livepatch.o");
        DiffResult r = diff("common/livepatch.o");
        assertEquals(DiffResult.Status.REFUSED, r.status());
        assertTrue(r.refusals().stream().anyMatch(f -> f.symbol().equals("payload_version") && f.reason().contains("initialised data")
                && f.object().equals("livepatch.o")), r.refusals().toString());
    }

    @Test
    void changedInitialiserOfGlobalIsRefused() throws Exception {
        patchAndRebuild("common/xenoprof.c", "int pmu_hvm_refcount = 0;", "int pmu_hvm_refcount = 1;", "common/xenoprof.o");
        DiffResult r = diff("common/xenoprof.o");
        assertEquals(DiffResult.Status.REFUSED, r.status());
        assertTrue(r.refusals().stream().anyMatch(f -> f.symbol().equals("pmu_hvm_refcount")), r.refusals().toString());
    }

    @Test
    void changeOnlyInInitCodeIsNoChange() throws Exception {
        patchAndRebuild("common/version.c", "    /* --build-id invoked with wrong parameters. */",
                "    printk(\"build-id check\\n\");\n    /* --build-id invoked with wrong parameters. */", "common/version.o");
        DiffResult r = diff("common/version.o");
        // xen_extra_version may carry the first test's edit; the __init edit itself must add nothing.
        assertTrue(r.changedFunctions().stream().allMatch(f -> f.equals("xen_extra_version")), r.changedFunctions().toString());
        assertTrue(r.report().stream().anyMatch(e -> e.subject().equals("xen_build_init") && e.reason().contains("__init")), r.report().toString());
    }
}
