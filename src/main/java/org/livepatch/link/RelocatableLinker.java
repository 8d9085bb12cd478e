package org.livepatch.link;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs binutils {@code ld -r} to combine relocatable objects into one. A linker is the right tool
 * for this part: merging same-named sections, string-merge sections and symbol tables of several
 * objects is exactly what {@code -r} does, and it is what the upstream tool and Xen's own test
 * payloads use. Everything after the link is done in our ELF model.
 */
public final class RelocatableLinker {
    private final String ld;

    /** @param ld the linker to run, e.g. {@code ld} or {@code x86_64-linux-gnu-ld} */
    public RelocatableLinker(String ld) {
        this.ld = ld;
    }

    public RelocatableLinker() {
        this("ld");
    }

    /** Links {@code inputs} (in that order, which fixes the output's section order) into {@code output}. */
    public void linkRelocatable(List<Path> inputs, Path output) throws IOException, LinkException {
        List<String> cmd = new ArrayList<>(List.of(ld, "-m", "elf_x86_64", "-r", "-o", output.toString()));
        for (Path p : inputs) {
            cmd.add(p.toAbsolutePath().toString());
        }
        Process proc;
        try {
            proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new LinkException("cannot run " + ld + ": " + e.getMessage());
        }
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!proc.waitFor(5, TimeUnit.MINUTES)) {
                proc.destroyForcibly();
                throw new LinkException(ld + " -r did not finish in 5 minutes");
            }
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LinkException(ld + " -r was interrupted");
        }
        if (proc.exitValue() != 0) {
            String first = out.isEmpty() ? "exit code " + proc.exitValue() : out.lines().findFirst().orElse("");
            throw new LinkException(ld + " -r failed: " + first);
        }
    }
}
