package org.livepatch.cli;

import java.io.File;
import java.lang.reflect.AnnotatedElement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The option grammar of a command as the Docker wrapper needs it: for each option its names and
 * whether it is a flag, takes a plain value, or takes a path (and how the run uses that path).
 * Built from the picocli model, so the wrapper never keeps its own copy of the options:
 * {@code toolchain-docker/build-image} runs {@link #main} and stores the result in the image label
 * {@code org.livepatch-build.options}, which the wrapper reads from the image it runs.
 *
 * <p>Text form, one line: entries separated by single spaces, each {@code NAME[,NAME...]:KIND}
 * with KIND one of {@code flag value in out-dir out-file patches}, e.g.
 * {@code -s,--srcdir:in -o,--output:out-dir -d,--debug:flag}.
 *
 * <p>{@link #of} refuses a model the wrapper could not handle (a path option without
 * {@link HostPath}, a path positional parameter, an arity other than 0 or 1, subcommands), so a
 * new option cannot silently go unmounted.
 */
public record OptionTable(List<Entry> entries) {
    private static final Pattern NAME = Pattern.compile("-[A-Za-z0-9]|--[A-Za-z0-9][A-Za-z0-9-]*");

    /** How the wrapper treats an option; {@link #token} is its name in the text form. */
    public enum Kind {
        FLAG("flag"), VALUE("value"), INPUT("in"), OUTPUT_DIR("out-dir"), OUTPUT_FILE("out-file"), PATCH_SET("patches");

        private final String token;

        Kind(String token) {
            this.token = token;
        }

        public String token() {
            return token;
        }

        public boolean isPath() {
            return this != FLAG && this != VALUE;
        }

        static Kind of(HostPath.Use use) {
            return switch (use) {
                case INPUT -> INPUT;
                case OUTPUT_DIR -> OUTPUT_DIR;
                case OUTPUT_FILE -> OUTPUT_FILE;
                case PATCH_SET -> PATCH_SET;
            };
        }
    }

    public record Entry(List<String> names, Kind kind) {
        public Entry {
            names = List.copyOf(names);
        }

        String format() {
            return String.join(",", names) + ":" + kind.token();
        }
    }

    public OptionTable {
        entries = List.copyOf(entries);
    }

    /** The table of a command; throws {@link IllegalArgumentException} naming what the wrapper could not handle. */
    public static OptionTable of(CommandSpec spec) {
        String cmd = spec.name();
        if (!spec.subcommands().isEmpty()) {
            throw new IllegalArgumentException(cmd + ": has subcommands, which the Docker wrapper's option table cannot describe");
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            if (takesPath(p.type(), p.auxiliaryTypes()) || annotation(p.userObject()) != null) {
                throw new IllegalArgumentException(cmd + ": positional parameter " + p.paramLabel()
                        + " is a path; the Docker wrapper mounts only option values");
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (OptionSpec o : spec.options()) {
            entries.add(entry(cmd, o));
        }
        return new OptionTable(entries);
    }

    private static Entry entry(String cmd, OptionSpec o) {
        String what = cmd + ": option " + o.longestName();
        for (String n : o.names()) {
            if (!NAME.matcher(n).matches()) {
                throw new IllegalArgumentException(what + ": the name " + n + " is not -X or --name");
            }
        }
        if (o.negatable()) {
            throw new IllegalArgumentException(what + " is negatable; the Docker wrapper does not know --no- forms");
        }
        CommandLine.Range arity = o.arity();
        boolean flag = arity.max() == 0;
        if (!flag && (arity.min() != 1 || arity.max() != 1)) {
            throw new IllegalArgumentException(what + " has arity " + arity + "; the Docker wrapper knows flags and one value per occurrence");
        }
        HostPath marked = annotation(o.userObject());
        Kind kind;
        if (marked != null) {
            if (flag) {
                throw new IllegalArgumentException(what + " is a flag but marked @HostPath");
            }
            kind = Kind.of(marked.value());
        } else if (takesPath(o.type(), o.auxiliaryTypes())) {
            throw new IllegalArgumentException(what + " takes a path but has no @HostPath saying how the run uses it"
                    + " (the Docker wrapper mounts it by that)");
        } else {
            kind = flag ? Kind.FLAG : Kind.VALUE;
        }
        return new Entry(List.of(o.names()), kind);
    }

    private static HostPath annotation(Object userObject) {
        return userObject instanceof AnnotatedElement e ? e.getAnnotation(HostPath.class) : null;
    }

    private static boolean takesPath(Class<?> type, Class<?>[] auxiliary) {
        if (isPathType(type)) {
            return true;
        }
        for (Class<?> c : auxiliary) {
            if (isPathType(c)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isPathType(Class<?> c) {
        Class<?> t = c.isArray() ? c.getComponentType() : c;
        return Path.class.isAssignableFrom(t) || File.class.isAssignableFrom(t);
    }

    /** The one-line text form (see the class comment). */
    public String format() {
        return entries.stream().map(Entry::format).collect(Collectors.joining(" "));
    }

    /** Prints the table of {@code livepatch-build} (what build-image writes into the image label). */
    public static void main(String[] args) {
        if (args.length != 0) {
            System.err.println("usage: java -cp livepatch-build.jar " + OptionTable.class.getName()
                    + "  (prints livepatch-build's option table; no arguments)");
            System.exit(ExitCode.USAGE.number());
        }
        System.out.println(of(new CommandLine(new LivepatchBuildCommand()).getCommandSpec()).format());
    }
}
