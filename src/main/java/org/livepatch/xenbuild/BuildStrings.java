package org.livepatch.xenbuild;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The build-time strings Xen bakes into {@code include/xen/compile.h} (xen/build.mk: cmd_compile.h
 * fills XEN_COMPILE_DATE/TIME/BY/DOMAIN/HOST from XEN_BUILD_DATE, XEN_BUILD_TIME, XEN_WHOAMI,
 * XEN_DOMAIN, XEN_BUILD_HOST; xen/Makefile defaults them to date, $USER, hostname ...).
 *
 * <p>Pinned to one value for the original and the patched build, so {@code common/version.o}
 * cannot differ by the clock (otherwise xen_compile_date and xen_compile_time differ between the
 * two builds and would land in every payload as a change; the tool we replace rewrote them
 * after the build for that reason). A caller who built the running
 * hypervisor reproducibly passes the same values through the environment and gets objects that
 * match it byte for byte.
 */
public record BuildStrings(String date, String time, String whoami, String domain, String host) {
    public static final BuildStrings DEFAULT =
            new BuildStrings("Thu Jan  1 00:00:00 UTC 1970", "00:00:00", "livepatch-build", "livepatch-build", "livepatch-build");

    /** Values from the environment where set (XEN_BUILD_DATE ...), the fixed defaults elsewhere. */
    public static BuildStrings from(Map<String, String> env) {
        return new BuildStrings(
                env.getOrDefault("XEN_BUILD_DATE", DEFAULT.date),
                env.getOrDefault("XEN_BUILD_TIME", DEFAULT.time),
                env.getOrDefault("XEN_WHOAMI", DEFAULT.whoami),
                env.getOrDefault("XEN_DOMAIN", DEFAULT.domain),
                env.getOrDefault("XEN_BUILD_HOST", DEFAULT.host));
    }

    /** The variables as make sees them; Xen's Makefile only computes defaults for unset ones. */
    public Map<String, String> asEnvironment() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("XEN_BUILD_DATE", date);
        m.put("XEN_BUILD_TIME", time);
        m.put("XEN_WHOAMI", whoami);
        m.put("XEN_DOMAIN", domain);
        m.put("XEN_BUILD_HOST", host);
        return m;
    }

    /**
     * What tools/scmversion prints into XEN_CHANGESET when the tree has no {@code .scmversion}
     * and no .git (our copies never have .git): pinned in the copy so both builds agree.
     */
    public static final String CHANGESET = "unavailable";
}
