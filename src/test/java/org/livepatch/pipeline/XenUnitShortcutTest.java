package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.ExitMapper;
import org.livepatch.testsupport.XenFixes;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.PatchName;
import org.livepatch.xenbuild.SeriesTree;

/**
 * The unit shortcut of a series step on the real stable-4.17 changesets whose headers reach
 * hundreds of units, with {@code LPB_UNIT_SHORTCUT=prove}: every unit the shortcut leaves
 * uncompiled is compiled from both its texts by GCC, and the objects must be identical.
 * 0005 adds only macros to a header (every unit preprocesses to the same text, which "prove"
 * checks for the units left alone because GCC's -dU saw none of the macros used); 0007 adds a CPU
 * feature (an enumerator and an assembler constant in every unit: the enum and .equ rules);
 * 0010 changes the body of an xsm/dummy.h static inline hook (the inline rule).
 */
@Tag("xen")
class XenUnitShortcutTest {
    @Test
    void everyUnitTheShortcutLeavesAloneCompilesToTheSameObjectOnTheRealSeries(@TempDir Path tmp) throws Exception {
        Path list = tmp.resolve("series.txt");
        Files.write(list, List.of(XenFixes.patch("0005").toString(), XenFixes.patch("0007").toString(),
                XenFixes.patch("0010").toString()));
        List<Path> series = BatchRun.patches(list);
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(SeriesTree.SHORTCUT_ENV, "prove");
        BuildRequest template = XenTree.template(tmp.resolve("out")).environment(env).build();
        CumulativeRun.Result r = CumulativeRun.run(template, series, CumulativeRun.exclusions(series, List.of(), null),
                new PrintWriter(System.err, true), ExitMapper.batch());
        assertTrue(r.ok(), r.rows().toString());

        // What the shortcut did at each step, from logs/units.log: object -> verdict.
        Map<String, Integer> minimumProven = Map.of("0007", 300, "0010", 60);
        for (Path p : series) {
            String name = PatchName.of(p);
            List<String> log = Files.readAllLines(tmp.resolve("out").resolve(name).resolve("logs/units.log"));
            long proven = log.stream().filter(l -> l.contains(": not compiled: ") && l.endsWith("(proven: GCC's objects are identical)")).count();
            long sameText = log.stream().filter(l -> l.contains(": not compiled: the same text")).count();
            List<String> disproved = log.stream().filter(l -> l.contains("not taking the shortcut")).toList();
            System.err.printf("%s: %d units proven, %d with the same text, %d lines%n", name, proven, sameText, log.size());
            assertEquals(List.of(), disproved, name + ": the shortcut was wrong for these");
            String number = name.substring(0, 4);
            if (number.equals("0005")) {
                assertTrue(sameText >= 300, name + ": " + sameText + " units with the same text");
            } else {
                assertTrue(proven >= minimumProven.get(number), name + ": only " + proven + " units proven");
            }
        }
        // Under "prove" the layout check does both: the text proof and the -g compiles, which must agree.
        for (Path p : series) {
            Path log = tmp.resolve("out").resolve(PatchName.of(p)).resolve("logs/layout-check.log");
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                assertEquals(List.of(), lines.stream().filter(l -> l.contains("DISPROVED")).toList(), log.toString());
            }
        }
        // 0007's own verdicts: the new feature's enumerator and .equ are what changed in the units left alone.
        List<String> log7 = Files.readAllLines(tmp.resolve("out").resolve(PatchName.of(series.get(1))).resolve("logs/units.log"));
        assertTrue(log7.stream().anyMatch(l -> l.startsWith("common/domain.o: not compiled: only declarations it does not use changed: X86_FEATURE_SRSO_")),
                String.join("\n", log7.subList(0, Math.min(20, log7.size()))));
    }
}
