package org.livepatch.pipeline;

/**
 * Why the stages after the build stopped. The command line gives each reason its own exit code,
 * so scripts can tell "nothing to patch" from "cannot patch this safely".
 */
public final class PipelineException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** create-diff-object found no functional change in any rebuilt object (upstream's rc 3). */
        NO_FUNCTIONAL_CHANGE,
        /** A change that cannot be live-patched safely (changed data, too-small function, ...). */
        UNPATCHABLE_CHANGE,
        /** An object could not be read or diffed. */
        DIFF_FAILED,
        /** Linking or the hypervisor's limits refused the payload; nothing was written. */
        PAYLOAD_REJECTED,
        /** Our loader, checking the payload as Xen would, refused it; nothing was written. */
        VERIFY_FAILED,
        /** Writing the payload or the report failed. */
        OUTPUT
    }

    private final Reason reason;

    public PipelineException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public PipelineException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
