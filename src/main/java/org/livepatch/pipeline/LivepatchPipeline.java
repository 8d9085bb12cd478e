package org.livepatch.pipeline;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.BuildStage;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.NewObject;
import org.livepatch.xenbuild.ObjectPair;
import org.livepatch.xenbuild.OutputClaim;
import org.livepatch.xenbuild.PatchedBuild;
import org.livepatch.stage.Progress;
import org.livepatch.xenbuild.ReferenceCache;
import org.livepatch.xenbuild.RequestChecks;
import org.livepatch.xenbuild.SkipStage;
import org.livepatch.stage.StageClock;
import org.livepatch.stage.StageTime;
import org.livepatch.xenbuild.ToolchainPackages;
import org.livepatch.diff.DiffEngine;
import org.livepatch.diff.DiffInputException;
import org.livepatch.diff.DiffOptions;
import org.livepatch.diff.DiffReportJson;
import org.livepatch.diff.DiffResult;
import org.livepatch.diff.Refusal;
import org.livepatch.diff.ReportEntry;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.io.AtomicFile;
import org.livepatch.io.IoErrors;
import org.livepatch.io.PairedPublish;
import org.livepatch.io.Json;
import org.livepatch.link.BuildIdNote;
import org.livepatch.link.LinkException;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PatchFunction;
import org.livepatch.verify.PayloadFile;
import org.livepatch.verify.PayloadOutcome;
import org.livepatch.xen.XenSymbolTable;

/**
 * livepatch-build from top to bottom, in the order of upstream's script: check the request,
 * build (reference from the cache, then only the objects the patch touches), diff each changed
 * object, assemble the payload with its dependency notes, verify it as the hypervisor would, and
 * only then write it and its report. Each stage is a call a test can make without the CLI.
 */
public final class LivepatchPipeline {
    public static final String STAGE_DIFF = "diff";
    public static final String STAGE_ASSEMBLE = "assemble";
    public static final String STAGE_VERIFY = "verify";

    private LivepatchPipeline() {}

    public static PipelineResult run(BuildRequest request, Progress progress)
            throws BuildException, PipelineException, InterruptedException {
        StageClock clock = new StageClock(progress);
        clock.start(BuildStage.STAGE_CHECK, 0, null);
        CheckedRequest checked = RequestChecks.check(request);
        clock.finish(0, null);
        OutputClaim claim = OutputClaim.take(checked.outputDir(), checked.patchName());
        try {
            PipelineResult r = run(checked, new ReferenceCache(checked.workspace()), clock);
            release(claim);
            return r;
        } catch (BuildException | PipelineException | InterruptedException | RuntimeException | Error e) {
            if (OutputClaim.isInterruption(e)) {
                // Ctrl-C, SIGTERM: the user stopped the run, so what it wrote is worth nothing;
                // OUTPUT is left as it was found, ready for the same -o again.
                try {
                    claim.abandon();
                } catch (IOException ignored) {
                    // The lock file stays; the next run on OUTPUT removes what is left.
                }
            } else {
                // An ordinary failure keeps its logs for the user to read.
                try {
                    claim.release();
                } catch (IOException ignored) {
                    // The run's own error is the one to report.
                }
            }
            throw e;
        }
    }

