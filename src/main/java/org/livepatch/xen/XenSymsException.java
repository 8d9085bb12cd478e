package org.livepatch.xen;

/**
 * {@code xen-syms} cannot answer what a stage asked of it: a symbol is missing or ambiguous, the
 * hypervisor's version cannot be read from its code, or it has no build-id. The message is one line
 * naming the image and the reason. Each stage turns it into its own failure (the link stage into a
 * {@code LinkException}, the diff stage into a refusal or its version-2 assumption), so this
 * package depends on no stage.
 */
public class XenSymsException extends Exception {
    public XenSymsException(String message) {
        super(message);
    }
}
