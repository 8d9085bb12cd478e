package org.livepatch.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A payload's bytes and the name it is uploaded under: the file name without its last extension,
 * as {@code xen-livepatch load} names it (tools/misc/xen-livepatch.c).
 */
public record PayloadFile(String name, Path path, byte[] data) {

    public PayloadFile {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** Reads at most 2 MiB + 1 bytes: anything larger is refused by Xen anyway, so a huge file costs no memory. */
    public static PayloadFile read(Path path) throws IOException {
        byte[] data;
        try (var in = Files.newInputStream(path)) {
            data = in.readNBytes((int) HypervisorRules.MAX_PAYLOAD_SIZE + 1);
        }
        return new PayloadFile(nameOf(path), path, data);
    }

    public static PayloadFile of(String name, byte[] data) {
        return new PayloadFile(name, null, data);
    }

    /** "xen_hello_world" for {@code .../xen_hello_world.livepatch}. */
    public static String nameOf(Path path) {
        String f = path.getFileName().toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }
}
