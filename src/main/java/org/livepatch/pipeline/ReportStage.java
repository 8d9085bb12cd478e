package org.livepatch.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.livepatch.io.IoErrors;
import org.livepatch.io.Json;
import org.livepatch.io.PairedPublish;
import org.livepatch.link.PayloadAssembler;
import org.livepatch.stage.StageClock;
import org.livepatch.stage.StageTime;
import org.livepatch.verify.PatchFunction;
import org.livepatch.xenbuild.BuildIdProof;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xenbuild.ReproductionTarget;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.CommandFile;
import org.livepatch.xenbuild.LayoutCheck;
import org.livepatch.xenbuild.ToolchainPackages;

/**
 * Stage 7, {@code report}: {@link Verified} in, {@link PipelineResult} out. The JSON report
 * (functions, objects, toolchain and how each object was compiled, stage times, the type-layout
 * check) and the payload are published together or not at all ({@link PairedPublish}).
 */
final class ReportStage {
    private final StageClock clock;
    private final Optional<ToolchainPackages> packages;

    /** @param packages the toolchain image's package list, read before anything is built (a broken one fails at once) */
    ReportStage(StageClock clock, Optional<ToolchainPackages> packages) {
        this.clock = clock;
        this.packages = packages;
    }

    PipelineResult run(Verified verified) throws PipelineException, InterruptedException {
        Diffed diffed = verified.assembled().diffed();
        BuildOutcome built = diffed.built();
        CheckedRequest checked = built.request();
        PayloadAssembler.Payload payload = verified.assembled().payload();
        Path payloadFile = checked.payloadFile();
        List<PatchedFunction> functions = new ArrayList<>();
        for (PatchFunction f : verified.outcome().payload().funcs()) {
            String bare = f.name() == null ? "?" : f.name().substring(f.name().indexOf('#') + 1);
            functions.add(new PatchedFunction(f.name(), diffed.functionObject().getOrDefault(bare, ""), f.oldAddr(), f.oldSize(), f.newSize()));
        }
        Path reportFile = checked.outputDir().resolve(checked.patchName() + ".json");
        PipelineResult result = new PipelineResult(payloadFile, payload.buildId().hex(), payload.depends().hex(), payload.xenDepends().hex(),
                functions, diffed.newFunctions(), diffed.lineOnly(), diffed.objectPaths(), clock.times(), reportFile);
        Map<String, Object> reportMap = report(checked, result, built.objects().xenSyms(), compileCommands(built), packages,
                built.objects().layout(), payload.warnings());
        if (checked.request().reproduce() != null) {
            reportMap.put("reproduction", reproduction(checked.request().reproduce(), built.proof()));
        }
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
     * How each changed or new object was built: the command line Xen's build recorded for it
     * ({@link CommandFile}), i.e. the compiler and every flag. Objects without one are left out.
     */
    static Map<String, String> compileCommands(BuildOutcome built) throws PipelineException {
        Map<String, Path> objects = new TreeMap<>();
        built.objects().changed().forEach(p -> objects.put(p.path(), p.patched()));
        built.objects().added().forEach(n -> objects.put(n.path(), n.patched()));
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : objects.entrySet()) {
            try {
                CommandFile.read(e.getValue(), e.getKey()).flatMap(CommandFile::command)
                        .ifPresent(c -> out.put(e.getKey(), c.strip()));
            } catch (IOException ex) {
                throw new PipelineException(PipelineException.Reason.OUTPUT, CommandFile.of(e.getValue()) + ": " + ex.getMessage(), ex);
            }
        }
        return out;
    }

    /**
     * The type-layout check in the report: what was asked to be let through, and every changed
     * type that was (a reviewer must see that this payload runs against live data of another layout).
     */
    private static Map<String, Object> layoutReport(CheckedRequest checked, LayoutCheck.Report layout) {
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

    /**
     * What the payload's original side was proven to be: the shipped hypervisor (its packages'
     * versions) and the build-ids compared before the diff. With {@code -k build} nothing was
     * rebuilt, so there is no proof: {@code build_id_proof} is null (the kept objects were proven
     * by the run that built them).
     */
    private static Map<String, Object> reproduction(ReproductionTarget target, Optional<BuildIdProof> proof) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", target.description());
        m.put("stock_xen_syms", target.stockXenSyms().toString());
        m.put("packages", new LinkedHashMap<>(target.provenance()));
        m.put("build_id_proof", proof.map(p -> {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("stock", p.stock().hex());
            pm.put("rebuilt", p.rebuilt().hex());
            pm.put("equal", p.equal());
            return (Object) pm;
        }).orElse(null));
        return m;
    }

    private static Map<String, Object> report(CheckedRequest checked, PipelineResult r, Path xenSyms,
            Map<String, String> compileCommands, Optional<ToolchainPackages> packages, LayoutCheck.Report layout, List<String> warnings) {
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
        // What the hypervisor's loader model warned about when the payload was assembled (it was not refused).
        m.put("warnings", warnings);
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
        m.put("layout_check", layoutReport(checked, layout));
        return m;
    }

}
