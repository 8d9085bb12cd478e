package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;

/**
 * {@code livepatch-build} in its own JVM on a patch that changes a struct's layout: exit 30 (the
 * README's "unpatchable change"), the refusal's lines and no stack trace; with
 * {@code --allow-layout-change} naming the type, a payload.
 */
class LayoutChangeCliTest {

    private static CliRun run(Path tmp, Path src, String patch, Path out, String... extra) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                LivepatchBuildCommand.class.getName(), "-s", src.toString(), "-p", BuildFixtures.patch(patch).toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", out.toString(), "--depends", BuildFixtures.ZERO_ID, "-j", "2"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("LPB_CACHE", tmp.resolve("cache").toString());
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new CliRun(p.waitFor(), err);
    }

    @Test
    void aLayoutChangeExits30AndTheOptionOverridesIt(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        CliRun refused = run(tmp, src, "minixen-layout-header.patch", tmp.resolve("out"));
        assertEquals(30, refused.code(), refused.err());
        List<String> lines = refused.err().lines().filter(l -> !l.startsWith("[")).toList();
        assertTrue(lines.get(0).startsWith("livepatch-build: 1 type layout change(s) cannot be live-patched"), refused.err());
        assertEquals(2, lines.size(), "the summary and one line for the type: " + refused.err());
        assertTrue(lines.get(1).contains("struct exception_table_entry (defined in arch/x86/include/asm/extable.h): field 'hits'"),
                refused.err());
        assertFalse(refused.err().contains("\tat "), "no stack trace: " + refused.err());

        CliRun allowed = run(tmp, src, "minixen-layout-header.patch", tmp.resolve("out2"),
                "--allow-layout-change", "struct exception_table_entry", "--allow-layout-change", "exception_table_enrty");
        assertEquals(0, allowed.code(), allowed.err());
        assertTrue(allowed.err().contains("--allow-layout-change exception_table_enrty: no changed type of that name"),
                "a misspelt type is pointed out: " + allowed.err());
        assertTrue(allowed.err().contains("allowed by --allow-layout-change: struct exception_table_entry"), allowed.err());
        assertTrue(Files.isRegularFile(tmp.resolve("out2/minixen-layout-header.livepatch")));
    }
}
