package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AddedMacrosTest {
    private static final String MSR = """
            #ifndef __ASM_MSR_INDEX_H
            #define __ASM_MSR_INDEX_H
            /* AMD */
            #define MSR_AMD64_A 0xc0011020
            #define MSR_AMD64_B 0xc0011029 /* a comment
                                              over two lines */
            #define MSR_AMD64_C 0xc001102a
            #endif
            """;

    @Test
    void addedOneLineDefinesAboveDirectivesOnlyAreReported() {
        // stable-4.17 0005's shape: one MSR added to asm/msr-index.h.
        assertEquals(Optional.of(Set.of("MSR_AMD64_FP_CFG")),
                AddedMacros.of(MSR, MSR.replace("#define MSR_AMD64_B", "#define MSR_AMD64_FP_CFG\t\t0xc0011028\n\n#define MSR_AMD64_B")));
        assertEquals(Optional.of(Set.of("X", "Y")), AddedMacros.of(MSR, MSR.replace("#endif", "#define X(a) ((a) + 1)\n#define Y\n#endif")));
    }

    @Test
    void anythingElseIsNot() {
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR.replace("0xc0011029", "0xc0011030")), "a changed define");
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR.replace("#define MSR_AMD64_C 0xc001102a\n", "")), "a removed define");
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR.replace("/* AMD */", "/* AMD */\nint x;")), "a declaration");
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR.replace("/* AMD */", "/* AMD */\n#define M \\\n 1")), "a continued define");
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR.replace("/* AMD */", "/* AMD */\n#undef MSR_AMD64_A")), "an undef");
        assertEquals(Optional.empty(), AddedMacros.of(MSR, MSR), "no change");
    }

    @Test
    void codeBelowTheAdditionWouldMoveAndRulesItOut() {
        // Lines below the addition move: a __LINE__ expanded there (BUG_ON in an inline) changes.
        String withCode = MSR.replace("#endif", "static inline int f(void) { BUG_ON(1); return 0; }\n#endif");
        assertEquals(Optional.empty(), AddedMacros.of(withCode, withCode.replace("/* AMD */", "/* AMD */\n#define NEW 1")));
        assertEquals(Optional.of(Set.of("NEW")), AddedMacros.of(withCode, withCode.replace("#endif", "#define NEW 1\n#endif").replace(
                "#define NEW 1\n#endif", "#endif\n#define NEW 1")), "an addition below the code moves nothing that is code");
        String lineInIf = MSR.replace("#endif", "#if __LINE__ > 10\n#endif\n#endif");
        assertEquals(Optional.empty(), AddedMacros.of(lineInIf, lineInIf.replace("/* AMD */", "/* AMD */\n#define NEW 1")));
        String quoted = MSR.replace("#endif", "#define S \"/*\"\nint g(void);\n#endif");
        assertEquals(Optional.empty(), AddedMacros.of(quoted, quoted.replace("/* AMD */", "/* AMD */\n#define NEW 1")),
                "a /* inside a string opens no comment: the declaration below is code");
    }
}
