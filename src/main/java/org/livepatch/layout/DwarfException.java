package org.livepatch.layout;

/** Debugging information we cannot read: a form, version or structure this reader does not know. */
public final class DwarfException extends Exception {
    private static final long serialVersionUID = 1L;

    public DwarfException(String message) {
        super(message);
    }
}
