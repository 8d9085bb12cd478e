package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.livepatch.testsupport.Tools;

/**
 * The exit codes outside Java are the enum's: {@code lib/exit-codes.sh} as bash reads it, the
 * README's table as a reader reads it, and the shell scripts write no number of their own.
 */
class ExitCodeFilesTest {
    private static final String REGENERATE = "; regenerate: mvn -q -o compile && java -cp target/classes org.livepatch.cli.ExitCodeFiles .";
    /** The scripts that exit with the project's codes: the shared launcher code, and those not run through it. */
    private static final List<String> SCRIPTS = List.of("lib/launch.sh", "toolchain-docker/livepatch-build", "demo");
    private static final List<String> LAUNCHERS = List.of("livepatch-build", "create-diff-object", "prelink", "livepatch-verify", "livepatch-elf");

    private static Path repo(String file) {
        return Tools.repoRoot().resolve(file);
    }

    /** Each code as the README table's row, or the shell file's variable, would spell it. */
    private static List<String> enumRows() {
        List<String> rows = new ArrayList<>();
        for (ExitCode c : ExitCode.values()) {
            rows.add(c.number() + " | " + c.meaning());
        }
        return rows;
    }

    /** Fails naming every row only one side has. */
    private static void assertSameRows(String what, List<String> expected, List<String> actual) {
        List<String> missing = new ArrayList<>(expected);
        actual.forEach(missing::remove);
        List<String> extra = new ArrayList<>(actual);
        expected.forEach(extra::remove);
        if (!missing.isEmpty() || !extra.isEmpty()) {
            fail(what + " differs from ExitCode.java" + REGENERATE + "\n  in ExitCode.java only: " + missing
                    + "\n  in " + what + " only: " + extra);
        }
    }

    @Test
    void theReadmeTableHasEveryCodeWithItsMeaningAndNoOther() throws Exception {
        String readme = Files.readString(repo(ExitCodeFiles.README), StandardCharsets.UTF_8);
        int begin = readme.indexOf(ExitCodeFiles.TABLE_BEGIN);
        int end = readme.indexOf(ExitCodeFiles.TABLE_END);
        assertTrue(begin >= 0 && end > begin, "README.md: no exit-code table between its markers");
        // Read as a reader does: every row "| number | meaning |" of the table.
        Pattern row = Pattern.compile("^\\| *(\\d+) *\\| *(.*?) *\\|$");
        List<String> rows = new ArrayList<>();
        for (String line : readme.substring(begin, end).lines().toList()) {
            Matcher m = row.matcher(line);
            if (m.matches()) {
                rows.add(Integer.parseInt(m.group(1)) + " | " + m.group(2));
            }
        }
        assertSameRows("README.md's exit-code table", enumRows(), rows);
        assertEquals(ExitCodeFiles.withTable(readme), readme, "README.md's table is not laid out as ExitCodeFiles writes it" + REGENERATE);
    }

    @Test
    void theShellFileIsWrittenFromTheEnum() throws Exception {
        assertEquals(ExitCodeFiles.shellScript(), Files.readString(repo(ExitCodeFiles.SHELL_FILE), StandardCharsets.UTF_8),
                ExitCodeFiles.SHELL_FILE + REGENERATE);
    }

    @Test
    void bashReadsEveryCodeAsTheEnumHasIt() throws Exception {
        StringBuilder script = new StringBuilder("set -eu; source \"$1\"");
        for (ExitCode c : ExitCode.values()) {
            script.append("; echo \"").append(c.number()).append(" | ").append(c.shellName()).append("=${").append(c.shellName()).append("}\"");
        }
        String out = Tools.run(null, "bash", "-c", script.toString(), "bash", repo(ExitCodeFiles.SHELL_FILE).toString());
        List<String> expected = new ArrayList<>();
        List<String> actual = new ArrayList<>();
        for (ExitCode c : ExitCode.values()) {
            expected.add(c.number() + " | " + c.shellName() + "=" + c.number());
        }
        out.lines().forEach(actual::add);
        assertSameRows(ExitCodeFiles.SHELL_FILE + " as bash reads it", expected, actual);
    }

    /**
     * The scripts take every code from lib/exit-codes.sh: each sources it (the launchers through
     * lib/launch.sh) and no {@code exit} or {@code fail} of theirs names a number but 0 (success) or
     * passes on another program's code.
     */
    @Test
    void theScriptsTakeTheirCodesFromTheShellFile() throws Exception {
        Pattern exit = Pattern.compile("\\bexit\\s+([^\\s;|&)}]+)");
        Pattern failWithNumber = Pattern.compile("\\bfail\\b.*\\s\"?\\d+\"?\\s*(;|$)");
        List<String> wrong = new ArrayList<>();
        for (String s : SCRIPTS) {
            String text = Files.readString(repo(s), StandardCharsets.UTF_8);
            if (!Pattern.compile("(?m)^\\s*source .*/exit-codes\\.sh\"?$").matcher(text).find()) {
                wrong.add(s + ": does not source lib/exit-codes.sh");
            }
            checkExits(s, text, exit, failWithNumber, wrong);
        }
        for (String l : LAUNCHERS) {
            String text = Files.readString(repo(l), StandardCharsets.UTF_8);
            if (!text.contains("lib/launch.sh")) {
                wrong.add(l + ": does not run through lib/launch.sh");
            }
            checkExits(l, text, exit, failWithNumber, wrong);
        }
        assertEquals(List.of(), wrong);
    }

    private static void checkExits(String file, String text, Pattern exit, Pattern failWithNumber, List<String> wrong) {
        int n = 0;
        for (String line : text.lines().toList()) {
            n++;
            String code = line.replaceFirst("^\\s*#.*", "").replaceFirst("\\s+#\\s.*$", "");
            Matcher m = exit.matcher(code);
            while (m.find()) {
                String arg = m.group(1);
                boolean ok = arg.equals("0") || arg.matches("\"?\\$\\{?rc}?\"?") || arg.contains("$LPB_EXIT_")
                        || arg.startsWith("\"${2:-$LPB_EXIT_");
                if (!ok) {
                    wrong.add(file + ":" + n + ": exit " + arg);
                }
            }
            if (failWithNumber.matcher(code).find()) {
                wrong.add(file + ":" + n + ": " + code.strip());
            }
        }
    }
}
