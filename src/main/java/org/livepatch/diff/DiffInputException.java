package org.livepatch.diff;

/** Input the diff cannot work with (not a refusal of the patch): a one-line message naming the object and what is wrong. */
public final class DiffInputException extends RuntimeException {
    public DiffInputException(String message) {
        super(message);
    }
}
