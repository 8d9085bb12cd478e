package org.livepatch.xenbuild;

import java.nio.file.Path;
import org.livepatch.cli.ExitMapper;

/**
 * A build stage run in its own JVM, for {@link KilledRunTest}: args are SRC, PATCH, OUTPUT, CACHE.
 * Exits 0 on success, the reason's exit code on a BuildException.
 */
public final class KillableBuild {
    private KillableBuild() {}

    public static void main(String[] args) throws Exception {
        BuildRequest r = BuildRequest.builder()
                .srcDir(Path.of(args[0]))
                .patch(Path.of(args[1]))
                .config(Path.of(args[0], "xen/.config"))
                .outputDir(Path.of(args[2]))
                .cacheDir(Path.of(args[3]))
                .jobs(1)
                .depends(BuildFixtures.ZERO_ID)
                .build();
        try {
            BuildStage.run(r, e -> System.out.println(e.stage() + " " + e.phase()));
        } catch (BuildException e) {
            System.err.println(e.getMessage());
            System.exit(ExitMapper.of(e.reason()).number());
        }
    }
}
