package org.livepatch.debian;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.livepatch.xenbuild.BuildException;

/**
 * A source package's control file ({@code .dsc}, Debian policy 5.4): the fields we use, parsed
 * from the (possibly PGP-signed) text. The signature is not checked here: apt verified the
 * archive's index that holds this file's SHA-256, and {@code apt-get source} checked the file
 * against it.
 *
 * @param source   {@code Source:}
 * @param version  {@code Version:}
 * @param binaries {@code Binary:}, the binary packages built from it
 * @param files    {@code Checksums-Sha256:}: file name to its SHA-256, in the file's order
 */
public record SourceControl(String source, String version, List<String> binaries, Map<String, String> files) {

    public SourceControl {
        binaries = List.copyOf(binaries);
        files = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(files));
    }

    public static SourceControl parse(Path file, String text) throws BuildException {
        Map<String, StringBuilder> fields = new LinkedHashMap<>();
        String current = null;
        boolean inBody = false;
        for (String line : text.split("\n", -1)) {
            line = line.stripTrailing();
            if (line.equals("-----BEGIN PGP SIGNED MESSAGE-----")) {
                continue;
            }
            if (line.startsWith("-----BEGIN PGP SIGNATURE-----")) {
                break;
            }
            if (!inBody) {
                // Armor headers ("Hash: SHA512") end at the first empty line of a signed file.
                if (line.isEmpty() || line.startsWith("Hash:")) {
                    continue;
                }
                inBody = true;
            }
            if (line.isEmpty()) {
                if (!fields.isEmpty()) {
                    break; // the first paragraph is the whole control file
                }
                continue;
            }
            if (Character.isWhitespace(line.charAt(0))) {
                if (current == null) {
                    throw malformed(file, "a continuation line before any field: " + line.strip());
                }
                fields.get(current).append('\n').append(line.strip());
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw malformed(file, "not a field: " + line);
            }
            current = line.substring(0, colon);
            fields.put(current, new StringBuilder(line.substring(colon + 1).strip()));
        }
        String source = required(file, fields, "Source");
        String version = required(file, fields, "Version");
        List<String> binaries = new ArrayList<>();
        for (String b : required(file, fields, "Binary").split("[,\\s]+")) {
            if (!b.isEmpty()) {
                binaries.add(b);
            }
        }
        Map<String, String> files = new LinkedHashMap<>();
        for (String entry : required(file, fields, "Checksums-Sha256").split("\n")) {
            String[] w = entry.strip().split("\\s+");
            if (w.length == 1 && w[0].isEmpty()) {
                continue;
            }
            if (w.length != 3 || !w[0].matches("[0-9a-f]{64}") || !w[1].matches("[0-9]+") || w[2].contains("/")) {
                throw malformed(file, "Checksums-Sha256 entry is not 'SHA256 SIZE NAME': " + entry.strip());
            }
            files.put(w[2], w[0]);
        }
        return new SourceControl(source, version, binaries, files);
    }

    /** The one file whose name ends so ({@code .orig.tar.xz}, {@code .debian.tar.xz}), any compression. */
    public Optional<String> file(String infix) {
        return files.keySet().stream().filter(n -> n.contains(infix + ".tar.")).findFirst();
    }

    private static String required(Path file, Map<String, StringBuilder> fields, String name) throws BuildException {
        StringBuilder v = fields.get(name);
        if (v == null || v.toString().isBlank()) {
            throw malformed(file, "no " + name + " field");
        }
        return v.toString();
    }

    private static BuildException malformed(Path file, String why) {
        return new BuildException(BuildException.Reason.PACKAGE_UNAVAILABLE, file, "not a source control file (.dsc): " + why);
    }
}
