package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code --version} line that goes into the reference key, and the tools that do not give one. */
class ToolchainVersionTest {
    @TempDir
    Path tmp;

    private Path tool(String name, String script) throws Exception {
        Path t = tmp.resolve(name);
        Files.createDirectories(t.getParent());
        Files.writeString(t, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
        return t;
    }

    private static final Map<String, String> ENV = Map.of("PATH", "/usr/bin:/bin", "LC_ALL", "C");

    @Test
    void theFirstLineFromAToolInADirectoryWithASpace() throws Exception {
        Path t = tool("my tools/cc", "[ \"$1\" = --version ] && printf 'cc (Test) 1.2.3\\nCopyright\\n'");
        assertEquals("cc (Test) 1.2.3", Toolchain.firstLine(t, ENV, Duration.ofSeconds(30)));
    }

    @Test
    void aFailingToolIsMissing() throws Exception {
        Path t = tool("cc", "echo 'no such option' >&2; exit 3");
        BuildException e = assertThrows(BuildException.class, () -> Toolchain.firstLine(t, ENV, Duration.ofSeconds(30)));
        assertEquals(BuildException.Reason.TOOL_MISSING, e.reason());
        assertEquals(t + ": '--version' failed: no such option", e.getMessage());
    }

    @Test
    void aToolThatHangsIsStoppedAtTheTimeout() throws Exception {
        // It keeps its output open while it sleeps: reading to the end first would never return.
        Path t = tool("cc", "echo started; exec sleep 600");
        long t0 = System.nanoTime();
        BuildException e = assertThrows(BuildException.class, () -> Toolchain.firstLine(t, ENV, Duration.ofSeconds(1)));
        assertEquals(BuildException.Reason.TOOL_MISSING, e.reason());
        assertEquals(t + ": '--version' did not answer within 1 s", e.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos(), "stopped by the watchdog, not by sleep ending");
    }
}
