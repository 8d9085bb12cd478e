package org.livepatch.cli;

import org.livepatch.io.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.livepatch.diff.DiffEngine;
import org.livepatch.diff.DiffOptions;
import org.livepatch.diff.DiffReportJson;
import org.livepatch.diff.DiffResult;
import org.livepatch.diff.Refusal;
import org.livepatch.diff.ReportEntry;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.payload.FuncLayout;
import org.livepatch.xen.XenSymbolTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code create-diff-object}: the payload object for the difference between two builds of one
 * object. Its outcomes exit as upstream's (0 output written, 3 no functional change, 2 a
 * difference that cannot be patched safely); its errors as every launcher's (64 usage, 65 bad
 * input, 74 a file that cannot be read): see {@link ExitCode}.
 */
@Command(name = "create-diff-object", mixinStandardHelpOptions = true, version = "create-diff-object 0.1",
        description = "Write the live-patch object for the difference between ORIG.o and PATCHED.o.",
        exitCodeListHeading = "Exit codes:%n")
public final class CreateDiffObjectCommand implements Callable<Integer>, CommandRunner.ListsExitCodes {
    @Parameters(index = "0", paramLabel = "ORIG.o", description = "the object built from the original source")
    Path orig;

    @Parameters(index = "1", paramLabel = "PATCHED.o", description = "the same object built from the patched source")
    Path patched;

    @Parameters(index = "2", paramLabel = "XEN-SYMS", description = "the target hypervisor's xen-syms (sizes of the functions to replace)")
    Path xenSyms;

    @Parameters(index = "3", paramLabel = "OUTPUT.o", description = "where to write the payload object")
    Path output;

    @Option(names = {"-d", "--debug"}, description = "explain why each function and section is in the output")
    boolean debug;

    @Option(names = "--json", paramLabel = "REPORT", description = "write the explanation as JSON to REPORT")
    Path json;

    @Option(names = "--funcs-version", paramLabel = "1|2",
            description = "livepatch_func layout: 1 (Xen 4.7-4.13, 64 bytes) or 2 (Xen 4.14+, 104 bytes); default: from XEN-SYMS")
    Integer funcsVersion;

    @Option(names = {"-r", "--resolve"}, description = "fill old_addr from XEN-SYMS instead of leaving it to the hypervisor")
    boolean resolve;

    @Spec
    CommandSpec spec;

    @Override
    public Map<ExitCode, String> exitCodes() {
        Map<ExitCode, String> m = new LinkedHashMap<>();
        m.put(ExitCode.OK, "changes found, OUTPUT.o written");
        m.put(ExitCode.DIFF_REFUSED, "a difference that cannot be patched safely");
        m.put(ExitCode.NO_CHANGE, "no functional change, nothing written");
        m.put(ExitCode.USAGE, "usage error");
        m.put(ExitCode.BAD_INPUT, "bad input (not an object, or one that cannot be diffed)");
        m.put(ExitCode.IO, "a file cannot be read or written");
        return m;
    }

    public static void main(String[] args) {
        System.exit(CommandRunner.run(new CreateDiffObjectCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        FuncLayout layout = null;
        if (funcsVersion != null) {
            if (funcsVersion != 1 && funcsVersion != 2) {
                throw new CommandRunner.UserError(ExitCode.USAGE, "--funcs-version must be 1 or 2, not " + funcsVersion);
            }
            layout = FuncLayout.forVersion(funcsVersion);
        }
        ElfFile o = ElfReader.read(orig);
        ElfFile p = ElfReader.read(patched);
        XenSymbolTable xen = XenSymbolTable.load(xenSyms);
        DiffResult r = new DiffEngine().diff(o, p, new DiffOptions(layout, xen, resolve));
        if (debug) {
            for (ReportEntry e : r.report()) {
                err.println("create-diff-object: " + e);
            }
        }
        for (String f : r.newFunctions()) {
            out.println("new function: " + f);
        }
        for (String f : r.changedFunctions()) {
            out.println("changed function: " + f);
        }
        for (String f : r.lineOnlyFunctions()) {
            out.println("line numbers only, not patched: " + f);
        }
        for (Refusal f : r.refusals()) {
            err.println("create-diff-object: ERROR: " + f);
        }
        switch (r.status()) {
            case NO_CHANGE -> out.println(patched.getFileName() + ": no functional change");
            case REFUSED -> err.println("create-diff-object: " + r.refusals().size() + " unpatchable difference(s)");
            case CHANGES -> AtomicFile.write(output, r.output());
        }
        ExitCode code = ExitMapper.of(r.status());
        if (json != null) {
            Files.writeString(json, DiffReportJson.of(orig.toString(), patched.toString(), r, code.number()), StandardCharsets.UTF_8);
        }
        out.flush();
        err.flush();
        return code.number();
    }
}
