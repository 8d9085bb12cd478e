package org.livepatch.cli;

import org.livepatch.io.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.link.HypervisorLimits;
import org.livepatch.link.LinkException;
import org.livepatch.link.Prelinker;
import org.livepatch.payload.PayloadSections;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.xen.XenSymsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code prelink [-d] IN.o OUT.livepatch XEN-SYMS}: the upstream tool's prelink, same arguments.
 * Resolves every undefined symbol of a payload object to its address in {@code xen-syms}
 * ({@code SHN_ABS}) and fills zero {@code old_addr} fields, so the hypervisor needs no symbol
 * lookup to load it. When the input is already a complete payload (it has its build-id and both
 * dependency notes), the result is also checked against the hypervisor's limits and not written
 * if Xen would refuse it.
 */
@Command(name = "prelink", mixinStandardHelpOptions = true, version = "prelink 0.1",
        description = "Resolve a live-patch payload's references to the hypervisor ahead of load time.")
public final class PrelinkCommand implements Callable<Integer> {
    @Option(names = {"-d", "--debug"}, description = "print each resolved symbol to stderr")
    boolean debug;

    @Parameters(index = "0", paramLabel = "IN.o", description = "payload object (the output of ld -r)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.livepatch", description = "where to write the prelinked payload")
    Path out;

    @Parameters(index = "2", paramLabel = "XEN-SYMS", description = "the hypervisor image the payload will be loaded into")
    Path xenSyms;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(CommandRunner.run(new PrelinkCommand(), args));
    }

    @Override
    public Integer call() throws IOException, LinkException, XenSymsException {
        PrintWriter err = spec.commandLine().getErr();
        XenSymbolTable xen = XenSymbolTable.load(xenSyms);
        ElfFile payload = ElfReader.read(in);
        Prelinker prelinker = new Prelinker(xen, line -> {
            if (debug) {
                err.println("prelink: " + line);
            }
        });
        byte[] bytes = prelinker.prelink(payload);
        ElfFile result = ElfReader.read(out, bytes);
        boolean complete = List.of(PayloadSections.BUILD_ID, PayloadSections.DEPENDS, PayloadSections.XEN_DEPENDS).stream()
                .allMatch(n -> result.section(n).isPresent());
        if (complete) {
            String name = HypervisorLimits.payloadNameOf(out);
            for (String w : new HypervisorLimits(xen, xen.version().funcLayout()).check(out, name, bytes)) {
                err.println("prelink: warning: " + name + ": " + w);
            }
        } else if (debug) {
            err.println("prelink: " + in + " has no build-id/dependency notes yet: hypervisor checks left to the assembler");
        }
        AtomicFile.write(out, bytes);
        err.flush();
        return ExitCode.OK.number();
    }

}
