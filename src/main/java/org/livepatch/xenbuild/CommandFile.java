package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code .<obj>.cmd} file Xen's build writes next to each object it compiles (if_changed in
 * xen/Rules.mk): {@code cmd_<obj> := <command line>}, then what fixdep adds
 * ({@code source_<obj> := <file>}, dependencies). The one reader of it: replaying commands
 * ({@link RecordedCommands}), the layout check's debug compiles ({@link LayoutCheck}) and the
 * report's compile commands all read the same line.
 *
 * @param object the object, relative to xen/ (the name in {@code cmd_<obj>})
 * @param lines  the file's lines
 */
public record CommandFile(String object, List<String> lines) {

    public CommandFile {
        lines = List.copyOf(lines);
    }

    /** {@code dir/.name.cmd} for the object file {@code dir/name}. */
    public static Path of(Path objectFile) {
        return objectFile.resolveSibling("." + objectFile.getFileName() + ".cmd");
    }

    /**
     * The command file of {@code objectFile}, named {@code object} in it, or empty when there is
     * none (a symbolic link is not one: the build never makes them).
     */
    public static Optional<CommandFile> read(Path objectFile, String object) throws IOException {
        Path file = of(objectFile);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(new CommandFile(object, Files.readAllLines(file, StandardCharsets.ISO_8859_1)));
    }

    private String prefix(String variable) {
        return variable + "_" + object + " := ";
    }

    /** The recorded command as written (make's escaping undone by {@link RecordedCommands#unescape}), or empty. */
    public Optional<String> command() {
        return value("cmd");
    }

    /** Whether the file starts with the command, as if_changed writes it (anything else was not written by it). */
    public boolean startsWithCommand() {
        return !lines.isEmpty() && lines.get(0).startsWith(prefix("cmd"));
    }

    /** {@code source_<obj>}, the compiled file as fixdep names it, or empty. */
    public Optional<String> source() {
        return value("source").map(String::strip);
    }

    private Optional<String> value(String variable) {
        String p = prefix(variable);
        return lines.stream().filter(l -> l.startsWith(p)).findFirst().map(l -> l.substring(p.length()));
    }
}
