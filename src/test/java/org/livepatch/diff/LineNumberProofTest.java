package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How printf formats are read for the line-number proof: which conversion takes which argument,
 * and only a plain {@code %d} right after a {@code :} counts as the line of {@code "%s:%d"}.
 */
class LineNumberProofTest {
    @Test
    void xenFileAndLineFormats() {
        assertEquals(List.of("%s", ":%d"), LineNumberProof.conversions("domain_crash called from %s:%d\n"));
        // dprintk and debug builds' gdprintk, with a message of their own after the prefix.
        assertEquals(List.of("%s", ":%d", "%?"), LineNumberProof.conversions("<G><1>%s:%d: bad mfn %lx\n"));
        assertEquals(List.of("%s", ":%d", ":%p", "%d"), LineNumberProof.conversions("<G><1>%s:%d:%pv failed: %d\n"));
    }

    @Test
    void lookAlikesAreNotPlainConversions() {
        // "%%s" is a literal: the only conversion is the %d, whose argument is then the first.
        assertEquals(List.of(":%d"), LineNumberProof.conversions("%%s:%d"));
        // A width, flag or length makes it something else than a plain %d.
        assertEquals(List.of("%s", "%?"), LineNumberProof.conversions("%s:%5d"));
        assertEquals(List.of("%s", "%?"), LineNumberProof.conversions("%s:%-d"));
        assertEquals(List.of("%s", "%?"), LineNumberProof.conversions("%s:%ld"));
        // "*" takes an argument of its own, so the %d after it moves one argument on.
        assertEquals(List.of("*", "%?", "%s", ":%d"), LineNumberProof.conversions("%*d %s:%d"));
        // No ':' right before it: not the line of "%s:%d".
        assertEquals(List.of("%s", "%d"), LineNumberProof.conversions("%s line %d"));
    }

    @Test
    void unknownFormatsAreNotRead() {
        assertNull(LineNumberProof.conversions("%s:%Q"));
        assertNull(LineNumberProof.conversions("%s:%"));
    }
}
