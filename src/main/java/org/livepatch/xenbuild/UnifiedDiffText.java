package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits the text of a unified diff into {@link FilePatch}es the way {@code patch -p1} reads it:
 * anything outside a file part (a mail header, a commit message, a diffstat) is skipped; a file part
 * is a {@code diff --git} header with git's extended lines, or a {@code --- }/{@code +++ }/{@code @@}
 * triple; a hunk ends when the counts in its {@code @@} line are used up (so a removed line
 * starting with {@code "-- "} is never a header). java-diff-utils' own reader does not fit here:
 * it keeps one "no newline at end" flag per file instead of per line and side, drops carriage
 * returns, strips {@code a/}/{@code b/} rather than one path component, and refuses an empty line
 * as blank context; each of those changes which patches apply.
 */
final class UnifiedDiffText {
    private static final Pattern HUNK = Pattern.compile("^@@ -(\\d+)(?:,(\\d+))? \\+(\\d+)(?:,(\\d+))? @@");

    private final List<String> raw;
    /** Index of the {@code +++} line from which trailing CRs are dropped, or -1 (see {@link #line}). */
    private int stripCrFrom = -1;

    private UnifiedDiffText(List<String> raw) {
        this.raw = raw;
    }

    static List<FilePatch> parse(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return new UnifiedDiffText(lines).parts();
    }

    /**
     * Line {@code i}. A patch whose {@code +++} header ends in CR was saved with DOS line ends as a
     * whole (GNU patch: "Stripping trailing CRs from patch"), so from there on one trailing CR is
     * not part of any line; a patch of a CRLF file whose headers end in LF keeps its CRs.
     */
    private String line(int i) {
        String l = raw.get(i);
        if (stripCrFrom >= 0 && i >= stripCrFrom && l.endsWith("\r")) {
            return l.substring(0, l.length() - 1);
        }
        return l;
    }

    private List<FilePatch> parts() {
        List<FilePatch> out = new ArrayList<>();
        int i = 0;
        while (i < raw.size()) {
            String l = line(i);
            if (l.startsWith("diff --git ")) {
                i = gitPart(i, out);
            } else if (isHeaderPair(i) && i + 2 < raw.size() && HUNK.matcher(raw.get(i + 2)).find()) {
                noteCr(i + 1);
                Part p = new Part(i + 1, false, p1(headerPath(line(i))), p1(headerPath(line(i + 1))));
                i = hunks(i + 2, p);
                out.add(p.done());
            } else {
                i++;
            }
        }
        return out;
    }

    private boolean isHeaderPair(int i) {
        return line(i).startsWith("--- ") && i + 1 < raw.size() && raw.get(i + 1).startsWith("+++ ");
    }

    private void noteCr(int plusLine) {
        if (stripCrFrom < 0 && raw.get(plusLine).endsWith("\r")) {
            stripCrFrom = plusLine;
        }
    }

    /** A {@code diff --git} part: extended header lines, then optionally {@code ---}/{@code +++} and hunks. */
    private int gitPart(int start, List<FilePatch> out) {
        String[] names = gitNames(line(start).substring("diff --git ".length()));
        Part p = new Part(start + 1, true, p1(names[0]), p1(names[1]));
        int i = start + 1;
        while (i < raw.size()) {
            String l = line(i);
            if (isHeaderPair(i)) {
                noteCr(i + 1);
                p.oldPath = p1(headerPath(line(i)));
                p.newPath = p1(headerPath(line(i + 1)));
                i = hunks(i + 2, p);
                break;
            } else if (l.startsWith("new file mode ")) {
                p.oldPath = null;
                p.mode = mode(l);
            } else if (l.startsWith("deleted file mode ")) {
                p.newPath = null;
            } else if (l.startsWith("new mode ")) {
                p.mode = mode(l);
            } else if (l.startsWith("rename from ") || l.startsWith("copy from ")) {
                p.rename = l.startsWith("rename");
                p.oldPath = l.substring(l.indexOf(" from ") + 6);
            } else if (l.startsWith("rename to ") || l.startsWith("copy to ")) {
                p.newPath = l.substring(l.indexOf(" to ") + 4);
            } else if (l.startsWith("GIT binary patch") || l.startsWith("Binary files ")) {
                p.problem = "git binary diffs are not supported";
            } else if (!(l.startsWith("old mode ") || l.startsWith("index ") || l.startsWith("similarity index ")
                    || l.startsWith("dissimilarity index "))) {
                break; // the end of git's header lines: a part with no hunks (a rename, a mode change)
            }
            i++;
        }
        out.add(p.done());
        return i;
    }

