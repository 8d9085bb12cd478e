package org.livepatch.debian;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.livepatch.xenbuild.BuildException;

/**
 * {@code debian/patches/series} of a "3.0 (quilt)" source package: the patches dpkg-source
 * applies, in order (quilt's series format: one patch path a line, relative to
 * {@code debian/patches}; {@code #} starts a comment; an optional {@code -pN} after the name).
 * Only {@code -p1} (the default) is accepted, the level our patch applier implements; a patch
 * path that leaves {@code debian/patches} is refused.
 */
public record QuiltSeries(List<String> patches) {

    public QuiltSeries {
        patches = List.copyOf(patches);
    }

    public static QuiltSeries parse(Path file, String text) throws BuildException {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String raw : text.split("\n", -1)) {
            n++;
            int hash = raw.indexOf('#');
            String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] w = line.split("\\s+");
            if (w.length > 2 || (w.length == 2 && !w[1].equals("-p1"))) {
                throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file,
                        "line " + n + ": only '<patch>' or '<patch> -p1' is supported: " + line);
            }
            Path p = Path.of(w[0]).normalize();
            if (p.isAbsolute() || p.startsWith("..")) {
                throw new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file,
                        "line " + n + ": patch path outside debian/patches: " + w[0]);
            }
            out.add(w[0]);
        }
        return new QuiltSeries(out);
    }
}
