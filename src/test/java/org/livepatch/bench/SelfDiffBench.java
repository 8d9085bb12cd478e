package org.livepatch.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.livepatch.diff.DiffEngine;
import org.livepatch.diff.DiffOptions;
import org.livepatch.diff.DiffResult;
import org.livepatch.xen.XenSymbolTable;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.testsupport.XenTree;

/**
 * Benchmark entry point (tests/bench/run): the diff stage over every object of a built Xen tree
 * against itself, in one process, the way a header change that rebuilds everything would diff.
 * Prints one line of JSON: object count, time to load xen-syms, and the diff time sequentially
 * and on all cores. Not a test: it measures, it does not judge.
 *
 * <p>Usage: {@code SelfDiffBench <built tree (holds xen/)>}
 */
public final class SelfDiffBench {
    private SelfDiffBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: SelfDiffBench <built Xen tree>");
            System.exit(64);
        }
        Path xen = Path.of(args[0]).resolve("xen");
        List<Path> objects = XenTree.compiledObjects(xen);
        long t0 = System.nanoTime();
        XenSymbolTable syms = XenSymbolTable.of(ElfReader.read(xen.resolve("xen-syms")));
        long symsNanos = System.nanoTime() - t0;
        DiffOptions options = new DiffOptions(null, syms, false);

        // The first pass pays for class loading and JIT, as one livepatch-build process does;
        // the best of three later passes is what a long-running batch sees.
        long cold = time(() -> run(objects, options, false));
        long seq = Long.MAX_VALUE;
        long par = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            seq = Math.min(seq, time(() -> run(objects, options, false)));
            par = Math.min(par, time(() -> run(objects, options, true)));
        }
        int changed = run(objects, options, true);
        System.out.printf("{\"objects\": %d, \"xen_syms_load_s\": %.3f, \"first_pass_s\": %.3f, \"sequential_s\": %.3f, \"parallel_s\": %.3f, \"threads\": %d, \"not_no_change\": %d}%n",
                objects.size(), symsNanos / 1e9, cold / 1e9, seq / 1e9, par / 1e9, Runtime.getRuntime().availableProcessors(), changed);
    }

    private interface Body {
        void run() throws IOException;
    }

    private static long time(Body b) throws IOException {
        long t = System.nanoTime();
        b.run();
        return System.nanoTime() - t;
    }

    /** Reads and diffs every object against itself; returns how many were not "no change". */
    private static int run(List<Path> objects, DiffOptions options, boolean parallel) throws IOException {
        AtomicInteger odd = new AtomicInteger();
        ConcurrentLinkedQueue<IOException> errors = new ConcurrentLinkedQueue<>();
        Stream<Path> s = parallel ? objects.parallelStream() : objects.stream();
        s.forEach(o -> {
            try {
                byte[] bytes = Files.readAllBytes(o);
                ElfFile a = ElfReader.read(o, bytes);
                ElfFile b = ElfReader.read(o, bytes.clone());
                if (new DiffEngine().diff(a, b, options).status() != DiffResult.Status.NO_CHANGE) {
                    odd.incrementAndGet();
                }
            } catch (IOException e) {
                errors.add(e);
            }
        });
        if (!errors.isEmpty()) {
            throw errors.peek();
        }
        return odd.get();
    }
}
