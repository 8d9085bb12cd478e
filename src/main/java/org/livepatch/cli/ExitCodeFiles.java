package org.livepatch.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The two copies of {@link ExitCode} outside Java, written from it: {@code lib/exit-codes.sh},
 * which the shell scripts source instead of writing numbers of their own, and the README's
 * exit-code table. Run after changing {@link ExitCode}:
 * {@code mvn -q -o compile && java -cp target/classes org.livepatch.cli.ExitCodeFiles .}
 * ({@code ExitCodeFilesTest} fails while either file differs from the enum).
 */
public final class ExitCodeFiles {
    public static final String SHELL_FILE = "lib/exit-codes.sh";
    public static final String README = "README.md";
    /** The README's table lies between these two lines, which the generator finds and keeps. */
    public static final String TABLE_BEGIN = "<!-- exit-codes: generated from ExitCode.java by ExitCodeFiles, do not edit -->";
    public static final String TABLE_END = "<!-- /exit-codes -->";

    private ExitCodeFiles() {}

    /** {@code lib/exit-codes.sh}: one variable per code, its meaning as a comment. */
    public static String shellScript() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Every exit code of the project's launchers and scripts, one variable each (sourced, not run).\n");
        sb.append("# Generated from src/main/java/org/livepatch/cli/ExitCode.java: do not edit; after changing\n");
        sb.append("# ExitCode, run  mvn -q -o compile && java -cp target/classes org.livepatch.cli.ExitCodeFiles .\n");
        sb.append("# shellcheck disable=SC2034  # used by the scripts that source this file\n");
        for (ExitCode c : ExitCode.values()) {
            sb.append(c.shellName()).append('=').append(c.number()).append("  # ").append(c.meaning()).append('\n');
        }
        return sb.toString();
    }

    /** The README's table, markers included. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder(TABLE_BEGIN).append('\n');
        sb.append("| exit | meaning |\n");
        sb.append("|---:|---|\n");
        for (ExitCode c : ExitCode.values()) {
            sb.append("| ").append(c.number()).append(" | ").append(c.meaning()).append(" |\n");
        }
        return sb.append(TABLE_END).append('\n').toString();
    }

    /** {@code readme} with the text between (and including) the markers replaced by {@link #markdownTable()}. */
    public static String withTable(String readme) {
        int begin = readme.indexOf(TABLE_BEGIN);
        int end = readme.indexOf(TABLE_END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(README + " has no exit-code table between " + TABLE_BEGIN + " and " + TABLE_END);
        }
        int after = readme.indexOf('\n', end);
        return readme.substring(0, begin) + markdownTable() + (after < 0 ? "" : readme.substring(after + 1));
    }

    /** Rewrites both files under the repository root {@code args[0]} (default: the current directory). */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        Files.writeString(root.resolve(SHELL_FILE), shellScript(), StandardCharsets.UTF_8);
        Path readme = root.resolve(README);
        Files.writeString(readme, withTable(Files.readString(readme, StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }
}
