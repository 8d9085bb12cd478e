package org.livepatch.cli;

import java.io.IOException;
import org.livepatch.diff.DiffInputException;
import org.livepatch.diff.DiffResult;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.link.LinkException;
import org.livepatch.pipeline.BatchRun;
import org.livepatch.pipeline.PipelineException;
import org.livepatch.verify.Rejection;
import org.livepatch.xen.XenSymsException;
import org.livepatch.xenbuild.BuildException;

/**
 * The one translation from what the domain reports (a reason, a status, an exception) to an
 * {@link ExitCode}. The switches are exhaustive: a reason added to a domain enum does not compile
 * until it is given its code here.
 */
public final class ExitMapper {
    private ExitMapper() {}

    public static ExitCode of(BuildException.Reason reason) {
        return switch (reason) {
            case BAD_OPTION -> ExitCode.BAD_OPTION;
            case BAD_SOURCE_TREE -> ExitCode.BAD_SOURCE_TREE;
            case BAD_CONFIG -> ExitCode.BAD_CONFIG;
            case CONFIG_NO_LIVEPATCH -> ExitCode.CONFIG_NO_LIVEPATCH;
            case BAD_BUILD_ID -> ExitCode.BAD_BUILD_ID;
            case BAD_XEN_SYMS -> ExitCode.BAD_XEN_SYMS;
            case XEN_SYMS_MISMATCH -> ExitCode.XEN_SYMS_MISMATCH;
            case TOOL_MISSING -> ExitCode.TOOL_MISSING;
            case BAD_OUTPUT_DIR -> ExitCode.BAD_OUTPUT_DIR;
            case BAD_PATCH -> ExitCode.BAD_PATCH;
            case PATCH_DOES_NOT_APPLY -> ExitCode.PATCH_DOES_NOT_APPLY;
            case PATCH_NO_COMPILED_FILE -> ExitCode.PATCH_NO_COMPILED_FILE;
            case PATCH_OUTSIDE_HYPERVISOR -> ExitCode.PATCH_OUTSIDE_HYPERVISOR;
            case REFERENCE_BUILD_FAILED -> ExitCode.REFERENCE_BUILD_FAILED;
            case PATCHED_BUILD_FAILED -> ExitCode.PATCHED_BUILD_FAILED;
            case NO_CHANGED_OBJECTS -> ExitCode.NO_CHANGED_OBJECTS;
            case WORKSPACE -> ExitCode.WORKSPACE;
            case SOURCE_CHANGED -> ExitCode.SOURCE_CHANGED;
            case INTERRUPTED -> ExitCode.INTERRUPTED;
            case COMPILER_MISMATCH -> ExitCode.COMPILER_MISMATCH;
            // Found while building, but for the user the same verdict as the diff's refusals.
            case UNPATCHABLE_LAYOUT -> ExitCode.UNPATCHABLE;
            case REFERENCE_ARCHIVE -> ExitCode.REFERENCE_ARCHIVE;
            case REFERENCE_MISMATCH -> ExitCode.REFERENCE_MISMATCH;
            case PACKAGE_UNAVAILABLE -> ExitCode.PACKAGE_UNAVAILABLE;
            case REFERENCE_NOT_REPRODUCED -> ExitCode.REFERENCE_NOT_REPRODUCED;
            case SLICE_PART -> ExitCode.SLICE_PART;
            case SLICES_MISMATCH -> ExitCode.SLICES_MISMATCH;
        };
    }

    public static ExitCode of(PipelineException.Reason reason) {
        return switch (reason) {
            case NO_FUNCTIONAL_CHANGE -> ExitCode.NO_CHANGE;
            case UNPATCHABLE_CHANGE -> ExitCode.UNPATCHABLE;
            case DIFF_FAILED -> ExitCode.DIFF_FAILED;
            case PAYLOAD_REJECTED -> ExitCode.PAYLOAD_REJECTED;
            case VERIFY_FAILED -> ExitCode.VERIFY_FAILED;
            case OUTPUT -> ExitCode.OUTPUT;
        };
    }

    /** {@code create-diff-object}'s outcomes, the codes upstream's tool gives them. */
    public static ExitCode of(DiffResult.Status status) {
        return switch (status) {
            case CHANGES -> ExitCode.OK;
            case NO_CHANGE -> ExitCode.NO_CHANGE;
            case REFUSED -> ExitCode.DIFF_REFUSED;
        };
    }

    /** {@code livepatch-verify}: a payload that is not even well-formed is bad input, not a refusal. */
    public static ExitCode of(Rejection rejection) {
        return rejection.reason().malformed() ? ExitCode.BAD_INPUT : ExitCode.VERIFY_REFUSED;
    }

    /** Whatever a command let escape: the domain's typed failures, I/O errors, and bugs. */
    public static ExitCode of(Throwable failure) {
        return switch (failure) {
            case CommandRunner.UserError u -> u.exitCode();
            case BuildException e -> of(e.reason());
            case PipelineException e -> of(e.reason());
            // Before IOException: a malformed ELF file is one, but a readable one.
            case ElfFormatException e -> ExitCode.BAD_INPUT;
            case DiffInputException e -> ExitCode.BAD_INPUT;
            case LinkException e -> ExitCode.BAD_INPUT;
            case XenSymsException e -> ExitCode.BAD_INPUT;
            case IOException e -> ExitCode.IO;
            case InterruptedException e -> ExitCode.INTERRUPTED;
            default -> ExitCode.INTERNAL;
        };
    }

    /** The codes {@code livepatch-build --batch} records for each patch: this mapping's. */
    public static BatchRun.ExitCodes batch() {
        return new BatchRun.ExitCodes() {
            @Override
            public int success() {
                return ExitCode.OK.number();
            }

            @Override
            public int of(Throwable failure) {
                return ExitMapper.of(failure).number();
            }
        };
    }
}
