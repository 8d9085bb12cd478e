package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;

/**
 * {@code --slice I/N} and {@code --collect} on minixen series: each slice writes only its part's
 * payloads, byte for byte the whole run's; a refusal in an earlier slice blocks a later slice's
 * rows; the collected output is the whole run's (payload bytes, table, verdict); bad slices and
 * bad sets of parts are one-line errors with their codes.
 */
class CumulativeSliceTest {

    private static UnaryOperator<String> replace(String from, String to) {
        return s -> {
            assertTrue(s.contains(from), from);
            return s.replace(from, to);
        };
    }

    /** Writes each patch against the tree the previous ones left (as CumulativeRunTest does). */
    private static Path series(Path src, Path tmp, String dirName, String[][] steps) throws Exception {
        Path tree = tmp.resolve(dirName + "-tree");
        org.livepatch.testsupport.Tools.run(null, "cp", "-a", src.toString(), tree.toString());
        Path dir = Files.createDirectories(tmp.resolve(dirName));
        for (String[] s : steps) {
            UnaryOperator<String> edit = s[2] == null ? x -> "int main(void) { return 0; }\n" : replace(s[2], s[3]);
            BuildFixtures.makePatch(tree, dir.resolve(s[0]), new BuildFixtures.Edit(s[1], edit));
            Path f = tree.resolve(s[1]);
            Files.createDirectories(f.getParent());
            Files.writeString(f, edit.apply(Files.exists(f) ? Files.readString(f) : ""));
        }
        return dir;
    }

    private static final String[][] GOOD = {
        {"0000-tools-only.patch", "tools/misc/hello.c", null, null},
        {"0001-foo-triple.patch", "xen/common/foo.c", "return arg * 2;", "return arg * 3;"},
        {"0002-foo-quadruple.patch", "xen/common/foo.c", "return arg * 3;", "return arg * 4;"},
        {"0003-extra-version.patch", "xen/common/version.c", "return XEN_EXTRAVERSION;", "return \"Hello World\";"},
        {"0004-foo-quintuple.patch", "xen/common/foo.c", "return arg * 4;", "return arg * 5;"},
    };

    /** 0001 ok, 0002 a type layout change (refused), 0003 would be ok, 0004 needs 0002. */
    private static final String[][] LAYOUT = {
        {"0001-foo-triple.patch", "xen/common/foo.c", "return arg * 2;", "return arg * 3;"},
        {"0002-layout.patch", "xen/arch/x86/include/asm/extable.h", "    s32 addr, cont;\n", "    s32 addr, cont;\n    u32 hits;\n"},
        {"0003-extra-version.patch", "xen/common/version.c", "return XEN_EXTRAVERSION;", "return \"Hello World\";"},
        {"0004-wider-hits.patch", "xen/arch/x86/include/asm/extable.h", "    u32 hits;\n", "    u64 hits;\n"},
    };

    private static int run(StringWriter out, String... args) {
        return BuildCommandInProcess.run(out, args);
    }

