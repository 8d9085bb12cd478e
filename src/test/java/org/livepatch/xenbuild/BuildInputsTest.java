package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The small parsers: payload name, build-ids, patch headers, dependency files. */
class BuildInputsTest {

    @Test
    void patchNameFollowsUpstreamRule() {
        assertEquals("minixen-extra-version", PatchName.of(Path.of("/x/minixen-extra-version.patch")));
        assertEquals("xsa-123", PatchName.of("xsa-123.diff"));
        assertEquals("fix-1-2", PatchName.of("fix 1.2"));          // no .patch/.diff: nothing dropped, '.' and ' ' -> '-'
        assertEquals("a-patch", PatchName.of("a.patch.txt"));       // contains ".patch": only the last extension goes
        assertEquals("a_b-c", PatchName.of("a_b-c.patch"));
        String longName = "x".repeat(60) + ".patch";
        assertEquals("x".repeat(48), PatchName.of(longName));
    }

    @Test
    void cacheIsLpbCacheElseHomeFromTheEnvironment() {
        assertEquals(Path.of("/c/lpb"), Workspace.fromEnvironment(java.util.Map.of("LPB_CACHE", "/c/lpb", "HOME", "/h")).root());
        // HOME, not the JVM's user.home (the password database: "?" or the container's /root)
        assertEquals(Path.of("/h/.cache/livepatch-build"), Workspace.fromEnvironment(java.util.Map.of("HOME", "/h")).root());
        assertEquals(Path.of(System.getProperty("user.home"), ".cache/livepatch-build").toAbsolutePath(),
                Workspace.fromEnvironment(java.util.Map.of()).root());
    }

    @Test
    void buildIdsAreExactlyFortyHexDigits() throws Exception {
        assertEquals("0123456789abcdef0123456789abcdef01234567",
                BuildId.parseOption("--depends", "0123456789ABCDEF0123456789abcdef01234567").hex());
        for (String bad : new String[] {null, "", "0x0123456789abcdef0123456789abcdef012345", "0123456789abcdef", " 0123456789abcdef0123456789abcdef01234567"}) {
            BuildException e = assertThrows(BuildException.class, () -> BuildId.parseOption("--xen-depends", bad));
            assertEquals(BuildException.Reason.BAD_BUILD_ID, e.reason());
        }
    }

    @Test
    void skipParsesLikeUpstream() {
        assertEquals(SkipStage.BUILD, SkipStage.parse("build"));
        assertEquals(SkipStage.DIFF, SkipStage.parse("diff"));
        assertEquals(SkipStage.NONE, SkipStage.parse("other"));
        assertEquals(SkipStage.NONE, SkipStage.parse(null));
    }

    @Test
    void patchHeadersGiveTouchedFiles() {
        String text = """
                Some description.
                --- a/xen/common/kernel.c\t2024-01-01 00:00:00.000000000 +0000
                +++ b/xen/common/kernel.c\t2024-01-01 00:00:00.000000000 +0000
                @@ -1,3 +1,3 @@
                 a
                --- not a header, a removed line starting with two dashes
                +b
                diff --git a/xen/common/new.c b/xen/common/new.c
                new file mode 100644
                --- /dev/null
                +++ b/xen/common/new.c
                @@ -0,0 +1 @@
                +int x;
                --- a/xen/include/xen/gone.h
                +++ /dev/null
                @@ -1 +0,0 @@
                -gone
                """;
        List<FileChange> c = SourcePatch.parseText(text);
        assertEquals(List.of(new FileChange("xen/common/kernel.c", "xen/common/kernel.c"),
                new FileChange(null, "xen/common/new.c"),
                new FileChange("xen/include/xen/gone.h", null)), c);
        SourcePatch p = new SourcePatch(Path.of("t.patch"), c);
        assertEquals(Set.of("xen/common/kernel.c", "xen/common/new.c", "xen/include/xen/gone.h"), p.touchedFiles());
        assertEquals(Set.of("common/new.c"), p.addedHypervisorSources());
    }

    @Test
    void compiledSuffixes() {
        assertTrue(SourcePatch.isCompiledSuffix("xen/arch/x86/entry.S"));
        assertTrue(SourcePatch.isCompiledSuffix("xen/include/xen/lib.h"));
        assertFalse(SourcePatch.isCompiledSuffix("xen/README"));
        assertFalse(SourcePatch.isCompiledSuffix("docs/misc/livepatch.pandoc"));
    }

    @Test
    void fixdepOutputIsParsedWithoutKconfigWildcards() {
        String cmd = """
                cmd_common/compat/kernel.o := gcc -c common/compat/kernel.c -o common/compat/.kernel.o.tmp

                source_common/compat/kernel.o := common/compat/kernel.c

                deps_common/compat/kernel.o := \\
                    $(wildcard include/config/has/dit.h) \\
                  include/xen/config.h \\
                  common/compat/../kernel.c \\
                  /usr/lib/gcc/x86_64-linux-gnu/12/include/stdarg.h \\

                common/compat/kernel.o: $(deps_common/compat/kernel.o)

                $(deps_common/compat/kernel.o):
                """;
        assertEquals(List.of("common/compat/kernel.c", "include/xen/config.h", "common/compat/../kernel.c",
                "/usr/lib/gcc/x86_64-linux-gnu/12/include/stdarg.h"), DependencyIndex.parseFixdep(cmd));
    }

    @Test
    void gccDependencyFilesAreParsed() {
        String d = "common/foo.o: common/foo.c include/xen/config.h \\\n include/xen/lib.h\ninclude/xen/config.h:\ninclude/xen/lib.h:\n";
        assertEquals(List.of("common/foo.c", "include/xen/config.h", "include/xen/lib.h"), DependencyIndex.parseMakeRule(d));
    }

    @Test
    void sourceTreeSkipsBuildOutputs() {
        assertTrue(SourceTree.isBuildOutput("xen/common/kernel.o", false));
        assertTrue(SourceTree.isBuildOutput("xen/common/.kernel.o.cmd", false));
        assertTrue(SourceTree.isBuildOutput("xen/common/.kernel.o.d", false));
        assertTrue(SourceTree.isBuildOutput("xen/xen-syms", false));
        assertTrue(SourceTree.isBuildOutput("xen/include/generated", true));
        assertFalse(SourceTree.isBuildOutput("xen/common/kernel.c", false));
        assertFalse(SourceTree.isBuildOutput("xen/include/xen/compile.h.in", false));
        assertFalse(SourceTree.isBuildOutput("xen/arch/x86/xen.lds.S", false));
    }
}
