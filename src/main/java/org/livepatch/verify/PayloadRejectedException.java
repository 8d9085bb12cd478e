package org.livepatch.verify;

/**
 * Thrown inside the loader at the first failed check, as the hypervisor stops at its first error;
 * callers receive the {@link Rejection} in a result, never this exception.
 */
final class PayloadRejectedException extends Exception {
    private final transient Rejection rejection;

    PayloadRejectedException(Rejection rejection) {
        super(rejection.message(), null, false, false);
        this.rejection = rejection;
    }

    Rejection rejection() {
        return rejection;
    }
}
