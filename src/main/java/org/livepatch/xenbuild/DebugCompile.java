package org.livepatch.xenbuild;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The compile command Xen's build recorded for a C object, turned into one that writes the same
 * translation unit with DWARF type information to a file of our choosing and nothing else.
 *
 * <p>Why rewrite rather than append flags: gcc refuses a second {@code -o}, and the recorded
 * {@code -MMD -MF .<obj>.d} would write a dependency file into the tree the command runs in (the
 * reference cache, which must never be written). So the command is split into words the way
 * {@code /bin/sh} would (quotes and backslashes; anything the shell would expand or treat as an
 * operator makes the command one we do not rewrite), the dependency-file options are dropped,
 * the output replaced, and {@code -g -gdwarf-4 -fno-var-tracking} appended: type information
 * without the variable-location tracking that makes {@code -g} slow at {@code -O2}. DWARF 4
 * keeps our reader small ({@link org.livepatch.layout.DwarfReader}); type layouts are the
 * compiler's whatever the debug format, so every other flag stays exactly as recorded.
 *
 * @param argv   the command to run in xen/ (no shell)
 * @param source the C file it compiles, relative to xen/
 */
public record DebugCompile(List<String> argv, String source) {

    public static final List<String> DEBUG_FLAGS = List.of("-g", "-gdwarf-4", "-fno-var-tracking");

    /** Options whose value is the next word (gcc's spelling; joined forms need no special case). */
    private static final Set<String> TAKES_VALUE = Set.of("-o", "-MF", "-MQ", "-MT", "-include", "-imacros", "-isystem",
            "-iquote", "-idirafter", "-x", "-I", "-D", "-U", "-Xassembler", "-Xpreprocessor", "-Xlinker", "-aux-info");
    private static final Set<String> DEPENDENCY_FLAGS = Set.of("-M", "-MM", "-MD", "-MMD", "-MP", "-MG");
    private static final Set<String> DEPENDENCY_VALUE = Set.of("-MF", "-MQ", "-MT");

    /** The result for one recorded command: a debug compile, or why there is none. */
    public record Plan(Optional<DebugCompile> compile, String whyNot, boolean notC) {}

    /**
     * Rewrites {@code recorded} (the text after {@code cmd_<obj> := }, make escapes still in) to
     * write {@code output}. {@code notC} plans are objects without C types (assembly): nothing to
     * compare, not a failure.
     */
    public static Plan of(String recorded, Path output) {
        Optional<String> shell = RecordedCommands.unescape(recorded.strip());
        if (shell.isEmpty()) {
            return new Plan(Optional.empty(), "the recorded command uses make variables", false);
        }
        Optional<List<String>> words = words(shell.get());
        if (words.isEmpty()) {
            return new Plan(Optional.empty(), "the recorded command is not one simple command", false);
        }
        List<String> in = words.get();
        if (in.isEmpty() || !isCompiler(in.get(0))) {
            return new Plan(Optional.empty(), "the recorded command does not run a C compiler: " + (in.isEmpty() ? "" : in.get(0)), false);
        }
        List<String> out = new ArrayList<>();
        out.add(in.get(0));
        List<String> inputs = new ArrayList<>();
        boolean compileOnly = false;
        for (int i = 1; i < in.size(); i++) {
            String w = in.get(i);
            if (DEPENDENCY_FLAGS.contains(w)) {
                continue;
            }
            if (DEPENDENCY_VALUE.contains(w)) {
                i++;
                continue;
            }
            if ((w.startsWith("-MF") || w.startsWith("-MQ") || w.startsWith("-MT")) && w.length() > 3) {
                continue;
            }
            if (w.startsWith("-Wp,-M")) {
                // Kbuild's other spelling (-Wp,-MD,file): also a dependency file next to the object.
                continue;
            }
            if (w.equals("-o")) {
                i++;
                continue;
            }
            if (w.startsWith("-o") && w.length() > 2) {
                continue;
            }
            if (w.equals("-c")) {
                compileOnly = true;
            }
            out.add(w);
            if (TAKES_VALUE.contains(w) && i + 1 < in.size()) {
                out.add(in.get(++i));
            } else if (!w.startsWith("-")) {
                inputs.add(w);
            }
        }
        if (!compileOnly || inputs.size() != 1) {
            return new Plan(Optional.empty(), "expected a -c compile of one file, found inputs " + inputs, false);
        }
        String src = inputs.get(0);
        if (!src.endsWith(".c")) {
            return new Plan(Optional.empty(), src + " is not C", true);
        }
        out.addAll(DEBUG_FLAGS);
        out.add("-o");
        out.add(output.toString());
        return new Plan(Optional.of(new DebugCompile(out, src)), null, false);
    }

    public DebugCompile {
        argv = List.copyOf(argv);
    }

    private static boolean isCompiler(String program) {
        String base = program.substring(program.lastIndexOf('/') + 1);
        return base.endsWith("gcc") || base.equals("cc") || base.endsWith("-cc") || base.startsWith("clang")
                || base.matches(".*gcc-[0-9.]+");
    }

    /**
     * Splits a shell command into words as {@code sh} would, or empty when the shell would do more
     * than split: an unquoted operator, redirection, expansion or glob character.
     */
    static Optional<List<String>> words(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t') {
                if (cur != null) {
                    words.add(cur.toString());
                    cur = null;
                }
                continue;
            }
            if (cur == null) {
                cur = new StringBuilder();
            }
            if (c == '\'') {
                int end = s.indexOf('\'', i + 1);
                if (end < 0) {
                    return Optional.empty();
                }
                cur.append(s, i + 1, end);
                i = end;
            } else if (c == '"') {
                int j = i + 1;
                for (; j < s.length() && s.charAt(j) != '"'; j++) {
                    char d = s.charAt(j);
                    if (d == '$' || d == '`') {
                        return Optional.empty();
                    }
                    if (d == '\\' && j + 1 < s.length() && "\"\\$`\n".indexOf(s.charAt(j + 1)) >= 0) {
                        j++;
                        d = s.charAt(j);
                    }
                    cur.append(d);
                }
                if (j >= s.length()) {
                    return Optional.empty();
                }
                i = j;
            } else if (c == '\\') {
                if (i + 1 >= s.length()) {
                    return Optional.empty();
                }
                cur.append(s.charAt(++i));
            } else if (";&|<>()$`*?[{}~\n#".indexOf(c) >= 0 && !(c == '#' && cur.length() > 0)
                    && !(c == '~' && cur.length() > 0) && !((c == '{' || c == '}') && cur.length() > 0)) {
                return Optional.empty();
            } else {
                cur.append(c);
            }
        }
        if (cur != null) {
            words.add(cur.toString());
        }
        return Optional.of(words);
    }
}
