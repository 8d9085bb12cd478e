package org.livepatch.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/** Xen's own example payloads ({@code make -C xen tests}) of the reference tree, and its xen-syms. */
final class InTreePayloads {
    private InTreePayloads() {}

    static Path dir() {
        return XenTree.root().resolve("xen/test/livepatch");
    }

    static Path payload(String name) {
        return dir().resolve(name + ".livepatch");
    }

    static PayloadFile file(String name) throws IOException {
        return PayloadFile.read(payload(name));
    }

    static List<Path> all() throws IOException {
        try (Stream<Path> s = Files.list(dir())) {
            return s.filter(p -> p.toString().endsWith(".livepatch")).sorted().toList();
        }
    }

    private static XenSymbolTable xen;

    static synchronized XenSymbolTable xen() throws IOException {
        if (xen == null) {
            xen = LoadCheck.readHypervisor(XenTree.xenSyms());
        }
        return xen;
    }
}
