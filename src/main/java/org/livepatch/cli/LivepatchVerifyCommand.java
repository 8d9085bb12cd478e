package org.livepatch.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.livepatch.elf.Bytes;
import org.livepatch.verify.ApplyPlan;
import org.livepatch.verify.DependencyGraph;
import org.livepatch.verify.HypervisorRules;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.verify.PayloadInfo;
import org.livepatch.verify.PayloadOutcome;
import org.livepatch.verify.Rejection;
import org.livepatch.xen.XenSymbolTable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code livepatch-verify}: the minimal loader. Verifies payloads as the hypervisor's release
 * ({@code HypervisorRules}) does on upload and apply, shows the apply plan, payload info, and checks dependency chains.
 *
 * <p>Exit codes ({@link ExitCode}): accepted, refused (a reason and Xen's errno are printed), usage,
 * bad input (a payload that is not a well-formed ELF object by Xen's rules, or a bad xen-syms),
 * I/O error.
 */
@Command(name = "livepatch-verify", mixinStandardHelpOptions = true, version = "livepatch-verify 0.1",
        description = "Verify Xen live-patch payloads the way the hypervisor loads them, with the rules of its release (4.17, 4.20 or 4.22).",
        subcommands = {LivepatchVerifyCommand.Check.class, LivepatchVerifyCommand.Plan.class,
                LivepatchVerifyCommand.Info.class, LivepatchVerifyCommand.Deps.class})
public final class LivepatchVerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE.number();
    }

    public static void main(String[] args) {
        System.exit(CommandRunner.run(new LivepatchVerifyCommand(), args));
    }

    /** Options shared by check and plan. */
    static final class StackOptions {
        @Option(names = "--xen-syms", required = true, paramLabel = "XEN-SYMS", description = "the running hypervisor's xen-syms")
        Path xenSyms;

        @Option(names = "--base", paramLabel = "ADDR", description = "address of the first payload (default: where the hypervisor's vmap area would put it)")
        String base;

        @Option(names = "--upload-only", description = "only upload: skip the apply-time checks (depends, expectations)")
        boolean uploadOnly;

        @Option(names = "--nodeps", description = "apply with --nodeps (no .livepatch.depends check)")
        boolean nodeps;

        @Option(names = "--replace", description = "apply the last payload with REPLACE instead of APPLY")
        boolean replace;

        @Option(names = "--json", description = "print JSON for CI")
        boolean json;

        @Option(names = "--xen-version", paramLabel = "X.Y", description = "check with the rules of this Xen release instead of the one xen-syms names ("
                + "4.17, 4.20 or 4.22)")
        String xenVersion;

        @Parameters(arity = "1..*", paramLabel = "PAYLOAD", description = "payloads, in load order (each applied on top of the previous)")
        List<Path> payloads;

        LoadCheck.Report run() throws IOException {
            XenSymbolTable xen = LoadCheck.readHypervisor(xenSyms);
            HypervisorRules.Choice model = HypervisorRules.forHypervisor(xen);
            if (xenVersion != null) {
                HypervisorRules named = rulesNamed(xenVersion);
                model = named.equals(model.rules()) ? HypervisorRules.Choice.exact(named)
                        : new HypervisorRules.Choice(named, Optional.of("--xen-version " + xenVersion + ": checking with the Xen " + named.name()
                                + " rules, not those of the release " + xenSyms + " names"));
            }
            List<PayloadFile> files = new ArrayList<>();
            for (Path p : payloads) {
                files.add(PayloadFile.read(p));
            }
            LoadCheck.Options options = LoadCheck.Options.defaults()
                    .withBase(parseAddress(base))
                    .withUploadOnly(uploadOnly)
                    .withNodeps(nodeps)
                    .withReplaceLast(replace);
            return LoadCheck.check(xen, model, files, options);
        }

        /**
         * Loads the stack and prints its apply plan: as JSON with {@code --json} (relocations
         * included when asked), else as {@code text} prints it. Returns the exit code.
         */
        int printPlan(CommandSpec spec, boolean relocationsInJson, BiConsumer<ApplyPlan, PrintWriter> text) throws IOException {
            LoadCheck.Report report = run();
            PrintWriter out = spec.commandLine().getOut();
            ApplyPlan plan = new ApplyPlan(report);
            if (json) {
                out.print(plan.toJson(relocationsInJson));
            } else {
                text.accept(plan, out);
            }
            out.flush();
            return exitCode(report.outcomes()).number();
        }
    }

    /** Each payload read on its own, with no hypervisor (what {@code info} and {@code deps} need). */
    static List<PayloadOutcome> inspect(List<Path> payloads) throws IOException {
        return inspect(payloads, HypervisorRules.XEN_4_17);
    }

    static List<PayloadOutcome> inspect(List<Path> payloads, HypervisorRules rules) throws IOException {
        List<PayloadOutcome> outcomes = new ArrayList<>();
        for (Path p : payloads) {
            outcomes.add(LoadCheck.inspect(PayloadFile.read(p), rules));
        }
        return outcomes;
    }

    /** {@code --xen-version}: a modelled release, or a usage error naming those there are. */
    static HypervisorRules rulesNamed(String release) {
        return HypervisorRules.named(release).orElseThrow(() -> new CommandRunner.UserError(ExitCode.USAGE,
                "--xen-version " + release + " is not a modelled Xen release; known: " + HypervisorRules.knownNames()));
    }

    static long parseAddress(String s) {
        if (s == null) {
            return 0;
        }
        String t = s.startsWith("0x") || s.startsWith("0X") ? s.substring(2) : s;
        try {
            long v = Long.parseUnsignedLong(t, 16);
            if (v == 0 || (v & 0xfff) != 0) {
                throw new CommandRunner.UserError(ExitCode.USAGE, "--base must be a non-zero page-aligned hex address, not " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--base must be a hex address, not " + s);
        }
    }

    /** Any payload malformed: bad input; else any refused: refused. */
    static ExitCode exitCode(List<PayloadOutcome> outcomes) {
        ExitCode code = ExitCode.OK;
        for (PayloadOutcome o : outcomes) {
            Rejection r = o.rejection();
            if (r != null) {
                code = ExitMapper.of(r);
                if (code == ExitCode.BAD_INPUT) {
                    return code;
                }
            }
        }
        return code;
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Load the payloads in order as the hypervisor of --xen-syms would (upload, then apply on top of the previous); print one verdict per payload.")
    static final class Check implements Callable<Integer> {
        @Mixin
        StackOptions stack;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            return stack.printPlan(spec, false, ApplyPlan::printVerdicts);
        }
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Show the apply plan: section placement, relocations, and name old_addr(old_size) -> new_addr(new_size) per function.")
    static final class Plan implements Callable<Integer> {
        @Mixin
        StackOptions stack;

        @Option(names = {"-r", "--relocations"}, description = "also list every relocation with its resolved value")
        boolean relocations;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            return stack.printPlan(spec, relocations, (plan, out) -> plan.print(out, relocations));
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Show build-id, depends, xen_depends, funcs, hooks and sizes of payloads (no xen-syms needed).")
    static final class Info implements Callable<Integer> {
        @Option(names = "--json", description = "print JSON")
        boolean json;

        @Option(names = "--xen-version", paramLabel = "X.Y", defaultValue = "4.17",
                description = "read the payloads with the structural rules of this Xen release (4.17, 4.20 or 4.22; default ${DEFAULT-VALUE})")
        String xenVersion;

        @Parameters(arity = "1..*", paramLabel = "PAYLOAD")
        List<Path> payloads;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            HypervisorRules rules = rulesNamed(xenVersion);
            List<PayloadOutcome> outcomes = inspect(payloads, rules);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(PayloadInfo.toJson(outcomes, rules));
            } else {
                out.println("rules: " + rules + " (no xen-syms: structure only)");
                PayloadInfo.print(out, outcomes);
            }
            out.flush();
            return exitCode(outcomes).number();
        }
    }

    @Command(name = "deps", mixinStandardHelpOptions = true,
            description = "Find a valid load order for payloads (each depends on the one below it, the first on the hypervisor), report missing or wrong dependencies, and what a REPLACE would revert.")
    static final class Deps implements Callable<Integer> {
        @ArgGroup(exclusive = true, multiplicity = "1")
        Hypervisor hypervisor;

        static final class Hypervisor {
            @Option(names = "--xen-syms", paramLabel = "XEN-SYMS", description = "take the hypervisor build-id from this xen-syms")
            Path xenSyms;

            @Option(names = "--xen-build-id", paramLabel = "HEX", description = "the hypervisor build-id")
            String buildId;
        }

        @Option(names = "--replace", paramLabel = "PAYLOAD", description = "name (or file) of a payload to REPLACE the applied stack with")
        String replace;

        @Option(names = "--json", description = "print JSON")
        boolean json;

        @Parameters(arity = "1..*", paramLabel = "PAYLOAD")
        List<Path> payloads;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Bytes xenId;
            if (hypervisor.xenSyms != null) {
                xenId = LoadCheck.readHypervisor(hypervisor.xenSyms).buildId().orElseThrow();
            } else {
                try {
                    xenId = Bytes.copyOf(HexFormat.of().parseHex(hypervisor.buildId.trim().toLowerCase()));
                } catch (IllegalArgumentException e) {
                    throw new CommandRunner.UserError(ExitCode.USAGE, "--xen-build-id must be hex digits, not " + hypervisor.buildId);
                }
            }
            List<PayloadOutcome> outcomes = inspect(payloads);
            String replaceName = replace == null ? null : PayloadFile.nameOf(Path.of(replace));
            DependencyGraph graph = DependencyGraph.of(xenId, outcomes);
            DependencyGraph.Analysis a = graph.analyse(replaceName);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(a.toJson());
            } else {
                a.print(out);
            }
            out.flush();
            ExitCode code = exitCode(outcomes);
            return (code != ExitCode.OK || a.ok() ? code : ExitCode.VERIFY_REFUSED).number();
        }
    }
}
