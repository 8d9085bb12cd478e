package org.livepatch.link;

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
}
