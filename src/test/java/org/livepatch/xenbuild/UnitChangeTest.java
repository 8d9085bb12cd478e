package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The declaration-level shortcut of a series step. Each case is a header before and after a
 * change, and a unit that includes it; the verdict is checked, and every "not compiled" verdict
 * is checked against GCC itself: both versions are compiled with Xen's code-shaping flags and
 * their objects must be byte-identical. A wrong "not compiled" would drop a change from a
 * payload without a word, so the compiler, not this code, has the last word on each.
 */
class UnitChangeTest {
    /** Xen's flags that shape code (from a 4.17 compile command), minus include paths. */
    private static final List<String> FLAGS = List.of("-m64", "-fno-strict-aliasing", "-std=gnu99", "-O2",
            "-fomit-frame-pointer", "-nostdinc", "-fno-builtin", "-fno-common", "-ffunction-sections", "-fdata-sections",
            "-mno-red-zone", "-fno-pie", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-jump-tables",
            "-Wa,--strip-local-absolute", "-g");

    private static final String COMMAND = "gcc -O2 -Wa,--strip-local-absolute -c u.c -o u.o";

    @TempDir
    Path tmp;

    private final StringBuilder unit = new StringBuilder();

    /** The verdict for {@code unitBody} including header {@code before}, then {@code after}. */
    private UnitChange.Verdict verdict(String before, String after, String unitBody) throws Exception {
        return UnitChange.between(preprocess(before, unitBody), preprocess(after, unitBody), COMMAND);
    }

    private String preprocess(String header, String unitBody) throws Exception {
        Files.writeString(tmp.resolve("h.h"), header);
        Files.writeString(tmp.resolve("u.c"), "#include \"h.h\"\n" + unitBody);
        Path out = tmp.resolve("u.i");
        run(cat(List.of("gcc"), FLAGS, List.of("-E", "-P", "u.c", "-o", out.toString())));
        return Files.readString(out, StandardCharsets.ISO_8859_1);
    }

    /** The object compiled from {@code unitBody} with {@code header}, without debug sections. */
    private byte[] object(String header, String unitBody) throws Exception {
        Files.writeString(tmp.resolve("h.h"), header);
        Files.writeString(tmp.resolve("u.c"), "#include \"h.h\"\n" + unitBody);
        Path o = tmp.resolve("u.o");
        run(cat(List.of("gcc"), FLAGS, List.of("-c", "u.c", "-o", o.toString())));
        run(List.of("objcopy", "--strip-debug", o.toString()));
        return Files.readAllBytes(o);
    }

