package org.livepatch.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.livepatch.elf.ElfReader;
import org.livepatch.link.BuildIdNote;
import org.livepatch.link.LinkException;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.link.RelocatableLinker;
import org.livepatch.stage.StageClock;
import org.livepatch.xenbuild.CheckedRequest;

/**
 * Stage 5, {@code assemble}: {@link Diffed} in, {@link Assembled} out. Each payload object is
 * written to {@code OUTPUT/objects/} because {@code ld -r} reads files (the only reason it is
 * written); its model for the assembler's checks is parsed from the bytes in memory. The linker
 * is the toolchain's {@code ld} ({@code LD}, {@code CROSS_COMPILE}), the one the hypervisor was
 * built with.
 */
final class AssembleStage {
    static final String NAME = "assemble";

    private final StageClock clock;

    AssembleStage(StageClock clock) {
        this.clock = clock;
    }

    /** {@code OUTPUT/objects/<path>}: where a payload object is written for {@code ld -r}. */
    static Path objectFile(CheckedRequest checked, String path) {
        return checked.outputDir().resolve("objects").resolve(path);
    }

    Assembled run(Diffed diffed) throws PipelineException {
        CheckedRequest checked = diffed.built().request();
        int count = diffed.objects().size();
        List<Path> files = new ArrayList<>();
        for (Diffed.PayloadObject o : diffed.objects()) {
            Path file = objectFile(checked, o.path());
            Outputs.write(file, o.bytes());
            files.add(file);
        }
        clock.start(NAME, count, null);
        PayloadAssembler.Payload payload;
        try {
            List<PayloadAssembler.Input> inputs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                inputs.add(new PayloadAssembler.Input(files.get(i), ElfReader.read(files.get(i), diffed.objects().get(i).bytes())));
            }
            PayloadAssembler.Options options = PayloadAssembler.Options.defaults()
                    .withPrelink(checked.request().prelink())
                    .withStrip(checked.request().strip())
                    .withDepends(BuildIdNote.ofHex(checked.depends().hex()));
            if (checked.xenDepends().isPresent()) {
                options = options.withXenDepends(BuildIdNote.ofHex(checked.xenDepends().get().hex()));
            }
            RelocatableLinker ld = new RelocatableLinker(checked.toolchain().ld().toString());
            payload = new PayloadAssembler(diffed.xen(), ld, line -> { }).assembleInputs(inputs, checked.patchName(), options);
        } catch (LinkException e) {
            throw new PipelineException(PipelineException.Reason.PAYLOAD_REJECTED, e.getMessage(), e);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.PAYLOAD_REJECTED, e.getMessage(), e);
        }
        // Things the hypervisor takes but the loader model cannot vouch for: the user should see them.
        for (String w : payload.warnings()) {
            clock.notice("warning: " + payload.name() + ": " + w);
        }
        clock.finish(count, payload.bytes().length() + " bytes");
        return new Assembled(diffed, payload);
    }
}
