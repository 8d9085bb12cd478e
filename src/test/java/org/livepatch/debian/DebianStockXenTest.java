package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.LivepatchBuildCommand;
import org.livepatch.testsupport.Tools;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import picocli.CommandLine;

/**
 * {@code --debian 4.17.5+72-g01140da4e8-1}: Debian bookworm's hypervisor package, rebuilt from its
 * source package as Debian's rules build it, must reproduce the shipped build-id
 * {@code 39a640e6f1412319235087391df9f1c5e13ae920} (read from the -dbg package's xen-syms and the
 * stock xen.gz with readelf when the design was measured; a constant here, not taken from the
 * tool), and the payload built for it must depend on that id and load on that xen-syms. Fetches
 * the packages with apt into $LPB_CACHE the first time (deb-src must be enabled); the reference
 * build takes minutes the first time, then comes from the cache.
 */
@Tag("xen")
class DebianStockXenTest {
    static final String VERSION = "4.17.5+72-g01140da4e8-1";
    static final String STOCK_ID = "39a640e6f1412319235087391df9f1c5e13ae920";

    @Test
    void theRebuiltReferenceHasTheStockBuildIdAndThePayloadLoadsOnTheStockXenSyms(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new LivepatchBuildCommand()), new PrintWriter(new StringWriter()),
                new PrintWriter(err), "--debian", VERSION, "-p",
                Tools.fixtures().resolve("patches/xen-4.17/hello.patch").toString(), "-o", out.toString());
        assertEquals(0, code, err.toString());

        String report = Files.readString(out.resolve("hello.json")).replaceAll("\\s+", "");
        assertTrue(report.contains("\"build_id_proof\":{\"stock\":\"" + STOCK_ID + "\",\"rebuilt\":\"" + STOCK_ID
                + "\",\"equal\":true}"), report);
        assertTrue(report.contains("\"packages\":{\"dbg\":\"xen-hypervisor-4.17-amd64-dbg=" + VERSION
                + "\",\"hypervisor\":\"xen-hypervisor-4.17-amd64=" + VERSION + "\",\"source\":\"xen=" + VERSION + "\"}"), report);
        assertTrue(report.contains("\"depends\":\"" + STOCK_ID + "\""), report);
        assertTrue(report.contains("\"xen_depends\":\"" + STOCK_ID + "\""), report);
        // Debian's make arguments were the build's.
        assertTrue(report.contains("\"CC=x86_64-linux-gnu-gcc\""), report);
        assertTrue(report.contains("\"gcc\":\"x86_64-linux-gnu-gcc(Debian12.2.0-14+deb12u1)12.2.0\""), report);

        Path xenSyms = org.livepatch.xenbuild.Workspace.fromEnvironment(System.getenv()).root()
                .resolve("debian").resolve(VERSION).resolve("stock/usr/lib/debug/boot/xen-syms-4.17-amd64");
        var load = LoadCheck.check(LoadCheck.readHypervisor(xenSyms), java.util.List.of(PayloadFile.read(out.resolve("hello.livepatch"))),
                LoadCheck.Options.defaults());
        assertTrue(load.accepted(), "refused by our loader: " + load.firstRejection());
    }
}
