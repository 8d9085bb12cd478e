package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import org.livepatch.stage.StageTime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.XenTree;

/**
 * The build stage on real Xen 4.17.5: pristine source as SRC, the reference tree's defconfig as
 * config. The reference build goes to the ordinary cache (LPB_CACHE or ~/.cache/livepatch-build)
 * so only the first run ever pays for it; each test prints what it measured.
 */
@Tag("xen")
class XenBuildStageTest {
    @TempDir
    Path tmp;

    /** The pristine Xen source next to the reference build ($CACHE/xen/src/xen-4.17.5*), or LPB_XEN_SRC. */
    static Path xenSource() throws IOException {
        String env = System.getenv("LPB_XEN_SRC");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        Path srcDir = XenTree.root().getParent().getParent().resolve("src");
        try (Stream<Path> s = Files.list(srcDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("xen-4.17.5") && Files.isDirectory(p.resolve("xen")))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no Xen source in " + srcDir));
        }
    }

    private BuildRequest.Builder request(Path src, Path patch, String out) {
        return BuildRequest.builder()
                .srcDir(src)
                .patch(patch)
                .config(XenTree.root().resolve("xen/.config"))
                .outputDir(tmp.resolve(out))
                .jobs(Runtime.getRuntime().availableProcessors())
                .depends(BuildFixtures.ZERO_ID);
    }

    private static void print(String what, BuildOutcome o) {
        Duration warm = o.times().stream().filter(t -> !t.stage().equals(ReferenceCache.STAGE_REFERENCE)
                && !t.stage().equals(BuildStage.STAGE_CHECK) && !t.stage().equals(ReferenceCache.STAGE_HASH))
                .map(StageTime::elapsed).reduce(Duration.ZERO, Duration::plus);
        System.out.printf("[xen] %s: reference %s (%d ms), patched part %d ms, rebuilt %s, changed %s%n  stages: %s%n",
                what, o.reference().reused() ? "reused" : "built", o.reference().buildTime().toMillis(), warm.toMillis(),
                o.objects().rebuilt(), o.objects().changedPaths(),
                o.times().stream().map(t -> t.stage() + "=" + t.elapsed().toMillis() + "ms").toList());
    }

    @Test
    void extraVersionPatchChangesOnlyVersionObject() throws Exception {
        Path src = xenSource();
        Map<String, String> before = BuildFixtures.checksums(src);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("xen-extra-version.patch"),
                new BuildFixtures.Edit("xen/common/version.c", s -> s.replace(
                        "const char *xen_extra_version(void)\n{\n    return XEN_EXTRAVERSION;",
                        "const char *xen_extra_version(void)\n{\n    return \"Hello World\";")));
        String syms = RequestChecks.readBuildId(XenTree.xenSyms()).hex();
        BuildOutcome o = BuildStage.run(request(src, patch, "out").xenSyms(XenTree.xenSyms()).xenDepends(syms).build(), Progress.NONE);
        print("xen_extra_version", o);
        assertEquals(List.of("common/version.o"), o.objects().rebuilt());
        // pinned build strings: xen_compile_date/time and friends are identical, only the patched object differs
        assertEquals(List.of("common/version.o"), o.objects().changedPaths());
        assertEquals(XenTree.xenSyms(), o.objects().xenSyms());
        assertEquals(before, BuildFixtures.checksums(src), "SRC untouched");

