package org.livepatch.link;

import org.livepatch.xen.XenSymsException;

/**
 * A failure of the link stage the user can act on: a missing or ambiguous hypervisor symbol, a
 * payload the hypervisor would refuse, an unreadable hypervisor version. The message is one line
 * (or, for several problems, one line per problem) naming the file and the reason; the CLI prints
 * it without a stack trace.
 */
public class LinkException extends Exception {
    public LinkException(String message) {
        super(message);
    }

    /** xen-syms could not answer what linking needed (a symbol, the version, the build-id). */
    public LinkException(XenSymsException cause) {
        super(cause.getMessage(), cause);
    }
}
