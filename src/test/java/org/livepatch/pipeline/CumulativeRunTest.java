package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.ExitMapper;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.LoadedPayload;
import org.livepatch.verify.PatchFunction;
import org.livepatch.verify.PayloadFile;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.xenbuild.BuildRequest;

/**
 * {@code --batch --cumulative} on minixen series written here: each payload holds the base up to
 * its changeset (read back from the payload file, not from the run's own summary), a patch that
 * only applies on top of an earlier one is built, a refused changeset blocks the later ones, an
 * exclusion lets them ship and a patch that needed the excluded one says so.
 */
class CumulativeRunTest {

    /** Writes the series' patches one after the other, each made against the tree the previous ones left. */
    private static final class SeriesWriter {
        private final Path tree;
        private final Path dir;

        SeriesWriter(Path src, Path tmp) throws Exception {
            tree = tmp.resolve("series-tree");
            org.livepatch.testsupport.Tools.run(null, "cp", "-a", src.toString(), tree.toString());
            dir = Files.createDirectories(tmp.resolve("series"));
        }

        Path add(String name, String path, UnaryOperator<String> edit) throws Exception {
            Path p = BuildFixtures.makePatch(tree, dir.resolve(name), new BuildFixtures.Edit(path, edit));
            Path f = tree.resolve(path);
            Files.createDirectories(f.getParent());
            Files.writeString(f, edit.apply(Files.exists(f) ? Files.readString(f) : ""));
            return p;
        }

        /** A patch written elsewhere, added to the series as it is (the tree does not follow it). */
        Path copy(Path patch, String name) throws Exception {
            return Files.copy(patch, dir.resolve(name));
        }
    }

    private static BuildRequest template(Path src, Path tmp, String out) {
        return BuildFixtures.request(src, null, tmp).outputDir(tmp.resolve(out)).jobs(2).build();
    }

    private static UnaryOperator<String> replace(String from, String to) {
        return s -> {
            assertTrue(s.contains(from), from);
            return s.replace(from, to);
        };
    }

