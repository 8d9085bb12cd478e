package org.livepatch.pipeline;

/**
 * Why the stages after the build stopped: each reason has its own exit code, after the build
 * stage's (10–29), so scripts can tell "nothing to patch" from "cannot patch this safely".
 */
public final class PipelineException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** create-diff-object found no functional change in any rebuilt object (upstream's rc 3). */
        NO_FUNCTIONAL_CHANGE(3),
        /** A change that cannot be live-patched safely (changed data, too-small function, ...). */
        UNPATCHABLE_CHANGE(30),
        /** An object could not be read or diffed. */
        DIFF_FAILED(31),
        /** Linking or the hypervisor's limits refused the payload; nothing was written. */
        PAYLOAD_REJECTED(32),
        /** Our loader, checking the payload as Xen would, refused it; nothing was written. */
        VERIFY_FAILED(33),
        /** Writing the payload or the report failed. */
        OUTPUT(34);

        private final int exitCode;

        Reason(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
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
