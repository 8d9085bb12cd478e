package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The Debian package versions of the environment the payload is built in, as the toolchain image
 * records them ({@code /etc/livepatch-build/packages.installed}, named by the image's
 * {@code LPB_TOOLCHAIN_PACKAGES}): one {@code name=version} a line.
 *
 * <p>Why the report carries them: the image pins only the compiler, assembler and linker; libc,
 * kernel headers and the JDK float with Debian's point releases. Two payloads built on different
 * days may come from images that differ in those, and the report is where a packager looks to
 * tell which.
 */
public record ToolchainPackages(Path source, Map<String, String> versions) {
    public static final String ENV = "LPB_TOOLCHAIN_PACKAGES";

    public ToolchainPackages {
        versions = Collections.unmodifiableMap(new TreeMap<>(versions));
    }

    /**
     * The list named by {@value #ENV} in the build's environment, or empty when it names none
     * (a build on the host). A named file that is missing or malformed is the image's fault, not
     * the user's, but it is still said, naming the file: a report that silently lacked the
     * versions would look like a host build.
     */
    public static Optional<ToolchainPackages> fromEnvironment(Map<String, String> env) throws BuildException {
        String named = env.get(ENV);
        if (named == null || named.isBlank()) {
            return Optional.empty();
        }
        Path file = Path.of(named);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, file,
                    ENV + " names this file, which does not exist");
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, file,
                    "cannot read the package list named by " + ENV + ": " + e.getMessage(), e);
        }
        return Optional.of(parse(file, text));
    }

    static ToolchainPackages parse(Path file, String text) throws BuildException {
        Map<String, String> v = new TreeMap<>();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0 || eq == l.length() - 1 || l.indexOf(' ') >= 0) {
                throw new BuildException(BuildException.Reason.TOOL_MISSING, file,
                        "line " + lineNo + " is not NAME=VERSION: " + l);
            }
            v.put(l.substring(0, eq), l.substring(eq + 1));
        }
        if (v.isEmpty()) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, file, "lists no package");
        }
        return new ToolchainPackages(file, v);
    }
}