    private void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    }

    @SafeVarargs
    private static List<String> cat(List<String>... parts) {
        List<String> out = new ArrayList<>();
        Arrays.stream(parts).forEach(out::addAll);
        return out;
    }

    /** Asserts "not compiled" and that GCC agrees: the objects are byte-identical. */
    private void assertNotCompiled(String before, String after, String unitBody, String why) throws Exception {
        UnitChange.Verdict v = verdict(before, after, unitBody);
        assertEquals(new UnitChange.Verdict(false, why), v);
        assertArrayEquals(object(before, unitBody), object(after, unitBody), "GCC disagrees: the objects differ");
    }

    private void assertCompiled(String before, String after, String unitBody, String why) throws Exception {
        assertEquals(new UnitChange.Verdict(true, why), verdict(before, after, unitBody));
    }

    /** A header like Xen's: types, prototypes, inline helpers, the unit uses some of them. */
    private static final String COMMON = """
            struct domain { int id; struct vnuma_info *vnuma; };
            struct vnuma_info { unsigned int nr; };
            typedef unsigned long mfn_t;
            #define always_inline __inline__ __attribute__((__always_inline__))
            int domain_id(const struct domain *d);
            static always_inline int used_helper(const struct domain *d) { return d->id + 1; }
            """;

    private static final String UNIT = """
            int count(struct domain *d, mfn_t m) { return used_helper(d) + domain_id(d) + (int)m; }
            """;

    @Test
    void aRenamedPrototypeTheUnitDoesNotCallIsNotCompiled() throws Exception {
        // stable-4.17 0048's shape: xen/domain.h renames vnuma_destroy to vnuma_replace.
        assertNotCompiled(COMMON + "void vnuma_destroy(struct vnuma_info *vnuma);\n",
                COMMON + "void vnuma_replace(struct domain *d, struct vnuma_info *vnuma);\n", UNIT,
                "only declarations it does not use changed: vnuma_destroy, vnuma_replace");
    }

    @Test
    void aChangedStaticInlineTheUnitDoesNotCallIsNotCompiled() throws Exception {
        // 0010/0012's shape: an xsm/dummy.h hook's body changes.
        String hook = "static always_inline int __attribute__((__nonnull__)) xsm_domctl(struct domain *d, int cmd)"
                + " { switch (cmd) { case 1: return 0; default: return d->id ? -1 : %s; } }\n";
        assertNotCompiled(COMMON + hook.formatted("0"), COMMON + hook.formatted("-13"), UNIT,
                "only declarations it does not use changed: xsm_domctl");
    }

    @Test
    void newTypesEnumsTypedefsAndExternsTheUnitDoesNotUseAreNotCompiled() throws Exception {
        assertNotCompiled(COMMON, COMMON + """
                struct added { int a; long b; } __attribute__((__packed__));
                enum { ADDED_A = 3, ADDED_B };
                typedef struct { int x; } added_t;
                typedef int (*added_fn)(struct domain *);
                extern unsigned int added_counter;
                extern int added_fn_ptr(void) __attribute__((__warn_unused_result__)), added_other(int);
                struct only_forward;
                """, UNIT, "only declarations it does not use changed: ADDED_A, ADDED_B, added, added_counter, added_fn,"
                + " added_fn_ptr, added_other, added_t, only_forward");
    }

    @Test
    void anInitSectionOnAnUnusedStaticInlineIsNotCompiledButOnAPrototypeItIs() throws Exception {
        String init = "static __inline__ __attribute__((__section__(\".init.text\"))) int setup_%s(void) { return %s; }\n";
        assertNotCompiled(COMMON + init.formatted("a", "1"), COMMON + init.formatted("a", "2"), UNIT,
                "only declarations it does not use changed: setup_a");
        assertCompiled(COMMON, COMMON + "int __attribute__((__section__(\".init.text\"))) setup_b(void);\n", UNIT,
                "a changed item is attribute __section__: int __attribute__ ( ( __section__ ( \".init.text\" ) ) ) setup_b ( void ) ;");
    }

    @Test
    void spacingAloneIsNotCompiled() throws Exception {
        assertNotCompiled(COMMON + "int   f( int );\n", COMMON + "int f(int);\n", UNIT, "the same tokens");
    }

    @Test
    void aChangedInlineTheUnitCallsIsCompiled() throws Exception {
        assertCompiled(COMMON, COMMON.replace("d->id + 1", "d->id + 2"), UNIT, "it uses used_helper, whose declaration changed");
    }

    @Test
    void aStructTheUnitReachesOnlyThroughAnotherTypeIsCompiled() throws Exception {
        // The unit never writes "inner": it reaches it through outer's member and get()'s type.
        String h = "struct inner { int pad%s; int x; };\nstruct outer { struct inner in; };\nstruct outer *get(void);\n";
        String u = "int f(void) { return get()->in.x; }\n";
        assertCompiled(h.formatted(""), h.formatted("[2]"), u, "it uses inner, whose declaration changed");
        assertFalse(Arrays.equals(object(h.formatted(""), u), object(h.formatted("[2]"), u)), "the code does change");
    }

    @Test
    void aTagNestedInAChangedStructCountsEvenAfterAnAttribute() throws Exception {
        // The nested tag is declared at file scope: a unit naming only it uses the changed item.
        String h = "struct outer { int a; struct __attribute__((__packed__)) inner { char c; %s d; } in; };\n";
        String u = "int f(struct inner *p) { return (int)sizeof(*p) + p->c; }\n";
        assertCompiled(h.formatted("int"), h.formatted("long"), u, "it uses inner, whose declaration changed");
        assertFalse(Arrays.equals(object(h.formatted("int"), u), object(h.formatted("long"), u)), "the code does change");
    }

    @Test
    void anEnumeratorInsertedBeforeOnesTheUnitUsesIsCompiled() throws Exception {
        String u = "int f(void) { return E_LAST; }\n";
        assertCompiled("enum { E_FIRST, E_LAST };\n", "enum { E_FIRST, E_NEW, E_LAST };\n", u,
                "it uses E_LAST, whose declaration changed");
    }

    @Test
    void aCpuFeatureAddedToEnumAndAssemblerIsNotCompiledWhereTheUnitDoesNotNameIt() throws Exception {
        // stable-4.17 0007's shape: asm/cpufeatureset.h declares each feature twice, as an
        // enumerator and as an assembler constant; the unit uses the others, in C and in asm.
        String h = """
                enum {
                X86_FEATURE_A = (0*32+ 1), X86_FEATURE_B = (1*32+ 3),%s
                };
                asm (".equ X86_FEATURE_" "A" ", " "(0*32+ 1)");
                asm (".equ X86_FEATURE_" "B" ", " "(1*32+ 3)");
                %s""";
        String u = "int f(int x) { asm volatile(\"bt $X86_FEATURE_A, %0\" : : \"r\"(x)); return x == X86_FEATURE_B; }\n";
        String before = h.formatted("", "");
        String after = h.formatted(" X86_FEATURE_NEW = (11*32+30),", "asm (\".equ X86_FEATURE_\" \"NEW\" \", \" \"(11*32+30)\");\n");
        assertNotCompiled(before, after, u, "only declarations it does not use changed: X86_FEATURE_NEW");
        assertCompiled(before, after, u.replace("X86_FEATURE_B;", "X86_FEATURE_NEW;"), "it uses X86_FEATURE_NEW, whose declaration changed");
        assertEquals(new UnitChange.Verdict(true, "a changed item is top-level asm: asm ( \".equ X86_FEATURE_\" \"NEW\" \", \" \"(11*32+30)\" ) ;"),
                UnitChange.between(preprocess(before, u), preprocess(after, u), "gcc -O2 -c u.c -o u.o"),
                "without --strip-local-absolute the symbol stays in the object");
    }

    @Test
    void enumeratorsWhoseValuesItCannotComputeCountAsAllChanged() throws Exception {
        String u = "int f(void) { return E_B; }\n";
        assertCompiled("enum { E_A = 1, E_B = E_A + 1 };\n", "enum { E_A = 1, E_B = E_A + 1, E_C = 7 };\n", u,
                "it uses E_B, whose declaration changed");
        assertNotCompiled("enum { E_A = 1, E_B = 0x10 << 2 };\n", "enum { E_A = 1, E_B = 0x10 << 2, E_C = 7 };\n", u,
                "only declarations it does not use changed: E_C");
        assertCompiled("", "asm(\".equ LABEL_REF, 1f\");\n", u, "a changed item is top-level asm: asm ( \".equ LABEL_REF, 1f\" ) ;");
    }

    @Test
    void definitionsThatEmitSomethingAreCompiled() throws Exception {
        assertCompiled(COMMON, COMMON + "static int counter;\n", UNIT, "a changed item is a definition of an object: static int counter ;");
        assertCompiled(COMMON, COMMON + "int (*hook)(void);\n", UNIT, "a changed item is a definition of an object: int ( * hook ) ( void ) ;");
        assertCompiled(COMMON, COMMON + "const int table[2] = { 1, 2 };\n", UNIT,
                "a changed item is a definition with an initializer: const int table [ 2 ] = { 1 , 2 } ;");
        assertCompiled(COMMON, COMMON + "int g(void) { return 1; }\n", UNIT,
                "a changed item is a function definition that is not static inline: int g ( void ) { return 1 ; }");
        assertCompiled(COMMON, COMMON + "struct s { int a; } instance;\n", UNIT,
                "a changed item is a type definition that also defines an object: struct s { int a ; } instance ;");
        assertCompiled(COMMON, COMMON + "asm(\".globl x\");\n", UNIT, "a changed item is top-level asm: asm ( \".globl x\" ) ;");
        assertCompiled(COMMON, COMMON + "_Static_assert(1, \"x\");\n", UNIT,
                "a changed item is a static assertion: _Static_assert ( 1 , \"x\" ) ;");
    }

    @Test
    void attributesThatEmitOrRenameAreCompiled() throws Exception {
        assertCompiled(COMMON, COMMON + "static inline int __attribute__((__used__)) kept(void) { return 1; }\n", UNIT,
                "a changed item is attribute __used__: static inline int __attribute__ ( ( __used__ ) ) kept ( void ) { return 1 ; }");
        assertCompiled(COMMON, COMMON + "int aliased(void) __attribute__((alias(\"domain_id\")));\n", UNIT,
                "a changed item is attribute alias: int aliased ( void ) __attribute__ ( ( alias ( \"domain_id\" ) ) ) ;");
        assertCompiled(COMMON, COMMON + "extern int renamed asm(\"other\");\n", UNIT,
                "a changed item is an asm label: extern int renamed asm ( \"other\" ) ;");
    }

    @Test
    void pragmasAndNamesTheCompilerCallsByItselfAreCompiled() throws Exception {
        assertCompiled(COMMON, COMMON + "#pragma GCC visibility push(hidden)\n", UNIT,
                "a changed item is a directive (#pragma GCC visibility push(hidden)): #pragma GCC visibility push(hidden)");
        assertCompiled(COMMON, COMMON + "void *memcpy(void *d, const void *s, unsigned long n);\n", UNIT,
                "a changed item is it declares memcpy, a name the compiler may use without the unit naming it:"
                        + " void * memcpy ( void * d , const void * s , unsigned long n ) ;");
    }

    @Test
    void aNameUsedOnlyInsideAStringCountsAsUsed() throws Exception {
        String h = "static inline int helper(void) { return %s; }\n";
        String u = "int f(void) { int r; asm volatile(\"call helper\" : \"=a\"(r)); return r; }\n";
        assertCompiled(h.formatted("1"), h.formatted("2"), u, "it uses helper, whose declaration changed");
    }

    @Test
    void aRemovedDeclarationTheUnitStillNamesIsCompiled() throws Exception {
        assertCompiled(COMMON, COMMON.replace("int domain_id(const struct domain *d);\n", ""), UNIT,
                "it uses domain_id, whose declaration changed");
    }

    @Test
    void textItCannotReadAndFlagsThatKeepInlinesAreCompiled() {
        assertEquals(new UnitChange.Verdict(true, "its preprocessed text has an unbalanced '}'"),
                UnitChange.between("int a;\n", "int a; }\n", COMMAND));
        assertEquals(new UnitChange.Verdict(true, "its preprocessed text has an unterminated declaration at the end"),
                UnitChange.between("int a;\n", "int a; int b\n", COMMAND));
        assertEquals(new UnitChange.Verdict(true, "compiled with -fkeep-inline-functions or -fkeep-static-functions"),
                UnitChange.between("int f(void);\n", "int g(void);\n", "gcc -O2 -fkeep-inline-functions -c u.c -o u.o"));
        assertEquals(new UnitChange.Verdict(true, "not a C unit (assembly is not read here)"),
                UnitChange.between("int f(void);\n", "int g(void);\n", "gcc -D__ASSEMBLY__ -c entry.S -o entry.o"));
        assertEquals(new UnitChange.Verdict(false, "only declarations it does not use changed: f, g"),
                UnitChange.between("int f(void);\n", "int g(void);\n", COMMAND));
    }
}
