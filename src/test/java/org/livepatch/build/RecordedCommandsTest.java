package org.livepatch.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How recorded command lines are read back (scripts/Kbuild.include: make-cmd escaping). */
class RecordedCommandsTest {

    @Test
    void unescapesDollarsAndPound() {
        assertEquals(Optional.of("case \"$name\" in x) echo '#';; esac; exit $$"),
                RecordedCommands.unescape("case \"$$name\" in x) echo '$(pound)';; esac; exit $$$$"));
    }

    @Test
    void refusesOtherMakeExpansions() {
        assertTrue(RecordedCommands.unescape("gcc $(CFLAGS) -c x.c").isEmpty());
        assertTrue(RecordedCommands.unescape("echo $").isEmpty());
    }

    @Test
    void dotNamesSitNextToTheObject() {
        assertEquals("common/.version.o.tmp", RecordedCommands.dotName("common/version.o", ".tmp"));
        assertEquals(".prelink.o.cmd", RecordedCommands.dotName("prelink.o", ".cmd"));
    }
}
