package org.livepatch.verify;

/** One hook pointer of a {@code .livepatch.hooks.*} section; address 0 means the hook is disabled. */
public record PayloadHook(String section, long address, String symbol) {
    public boolean enabled() {
        return address != 0;
    }
}
