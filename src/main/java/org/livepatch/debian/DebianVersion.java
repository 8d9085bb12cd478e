package org.livepatch.debian;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.livepatch.xenbuild.BuildException;

/**
 * A Debian package version as {@code --debian} takes it: {@code [epoch:]upstream-revision}
 * (Debian policy 5.6.12). The revision is required: a version without one names a native
 * package, which Xen never is, so the user most likely dropped it by mistake.
 *
 * @param epoch    the epoch, or empty
 * @param upstream the upstream version ({@code 4.17.5+72-g01140da4e8})
 * @param revision the Debian revision ({@code 1}, {@code 0+deb12u1})
 */
public record DebianVersion(String epoch, String upstream, String revision) {
    // Policy: upstream starts with a digit and may hold . + ~ - (and : with an epoch); the
    // revision holds alphanumerics and + . ~. The last hyphen separates them.
    private static final Pattern VERSION = Pattern.compile(
            "(?:([0-9]+):)?([0-9][A-Za-z0-9.+~-]*)-([A-Za-z0-9+.~]+)");
    /** The Xen release series the version belongs to: "4.17" of "4.17.5+72-g01140da4e8". */
    private static final Pattern SERIES = Pattern.compile("([0-9]+\\.[0-9]+)(?:[.+~].*)?");

    public static DebianVersion parse(String text) throws BuildException {
        Matcher m = VERSION.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null, "--debian '" + text
                    + "' is not a Debian package version ([epoch:]upstream-revision, e.g. 4.17.5+72-g01140da4e8-1)");
        }
        DebianVersion v = new DebianVersion(m.group(1) == null ? "" : m.group(1), m.group(2), m.group(3));
        if (!SERIES.matcher(v.upstream).matches()) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null, "--debian '" + text
                    + "': the upstream part does not start with a Xen release (MAJOR.MINOR)");
        }
        return v;
    }

    /** MAJOR.MINOR: the part of the binary packages' names ({@code xen-hypervisor-4.17-amd64}). */
    public String series() {
        Matcher m = SERIES.matcher(upstream);
        if (!m.matches()) {
            throw new IllegalStateException(upstream);
        }
        return m.group(1);
    }

    /** As apt and dpkg spell it. */
    @Override
    public String toString() {
        return (epoch.isEmpty() ? "" : epoch + ":") + upstream + "-" + revision;
    }

    /** As a file or directory name: the epoch's colon is not portable ({@code dpkg} writes {@code %3a}). */
    public String fileName() {
        return toString().replace(":", "%3a");
    }
}
