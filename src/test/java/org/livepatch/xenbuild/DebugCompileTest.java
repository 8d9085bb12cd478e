package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The recorded compile command turned into a -g compile to a file of ours: the dependency file
 * and the object are never written where the recorded command would write them, every other
 * word stays, and anything the shell would do more than split refuses the rewrite.
 */
class DebugCompileTest {

    /** The shape of Xen 4.17's cmd_cc_o_c under CONFIG_ENFORCE_UNIQUE_SYMBOLS, shortened. */
    private static final String XEN = "gcc -MMD -MP -MF common/.grant_table.o.d -m64 -DBUILD_ID -O2 -include ./include/xen/config.h"
            + " -I./include '-D__OBJECT_LABEL__=common/grant_table.o' -c common/grant_table.c -o common/.grant_table.o.tmp"
            + " -MQ common/grant_table.o";

    @Test
    void xensCommandKeepsItsFlagsAndWritesOnlyOurFile() {
        DebugCompile.Plan p = DebugCompile.of(XEN, Path.of("/tmp/out/grant_table.o"));
        DebugCompile c = p.compile().orElseThrow(() -> new AssertionError(p.whyNot()));
        assertEquals("common/grant_table.c", c.source());
        assertEquals(List.of("gcc", "-m64", "-DBUILD_ID", "-O2", "-include", "./include/xen/config.h", "-I./include",
                "-D__OBJECT_LABEL__=common/grant_table.o", "-c", "common/grant_table.c",
                "-g", "-gdwarf-4", "-fno-var-tracking", "-o", "/tmp/out/grant_table.o"), c.argv());
    }

    @Test
    void otherSpellingsOfTheDependencyFileAreDroppedToo() {
        DebugCompile c = DebugCompile.of("gcc -Wp,-MD,dir/.a.o.d -MFdir/.a.o.d2 -MQa.o -c dir/a.c -odir/a.o", Path.of("/t/a.o"))
                .compile().orElseThrow();
        assertEquals(List.of("gcc", "-c", "dir/a.c", "-g", "-gdwarf-4", "-fno-var-tracking", "-o", "/t/a.o"), c.argv());
    }

    @Test
    void makeEscapesAreUndoneAndAssemblyIsNotC() {
        DebugCompile c = DebugCompile.of("gcc '-DX=$$1' -c a.c -o a.o", Path.of("o")).compile().orElseThrow();
        assertTrue(c.argv().contains("-DX=$1"), c.argv().toString());
        DebugCompile.Plan asm = DebugCompile.of("gcc -D__ASSEMBLY__ -c arch/x86/entry.S -o arch/x86/entry.o", Path.of("o"));
        assertTrue(asm.notC() && asm.compile().isEmpty());
    }

    @Test
    void whatTheShellWouldExpandIsNotRewritten() {
        for (String cmd : List.of("gcc -c a.c -o a.o && objcopy a.o", "gcc -c $(CC) a.c -o a.o", "gcc -c a.c -o a.o > log",
                "gcc -c *.c -o a.o", "gcc -c \"a.c -o a.o", "ld -r a.o -o b.o", "gcc -c a.c b.c -o x.o")) {
            DebugCompile.Plan p = DebugCompile.of(cmd, Path.of("o"));
            assertTrue(p.compile().isEmpty() && !p.notC(), cmd + " -> " + p);
        }
        assertEquals(Optional.of(List.of("a b", "c\"d", "e\\f")), DebugCompile.words("'a b' \"c\\\"d\" e\\\\f"));
        assertFalse(DebugCompile.words("a;b").isPresent());
    }
}
