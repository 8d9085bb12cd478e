package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preprocessing command derived from a recorded compile, and the digests it gives: equal
 * when a header change does not reach the unit (a new unused {@code #define}, lines shifted),
 * different when it does.
 */
class PreprocessedUnitsTest {

    /** A Xen 4.17 command as {@link RecordedCommands} replays it (ENFORCE_UNIQUE_SYMBOLS form, shortened). */
    private static final String XEN_417 = "gcc -MMD -MP -MF arch/x86/.domain.o.d -m64 -DBUILD_ID -O2 -nostdinc -I./include "
            + "'-D__OBJECT_LABEL__=arch/x86/domain.o' -c arch/x86/domain.c -o arch/x86/.domain.o.tmp -MQ arch/x86/domain.o"
            + " && objcopy --redefine-sym domain.c=arch/x86/domain.c arch/x86/.domain.o.tmp arch/x86/domain.o"
            + " && rm -f arch/x86/.domain.o.tmp";

    @Test
    void theCompileBecomesAPreprocessingWithTheSameFlagsAndNoDependencyOutput() {
        assertEquals(Optional.of("gcc -m64 -DBUILD_ID -O2 -nostdinc -I./include '-D__OBJECT_LABEL__=arch/x86/domain.o' "
                + "-E -P arch/x86/domain.c -o /tmp/x.i -ftrack-macro-expansion=0"), PreprocessedUnits.command(XEN_417, Path.of("/tmp/x.i")));
        assertEquals(Optional.of("gcc -O2 -E -P foo.c -o /tmp/x.i -ftrack-macro-expansion=0"), PreprocessedUnits.command("gcc -O2 -c foo.c -o foo.o", Path.of("/tmp/x.i")));
        assertEquals(Optional.empty(), PreprocessedUnits.command("objcopy foo.o foo.init.o", Path.of("/tmp/x.i")), "not a compile");
        assertEquals(Optional.empty(), PreprocessedUnits.command("gcc -O2 foo.o -o bar.o", Path.of("/tmp/x.i")), "no -c");
        assertEquals(Optional.empty(), PreprocessedUnits.command("gcc -Wp,-MMD,.foo.d -c foo.c -o foo.o", Path.of("/tmp/x.i")),
                "dependency output in another form would write into the tree");
    }

    @Test
    void anUnusedDefineOrShiftedLinesLeaveTheTextAndAUsedChangeDoesNot(@TempDir Path tmp) throws Exception {
        Path xen = Files.createDirectories(tmp.resolve("xen"));
        Files.writeString(xen.resolve("a.h"), "#define USED 1\nstatic inline int f(void) { return USED; }\n");
        Files.writeString(xen.resolve("u.c"), "#include \"a.h\"\nint g(void) { return f(); }\n");
        Map<String, String> cmd = Map.of("u.o", "gcc -MMD -MP -MF ./.u.o.d -O2 -c u.c -o u.o");
        Map<String, String> env = Map.of("PATH", System.getenv("PATH"));
        Map<String, Path> before = PreprocessedUnits.texts(tmp, cmd, env, 1, tmp.resolve("before"));

        Files.writeString(xen.resolve("a.h"), "/* a comment */\n#define NEW_UNUSED 2\n#define USED 1\nstatic inline int f(void) { return USED; }\n");
        Map<String, Path> same = PreprocessedUnits.texts(tmp, cmd, env, 1, tmp.resolve("same"));
        assertEquals(new UnitChange.Verdict(false, "the same text"), PreprocessedUnits.compare(before, same, cmd, 1).get("u.o"));

        Files.writeString(xen.resolve("a.h"), "#define USED 2\nstatic inline int f(void) { return USED; }\n");
        Map<String, Path> after = PreprocessedUnits.texts(tmp, cmd, env, 1, tmp.resolve("after"));
        UnitChange.Verdict v = PreprocessedUnits.compare(before, after, cmd, 1).get("u.o");
        assertEquals(new UnitChange.Verdict(true, "it uses f, whose declaration changed"), v);
        assertTrue(!Files.exists(xen.resolve(".u.o.d")) && !Files.exists(xen.resolve("u.o")), "nothing written into the tree");
    }

    @Test
    void withMacroUseTheTextIsTheSameAndTheMacrosExpandedOrTestedAreListed(@TempDir Path tmp) throws Exception {
        Path xen = Files.createDirectories(tmp.resolve("xen"));
        Files.writeString(xen.resolve("a.h"), "#define USED 1\n#define TESTED 2\n#define UNUSED 3\n#define NEVER(x) x\n");
        Files.writeString(xen.resolve("u.c"), "#include \"a.h\"\n#ifdef TESTED\nint g(void) { return USED + NEVER; }\n#endif\n");
        Map<String, String> cmd = Map.of("u.o", "gcc -O2 -c u.c -o u.o");
        Map<String, String> env = Map.of("PATH", System.getenv("PATH"));
        Map<String, Path> plain = PreprocessedUnits.texts(tmp, cmd, env, 1, tmp.resolve("plain"));
        Map<String, java.util.Set<String>> seen = new java.util.TreeMap<>();
        Map<String, Path> listed = PreprocessedUnits.texts(tmp, cmd, env, 1, tmp.resolve("listed"), seen);
        // (GCC's own predefined macros it tests show up too: stdc-predef.h.)
        assertTrue(seen.get("u.o").containsAll(java.util.Set.of("TESTED", "USED")), seen.toString());
        assertTrue(!seen.get("u.o").contains("UNUSED") && !seen.get("u.o").contains("NEVER"),
                "NEVER is not invoked (no parentheses), so not expanded: " + seen);
        UnitChange.Verdict v = UnitChange.between(Files.readString(plain.get("u.o")), Files.readString(listed.get("u.o")),
                "gcc -O2 -c u.c -o u.o");
        assertTrue(!v.compile() && v.why().startsWith("the same t"), v.toString());
    }
}
