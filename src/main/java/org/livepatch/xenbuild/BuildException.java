package org.livepatch.xenbuild;

import java.nio.file.Path;

/**
 * A failure of the build stage that the user can act on: a bad option, a patch that does not
 * apply, a missing tool, a build that failed (with the log to read).
 *
 * <p>The message is one line that names the file involved and the reason; the CLI prints it as is
 * and exits with the reason's own code (the command line owns the numbers), so every reason is
 * distinguishable by scripts. No user error ever needs a stack trace.
 */
public final class BuildException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why the stage stopped. The command line gives each reason its own exit code. */
    public enum Reason {
        /** An option is missing or malformed (jobs < 1, unknown skip value, ...). */
        BAD_OPTION,
        /** {@code --srcdir} is missing or is not a Xen tree (no {@code xen/Makefile}). */
        BAD_SOURCE_TREE,
        /** {@code --config} is missing or unreadable. */
        BAD_CONFIG,
        /** The config does not enable CONFIG_LIVEPATCH (the hypervisor could not load a payload). */
        CONFIG_NO_LIVEPATCH,
        /** {@code --depends} or {@code --xen-depends} is not exactly 40 hex digits. */
        BAD_BUILD_ID,
        /** {@code --xen-syms} is missing, unreadable, not ELF, or carries no build-id. */
        BAD_XEN_SYMS,
        /** {@code --xen-syms} has another build-id than {@code --xen-depends}. */
        XEN_SYMS_MISMATCH,
        /** gcc, ld, make or patch is not on PATH. */
        TOOL_MISSING,
        /** The output directory cannot be used (exists and is not empty, lies inside SRC, ...). */
        BAD_OUTPUT_DIR,
        /** The patch file is missing, unreadable, or not a unified diff. */
        BAD_PATCH,
        /** The patch does not apply to SRC with zero fuzz. */
        PATCH_DOES_NOT_APPLY,
        /** The patch changes no file that is compiled into the hypervisor. */
        PATCH_NO_COMPILED_FILE,
        /** The patch only changes files outside {@code xen/} (tools, docs): nothing to live-patch. */
        PATCH_OUTSIDE_HYPERVISOR,
        /** Building the original tree failed; the log says why. */
        REFERENCE_BUILD_FAILED,
        /** Rebuilding the patched objects failed (usually a compile error in the patch). */
        PATCHED_BUILD_FAILED,
        /** The patched objects came out byte-identical to the originals. */
        NO_CHANGED_OBJECTS,
        /** The cache or work directory could not be read or written. */
        WORKSPACE,
        /** SRC changed while it was being copied; the copy would not match its cache key. */
        SOURCE_CHANGED,
        /** The run was interrupted (Ctrl-C, thread interrupt); nothing was published. */
        INTERRUPTED,
        /**
         * The reference {@code xen-syms} names another gcc in {@code .comment} than the one that
         * would build the payload ({@code --skip-compiler-check} overrides).
         */
        COMPILER_MISMATCH,
        /**
         * The patch changes the size or layout of a type the running hypervisor's code uses (see
         * {@link LayoutCheck}), or that check could not be done. Found while building, but the
         * same verdict for the user as the diff's other unpatchable changes
         * ({@code PipelineException.Reason.UNPATCHABLE_CHANGE}).
         */
        UNPATCHABLE_LAYOUT,
        /**
         * {@code --import-reference}: the archive is not one ({@link ReferenceArchive}), or is
         * truncated, damaged, tampered with or of another format version.
         */
        REFERENCE_ARCHIVE,
        /**
         * {@code --import-reference} with {@code -s}/{@code -c}: the archive holds the reference of
         * another source, config or toolchain than this run's, so no build here could use it.
         */
        REFERENCE_MISMATCH,
        /**
         * {@code --debian}: the source package or a binary package of that version cannot be
         * fetched or unpacked (unknown version, no deb-src entry, no network, a malformed package).
         */
        PACKAGE_UNAVAILABLE,
        /**
         * The reference build was to reproduce a shipped hypervisor ({@link ReproductionTarget})
         * and its {@code xen-syms} has another build-id: nothing it would diff is proven to run.
         */
        REFERENCE_NOT_REPRODUCED,
        /**
         * {@code --collect}: a part is missing, or holds no {@code batch.json} of a {@code --slice}
         * run, or one that cannot be read.
         */
        SLICE_PART,
        /**
         * {@code --collect}: the parts are not slices 1..N of one series (another series, other
         * exclusions or N, a slice twice or missing, slices that disagree on a shared changeset).
         */
        SLICES_MISMATCH
    }

    private final Reason reason;
    private final Path file;

    public BuildException(Reason reason, Path file, String message) {
        super(file == null ? message : file + ": " + message);
        this.reason = reason;
        this.file = file;
    }

    public BuildException(Reason reason, Path file, String message, Throwable cause) {
        this(reason, file, message);
        initCause(cause);
    }

    public Reason reason() {
        return reason;
    }

    /** The file the message is about, or null when the failure concerns no single file. */
    public Path file() {
        return file;
    }
}
