package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.livepatch.diff.DiffInputException;
import org.livepatch.diff.DiffResult;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.link.LinkException;
import org.livepatch.pipeline.PipelineException;
import org.livepatch.verify.RejectReason;
import org.livepatch.verify.Rejection;
import org.livepatch.xen.XenSymsException;
import org.livepatch.xenbuild.BuildException;

/**
 * Every domain reason, status and exception gets the number the README documents. The numbers
 * are written here, never read back from {@link ExitCode}: a change of the enum that moves a
 * code breaks this test as it would break a user's script.
 */
class ExitMapperTest {
    @Test
    void everyBuildReason() {
        Map<BuildException.Reason, Integer> documented = new EnumMap<>(BuildException.Reason.class);
        documented.put(BuildException.Reason.BAD_OPTION, 10);
        documented.put(BuildException.Reason.BAD_SOURCE_TREE, 11);
        documented.put(BuildException.Reason.BAD_CONFIG, 12);
        documented.put(BuildException.Reason.CONFIG_NO_LIVEPATCH, 13);
        documented.put(BuildException.Reason.BAD_BUILD_ID, 14);
        documented.put(BuildException.Reason.BAD_XEN_SYMS, 15);
        documented.put(BuildException.Reason.XEN_SYMS_MISMATCH, 16);
        documented.put(BuildException.Reason.TOOL_MISSING, 17);
        documented.put(BuildException.Reason.BAD_OUTPUT_DIR, 18);
        documented.put(BuildException.Reason.BAD_PATCH, 19);
        documented.put(BuildException.Reason.PATCH_DOES_NOT_APPLY, 20);
        documented.put(BuildException.Reason.PATCH_NO_COMPILED_FILE, 21);
        documented.put(BuildException.Reason.PATCH_OUTSIDE_HYPERVISOR, 22);
        documented.put(BuildException.Reason.REFERENCE_BUILD_FAILED, 23);
        documented.put(BuildException.Reason.PATCHED_BUILD_FAILED, 24);
        documented.put(BuildException.Reason.NO_CHANGED_OBJECTS, 25);
        documented.put(BuildException.Reason.WORKSPACE, 26);
        documented.put(BuildException.Reason.SOURCE_CHANGED, 27);
        documented.put(BuildException.Reason.INTERRUPTED, 28);
        documented.put(BuildException.Reason.COMPILER_MISMATCH, 29);
        documented.put(BuildException.Reason.UNPATCHABLE_LAYOUT, 30);
        documented.put(BuildException.Reason.REFERENCE_ARCHIVE, 40);
        documented.put(BuildException.Reason.REFERENCE_MISMATCH, 41);
        documented.put(BuildException.Reason.PACKAGE_UNAVAILABLE, 35);
        documented.put(BuildException.Reason.REFERENCE_NOT_REPRODUCED, 36);
        documented.put(BuildException.Reason.SLICE_PART, 42);
        documented.put(BuildException.Reason.SLICES_MISMATCH, 43);
        assertEquals(EnumSet.allOf(BuildException.Reason.class), documented.keySet(), "a reason without a documented code");
        documented.forEach((r, n) -> {
            assertEquals(n, ExitMapper.of(r).number(), r.name());
            assertEquals(n, ExitMapper.of(new BuildException(r, null, "x")).number(), r.name());
        });
    }

    @Test
    void everyPipelineReason() {
        Map<PipelineException.Reason, Integer> documented = new EnumMap<>(PipelineException.Reason.class);
        documented.put(PipelineException.Reason.NO_FUNCTIONAL_CHANGE, 3);
        documented.put(PipelineException.Reason.UNPATCHABLE_CHANGE, 30);
        documented.put(PipelineException.Reason.DIFF_FAILED, 31);
        documented.put(PipelineException.Reason.PAYLOAD_REJECTED, 32);
        documented.put(PipelineException.Reason.VERIFY_FAILED, 33);
        documented.put(PipelineException.Reason.OUTPUT, 34);
        assertEquals(EnumSet.allOf(PipelineException.Reason.class), documented.keySet(), "a reason without a documented code");
        documented.forEach((r, n) -> {
            assertEquals(n, ExitMapper.of(r).number(), r.name());
            assertEquals(n, ExitMapper.of(new PipelineException(r, "x")).number(), r.name());
        });
    }

    @Test
    void createDiffObjectsOutcomesAreUpstreams() {
        assertEquals(0, ExitMapper.of(DiffResult.Status.CHANGES).number());
        assertEquals(3, ExitMapper.of(DiffResult.Status.NO_CHANGE).number());
        assertEquals(2, ExitMapper.of(DiffResult.Status.REFUSED).number());
        assertEquals(3, DiffResult.Status.values().length, "a status without a documented code");
    }

    @Test
    void verifyRefusesWith1AndCallsAMalformedPayloadBadInput() {
        for (RejectReason r : RejectReason.values()) {
            assertEquals(r.malformed() ? 65 : 1, ExitMapper.of(new Rejection("p", r, "x", org.livepatch.verify.HypervisorRules.XEN_4_17)).number(), r.name());
        }
    }

    /** What any command lets escape: the same failure, the same number, whichever command. */
    @Test
    void failuresEveryCommandCanMeet() {
        Path f = Path.of("f.o");
        assertEquals(74, ExitMapper.of(new NoSuchFileException("f.o")).number());
        assertEquals(74, ExitMapper.of(new AccessDeniedException("f.o")).number());
        assertEquals(74, ExitMapper.of(new IOException("disk full")).number());
        assertEquals(65, ExitMapper.of(new ElfFormatException(f, "header", 0, "bad")).number());
        assertEquals(65, ExitMapper.of(new DiffInputException("bad")).number());
        assertEquals(65, ExitMapper.of(new LinkException("bad")).number());
        assertEquals(65, ExitMapper.of(new XenSymsException("bad")).number());
        assertEquals(28, ExitMapper.of(new InterruptedException()).number());
        assertEquals(70, ExitMapper.of(new IllegalStateException("a bug")).number());
        assertEquals(64, ExitMapper.of(new CommandRunner.UserError(ExitCode.USAGE, "x")).number());
    }

    @Test
    void batchRecordsTheSinglePatchCodes() {
        assertEquals(0, ExitMapper.batch().success());
        assertEquals(20, ExitMapper.batch().of(new BuildException(BuildException.Reason.PATCH_DOES_NOT_APPLY, null, "x")));
        assertEquals(70, ExitMapper.batch().of(new NullPointerException()));
        assertEquals(74, ExitMapper.batch().of(new IOException("x")));
    }
}
