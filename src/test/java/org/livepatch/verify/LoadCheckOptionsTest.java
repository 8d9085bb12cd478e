package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Each {@code with…} method sets its own component and no other: the slots must not be mixed up. */
class LoadCheckOptionsTest {

    @Test
    void defaultsAreAPlainApplyAtXensOwnPlacement() {
        LoadCheck.Options d = LoadCheck.Options.defaults();
        assertEquals(0, d.base());
        assertEquals(false, d.uploadOnly());
        assertEquals(false, d.nodeps());
        assertEquals(false, d.replaceLast());
    }

    @Test
    void eachWithSetsOnlyItsOwnComponent() {
        LoadCheck.Options d = LoadCheck.Options.defaults();
        assertEquals(new LoadCheck.Options(0x1000, false, false, false), d.withBase(0x1000));
        assertEquals(new LoadCheck.Options(0, true, false, false), d.withUploadOnly(true));
        assertEquals(new LoadCheck.Options(0, false, true, false), d.withNodeps(true));
        assertEquals(new LoadCheck.Options(0, false, false, true), d.withReplaceLast(true));
        LoadCheck.Options all = d.withBase(7).withUploadOnly(true).withNodeps(true).withReplaceLast(true);
        assertEquals(new LoadCheck.Options(7, true, true, true), all);
        assertEquals(new LoadCheck.Options(7, true, false, true), all.withNodeps(false));
    }
}