        // a second run with the same inputs is warm: nothing but the one object is compiled
        BuildOutcome again = BuildStage.run(request(src, patch, "out2").build(), Progress.NONE);
        print("xen_extra_version (warm)", again);
        assertTrue(again.reference().reused());
        assertEquals(List.of("common/version.o"), again.objects().changedPaths());
    }

    @Test
    void kernelChangeRebuildsNativeAndCompatObjects() throws Exception {
        Path src = xenSource();
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("kernel.patch"),
                new BuildFixtures.Edit("xen/common/kernel.c", s -> s.replaceFirst(
                        "(safe_strcpy\\(extraversion, deny \\? xen_deny\\(\\) : xen_extra_version\\(\\)\\);\n"
                                + "        if \\( copy_to_guest\\(arg, extraversion, ARRAY_SIZE\\(extraversion\\)\\) \\)\n"
                                + "            return )-EFAULT;", "$1-EINVAL;")));
        BuildOutcome o = BuildStage.run(request(src, patch, "out").build(), Progress.NONE);
        print("common/kernel.c", o);
        assertEquals(List.of("common/compat/kernel.o", "common/kernel.o"), o.objects().rebuilt().stream().sorted().toList());
        assertEquals(List.of("common/compat/kernel.o", "common/kernel.o"), o.objects().changedPaths().stream().sorted().toList());
    }

    @Test
    void headerChangeFansOutToEveryDependent() throws Exception {
        Path src = xenSource();
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("warning.patch"),
                new BuildFixtures.Edit("xen/include/xen/warning.h", s -> s.replace("void warning_print(void);",
                        "void warning_print(void);\n\n#define WARNING_RULE \"==================================================\\n\"")),
                new BuildFixtures.Edit("xen/common/warning.c", s -> s.replace(
                        "printk(\"***************************************************\\n\");", "printk(WARNING_RULE);")));
        BuildOutcome o = BuildStage.run(request(src, patch, "out").build(), Progress.NONE);
        print("include/xen/warning.h", o);
        // Oracle independent of DependencyIndex: the .cmd files that list the header, found by text search.
        Set<String> expected = new TreeSet<>();
        Path xen = o.reference().xenDir();
        try (Stream<Path> s = Files.walk(xen)) {
            for (Path cmd : s.filter(p -> p.getFileName().toString().matches("\\..*\\.o\\.cmd")).toList()) {
                if (Files.readString(cmd).contains("  include/xen/warning.h \\")) {
                    String name = cmd.getFileName().toString();
                    expected.add(xen.relativize(cmd.resolveSibling(name.substring(1, name.length() - 4))).toString());
                }
            }
        }
        // ... plus the objcopy-derived init-only objects made from them (warning.c is all __init:
        // common/warning.init.o is what gets linked)
        for (String obj : List.copyOf(expected)) {
            String init = obj.substring(0, obj.length() - 2) + ".init.o";
            if (Files.exists(xen.resolve(init))) {
                expected.add(init);
            }
        }
        assertTrue(expected.size() >= 5, expected.toString());
        assertTrue(expected.contains("common/warning.init.o"), expected.toString());
        // Every dependent is asked (logs/units.log has a verdict for each, the derived init
        // object goes with its object), and only warning.c is compiled: the header only gains a
        // #define, which no other unit expands (GCC's -dU says so).
        List<String> log = Files.readAllLines(tmp.resolve("out").resolve("logs/units.log"));
        Set<String> asked = new TreeSet<>();
        for (String line : log) {
            if (!line.startsWith("#")) {
                asked.add(line.substring(0, line.indexOf(": ")));
            }
        }
        asked.add("common/warning.init.o");
        assertEquals(expected, asked);
        assertEquals(List.of("common/warning.init.o", "common/warning.o"), o.objects().rebuilt().stream().sorted().toList());
        assertEquals(List.of("common/warning.init.o", "common/warning.o"), o.objects().changedPaths().stream().sorted().toList());
        assertEquals("common/warning.o", o.objects().derived().get("common/warning.init.o"));
        for (String obj : expected) {
            if (!obj.startsWith("common/warning.")) {
                assertTrue(log.contains(obj + ": not compiled: the same text: it never expands or tests the macros the patch adds (WARNING_RULE)"),
                        obj + " in\n" + String.join("\n", log));
            }
        }
    }

    @Test
    void xenSymsWithAnotherBuildIdIsRefusedUpFront() throws Exception {
        Path src = xenSource();
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("x.patch"),
                new BuildFixtures.Edit("xen/common/version.c", s -> s.replace("return XEN_EXTRAVERSION;", "return \"x\";")));
        BuildException e = assertThrows(BuildException.class, () -> RequestChecks.check(
                request(src, patch, "out").xenSyms(XenTree.xenSyms()).xenDepends(BuildFixtures.ZERO_ID).build()));
        assertEquals(BuildException.Reason.XEN_SYMS_MISMATCH, e.reason());
    }
}
