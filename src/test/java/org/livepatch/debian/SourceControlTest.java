package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.livepatch.xenbuild.BuildException;

class SourceControlTest {
    private static final Path DSC = Path.of("xen_4.17.5+72-g01140da4e8-1.dsc");

    /** The shape of the archive's xen 4.17.5+72 .dsc (fields shortened; the checksums are the real ones). */
    static final String SIGNED = """
            -----BEGIN PGP SIGNED MESSAGE-----
            Hash: SHA512

            Format: 3.0 (quilt)
            Source: xen
            Binary: xenstore-utils, xen-utils-common, xen-hypervisor-common, xen-doc, xen-utils-4.17,
             xen-hypervisor-4.17-amd64, xen-hypervisor-4.17-amd64-dbg, xen-system-amd64
            Architecture: amd64 arm64 armhf
            Version: 4.17.5+72-g01140da4e8-1
            Maintainer: Debian Xen Team <pkg-xen-devel@lists.alioth.debian.org>
            Package-List:
             xen-hypervisor-4.17-amd64 deb kernel optional arch=amd64
            Checksums-Sha256:
             53922f4d0a02c577f2ea9d63f65989cd88715779eebeed879ca1d314103ee06e 4735560 xen_4.17.5+72-g01140da4e8.orig.tar.xz
             5bcf3812c64585e270e0b3fa6ee8fd16dff7b9bc0f61375d648c64672484c4d9 139916 xen_4.17.5+72-g01140da4e8-1.debian.tar.xz
            Files:
             a06455fe8e2cb343077c1160dcbb542d 4735560 xen_4.17.5+72-g01140da4e8.orig.tar.xz

            -----BEGIN PGP SIGNATURE-----

            iQIzBAEBCgAdFiEEtuYvPRKsOElcDakFEMKTtsN8TjYFAmku1R8ACgkQEMKTtsN8
            -----END PGP SIGNATURE-----
            """;

    @Test
    void readsTheFieldsOfASignedControlFile() throws Exception {
        SourceControl c = SourceControl.parse(DSC, SIGNED);
        assertEquals("xen", c.source());
        assertEquals("4.17.5+72-g01140da4e8-1", c.version());
        assertEquals(List.of("xenstore-utils", "xen-utils-common", "xen-hypervisor-common", "xen-doc", "xen-utils-4.17",
                "xen-hypervisor-4.17-amd64", "xen-hypervisor-4.17-amd64-dbg", "xen-system-amd64"), c.binaries());
        assertEquals(List.of("xen_4.17.5+72-g01140da4e8.orig.tar.xz", "xen_4.17.5+72-g01140da4e8-1.debian.tar.xz"),
                List.copyOf(c.files().keySet()));
        assertEquals("5bcf3812c64585e270e0b3fa6ee8fd16dff7b9bc0f61375d648c64672484c4d9",
                c.files().get("xen_4.17.5+72-g01140da4e8-1.debian.tar.xz"));
        assertEquals(Optional.of("xen_4.17.5+72-g01140da4e8.orig.tar.xz"), c.file(".orig"));
        assertEquals(Optional.of("xen_4.17.5+72-g01140da4e8-1.debian.tar.xz"), c.file(".debian"));
    }

    @Test
    void anUnsignedControlFileToo() throws Exception {
        String unsigned = SIGNED.substring(SIGNED.indexOf("Format:"), SIGNED.indexOf("-----BEGIN PGP SIGNATURE"));
        assertEquals("4.17.5+72-g01140da4e8-1", SourceControl.parse(DSC, unsigned).version());
    }

    @Test
    void theHypervisorPackagesMustBeAmongTheBinaries() throws Exception {
        SourceControl c = SourceControl.parse(DSC, SIGNED);
        assertEquals("xen-hypervisor-4.17-amd64", DebianStock.hypervisorPackage(c, DebianVersion.parse("4.17.5+72-g01140da4e8-1"), DSC));
        BuildException e = assertThrows(BuildException.class,
                () -> DebianStock.hypervisorPackage(c, DebianVersion.parse("4.20.4+63-g0a6f3ac8a6-1"), DSC));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().contains("does not build xen-hypervisor-4.20-amd64 and xen-hypervisor-4.20-amd64-dbg"), e.getMessage());
    }

    @Test
    void malformedControlFilesAreRefusedNamingTheProblem() {
        String noVersion = SIGNED.replace("Version: 4.17.5+72-g01140da4e8-1\n", "");
        BuildException e = assertThrows(BuildException.class, () -> SourceControl.parse(DSC, noVersion));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().endsWith("not a source control file (.dsc): no Version field"), e.getMessage());

        String badSum = SIGNED.replace(" 139916 xen_4.17.5+72-g01140da4e8-1.debian.tar.xz", " xen_4.17.5+72-g01140da4e8-1.debian.tar.xz");
        e = assertThrows(BuildException.class, () -> SourceControl.parse(DSC, badSum));
        assertTrue(e.getMessage().contains("Checksums-Sha256 entry is not 'SHA256 SIZE NAME'"), e.getMessage());

        String escape = SIGNED.replace(" 139916 xen_4.17.5+72-g01140da4e8-1.debian.tar.xz", " 139916 ../evil.tar.xz");
        e = assertThrows(BuildException.class, () -> SourceControl.parse(DSC, escape));
        assertTrue(e.getMessage().contains("../evil.tar.xz"), e.getMessage());
    }
}