    private static int build(StringWriter out, Path src, Path dir, Path o, String... more) {
        List<String> a = new ArrayList<>(List.of("--batch", dir.toString(), "--cumulative", "-s", src.toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", o.toString(), "--depends", BuildFixtures.ZERO_ID, "-j", "2"));
        a.addAll(List.of(more));
        return run(out, a.toArray(String[]::new));
    }

    /** Every *.livepatch below {@code root} (outside the work directory), by name, with its bytes. */
    private static Map<String, byte[]> payloads(Path root) throws Exception {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".livepatch") && !root.relativize(p).startsWith(".series")).toList()) {
                assertEquals(p.getFileName().toString().replace(".livepatch", ""), p.getParent().getFileName().toString(), p.toString());
                m.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    private static void assertSameBytes(Map<String, byte[]> expected, Map<String, byte[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String k : expected.keySet()) {
            assertTrue(java.util.Arrays.equals(expected.get(k), actual.get(k)), what + ": " + k + " differs");
        }
    }

    /** The table without the time column and the summary path, which differ from run to run. */
    private static List<String> table(String out) {
        return out.lines().filter(l -> !l.startsWith("[") && !l.startsWith("summary ") && !l.startsWith("slice "))
                .map(l -> l.replaceAll("\\s+[0-9]+\\.[0-9]s\\s+", " T ")).toList();
    }

    @Test
    void slicesWriteTheWholeRunsPayloadsAndCollectMergesThemIntoTheWholeRunsTable(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = series(src, tmp, "series", GOOD);
        StringWriter whole = new StringWriter();
        assertEquals(0, build(whole, src, dir, tmp.resolve("whole")), whole.toString());
        Map<String, byte[]> all = payloads(tmp.resolve("whole"));
        assertEquals(4, all.size(), "0001..0004 have payloads: " + all.keySet());

        // 5 changesets in 3 parts: 0000 | 0001 0002 | 0003 0004.
        String[][] parts = {{"0000-tools-only"}, {"0001-foo-triple", "0002-foo-quadruple"}, {"0003-extra-version", "0004-foo-quintuple"}};
        Path partsDir = tmp.resolve("parts");
        for (int i = 1; i <= 3; i++) {
            StringWriter out = new StringWriter();
            Path o = partsDir.resolve("slice-" + i);
            assertEquals(0, build(out, src, dir, o, "--slice", i + "/3"), out.toString());
            Map<String, byte[]> mine = payloads(o);
            Map<String, byte[]> expected = new TreeMap<>();
            for (String n : parts[i - 1]) {
                if (all.containsKey(n + ".livepatch")) {
                    expected.put(n + ".livepatch", all.get(n + ".livepatch"));
                }
                assertTrue(out.toString().lines().anyMatch(l -> l.startsWith(n + " ")), "slice " + i + " prints its row " + n + ":\n" + out);
            }
            assertSameBytes(expected, mine, "slice " + i + "/3");
            for (int j = 0; j < 3; j++) {
                for (String n : parts[j]) {
                    assertEquals(j == i - 1, Files.exists(o.resolve(n)), "slice " + i + " writes " + n + " only if it is its own");
                }
            }
            assertFalse(Files.exists(o.resolve(".series/elsewhere")), "the earlier parts' payloads are not kept");
            String json = Files.readString(o.resolve("batch.json"));
            assertTrue(json.contains("\"slice\": {\n    \"index\": " + i + ",\n    \"count\": 3"), json);
        }
        StringWriter merged = new StringWriter();
        // The parts as CI artifacts arrive: one directory holding them (and once one named alone).
        assertEquals(0, run(merged, "--collect", partsDir.resolve("slice-3").toString(), "--collect", partsDir.resolve("slice-1").toString(),
                "--collect", partsDir.resolve("slice-2").toString(), "-o", tmp.resolve("merged").toString()), merged.toString());
        assertSameBytes(all, payloads(tmp.resolve("merged")), "collected");
        assertEquals(table(whole.toString()), table(merged.toString()));
        String a = Files.readString(tmp.resolve("whole/batch.json")).replace(tmp.resolve("whole").toString(), "ROOT").replaceAll("\"seconds\": [0-9.]+", "");
        String b = Files.readString(tmp.resolve("merged/batch.json")).replace(tmp.resolve("merged").toString(), "ROOT").replaceAll("\"seconds\": [0-9.]+", "");
        assertEquals(a, b, "the merged batch.json is the whole run's (but for times)");

        StringWriter again = new StringWriter();
        assertEquals(0, run(again, "--collect", partsDir.toString(), "-o", tmp.resolve("merged2").toString()), again.toString());
        assertSameBytes(all, payloads(tmp.resolve("merged2")), "collected from the parent directory");
    }

    @Test
    void aRefusalInAnEarlierSliceBlocksTheLaterSlicesRows(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = series(src, tmp, "series", LAYOUT);
        StringWriter second = new StringWriter();
        assertEquals(1, build(second, src, dir, tmp.resolve("parts/2"), "--slice", "2/2"), second.toString());
        String t = second.toString();
        for (String later : List.of("0003-extra-version", "0004-wider-hits")) {
            assertTrue(t.lines().anyMatch(l -> l.startsWith(later + " ") && l.contains(" blocked ") && l.contains(" 30 ")
                    && l.contains("blocked by 0002-layout")), t);
            assertFalse(Files.exists(tmp.resolve("parts/2").resolve(later).resolve(later + ".livepatch")), later);
        }
        assertFalse(t.lines().anyMatch(l -> l.startsWith("0001-foo-triple ") || l.startsWith("0002-layout ")), "not its rows: " + t);
        assertTrue(t.contains("first unpatchable: 0002-layout (exit 30)"), t);
        assertFalse(Files.exists(tmp.resolve("parts/2/0001-foo-triple")), "the earlier slice's payload is not written here");
        String json = Files.readString(tmp.resolve("parts/2/batch.json"));
        assertTrue(json.contains("\"name\": \"0002-layout\",") && json.contains("\"status\": \"refused\""), json);

        StringWriter first = new StringWriter();
        assertEquals(1, build(first, src, dir, tmp.resolve("parts/1"), "--slice", "1/2"), first.toString());
        StringWriter whole = new StringWriter();
        assertEquals(1, build(whole, src, dir, tmp.resolve("whole")), whole.toString());
        StringWriter merged = new StringWriter();
        assertEquals(1, run(merged, "--collect", tmp.resolve("parts").toString(), "-o", tmp.resolve("merged").toString()), merged.toString());
        assertEquals(table(whole.toString()), table(merged.toString()));
        assertTrue(merged.toString().contains("ships through 0001-foo-triple"), merged.toString());
        assertSameBytes(payloads(tmp.resolve("whole")), payloads(tmp.resolve("merged")), "collected");
    }

    @Test
    void badSlicesAndBadSetsOfPartsAreOneLineErrors(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path dir = series(src, tmp, "series", LAYOUT);
        for (String bad : List.of("0/2", "3/2", "x", "1/0", "2", "1/5", "-1/2")) {
            StringWriter out = new StringWriter();
            assertEquals(64, build(out, src, dir, tmp.resolve("bad"), "--slice", bad), bad + ": " + out);
            assertEquals(1, out.toString().strip().lines().count(), "one line: " + out);
            assertTrue(out.toString().contains("--slice"), out.toString());
            assertFalse(Files.exists(tmp.resolve("bad")), "nothing built");
        }
        StringWriter noCum = new StringWriter();
        assertEquals(64, run(noCum, "--batch", dir.toString(), "--slice", "1/2", "-s", src.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", tmp.resolve("bad").toString(), "--depends", BuildFixtures.ZERO_ID), noCum.toString());

        // Three parts of the same 4-series cut in 2 (the second twice), and one of another series.
        Path other = series(src, tmp, "other", new String[][] {LAYOUT[0], LAYOUT[2]});
        StringWriter ignored = new StringWriter();
        build(ignored, src, dir, tmp.resolve("p1"), "--slice", "1/2");
        build(ignored, src, dir, tmp.resolve("p2"), "--slice", "2/2");
        Files.createDirectories(tmp.resolve("p2b"));
        org.livepatch.testsupport.Tools.run(null, "cp", "-a", tmp.resolve("p2").toString() + "/.", tmp.resolve("p2b").toString());
        build(ignored, src, other, tmp.resolve("q2"), "--slice", "2/2");
        Files.createDirectories(tmp.resolve("empty"));
        Files.createDirectories(tmp.resolve("full"));
        Files.writeString(tmp.resolve("full/x"), "mine");

        record Case(int code, String message, List<String> parts, String out) {}
        for (Case c : List.of(
                new Case(43, "slice 1/2 is missing", List.of("p2"), "o1"),
                new Case(43, "slice 2/2 is also", List.of("p1", "p2", "p2b"), "o2"),
                new Case(43, "another series", List.of("p1", "q2"), "o3"),
                new Case(42, "holds no batch.json", List.of("p1", "empty"), "o4"),
                new Case(42, "not a directory", List.of("p1", "nowhere"), "o5"),
                new Case(18, "not empty", List.of("p1", "p2"), "full"))) {
            List<String> a = new ArrayList<>();
            for (String p : c.parts()) {
                a.addAll(List.of("--collect", tmp.resolve(p).toString()));
            }
            a.addAll(List.of("-o", tmp.resolve(c.out()).toString()));
            StringWriter out = new StringWriter();
            assertEquals(c.code(), run(out, a.toArray(String[]::new)), c + ": " + out);
            assertTrue(out.toString().contains(c.message()), c + ": " + out);
            assertEquals(1, out.toString().strip().lines().count(), "one line: " + out);
            if (!c.out().equals("full")) {
                assertFalse(Files.exists(tmp.resolve(c.out())), "nothing written: " + c);
            }
        }
        assertEquals("mine", Files.readString(tmp.resolve("full/x")));
    }
}
