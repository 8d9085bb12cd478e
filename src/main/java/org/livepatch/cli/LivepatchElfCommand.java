package org.livepatch.cli;

import org.livepatch.io.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.ObjectBuilder;
import org.livepatch.elf.ElfSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code livepatch-elf}: look inside ELF objects with the project's own model. */
@Command(name = "livepatch-elf", mixinStandardHelpOptions = true, version = "livepatch-elf 0.1",
        description = "Inspect ELF objects and payloads with livepatch-build's ELF model.",
        subcommands = {LivepatchElfCommand.Dump.class, LivepatchElfCommand.Rewrite.class, LivepatchElfCommand.BuildId.class})
public final class LivepatchElfCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCode.USAGE.number();
    }

    public static void main(String[] args) {
        System.exit(CommandRunner.run(new LivepatchElfCommand(), args));
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Print sections, symbols and (with -r) relocations, like readelf -S -s -r.")
    static final class Dump implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "ELF files to dump")
        Path[] files;

        @Option(names = {"-r", "--relocs"}, description = "also print relocations")
        boolean relocs;

        @Option(names = {"-n", "--notes"}, description = "also print notes")
        boolean notes;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            for (Path f : files) {
                ElfFile elf = ElfReader.read(f);
                new ElfSummary(elf).print(out, relocs, notes);
            }
            out.flush();
            return ExitCode.OK.number();
        }
    }

    @Command(name = "rewrite", mixinStandardHelpOptions = true,
            description = "Read a relocatable object into the model and write it back (a round trip).")
    static final class Rewrite implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "IN.o")
        Path in;

        @Parameters(index = "1", paramLabel = "OUT.o")
        Path out;

        @Override
        public Integer call() throws IOException {
            ElfFile elf = ElfReader.read(in);
            if (!elf.header().isRelocatable()) {
                throw new CommandRunner.UserError(ExitCode.BAD_INPUT, in + ": not a relocatable object (e_type " + elf.header().type() + ")");
            }
            byte[] bytes = ObjectBuilder.copyOf(elf).builder().toBytes();
            AtomicFile.write(out, bytes);
            return ExitCode.OK.number();
        }
    }

    @Command(name = "build-id", mixinStandardHelpOptions = true,
            description = {"Print the GNU build-id of each file (40 hex digits for Xen's sha1 ids), one line per file, in order.",
                    "A file without a build-id note is an error, so a script never gets an empty id."})
    static final class BuildId implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "ELF files (xen-syms, payloads, objects)")
        Path[] files;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            for (Path f : files) {
                String hex = ElfReader.read(f).buildId().map(Bytes::toHex).orElseThrow(() ->
                        new CommandRunner.UserError(ExitCode.BAD_INPUT, f + ": no GNU build-id note"));
                out.println(hex);
            }
            out.flush();
            return 0;
        }
    }
}
