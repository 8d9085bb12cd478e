package org.livepatch.xenbuild;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A request that passed every up-front check, with its inputs parsed: what the later stages
 * (and the diff and link stages) work from.
 *
 * @param srcDir          SRC, absolute and with symlinks resolved
 * @param outputDir       OUTPUT, absolute
 * @param patchName       the payload name ({@link PatchName}); the payload is {@code OUTPUT/<patchName>.livepatch}
 * @param xenSyms         {@code --xen-syms} when given (readable ELF with a build-id), opened and indexed once
 * @param makeEnvironment environment of every make run (pinned build strings included)
 * @param makeArgs        make arguments shared by the original and patched builds
 */
public record CheckedRequest(BuildRequest request, Path srcDir, SourcePatch patch, XenConfig config,
        Path outputDir, String patchName, BuildId depends, Optional<BuildId> xenDepends, Optional<XenSyms> xenSyms,
        Toolchain toolchain, BuildStrings buildStrings, Workspace workspace, Map<String, String> makeEnvironment,
        List<String> makeArgs) {

    public CheckedRequest {
        makeEnvironment = Map.copyOf(makeEnvironment);
        makeArgs = List.copyOf(makeArgs);
    }

    public int jobs() {
        return request.jobs();
    }

    public Path logDir() {
        return outputDir.resolve("logs");
    }

    /** Where the payload goes: {@code OUTPUT/<name>.livepatch}. */
    public Path payloadFile() {
        return outputDir.resolve(patchName + ".livepatch");
    }
}