    /** The functions a payload file patches, as its {@code .livepatch.funcs} names them. */
    private static Set<String> functionsIn(Path payload) throws Exception {
        LoadedPayload p = LoadCheck.inspect(PayloadFile.read(payload)).payload();
        return p.funcs().stream().map(PatchFunction::name).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String dependsOf(Path payload) throws Exception {
        return HexFormat.of().formatHex(LoadCheck.inspect(PayloadFile.read(payload)).payload().depends().toArray());
    }

    @Test
    void eachPayloadHoldsTheSeriesUpToItsChangesetAndLaterPatchesMayNeedEarlierOnes(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        SeriesWriter w = new SeriesWriter(src, tmp);
        w.add("0000-tools-only.patch", "tools/misc/hello.c", s -> "int main(void) { return 0; }\n");
        w.add("0001-foo-triple.patch", "xen/common/foo.c", replace("return arg * 2;", "return arg * 3;"));
        // Applies only on top of 0001: the line it changes is 0001's.
        Path p2 = w.add("0002-foo-quadruple.patch", "xen/common/foo.c", replace("return arg * 3;", "return arg * 4;"));
        w.add("0003-extra-version.patch", "xen/common/version.c", replace("return XEN_EXTRAVERSION;", "return \"Hello World\";"));
        List<Path> series = BatchRun.patches(tmp.resolve("series"));

        CumulativeRun.Result r = CumulativeRun.run(template(src, tmp, "out"), series, Set.of(), new PrintWriter(new StringWriter()),
                ExitMapper.batch());

        Map<String, CumulativeRun.Row> by = r.rows().stream().collect(Collectors.toMap(CumulativeRun.Row::name, e -> e));
        assertEquals(List.of("0000-tools-only", "0001-foo-triple", "0002-foo-quadruple", "0003-extra-version"),
                r.rows().stream().map(CumulativeRun.Row::name).toList());
        assertEquals(CumulativeRun.Status.NO_CHANGE, by.get("0000-tools-only").status(), by.get("0000-tools-only").message());
        assertNull(by.get("0000-tools-only").payload());
        for (String ok : List.of("0001-foo-triple", "0002-foo-quadruple", "0003-extra-version")) {
            CumulativeRun.Row row = by.get(ok);
            assertEquals(CumulativeRun.Status.OK, row.status(), ok + ": " + row.message());
            assertEquals(tmp.resolve("out").resolve(ok).resolve(ok + ".livepatch"), row.payload(), "named after its changeset");
            assertEquals(BuildFixtures.ZERO_ID, dependsOf(row.payload()), ok + " depends on the base, not on the previous payload");
        }
        assertEquals(Set.of("do_foo", "compat_foo"), functionsIn(by.get("0001-foo-triple").payload()));
        assertEquals(Set.of("do_foo", "compat_foo"), functionsIn(by.get("0002-foo-quadruple").payload()));
        assertEquals(Set.of("do_foo", "compat_foo", "xen_extra_version", "print_version"), functionsIn(by.get("0003-extra-version").payload()));
        // print_version too: at -O2 it inlines xen_extra_version (as the single-patch tests find).
        assertEquals(Set.of("print_version", "xen_extra_version"), Set.copyOf(by.get("0003-extra-version").added()),
                "what 0003 adds to 0002's payload");
        // 0002's payload carries *4, not 0001's *3: its patched foo.o is another one.
        Path o1 = tmp.resolve("out/0001-foo-triple/patched/xen/common/foo.o");
        Path o2 = tmp.resolve("out/0002-foo-quadruple/patched/xen/common/foo.o");
        assertNotEquals(-1L, Files.mismatch(o1, o2));
        assertEquals(-1L, Files.mismatch(o2, tmp.resolve("out/0003-extra-version/patched/xen/common/foo.o")),
                "0003 leaves foo.o as 0002 made it");
        assertTrue(r.ok());
        assertEquals("0003-extra-version", r.shipsThrough().orElseThrow().name());
        String json = Files.readString(r.summary());
        assertTrue(json.contains("\"mode\": \"cumulative\"") && json.contains("\"first_unpatchable\": null"), json);
        assertEquals(before, BuildFixtures.checksums(src), "SRC untouched");

        // The same 0002 alone, as the independent batch runs it, does not apply to the base.
        BatchRun.Result alone = BatchRun.run(template(src, tmp, "alone"), List.of(p2), new PrintWriter(new StringWriter()), ExitMapper.batch());
        assertEquals(20, alone.entries().get(0).exitCode(), alone.entries().get(0).message());
    }

    /** 0001 changes foo.c, 0002 a type layout (refused), 0003 version.c, 0004 the line 0002 added. */
    private static Path layoutSeries(Path src, Path tmp) throws Exception {
        SeriesWriter w = new SeriesWriter(src, tmp);
        w.add("0001-foo-triple.patch", "xen/common/foo.c", replace("return arg * 2;", "return arg * 3;"));
        w.add("0002-layout.patch", "xen/arch/x86/include/asm/extable.h", replace("    s32 addr, cont;\n", "    s32 addr, cont;\n    u32 hits;\n"));
        w.add("0003-extra-version.patch", "xen/common/version.c", replace("return XEN_EXTRAVERSION;", "return \"Hello World\";"));
        w.add("0004-wider-hits.patch", "xen/arch/x86/include/asm/extable.h", replace("    u32 hits;\n", "    u64 hits;\n"));
        return tmp.resolve("series");
    }

    @Test
    void aRefusedChangesetBlocksEveryLaterPayloadAndTheTableSaysWhichAndWhy(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = layoutSeries(src, tmp);
        StringWriter out = new StringWriter();
        int rc = run(out, "--batch", dir.toString(), "--cumulative", "-s", src.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", tmp.resolve("out").toString(), "--depends", BuildFixtures.ZERO_ID, "-j", "2");
        String table = out.toString();
        assertEquals(1, rc, table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("0001-foo-triple ") && l.contains(" ok ") && l.contains("2 function(s)")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("0002-layout ") && l.contains(" refused ") && l.contains(" 30 ")
                && l.contains("exception_table_entry")), table);
        for (String later : List.of("0003-extra-version", "0004-wider-hits")) {
            assertTrue(table.lines().anyMatch(l -> l.startsWith(later + " ") && l.contains(" blocked ") && l.contains(" 30 ")
                    && l.contains("blocked by 0002-layout")), table);
            assertFalse(Files.exists(tmp.resolve("out").resolve(later).resolve(later + ".livepatch")), later);
        }
        assertTrue(table.contains("first unpatchable: 0002-layout (exit 30)"), table);
        assertTrue(table.contains("ships through 0001-foo-triple"), table);
        assertEquals(Set.of("do_foo", "compat_foo"), functionsIn(tmp.resolve("out/0001-foo-triple/0001-foo-triple.livepatch")));
        String json = Files.readString(tmp.resolve("out/batch.json"));
        assertTrue(json.contains("\"first_unpatchable\": {\n    \"name\": \"0002-layout\",\n    \"exit_code\": 30"), json);
        assertTrue(json.contains("\"blocked_by\": \"0002-layout\""), json);
    }

    @Test
    void anExcludedChangesetLetsTheRestShipAndOneThatNeededItSaysSo(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = layoutSeries(src, tmp);
        StringWriter out = new StringWriter();
        int rc = run(out, "--batch", dir.toString(), "--cumulative", "--exclude", "0002-layout.patch", "-s", src.toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", tmp.resolve("out").toString(), "--depends", BuildFixtures.ZERO_ID);
        String table = out.toString();
        assertEquals(1, rc, "0004 needs the excluded 0002: " + table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("0002-layout ") && l.contains(" excluded ")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("0003-extra-version ") && l.contains(" ok ")
                && l.contains("4 function(s); new: ") && l.contains("xen_extra_version")), table);
        assertEquals(Set.of("do_foo", "compat_foo", "xen_extra_version", "print_version"),
                functionsIn(tmp.resolve("out/0003-extra-version/0003-extra-version.livepatch")));
        assertTrue(table.lines().anyMatch(l -> l.startsWith("0004-wider-hits ") && l.contains(" refused ") && l.contains(" 20 ")
                && l.contains("does not apply on top of the earlier changesets")
                && l.contains("excluded changesets touch the same files: 0002-layout (xen/arch/x86/include/asm/extable.h)")), table);
        assertTrue(table.contains("excluded: 0002-layout"), table);
        assertTrue(table.contains("first unpatchable: 0004-wider-hits (exit 20)"), table);
        String json = Files.readString(tmp.resolve("out/batch.json"));
        assertTrue(json.contains("\"excluded\": [\n    \"0002-layout\"\n  ]"), json);
        assertTrue(json.contains("\"ships_through\": \"0003-extra-version\""), json);

        // Leaving 0004 out as well (by name, from a file) ships everything else.
        Path list = tmp.resolve("exclude.txt");
        Files.writeString(list, "# left for the reboot-time update\n0002-layout   # a type layout change\n0004-wider-hits\n");
        StringWriter out2 = new StringWriter();
        assertEquals(0, run(out2, "--batch", dir.toString(), "--cumulative", "--exclude-from", list.toString(), "-s", src.toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", tmp.resolve("out2").toString(), "--depends", BuildFixtures.ZERO_ID),
                out2.toString());
        assertTrue(out2.toString().contains("first unpatchable: none"), out2.toString());
        assertTrue(out2.toString().contains("excluded: 0002-layout, 0004-wider-hits"), out2.toString());
    }

    @Test
    void anExclusionThatNamesNoChangesetIsAUserError(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = layoutSeries(src, tmp);
        BuildException e = assertThrows(BuildException.class,
                () -> CumulativeRun.exclusions(BatchRun.patches(dir), List.of("0002-layuot"), null));
        assertEquals(BuildException.Reason.BAD_OPTION, e.reason());
        StringWriter out = new StringWriter();
        int rc = run(out, "--batch", dir.toString(), "--cumulative", "--exclude", "0002-layuot", "-s", src.toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", tmp.resolve("out").toString(), "--depends", BuildFixtures.ZERO_ID);
        assertEquals(10, rc, out.toString());
        assertTrue(out.toString().contains("--exclude 0002-layuot: no changeset of the series has this name"), out.toString());
        assertEquals(1, out.toString().strip().lines().count(), "one line, no stack trace: " + out);
        assertFalse(Files.exists(tmp.resolve("out")), "nothing built");

        StringWriter usage = new StringWriter();
        assertEquals(64, run(usage, "--batch", dir.toString(), "--exclude", "0002-layout", "-s", src.toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", tmp.resolve("o2").toString(), "--depends", BuildFixtures.ZERO_ID));
        assertTrue(usage.toString().contains("need --batch ... --cumulative"), usage.toString());
    }

    private static int run(StringWriter out, String... args) {
        return BuildCommandInProcess.run(out, args);
    }
}
