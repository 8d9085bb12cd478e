package org.livepatch.xenbuild;

import java.nio.file.Path;

/**
 * For {@link OutputClaimTest}: claims OUTPUT (args[0]) for payload args[1] in a process of its own,
 * says "claimed" on stdout, and holds the claim until killed.
 */
public final class HoldOutputClaim {
    private HoldOutputClaim() {}

    public static void main(String[] args) throws Exception {
        OutputClaim.take(Path.of(args[0]), args[1]);
        System.out.println("claimed");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
