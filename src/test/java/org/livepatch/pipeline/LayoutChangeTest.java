package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.stage.Progress;
import org.livepatch.cli.ExitMapper;

/**
 * Issue 15, item 2 on minixen: a patch that changes the layout of a type existing code uses is
 * refused with exit 30 before anything is diffed or written, naming the type, the field, the file
 * that defines it and the functions that use it; whether the type is in a header or private to
 * one .c file. A type only the patch introduces is no such change, and
 * {@code --allow-layout-change TYPE} lets a named type through, recorded in the report.
 *
 * <p>The expected names come from reading the fixture patches (xen-src-fixtures/patches): each
 * says which field it adds, and the functions are the ones in minixen's sources that use the type.
 */
class LayoutChangeTest {

    private static BuildException refused(Path tmp, String patch, List<String> allowed) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        BuildException e = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch(patch), tmp).allowedLayoutChanges(allowed).build(), Progress.NONE));
        assertEquals(30, ExitMapper.of(e.reason()).number(), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out/objects")), "nothing diffed or written");
        assertFalse(Files.exists(tmp.resolve("out/" + patch.replace(".patch", ".livepatch"))), "no payload");
        assertFalse(Files.exists(tmp.resolve("out/build-record.txt")), "-k build cannot reuse the refused objects");
        return e;
    }

    /** The line of the message about {@code type}. */
    private static String line(BuildException e, String type) {
        return e.getMessage().lines().filter(l -> l.contains(type)).findFirst()
                .orElseThrow(() -> new AssertionError("no line about " + type + ": " + e.getMessage()));
    }

    @Test
    void aFieldAddedToAHeaderStructIsRefused(@TempDir Path tmp) throws Exception {
        BuildException e = refused(tmp, "minixen-layout-header.patch", List.of());
        String l = line(e, "struct exception_table_entry");
        assertTrue(l.contains("arch/x86/include/asm/extable.h"), l);
        assertTrue(l.contains("'hits' added at offset 8"), l);
        assertTrue(l.contains("size 8 -> 12"), l);
        assertTrue(l.contains("search_exception_table"), l);
        assertTrue(l.contains("arch/x86/traps.o"), l);
        assertEquals(1, e.getMessage().lines().filter(x -> x.startsWith("  ")).count(), "one changed type: " + e.getMessage());
    }

    @Test
    void aStructPrivateToOneFileIsRefusedAndTheOptionLetsItThrough(@TempDir Path tmp) throws Exception {
        BuildException e = refused(tmp, "minixen-layout-private.patch", List.of("exception_table_entry"));
        String l = line(e, "struct elf_note");
        assertTrue(l.contains("(defined in common/version.c)"), l);
        assertTrue(l.contains("'flags' added at offset 8"), l);
        assertTrue(l.contains("type offset 8 -> 12"), "the field after it moved: " + l);
        assertTrue(l.contains("used by xen_build_id"), l);

        // Named by the option (with or without "struct"): built, and the report says so.
        for (String name : List.of("elf_note", "struct elf_note")) {
            Path out = tmp.resolve("allowed-" + name.replace(' ', '-'));
            PipelineResult r = LivepatchPipeline.run(BuildFixtures.request(tmp.resolve("src"),
                    BuildFixtures.patch("minixen-layout-private.patch"), tmp).outputDir(out)
                    .allowedLayoutChanges(List.of(name)).build(), Progress.NONE);
            assertTrue(Files.isRegularFile(r.payload()));
            assertTrue(r.functions().stream().anyMatch(f -> f.name().equals("xen_build_id")), r.functions().toString());
            String json = Files.readString(r.report());
            String check = json.substring(json.indexOf("\"layout_check\""));
            assertTrue(check.contains("\"allow_layout_change\": [\n      \"" + name + "\""), check);
            assertTrue(check.contains("\"type\": \"struct elf_note\""), check);
            assertTrue(check.contains("\"file\": \"common/version.c\""), check);
            assertTrue(check.contains("\"flags\""), check);
        }
    }

    @Test
    void aNewStructIsNotALayoutChange(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        PipelineResult r = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-new-struct.patch"), tmp)
                .build(), Progress.NONE);
        Set<String> funcs = r.functions().stream().map(PatchedFunction::name).collect(Collectors.toSet());
        assertTrue(funcs.contains("do_foo") && funcs.contains("compat_foo"), funcs.toString());
        String json = Files.readString(r.report());
        assertTrue(json.contains("\"objects_checked\": 2"), "both foo objects were checked: " + json);
        assertTrue(json.contains("\"allowed_changes\": []"), json);
    }

    @Test
    void anObjectWhoseLayoutsCannotBeCheckedIsRefused(@TempDir Path tmp) throws Exception {
        // A command substitution in the flags (minixen appends EXTRA_CFLAGS_XEN_CORE, as Xen does):
        // make's shell runs it, so the build works, but the recorded command is no longer one we
        // can rewrite without a shell. Unchecked must mean refused, not waved through.
        Path src = BuildFixtures.copyMinixen(tmp);
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("EXTRA_CFLAGS_XEN_CORE", "-DLPB_FLAG=`echo 1`");
        BuildException e = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).environment(env).build(),
                Progress.NONE));
        assertEquals(30, ExitMapper.of(e.reason()).number(), e.getMessage());
        assertEquals("cannot check the type layouts of common/version.o: cannot derive a debug compile: the recorded command"
                + " is not one simple command", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out/minixen-extra-version.livepatch")));
    }

    @Test
    void aPatchWithoutTypeChangesIsNotRefused(@TempDir Path tmp) throws Exception {
        // The bundled example patches change code only: the check compiles and compares, and passes.
        Path src = BuildFixtures.copyMinixen(tmp);
        PipelineResult r = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-ex-table.patch"), tmp)
                .build(), Progress.NONE);
        assertTrue(Files.isRegularFile(r.payload()));
        assertTrue(Files.readString(r.report()).contains("\"objects_checked\": 1"));
    }
}
