package org.livepatch.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.livepatch.io.AtomicFile;
import org.livepatch.io.IoErrors;

/** Files the pipeline's stages write into OUTPUT; a failure is {@link PipelineException.Reason#OUTPUT}. */
final class Outputs {
    private Outputs() {}

    static void write(Path file, byte[] bytes) throws PipelineException {
        try {
            Files.createDirectories(file.getParent());
            AtomicFile.write(file, bytes);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.OUTPUT, "cannot write " + file + ": " + IoErrors.describe(e), e);
        }
    }
}
