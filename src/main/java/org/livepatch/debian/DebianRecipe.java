package org.livepatch.debian;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.livepatch.xenbuild.BuildException;

/**
 * How Debian's {@code debian/rules} builds the amd64 hypervisor, as data: the environment it
 * exports and the make arguments it passes ({@code make_args_xen}). The reference and the patched
 * build both use exactly these, so the rebuilt {@code xen-syms} can be the shipped one (its
 * build-id proves it) and the diff compares like with like.
 *
 * <p>What each value is for: Debian's banner patch (0003 in 4.17's series) writes
 * {@code DEB_VERSION}, the maintainer's address from {@code DEB_MAINTAINER} and
 * {@code lsb_release -is} into {@code compile.h}; {@code XEN_BUILD_DATE}/{@code TIME} come from
 * {@code SOURCE_DATE_EPOCH}, the changelog's last entry; {@code CC} is named with the target
 * triplet because Xen's banner records {@code $(CC) --version}; the prefix maps are Debian's
 * reproducibility flags. {@code CFLAGS} and friends are unset, as the rules {@code undefine} them.
 *
 * @param environment  variables set for every make run
 * @param unset        variables removed from the caller's environment
 * @param makeArgs     make's command-line variables
 * @param sourceDateEpoch the changelog's timestamp, seconds
 */
public record DebianRecipe(Map<String, String> environment, List<String> unset, List<String> makeArgs, long sourceDateEpoch) {

    /** The rules' {@code undefine}s, and the C++/Fortran ones dpkg-buildflags would fill. */
    static final List<String> UNSET = List.of("CFLAGS", "CXXFLAGS", "FFLAGS", "CPPFLAGS", "LDFLAGS");
    /** amd64: {@code DEB_HOST_GNU_TYPE} and {@code xen_arch_amd64}. */
    static final String TRIPLET = "x86_64-linux-gnu";
    static final String XEN_ARCH = "x86_64";

    public DebianRecipe {
        environment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        unset = List.copyOf(unset);
        makeArgs = List.copyOf(makeArgs);
    }

    /**
     * The recipe for a source package whose {@code debian/changelog} and {@code debian/control}
     * are given; {@code version} is the package's (DEB_VERSION).
     */
    public static DebianRecipe of(DebianVersion version, Path changelog, String changelogText, Path control,
            String controlText) throws BuildException {
        long epoch = changelogTimestamp(changelog, changelogText);
        String maintainer = maintainer(control, controlText);
        Instant t = Instant.ofEpochSecond(epoch);
        ZonedDateTime utc = t.atZone(ZoneOffset.UTC);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SOURCE_DATE_EPOCH", Long.toString(epoch));
        env.put("DEB_VERSION", version.toString());
        env.put("DEB_MAINTAINER", maintainer);
        // `LC_ALL=C date -u -d @EPOCH`: day of month padded with a space, zone written UTC.
        env.put("XEN_BUILD_DATE", DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss 'UTC' yyyy", Locale.ROOT).format(utc));
        env.put("XEN_BUILD_TIME", DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).format(utc));
        env.put("WGET", "/bin/false");
        env.put("GIT", "/bin/false");
        env.put("LC_ALL", "C.UTF-8");
        // Also in the environment so that the compiler check and the cache key see the compiler
        // make will run (the command-line variables below override the environment in make).
        env.put("CC", TRIPLET + "-gcc");
        env.put("LD", TRIPLET + "-ld");
        List<String> args = List.of("CC=" + TRIPLET + "-gcc", "LD=" + TRIPLET + "-ld", "XEN_COMPILE_ARCH=" + XEN_ARCH,
                "V=1", "XEN_TARGET_ARCH=" + XEN_ARCH,
                // The rules map `pwd` at the top of the source tree; XEN_ROOT is that directory in
                // Xen's own Makefile, expanded when make uses the flags, so the key holds no path.
                "EXTRA_CFLAGS_XEN_CORE=-ffile-prefix-map=$(abspath $(XEN_ROOT))=. -fdebug-prefix-map=$(abspath $(XEN_ROOT))=.");
        return new DebianRecipe(env, UNSET, args, epoch);
    }

    /** The caller's environment with the recipe applied. */
    public Map<String, String> applyTo(Map<String, String> base) {
        Map<String, String> env = new LinkedHashMap<>(base);
        unset.forEach(env::remove);
        env.putAll(environment);
        return env;
    }

    // The trailer line of a changelog entry (Debian policy 4.4):
    // " -- Name <email>  Sat, 29 Nov 2025 13:52:25 +0000"
    private static final Pattern TRAILER = Pattern.compile("^ -- .*>  (.+)$", Pattern.MULTILINE);

    /** {@code dpkg-parsechangelog -STimestamp}: the date of the first (newest) entry's trailer. */
    static long changelogTimestamp(Path file, String text) throws BuildException {
        Matcher m = TRAILER.matcher(text);
        if (!m.find()) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file, "no entry trailer (' -- NAME <EMAIL>  DATE')");
        }
        try {
            return ZonedDateTime.parse(m.group(1).strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
        } catch (DateTimeParseException e) {
            throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file,
                    "the newest entry's date is not RFC 5322: " + m.group(1).strip());
        }
    }

    /** {@code Maintainer:} of the source paragraph, as the rules read it into DEB_MAINTAINER. */
    static String maintainer(Path file, String text) throws BuildException {
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                break; // the source paragraph ends here
            }
            if (line.startsWith("Maintainer:")) {
                return line.substring("Maintainer:".length()).strip();
            }
        }
        throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file, "no Maintainer field in the source paragraph");
    }
}