    /** The hunks starting at line {@code i}; returns the first line after them. */
    private int hunks(int i, Part p) {
        while (i < raw.size()) {
            Matcher m = HUNK.matcher(line(i));
            if (!m.find()) {
                break;
            }
            int header = i;
            int oldStart = Integer.parseInt(m.group(1));
            int oldCount = m.group(2) == null ? 1 : Integer.parseInt(m.group(2));
            int newStart = Integer.parseInt(m.group(3));
            int newCount = m.group(4) == null ? 1 : Integer.parseInt(m.group(4));
            List<String> oldLines = new ArrayList<>();
            List<String> newLines = new ArrayList<>();
            StringBuilder kinds = new StringBuilder();
            int oldLeft = oldCount;
            int newLeft = newCount;
            i++;
            while (oldLeft > 0 || newLeft > 0) {
                if (i >= raw.size()) {
                    p.problem = "malformed patch at line " + (i + 1) + ": the hunk at line " + (header + 1) + " ends early";
                    return i;
                }
                String l = line(i);
                // An empty line is blank context whose leading space was lost (mail, editors).
                char c = l.isEmpty() ? ' ' : l.charAt(0);
                String body = l.isEmpty() ? "" : l.substring(1);
                if (c == ' ' && oldLeft > 0 && newLeft > 0) {
                    oldLines.add(body);
                    newLines.add(body);
                    oldLeft--;
                    newLeft--;
                } else if (c == '-' && oldLeft > 0) {
                    oldLines.add(body);
                    oldLeft--;
                } else if (c == '+' && newLeft > 0) {
                    newLines.add(body);
                    newLeft--;
                } else if (c == '\\' && !kinds.isEmpty()) {
                    noNewline(kinds.charAt(kinds.length() - 1), oldLines, newLines);
                    i++;
                    continue;
                } else {
                    p.problem = "malformed patch at line " + (i + 1) + ": " + l.strip();
                    return i;
                }
                kinds.append(c);
                i++;
            }
            if (i < raw.size() && line(i).startsWith("\\") && !kinds.isEmpty()) {
                noNewline(kinds.charAt(kinds.length() - 1), oldLines, newLines);
                i++;
            }
            int prefix = 0;
            while (prefix < kinds.length() && kinds.charAt(prefix) == ' ') {
                prefix++;
            }
            int suffix = 0;
            while (suffix < kinds.length() - prefix && kinds.charAt(kinds.length() - 1 - suffix) == ' ') {
                suffix++;
            }
            // "-5,0" inserts after line 5, so at index 5; "-5,2" starts at line 5, index 4.
            int oldAt = oldCount == 0 ? oldStart : oldStart - 1;
            int newAt = newCount == 0 ? newStart : newStart - 1;
            p.hunks.add(new Hunk(header + 1, Math.max(0, oldAt), oldLines, Math.max(0, newAt), newLines, prefix, suffix));
        }
        return i;
    }

    /** {@code \ No newline at end of file} after a line: that line (on its side or sides) had no terminator. */
    private static void noNewline(char kind, List<String> oldLines, List<String> newLines) {
        if (kind != '+') {
            mark(oldLines);
        }
        if (kind != '-') {
            mark(newLines);
        }
    }

    private static void mark(List<String> lines) {
        int last = lines.size() - 1;
        if (!lines.get(last).endsWith(String.valueOf(PatchLines.NO_EOL))) {
            lines.set(last, lines.get(last) + PatchLines.NO_EOL);
        }
    }

    private static Integer mode(String line) {
        String digits = line.substring(line.lastIndexOf(' ') + 1).strip();
        try {
            return Integer.parseInt(digits, 8) & 0777;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** "a/X b/Y" from a {@code diff --git} line; where a name holds " b/", the split that names one file twice. */
    private static String[] gitNames(String rest) {
        String s = rest.strip();
        int at = -1;
        for (int k = s.indexOf(" b/"); k >= 0; k = s.indexOf(" b/", k + 1)) {
            if (at < 0) {
                at = k;
            }
            if (s.substring(0, k).length() > 2 && s.substring(2, k).equals(s.substring(k + 3))) {
                at = k;
                break;
            }
        }
        if (at < 0) {
            int sp = s.indexOf(' ');
            return sp < 0 ? new String[] {s, s} : new String[] {s.substring(0, sp), s.substring(sp + 1)};
        }
        return new String[] {unquote(s.substring(0, at)), unquote(s.substring(at + 1))};
    }

    static String headerPath(String headerLine) {
        String p = headerLine.substring(4);
        int tab = p.indexOf('\t');
        if (tab >= 0) {
            p = p.substring(0, tab); // diff -u appends a tab and a timestamp
        }
        return unquote(p.strip());
    }

    private static String unquote(String p) {
        if (p.startsWith("\"") && p.endsWith("\"") && p.length() >= 2) {
            return p.substring(1, p.length() - 1); // git quotes names with unusual characters
        }
        return p;
    }

    /** {@code patch -p1}: drop everything up to the first '/'; /dev/null means no file. */
    static String p1(String p) {
        if (p == null || p.equals("/dev/null")) {
            return null;
        }
        int slash = p.indexOf('/');
        String rest = slash < 0 ? p : p.substring(slash + 1);
        while (rest.startsWith("./")) {
            rest = rest.substring(2);
        }
        return rest;
    }

    /** A file part while it is being read. */
    private static final class Part {
        final int line;
        final boolean git;
        String oldPath;
        String newPath;
        boolean rename;
        Integer mode;
        String problem;
        final List<Hunk> hunks = new ArrayList<>();

        Part(int line, boolean git, String oldPath, String newPath) {
            this.line = line;
            this.git = git;
            this.oldPath = oldPath;
            this.newPath = newPath;
        }

        FilePatch done() {
            String o = oldPath;
            String n = newPath;
            if (o == null && n == null) {
                problem = problem != null ? problem : "no file name in the header at line " + line;
                n = "/dev/null";
            }
            return new FilePatch(line, new FileChange(o, n), git, rename, Optional.ofNullable(mode), hunks,
                    Optional.ofNullable(problem));
        }
    }
}
