package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.pipeline.LivepatchPipeline;
import org.livepatch.pipeline.PipelineResult;
import org.livepatch.stage.StageClock;
import org.livepatch.stage.StageEvent;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/**
 * The real Xen 4.17.5 reference exported from the default cache, imported into an empty cache at
 * another path, and used there for a payload from a copy of the source at another path: the
 * payload is byte-identical to the one built where the reference was made, and the second cache
 * builds nothing (the reference stage reuses the imported entry).
 */
@Tag("xen")
class XenReferenceArchiveTest {

    @Test
    void aPayloadBuiltAfterImportIsByteIdenticalAndBuildsNoReference(@TempDir Path tmp) throws Exception {
        Path patch = XenTree.patch("hello.patch");
        // Where the reference was made: the default cache and the user's SRC.
        BuildRequest here = XenTree.request(patch, tmp.resolve("out-here")).build();
        ReferenceCache hereCache = new ReferenceCache(RequestChecks.check(here).workspace());
        PipelineResult a = LivepatchPipeline.run(RequestChecks.check(here), hereCache, new StageClock(e -> { }));

        Path archive = tmp.resolve("xen-4.17.lpbref");
        CheckedRequest forExport = RequestChecks.checkReference(here, tmp.resolve("export-logs"));
        ReferenceTransfer.Exported exported = ReferenceTransfer.export(forExport, hereCache, archive, new StageClock(e -> { }));
        assertFalse(exported.built(), "the reference the payload was just built from is exported, not built again");

        // Elsewhere: another cache, another copy of SRC (another path, new modification times).
        Path otherSrc = tmp.resolve("elsewhere/src");
        Files.createDirectories(otherSrc.getParent());
        Tools.run(null, "cp", "-r", XenTree.source().toString(), otherSrc.toString());
        Path otherCache = tmp.resolve("elsewhere/cache");
        BuildRequest there = XenTree.request(patch, tmp.resolve("elsewhere/out")).srcDir(otherSrc).cacheDir(otherCache).build();
        CheckedRequest thereChecked = RequestChecks.check(there);
        ReferenceCache thereCache = new ReferenceCache(thereChecked.workspace());
        ReferenceKey wanted = thereCache.currentKey(thereChecked);
        assertEquals(exported.key(), wanted, "the same source, config and toolchain make the same key at another path");
        ReferenceTransfer.Imported imported = ReferenceTransfer.importArchive(thereChecked.workspace(), archive, Optional.of(wanted),
                new StageClock(e -> { }));
        assertEquals(otherCache.resolve("refs").resolve(wanted.hex()), imported.entry());

        List<String> referenceStage = new ArrayList<>();
        PipelineResult b = LivepatchPipeline.run(thereChecked, thereCache, new StageClock(e -> {
            if (e.stage().equals(ReferenceCache.STAGE_REFERENCE) && e.phase() == StageEvent.Phase.FINISHED) {
                referenceStage.add(e.detail());
            }
        }));
        assertEquals(0, thereCache.buildsRun(), "no reference build after the import");
        assertEquals(1, referenceStage.size(), referenceStage.toString());
        assertTrue(referenceStage.get(0).startsWith("reused " + imported.entry()), referenceStage.toString());
        assertEquals(-1L, Files.mismatch(a.payload(), b.payload()), a.payload() + " and " + b.payload() + " differ");
    }
}
