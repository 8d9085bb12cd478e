package org.livepatch.xenbuild;

import com.github.difflib.DiffUtils;
import com.github.difflib.patch.AbstractDelta;
import com.github.difflib.patch.DeltaType;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The macros a header change only adds: every changed line is a new one-line {@code #define}
 * (or blank), nothing is removed, and every line from the first addition to the end is a
 * directive, blank or a comment without {@code __LINE__}.
 *
 * <p>Why: security fixes often add an MSR or a constant to a header that hundreds of units include
 * ({@code asm/msr-index.h}). Such a change can alter a unit's preprocessed text in two ways only:
 * the preprocessor meets one of the new names (expands it, or tests it with {@code #ifdef} or
 * {@code defined}), or the lines below the addition move, which shows only where {@code __LINE__}
 * is expanded on them, and the tail condition rules that out. GCC's {@code -dU} lists exactly the
 * macros a unit expanded or tested, so one preprocessing of the patched unit tells whether its
 * text is what it was ({@link SeriesTree}), without preprocessing the unit before the patch too.
 */
final class AddedMacros {
    private static final Pattern DEFINE = Pattern.compile("\\s*#\\s*define\\s+([A-Za-z_][A-Za-z0-9_]*)\\b.*");

    private AddedMacros() {}

    /** The names of the macros {@code after} adds to {@code before}, if that is all the change does. */
    static Optional<Set<String>> of(String before, String after) {
        List<String> a = PatchLines.split(before);
        List<String> b = PatchLines.split(after);
        Set<String> names = new TreeSet<>();
        int firstAdded = -1;
        for (AbstractDelta<String> d : DiffUtils.diff(a, b).getDeltas()) {
            if (d.getType() != DeltaType.INSERT) {
                return Optional.empty();
            }
            if (firstAdded < 0) {
                firstAdded = d.getTarget().getPosition();
            }
            for (String line : d.getTarget().getLines()) {
                if (line.isBlank()) {
                    continue;
                }
                Matcher m = DEFINE.matcher(line);
                if (!m.matches() || line.stripTrailing().endsWith("\\")) {
                    return Optional.empty();
                }
                names.add(m.group(1));
            }
        }
        if (names.isEmpty() || !directivesOnly(b.subList(firstAdded, b.size()))) {
            return Optional.empty();
        }
        return Optional.of(names);
    }

    /** Whether every line is a directive, blank or inside a comment, and none names {@code __LINE__}. */
    private static boolean directivesOnly(List<String> lines) {
        boolean inComment = false;
        for (String line : lines) {
            if (line.contains("__LINE__")) {
                return false;
            }
            StringBuilder code = new StringBuilder();
            int i = 0;
            while (i < line.length()) {
                if (inComment) {
                    int end = line.indexOf("*/", i);
                    if (end < 0) {
                        i = line.length();
                    } else {
                        inComment = false;
                        i = end + 2;
                    }
                } else if (line.startsWith("/*", i)) {
                    inComment = true;
                    i += 2;
                } else if (line.startsWith("//", i)) {
                    i = line.length();
                } else if (line.charAt(i) == '"' || line.charAt(i) == '\'') {
                    // A literal: a "/*" inside it opens no comment.
                    char q = line.charAt(i);
                    int j = i + 1;
                    while (j < line.length() && line.charAt(j) != q) {
                        j += line.charAt(j) == '\\' ? 2 : 1;
                    }
                    code.append(line, i, Math.min(j + 1, line.length()));
                    i = j + 1;
                } else {
                    code.append(line.charAt(i++));
                }
            }
            String c = code.toString().strip();
            if (!c.isEmpty() && !c.startsWith("#")) {
                return false;
            }
            if (c.startsWith("#") && line.stripTrailing().endsWith("\\")) {
                return false; // a continued directive: its next line would need reading as part of it
            }
        }
        return true;
    }
}
