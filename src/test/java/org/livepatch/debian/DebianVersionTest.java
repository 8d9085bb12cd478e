package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.livepatch.xenbuild.BuildException;

class DebianVersionTest {

    @Test
    void splitsUpstreamAndRevisionAtTheLastHyphen() throws Exception {
        DebianVersion v = DebianVersion.parse("4.17.5+72-g01140da4e8-1");
        assertEquals("", v.epoch());
        assertEquals("4.17.5+72-g01140da4e8", v.upstream());
        assertEquals("1", v.revision());
        assertEquals("4.17", v.series());
        assertEquals("4.17.5+72-g01140da4e8-1", v.toString());
    }

    @Test
    void securityUpdatesAndEpochs() throws Exception {
        DebianVersion sec = DebianVersion.parse("4.17.7+13-g2445b30a44-0+deb12u1");
        assertEquals("4.17.7+13-g2445b30a44", sec.upstream());
        assertEquals("0+deb12u1", sec.revision());
        DebianVersion trixie = DebianVersion.parse("4.20.4+63-g0a6f3ac8a6-1");
        assertEquals("4.20", trixie.series());
        DebianVersion withEpoch = DebianVersion.parse("1:4.17.5-2");
        assertEquals("1", withEpoch.epoch());
        assertEquals("1:4.17.5-2", withEpoch.toString());
        assertEquals("1%3a4.17.5-2", withEpoch.fileName());
    }

    @Test
    void refusesWhatIsNotAPackageVersion() {
        for (String bad : new String[] {"", "4.17.5", "xen-4.17.5-1", "4.17.5-1;rm", "4.17.5 -1", "../4.17-1", "4-1"}) {
            BuildException e = assertThrows(BuildException.class, () -> DebianVersion.parse(bad), bad);
            assertEquals(BuildException.Reason.BAD_OPTION, e.reason(), bad);
            assertTrue(e.getMessage().startsWith("--debian '" + bad + "'"), e.getMessage());
        }
    }
}
