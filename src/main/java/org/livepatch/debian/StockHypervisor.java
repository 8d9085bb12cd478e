package org.livepatch.debian;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.livepatch.xenbuild.BuildId;
import org.livepatch.xenbuild.ReproductionTarget;

/**
 * Debian's hypervisor of one version, fetched and prepared in the cache: the source with Debian's
 * patches applied, the shipped config and {@code xen-syms}, the build-id the shipped binaries
 * carry, and how Debian builds it.
 *
 * @param version           the package version ({@code --debian})
 * @param hypervisorPackage {@code xen-hypervisor-4.17-amd64}; its {@code -dbg} package has the same name plus {@code -dbg}
 * @param sourceTree        the source, Debian's patches applied, without {@code debian/} (the reference's SRC)
 * @param config            the shipped {@code /boot/xen-*.config}
 * @param xenSyms           the {@code -dbg} package's {@code xen-syms}
 * @param xenGz             the shipped {@code /boot/xen-*.gz}
 * @param buildId           the build-id of {@code xenSyms}, found in {@code xenGz}'s note too
 * @param recipe            Debian's environment and make arguments
 */
public record StockHypervisor(DebianVersion version, String hypervisorPackage, Path sourceTree, Path config,
        Path xenSyms, Path xenGz, BuildId buildId, DebianRecipe recipe) {

    /** What the reference build must reproduce, with the package versions the report records. */
    public ReproductionTarget target() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("source", "xen=" + version);
        p.put("hypervisor", hypervisorPackage + "=" + version);
        p.put("dbg", hypervisorPackage + "-dbg=" + version);
        return new ReproductionTarget(buildId, xenSyms, "Debian's " + hypervisorPackage + " " + version, p);
    }
}
