package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildId;
import org.livepatch.xenbuild.Workspace;

/** Fetch refusals through apt's ordinary client (no network needed: apt answers from its lists). */
class DebianStockTest {

    @Test
    void aVersionAptDoesNotKnowIsRefusedAndLeavesNothingInTheCache(@TempDir Path tmp) throws Exception {
        Workspace ws = new Workspace(tmp.resolve("cache"));
        BuildException e = assertThrows(BuildException.class, () -> DebianStock.obtain(
                DebianVersion.parse("4.17.5+72-g01140da4e8-99"), ws, System.getenv(), tmp.resolve("logs"), line -> { }));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().startsWith("--debian 4.17.5+72-g01140da4e8-99: apt does not know version 4.17.5+72-g01140da4e8-99"),
                e.getMessage());
        assertTrue(e.getMessage().contains("'apt-cache showsrc xen' lists the versions it knows"), e.getMessage());
        try (Stream<Path> s = Files.list(tmp.resolve("cache/debian"))) {
            assertEquals(0, s.count(), "no scratch directory left");
        }
    }

    /** A private apt configuration (APT_CONFIG) whose only source has no deb-src line. */
    @Test
    void withoutDebSrcTheMessageSaysHowToEnableIt(@TempDir Path tmp) throws Exception {
        Path apt = Files.createDirectories(tmp.resolve("apt"));
        for (String d : new String[] {"lists/partial", "cache/archives/partial", "sources.list.d"}) {
            Files.createDirectories(apt.resolve(d));
        }
        Files.writeString(apt.resolve("sources.list"), "deb http://deb.debian.org/debian bookworm main\n");
        Files.writeString(apt.resolve("apt.conf"), "Dir::Etc::SourceList \"" + apt.resolve("sources.list") + "\";\n"
                + "Dir::Etc::SourceParts \"" + apt.resolve("sources.list.d") + "\";\n"
                + "Dir::State::Lists \"" + apt.resolve("lists") + "\";\n"
                + "Dir::Cache \"" + apt.resolve("cache") + "\";\n");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("APT_CONFIG", apt.resolve("apt.conf").toString());
        BuildException e = assertThrows(BuildException.class, () -> DebianStock.obtain(
                DebianVersion.parse("4.17.5+72-g01140da4e8-1"), new Workspace(tmp.resolve("cache")), env, tmp.resolve("logs"), line -> { }));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        String m = e.getMessage();
        assertTrue(m.contains("apt has no deb-src entry: add 'deb-src' to the Types: line of /etc/apt/sources.list.d/debian.sources"), m);
        assertTrue(m.contains("You must put some 'deb-src' URIs in your sources.list"), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void theBuildIdNoteIsFoundInAnImageTheElfModelDoesNotRead() {
        byte[] image = new byte[200];
        byte[] note = HexFormat.of().parseHex("04000000" + "14000000" + "03000000" + "474e5500"
                + "39a640e6f1412319235087391df9f1c5e13ae920");
        System.arraycopy(note, 0, image, 77, note.length);
        assertEquals(Optional.of(new BuildId("39a640e6f1412319235087391df9f1c5e13ae920")), DebianStock.noteBuildId(image));
        // Another note type (NT_GNU_ABI_TAG = 1) is not a build-id.
        image[77 + 8] = 1;
        assertEquals(Optional.empty(), DebianStock.noteBuildId(image));
    }
}
