package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.List;

/**
 * Text as the patch applier sees it: lines without their {@code \n}, bytes as ISO-8859-1 chars (each
 * byte one char, so any encoding round-trips and comparing lines compares bytes), a carriage return
 * kept as part of its line. A last line without {@code \n} ends in {@link #NO_EOL}: GNU patch treats
 * "x" and "x\n" as different lines, and the patch's {@code \ No newline at end of file} marker says
 * which of its lines are the unterminated kind, so the marker makes that difference an ordinary
 * difference between strings.
 */
final class PatchLines {
    /** Cannot occur in ISO-8859-1 text (every char there is below U+0100). */
    static final char NO_EOL = '\u0100';

    private PatchLines() {}

    static List<String> split(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) {
                lines.add(text.substring(start) + NO_EOL);
                break;
            }
            lines.add(text.substring(start, nl));
            start = nl + 1;
        }
        return lines;
    }

    static String join(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            if (!l.isEmpty() && l.charAt(l.length() - 1) == NO_EOL) {
                sb.append(l, 0, l.length() - 1);
            } else {
                sb.append(l).append('\n');
            }
        }
        return sb.toString();
    }
}