    private static void release(OutputClaim claim) throws PipelineException {
        try {
            claim.release();
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.OUTPUT, IoErrors.describe(e), e);
        }
    }

    /** Runs a checked request with a given cache (batch mode shares one across patches). */
    public static PipelineResult run(CheckedRequest checked, ReferenceCache cache, StageClock clock)
            throws BuildException, PipelineException, InterruptedException {
        // Read before anything is built: a broken list in the image fails the run at once.
        Optional<ToolchainPackages> packages = ToolchainPackages.fromEnvironment(checked.request().environment());
        BuildOutcome built = BuildStage.run(checked, cache, clock);
        if (checked.request().skip() == SkipStage.DIFF) {
            return new PipelineResult(null, null, checked.depends().hex(), null, List.of(), List.of(), List.of(),
                    built.objects().changedPaths(), clock.times(), null);
        }
        Path xenSyms = built.objects().xenSyms();
        if (checked.xenSyms().isEmpty() && !checked.request().skipCompilerCheck()) {
            // The reference build's own (or, with -k build, OUTPUT's from an earlier run).
            RequestChecks.checkCompiler(xenSyms, checked.toolchain());
        }
        Path objectsDir = checked.outputDir().resolve("objects");

        // --- create-diff-object on every changed object ---------------------------------------
        clock.start(STAGE_DIFF, built.objects().changed().size(), null);
        // One read and index of xen-syms serves the diff, the assembler and the verifier.
        XenSymbolTable xen = XenSymbolTable.of(readXenSyms(xenSyms));
        DiffOptions diffOptions = new DiffOptions(null, xen, checked.request().prelink());
        List<Path> payloadObjects = new ArrayList<>();
        List<Refusal> refusals = new ArrayList<>();
        List<String> changedFunctions = new ArrayList<>();
        Map<String, String> functionObject = new LinkedHashMap<>();
        List<String> newFunctions = new ArrayList<>();
        List<LineOnlyFunction> lineOnly = new ArrayList<>();
        List<String> changedObjects = new ArrayList<>();
        StringBuilder diffLog = new StringBuilder();
        // Objects are independent: diff them on all cores (a header change can rebuild hundreds),
        // then use the results in the build's order, so the output does not depend on timing.
        List<ObjectPair> pairs = built.objects().changed();
        List<Object> diffed = pairs.parallelStream().map(pair -> {
            if (built.objects().derived().containsValue(pair.path())) {
                return (Object) null;
            }
            try {
                return new DiffEngine().diff(ElfReader.read(pair.original()), ElfReader.read(pair.patched()), diffOptions);
            } catch (ElfFormatException e) {
                return new PipelineException(PipelineException.Reason.DIFF_FAILED, e.getMessage(), e);
            } catch (DiffInputException | IOException e) {
                return new PipelineException(PipelineException.Reason.DIFF_FAILED, pair.path() + ": " + e.getMessage(), e);
            }
        }).toList();
        for (int i = 0; i < pairs.size(); i++) {
            ObjectPair pair = pairs.get(i);
            if (diffed.get(i) == null) {
                // An intermediate (foo.o) of an object made from it (foo.init.o): the derived one is
                // what the hypervisor links, so that is the one diffed.
                diffLog.append(pair.path()).append(": intermediate of a derived object, not diffed\n");
                continue;
            }
            if (diffed.get(i) instanceof PipelineException e) {
                throw e;
            }
            DiffResult r = (DiffResult) diffed.get(i);
            diffLog.append(DiffReportJson.of(pair.original().toString(), pair.patched().toString(), r));
            for (ReportEntry e : r.report()) {
                if (e.kind().equals("line-only")) {
                    lineOnly.add(new LineOnlyFunction(e.subject(), pair.path(), e.reason()));
                }
            }
            switch (r.status()) {
                case CHANGES -> {
                    Path out = objectsDir.resolve(pair.path());
                    write(out, r.output());
                    payloadObjects.add(out);
                    changedObjects.add(pair.path());
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
            Path out = objectsDir.resolve(added.path());
            try {
                write(out, Files.readAllBytes(added.patched()));
            } catch (IOException e) {
                throw new PipelineException(PipelineException.Reason.OUTPUT, added.patched() + ": " + e.getMessage(), e);
            }
            payloadObjects.add(out);
            changedObjects.add(added.path());
        }
        writeLog(checked.logDir().resolve("create-diff-object.log"), diffLog.toString());
        clock.finish(payloadObjects.size(), changedFunctions.size() + " changed function(s)");
        if (!refusals.isEmpty()) {
            StringBuilder sb = new StringBuilder(refusals.size() + " change(s) cannot be live-patched safely:");
            for (Refusal r : refusals) {
                sb.append("\n  ").append(r);
            }
            throw new PipelineException(PipelineException.Reason.UNPATCHABLE_CHANGE, sb.toString());
        }
        if (payloadObjects.isEmpty()) {
            throw new PipelineException(PipelineException.Reason.NO_FUNCTIONAL_CHANGE,
                    "no functional changes found in " + built.objects().changed().size() + " rebuilt object(s) (" + String.join(", ", built.objects().changedPaths()) + ")"
                    + (lineOnly.isEmpty() ? "" : "; line numbers only: " + String.join(", ", lineOnly.stream().map(LineOnlyFunction::name).toList())));
        }

        // --- assemble ------------------------------------------------------------------------
        clock.start(STAGE_ASSEMBLE, payloadObjects.size(), null);
        PayloadAssembler.Payload payload;
        try {
            PayloadAssembler.Options options = PayloadAssembler.Options.defaults()
                    .withPrelink(checked.request().prelink())
                    .withStrip(checked.request().strip())
                    .withDepends(BuildIdNote.ofHex(checked.depends().hex()));
            if (checked.xenDepends().isPresent()) {
                options = options.withXenDepends(BuildIdNote.ofHex(checked.xenDepends().get().hex()));
            }
            payload = new PayloadAssembler(xen).assemble(payloadObjects, checked.patchName(), options);
        } catch (LinkException e) {
            throw new PipelineException(PipelineException.Reason.PAYLOAD_REJECTED, e.getMessage(), e);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.PAYLOAD_REJECTED, e.getMessage(), e);
        }
        clock.finish(payloadObjects.size(), payload.bytes().length() + " bytes");

        // --- verify as the hypervisor would, before anything is published ---------------------
        clock.start(STAGE_VERIFY, 1, null);
        boolean stacked = !payload.depends().hex().equalsIgnoreCase(payload.xenDepends().hex());
        // A payload stacked on another one can only be applied on top of it; checked alone it
        // is verified for upload and with the dependency rule waived. xen has a build-id, as
        // LoadCheck needs: the request checks refuse a --xen-syms without one, and Xen's build
        // always gives the reference one.
        LoadCheck.Options vopts = new LoadCheck.Options(0, false, stacked, false);
        var report = LoadCheck.check(xen, List.of(PayloadFile.of(checked.patchName(), payload.bytes().toArray())), vopts);
        PayloadOutcome outcome = report.outcomes().get(0);
        if (!report.accepted()) {
            throw new PipelineException(PipelineException.Reason.VERIFY_FAILED,
                    "the payload would be refused by Xen: " + report.firstRejection().message());
        }
        clock.finish(1, null);

        // --- publish: the report and the payload together or not at all (see PairedPublish) ---
        Path payloadFile = checked.payloadFile();
        List<PatchedFunction> functions = new ArrayList<>();
        for (PatchFunction f : outcome.payload().funcs()) {
            String bare = f.name() == null ? "?" : f.name().substring(f.name().indexOf('#') + 1);
            functions.add(new PatchedFunction(f.name(), functionObject.getOrDefault(bare, ""), f.oldAddr(), f.oldSize(), f.newSize()));
        }
        String buildId = payload.buildId().hex();
        Path reportFile = checked.outputDir().resolve(checked.patchName() + ".json");
        PipelineResult result = new PipelineResult(payloadFile, buildId, payload.depends().hex(), payload.xenDepends().hex(),
                functions, newFunctions, lineOnly, changedObjects, clock.times(), reportFile);
        Map<String, Object> reportMap = report(checked, result, xenSyms, compileCommands(built), packages);
        reportMap.put("layout_check", layoutReport(checked, built.objects().layout()));
        byte[] reportBytes = Json.write(reportMap).getBytes(StandardCharsets.UTF_8);
        try {
            PairedPublish.publish(checked.outputDir(), reportFile.getFileName().toString(), reportBytes,
                    payloadFile.getFileName().toString(), payload.bytes().toArray());
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.OUTPUT, "cannot publish " + payloadFile + ": " + IoErrors.describe(e), e);
        }
        return result;
    }

    /**
     * The type-layout check in the report: what was asked to be let through, and every changed
     * type that was (a reviewer must see that this payload runs against live data of another layout).
     */
    private static Map<String, Object> layoutReport(CheckedRequest checked, org.livepatch.xenbuild.LayoutCheck.Report layout) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("objects_checked", layout.objectsChecked());
        m.put("allow_layout_change", checked.request().allowedLayoutChanges());
        List<Object> allowed = new ArrayList<>();
        for (var c : layout.allowed()) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("type", c.type());
            cm.put("file", c.file());
            cm.put("fields", c.fields());
            cm.put("differences", c.differences());
            cm.put("functions", List.copyOf(new java.util.TreeSet<>(c.functions())));
            cm.put("objects", List.copyOf(new java.util.TreeSet<>(c.objects())));
            allowed.add(cm);
        }
        m.put("allowed_changes", allowed);
        return m;
    }

    private static ElfFile readXenSyms(Path xenSyms) throws PipelineException {
        try {
            return ElfReader.read(xenSyms);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.DIFF_FAILED, xenSyms + ": " + e.getMessage(), e);
        }
    }

    /**
     * How each changed or new object was built: the command line Xen's build recorded for it
     * ({@code cmd_<obj> := ...} in {@code .<obj>.cmd}, written by if_changed), i.e. the compiler
     * and every flag. Objects without a recorded command are left out.
     */
    static Map<String, String> compileCommands(BuildOutcome built) throws PipelineException {
        Map<String, Path> objects = new java.util.TreeMap<>();
        built.objects().changed().forEach(p -> objects.put(p.path(), p.patched()));
        built.objects().added().forEach(n -> objects.put(n.path(), n.patched()));
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : objects.entrySet()) {
            Path cmd = PatchedBuild.commandFile(e.getValue());
            if (!Files.isRegularFile(cmd)) {
                continue;
            }
            try {
                Files.readAllLines(cmd, StandardCharsets.ISO_8859_1).stream()
                        .filter(l -> l.startsWith("cmd_") && l.contains(" := ")).findFirst()
                        .ifPresent(l -> out.put(e.getKey(), l.substring(l.indexOf(" := ") + 4).strip()));
            } catch (IOException ex) {
                throw new PipelineException(PipelineException.Reason.OUTPUT, cmd + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    private static Map<String, Object> report(CheckedRequest checked, PipelineResult r, Path xenSyms,
            Map<String, String> compileCommands, Optional<ToolchainPackages> packages) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("payload", r.payload().toString());
        m.put("name", checked.patchName());
        m.put("build_id", r.buildId());
        m.put("depends", r.depends());
        m.put("xen_depends", r.xenDepends());
        m.put("xen_syms", xenSyms.toString());
        m.put("patch", checked.request().patch().toString());
        m.put("prelink", checked.request().prelink());
        m.put("strip", checked.request().strip());
        List<Object> funcs = new ArrayList<>();
        for (PatchedFunction f : r.functions()) {
            Map<String, Object> fm = new LinkedHashMap<>();
            fm.put("name", f.name());
            fm.put("object", f.object());
            fm.put("old_addr", f.oldAddress() == 0 ? null : Json.hex(f.oldAddress()));
            fm.put("old_size", f.oldSize());
            fm.put("new_size", f.newSize());
            funcs.add(fm);
        }
        m.put("functions", funcs);
        m.put("new_functions", r.newFunctions());
        List<Object> lines = new ArrayList<>();
        for (LineOnlyFunction f : r.lineOnly()) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("name", f.name());
            lm.put("object", f.object());
            lm.put("reason", f.reason());
            lines.add(lm);
        }
        m.put("line_only_functions", lines);
        m.put("objects", r.objects());
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("gcc", checked.toolchain().gccVersion());
        tool.put("ld", checked.toolchain().ldVersion());
        tool.put("make_args", checked.makeArgs());
        tool.put("compile_commands", compileCommands);
        // Only in the toolchain image (which names its package list); null for a host build.
        tool.put("packages", packages.map(p -> (Object) p.versions()).orElse(null));
        m.put("toolchain", tool);
        List<Object> stages = new ArrayList<>();
        for (StageTime t : r.times()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("stage", t.stage());
            sm.put("seconds", t.elapsed().toMillis() / 1000.0);
            sm.put("objects", t.objectCount());
            stages.add(sm);
        }
        m.put("stages", stages);
        return m;
    }

    private static void write(Path file, byte[] bytes) throws PipelineException {
        try {
            Files.createDirectories(file.getParent());
            AtomicFile.write(file, bytes);
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.OUTPUT, "cannot write " + file + ": " + IoErrors.describe(e), e);
        }
    }

    private static void writeLog(Path file, String text) throws PipelineException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /** The human summary printed at the end of a run. */
    public static void printSummary(PipelineResult r, PrintWriter out) {
        out.printf("payload %s (build-id %s)%n", r.payload(), r.buildId());
        out.printf("  depends %s, xen_depends %s%n", r.depends(), r.xenDepends());
        for (PatchedFunction f : r.functions()) {
            out.printf("  patched %-40s old %5d bytes -> new %5d bytes  (%s)%n", f.name(), f.oldSize(), f.newSize(), f.object());
        }
        for (String f : r.newFunctions()) {
            out.printf("  new     %s%n", f);
        }
        for (LineOnlyFunction f : r.lineOnly()) {
            out.printf("  line numbers only, not patched: %s (%s)%n", f.name(), f.object());
        }
        out.printf("  report %s%n", r.report());
        out.flush();
    }

}
