package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** A real-Xen test missing a prerequisite skips on a developer's machine but fails when CI requires Xen. */
class XenTreeTest {
    @Test
    void missingPrerequisiteFailsWhenXenIsRequired() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> XenTree.require(false, "no tree", true));
        assertTrue(e.getMessage().contains("LPB_REQUIRE_XEN=1 but no tree"), e.getMessage());
    }

    @Test
    void missingPrerequisiteSkipsOtherwise() {
        assertThrows(TestAbortedException.class, () -> XenTree.require(false, "no tree", false));
    }

    @Test
    void presentPrerequisiteNeverStopsTheTest() {
        assertDoesNotThrow(() -> XenTree.require(true, "tree", true));
        assertDoesNotThrow(() -> XenTree.require(true, "tree", false));
    }
}
