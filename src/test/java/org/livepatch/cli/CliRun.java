package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/**
 * One finished run of a command: its exit code and what it wrote to stderr, with the assertion
 * every user-error test makes of it (the CLI contract: one line, no stack trace).
 */
record CliRun(int code, String err) {

    /** Exactly one line that is not progress, starting with the command's name, and no stack trace. */
    void assertOneLine(int expectedCode, String contains) {
        assertEquals(expectedCode, code, err);
        List<String> lines = err.lines().filter(l -> !l.startsWith("[")).toList();
        assertEquals(1, lines.size(), "one line: " + err);
        assertTrue(lines.get(0).startsWith("livepatch-build: "), err);
        assertTrue(lines.get(0).contains(contains), err);
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
    }
}
