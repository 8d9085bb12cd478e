package org.livepatch.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code readelf -W -S -s -r} of a file with file offsets removed, so that two files holding
 * the same sections, symbols and relocations at different places compare equal.
 */
public final class ReadelfListing {
    private ReadelfListing() {}

    private static final Pattern SECTION = Pattern.compile("^(\\s*\\[\\s*\\d+\\])\\s+(\\S*?)\\s*\\s(\\S+)\\s+([0-9a-f]{16})\\s+([0-9a-f]+)\\s+(.*)$");
    private static final Pattern RELA_HEADER = Pattern.compile("^(Relocation section '[^']*') at offset 0x[0-9a-f]+ (contains .*)$");
    private static final Pattern SECTION_COUNT = Pattern.compile("^There are (\\d+) section headers, starting at offset 0x[0-9a-f]+:$");

    /** Fails with the first differing line rather than two whole listings. */
    public static void assertSame(Path expected, Path actual) throws IOException, InterruptedException {
        List<String> e = of(expected);
        List<String> a = of(actual);
        for (int i = 0; i < Math.min(e.size(), a.size()); i++) {
            if (!e.get(i).equals(a.get(i))) {
                org.junit.jupiter.api.Assertions.fail("readelf of " + actual + " differs from " + expected + " at line " + (i + 1)
                        + ":\n  expected: " + e.get(i) + "\n  actual:   " + a.get(i));
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(e.size(), a.size(), "readelf line count of " + actual + " vs " + expected);
    }

    public static List<String> of(Path file) throws IOException, InterruptedException {
        String out = Tools.run(null, "readelf", "-W", "-S", "-s", "-r", file.toString());
        List<String> lines = new ArrayList<>();
        for (String line : out.split("\n")) {
            Matcher m;
            if ((m = SECTION_COUNT.matcher(line)).matches()) {
                lines.add("sections: " + m.group(1));
            } else if ((m = RELA_HEADER.matcher(line)).matches()) {
                lines.add(m.group(1) + " " + m.group(2));
            } else if ((m = SECTION.matcher(line)).matches()) {
                String rest = m.group(6).trim().replaceAll("\\s+", " ");
                if (m.group(3).equals("STRTAB")) {
                    // String tables are rebuilt; their size depends on how names are shared.
                    rest = rest.substring(rest.indexOf(' ') + 1);
                }
                lines.add(m.group(1) + " " + m.group(2) + " " + m.group(3) + " " + m.group(4) + " " + rest);
            } else {
                lines.add(line.stripTrailing());
            }
        }
        return lines;
    }
}
