package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.ExitMapper;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.XenFixes;
import org.livepatch.testsupport.XenTree;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PatchFunction;
import org.livepatch.verify.PayloadFile;
import org.livepatch.xenbuild.BuildRequest;

/**
 * A slice of the real stable-4.17 series built cumulatively (the whole series is the benchmark's:
 * tests/bench/run): 0001 (a version bump), 0002 and 0003 (fixes of unrelated objects), 0009 (a
 * type layout change), 0046 and 0049 (fixes of two more objects). Without excluding 0009 the
 * series stops there and the later payloads are blocked; with it excluded, each payload patches
 * exactly the union of the shipped changesets' functions, as {@code stable-4.17.expected} gives
 * them for each changeset alone (derived from disassembly, not from this tool): the changesets of
 * the slice touch disjoint objects, so their union is the cumulative payload's content. Every
 * payload is checked by our loader against the real xen-syms and depends on its build-id.
 */
@Tag("xen")
class XenCumulativeSeriesTest {

    private static List<Path> slice(Path tmp) throws Exception {
        Path list = tmp.resolve("slice.txt");
        List<String> lines = new ArrayList<>();
        for (String n : List.of("0001", "0002", "0003", "0009", "0046", "0049")) {
            lines.add(XenFixes.patch(n).toString());
        }
        Files.write(list, lines);
        return BatchRun.patches(list);
    }

    private static BuildRequest template(Path tmp, String out) throws Exception {
        return XenTree.template(tmp.resolve(out)).build();
    }

    private static Set<String> expectedAlone(XenRealFixesTest.Expectations exp, String... fixes) {
        Set<String> s = new TreeSet<>();
        for (String f : fixes) {
            XenRealFixesTest.Expected e = exp.byFix().get(f);
            assertEquals("payload", e.kind(), f);
            s.addAll(e.words());
        }
        return s;
    }

    @Test
    void aLayoutChangeStopsTheSeriesUntilItIsExcludedThenEachPayloadHoldsEveryShippedFix(@TempDir Path tmp) throws Exception {
        XenRealFixesTest.Expectations exp = XenRealFixesTest.parse(Files.readAllLines(XenRealFixesTest.expectationsFile()));
        List<Path> series = slice(tmp);
        String name1 = org.livepatch.xenbuild.PatchName.of(series.get(0));
        String name9 = org.livepatch.xenbuild.PatchName.of(series.get(3));

        CumulativeRun.Result stopped = CumulativeRun.run(template(tmp, "stopped"), series,
                CumulativeRun.exclusions(series, List.of(name1), null), new PrintWriter(System.err, true), ExitMapper.batch());
        List<CumulativeRun.Status> want = List.of(CumulativeRun.Status.EXCLUDED, CumulativeRun.Status.OK, CumulativeRun.Status.OK,
                CumulativeRun.Status.REFUSED, CumulativeRun.Status.BLOCKED, CumulativeRun.Status.BLOCKED);
        assertEquals(want, stopped.rows().stream().map(CumulativeRun.Row::status).toList(), stopped.rows().toString());
        CumulativeRun.Row refused = stopped.refused().orElseThrow();
        assertEquals(name9, refused.name());
        assertEquals(30, refused.exitCode());
        for (String w : exp.byFix().get("0009").words()) {
            assertTrue(refused.message().toLowerCase(java.util.Locale.ROOT).contains(w.toLowerCase(java.util.Locale.ROOT)),
                    w + " in " + refused.message());
        }
        assertEquals(name9, stopped.rows().get(5).blockedBy());

        CumulativeRun.Result shipped = CumulativeRun.run(template(tmp, "shipped"), series,
                CumulativeRun.exclusions(series, List.of(name1, name9), null), new PrintWriter(System.err, true), ExitMapper.batch());
        StringWriter table = new StringWriter();
        CumulativeRun.printTable(shipped, new PrintWriter(table));
        System.err.println(table);
        assertTrue(shipped.ok(), table.toString());
        assertEquals(List.of(name1, name9), shipped.excluded());
        var hypervisor = LoadCheck.readHypervisor(XenTree.xenSyms());
        String buildId = LinkFixture.readelfBuildId(XenTree.xenSyms());
        Map<Integer, Set<String>> expected = Map.of(
                1, expectedAlone(exp, "0002"),
                2, expectedAlone(exp, "0002", "0003"),
                4, expectedAlone(exp, "0002", "0003", "0046"),
                5, expectedAlone(exp, "0002", "0003", "0046", "0049"));
        for (var e : expected.entrySet()) {
            CumulativeRun.Row row = shipped.rows().get(e.getKey());
            assertEquals(CumulativeRun.Status.OK, row.status(), row.name() + ": " + row.message());
            PayloadFile payload = PayloadFile.read(row.payload());
            var load = LoadCheck.check(hypervisor, List.of(payload), LoadCheck.Options.defaults());
            assertTrue(load.accepted(), row.name() + ": " + load.firstRejection());
            var loaded = LoadCheck.inspect(payload).payload();
            Set<String> funcs = loaded.funcs().stream().map(PatchFunction::name).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(e.getValue(), funcs, row.name());
            assertEquals(buildId, HexFormat.of().formatHex(loaded.depends().toArray()), row.name() + " depends on the hypervisor");
        }
    }
}
