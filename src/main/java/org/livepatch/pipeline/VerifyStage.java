package org.livepatch.pipeline;

import java.util.List;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.stage.StageClock;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.verify.PayloadOutcome;

/**
 * Stage 6, {@code verify}: {@link Assembled} in, {@link Verified} out. The payload's bytes are
 * loaded as the hypervisor would (upload and apply checks), before anything is published; the
 * loader parses the bytes itself, because that is what it checks.
 */
final class VerifyStage {
    static final String NAME = "verify";

    private final StageClock clock;

    VerifyStage(StageClock clock) {
        this.clock = clock;
    }

    Verified run(Assembled assembled) throws PipelineException {
        PayloadAssembler.Payload payload = assembled.payload();
        clock.start(NAME, 1, null);
        boolean stacked = !payload.depends().hex().equalsIgnoreCase(payload.xenDepends().hex());
        // A payload stacked on another one can only be applied on top of it; checked alone it
        // is applied with the dependency rule waived (APPLY_NODEPS), so everything else an apply
        // checks (expectations, old functions) still runs; upload-only would skip that. xen has a
        // build-id, as LoadCheck needs: the request checks refuse a --xen-syms without one, and
        // Xen's build always gives the reference one.
        LoadCheck.Options vopts = LoadCheck.Options.defaults().withNodeps(stacked);
        String name = assembled.diffed().built().request().patchName();
        var report = LoadCheck.check(assembled.diffed().xen(), List.of(PayloadFile.of(name, payload.bytes().toArray())), vopts);
        PayloadOutcome outcome = report.outcomes().get(0);
        if (!report.accepted()) {
            throw new PipelineException(PipelineException.Reason.VERIFY_FAILED,
                    "the payload would be refused by Xen: " + report.firstRejection().message());
        }
        clock.finish(1, null);
        return new Verified(assembled, outcome);
    }
}
