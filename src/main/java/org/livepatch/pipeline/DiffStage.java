package org.livepatch.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.livepatch.diff.DiffEngine;
import org.livepatch.diff.DiffInputException;
import org.livepatch.diff.DiffOptions;
import org.livepatch.diff.DiffReportJson;
import org.livepatch.diff.DiffResult;
import org.livepatch.diff.Refusal;
import org.livepatch.diff.ReportEntry;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.stage.StageClock;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.NewObject;
import org.livepatch.xenbuild.ObjectPair;
import org.livepatch.xen.XenSymbolTable;

/**
 * Stage 4, {@code diff}: a {@link BuildOutcome} in, {@link Diffed} out. create-diff-object on
 * every changed object (in parallel), new objects taken whole; a refused change or no change
 * at all stops the run. The log is {@code logs/create-diff-object.log}.
 */
final class DiffStage {
    static final String NAME = "diff";

    /**
     * Diffs already made, by object path and the SHA-256 of its patched bytes, for a run whose
     * originals and options do not change between uses (the steps of a cumulative series: the
     * same reference, the same symbols). A diff is a function of those inputs only, so an object
     * that a step did not touch need not be diffed again.
     */
    static final class Memo {
        private final Map<String, DiffResult> done = new java.util.concurrent.ConcurrentHashMap<>();

        private static String key(ObjectPair pair, byte[] patched) {
            try {
                return pair.path() + "\0" + java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(patched));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e); // every JDK has SHA-256
            }
        }
    }

    private final StageClock clock;
    private final Memo memo;

    DiffStage(StageClock clock) {
        this(clock, null);
    }

    /** With {@code memo}, diffs of pairs seen before are reused (see {@link Memo}). */
    DiffStage(StageClock clock, Memo memo) {
        this.clock = clock;
        this.memo = memo;
    }

    Diffed run(BuildOutcome built) throws PipelineException {
        CheckedRequest checked = built.request();
        List<ObjectPair> pairs = built.objects().changed();
        clock.start(NAME, pairs.size(), null);
        XenSymbolTable xen = built.xenSyms().orElseThrow().table();
        DiffOptions diffOptions = new DiffOptions(null, xen, checked.request().prelink());
        // Objects are independent: diff them on all cores (a header change can rebuild hundreds),
        // then use the results in the build's order, so the output does not depend on timing.
        List<Object> diffed = pairs.parallelStream().map(pair -> {
            if (built.objects().derived().containsValue(pair.path())) {
                return (Object) null;
            }
            try {
                if (memo == null) {
                    return new DiffEngine().diff(ElfReader.read(pair.original()), ElfReader.read(pair.patched()), diffOptions);
                }
                byte[] patched = Files.readAllBytes(pair.patched());
                String key = Memo.key(pair, patched);
                DiffResult seen = memo.done.get(key);
                if (seen != null) {
                    return seen;
                }
                DiffResult r = new DiffEngine().diff(ElfReader.read(pair.original()), ElfReader.read(pair.patched()), diffOptions);
                memo.done.put(key, r);
                return r;
            } catch (ElfFormatException e) {
                return new PipelineException(PipelineException.Reason.DIFF_FAILED, e.getMessage(), e);
            } catch (DiffInputException | IOException e) {
                return new PipelineException(PipelineException.Reason.DIFF_FAILED, pair.path() + ": " + e.getMessage(), e);
            }
        }).toList();
        List<Diffed.PayloadObject> objects = new ArrayList<>();
        List<Refusal> refusals = new ArrayList<>();
        List<String> changedFunctions = new ArrayList<>();
        Map<String, String> functionObject = new LinkedHashMap<>();
        List<String> newFunctions = new ArrayList<>();
        List<LineOnlyFunction> lineOnly = new ArrayList<>();
        StringBuilder log = new StringBuilder();
        for (int i = 0; i < pairs.size(); i++) {
            ObjectPair pair = pairs.get(i);
            if (diffed.get(i) == null) {
                // An intermediate (foo.o) of an object made from it (foo.init.o): the derived one is
                // what the hypervisor links, so that is the one diffed.
                log.append(pair.path()).append(": intermediate of a derived object, not diffed\n");
                continue;
            }
            if (diffed.get(i) instanceof PipelineException e) {
                throw e;
            }
            DiffResult r = (DiffResult) diffed.get(i);
            log.append(DiffReportJson.of(pair.original().toString(), pair.patched().toString(), r));
            for (ReportEntry e : r.report()) {
                if (e.kind().equals("line-only")) {
                    lineOnly.add(new LineOnlyFunction(e.subject(), pair.path(), e.reason()));
                }
            }
            switch (r.status()) {
                case CHANGES -> {
                    objects.add(new Diffed.PayloadObject(pair.path(), r.output()));
                    for (String f : r.changedFunctions()) {
                        changedFunctions.add(f);
                        functionObject.putIfAbsent(f, pair.path());
                    }
                    newFunctions.addAll(r.newFunctions());
                }
                case REFUSED -> refusals.addAll(r.refusals());
                case NO_CHANGE -> { }
            }
        }
        for (NewObject added : built.objects().added()) {
            // An object only the patched build has is new code as a whole (upstream copies it in).
            try {
                objects.add(new Diffed.PayloadObject(added.path(), Files.readAllBytes(added.patched())));
            } catch (IOException e) {
                throw new PipelineException(PipelineException.Reason.OUTPUT, added.patched() + ": " + e.getMessage(), e);
            }
        }
        Outputs.write(checked.logDir().resolve("create-diff-object.log"), log.toString().getBytes(StandardCharsets.UTF_8));
        clock.finish(objects.size(), changedFunctions.size() + " changed function(s)");
        if (!refusals.isEmpty()) {
            StringBuilder sb = new StringBuilder(refusals.size() + " change(s) cannot be live-patched safely:");
            for (Refusal r : refusals) {
                sb.append("\n  ").append(r);
            }
            throw new PipelineException(PipelineException.Reason.UNPATCHABLE_CHANGE, sb.toString());
        }
        if (objects.isEmpty()) {
            throw new PipelineException(PipelineException.Reason.NO_FUNCTIONAL_CHANGE,
                    "no functional changes found in " + pairs.size() + " rebuilt object(s) (" + String.join(", ", built.objects().changedPaths()) + ")"
                    + (lineOnly.isEmpty() ? "" : "; line numbers only: " + String.join(", ", lineOnly.stream().map(LineOnlyFunction::name).toList())));
        }
        return new Diffed(built, xen, objects, changedFunctions, functionObject, newFunctions, lineOnly);
    }
}
