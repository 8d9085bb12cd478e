package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfReader;
import org.livepatch.layout.DwarfReader;
import org.livepatch.layout.LayoutChange;
import org.livepatch.layout.LayoutDiff;
import org.livepatch.layout.TypeLayouts;

/**
 * The text proof of the type-layout check. Every "proven alike" case is checked against the
 * check it replaces: both units compiled with -g and compared by {@link LayoutDiff} must show no
 * change. The cases the proof declines show why it must: there the DWARF check does see one.
 */
class LayoutTextProofTest {
    @TempDir
    Path tmp;

    private String preprocess(String source) throws Exception {
        Files.writeString(tmp.resolve("u.c"), source);
        run("gcc", "-E", "-P", "u.c", "-o", "u.i");
        return Files.readString(tmp.resolve("u.i"), StandardCharsets.ISO_8859_1);
    }

    private List<LayoutChange> dwarf(String before, String after) throws Exception {
        TypeLayouts[] sides = new TypeLayouts[2];
        for (int s = 0; s < 2; s++) {
            Files.writeString(tmp.resolve("u.c"), s == 0 ? before : after);
            run("gcc", "-O2", "-gdwarf-4", "-c", "u.c", "-o", "u" + s + ".o");
            sides[s] = TypeLayouts.of(DwarfReader.read(ElfReader.read(tmp.resolve("u" + s + ".o"))));
        }
        return LayoutDiff.compare("u.o", sides[0], sides[1]);
    }

    private void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + "\n" + out);
    }

    private void assertProven(String before, String after) throws Exception {
        assertEquals(Optional.empty(), LayoutTextProof.whyNot(preprocess(before), preprocess(after)));
        assertEquals(List.of(), dwarf(before, after), "the DWARF check disagrees");
    }

    private void assertDeclined(String before, String after, String why, boolean dwarfSeesAChange) throws Exception {
        assertEquals(Optional.of(why), LayoutTextProof.whyNot(preprocess(before), preprocess(after)));
        assertEquals(dwarfSeesAChange, !dwarf(before, after).isEmpty());
    }

    private static final String TYPES = """
            struct vcpu { int id; struct domain *d; };
            struct domain { int id; long pages; struct vcpu *v[4]; };
            typedef struct { int a; } pair_t;
            enum state { RUNNING = 1, BLOCKED = 2 };
            int domain_pages(const struct domain *d);
            """;

    @Test
    void aFixInFunctionBodiesAndNewFunctionsIsProvenAlike() throws Exception {
        String body = "int f(struct domain *d) { return d->id + %s; }\nstruct vcpu *g(struct domain *d) { return d->v[0]; }\n";
        assertProven(TYPES + body.formatted("1"), TYPES + body.formatted("domain_pages(d)")
                + "static int added(pair_t *p) { return p->a; }\nint domain_pages(const struct domain *d);\n");
        assertProven(TYPES + body.formatted("1"), TYPES.replace("int domain_pages(const struct domain *d);",
                "long domain_pages(const struct domain *d, int x);") + body.formatted("1"));
    }

    @Test
    void aChangedTypeIsDeclined() throws Exception {
        assertDeclined(TYPES + "int f(struct domain *d) { return d->id; }\n",
                TYPES.replace("long pages;", "long pages; int lock;") + "int f(struct domain *d) { return d->id; }\n",
                "a changed item defines a type, or is a directive or asm: struct domain { int id ; long pages ; struct vcpu * v [ 4 ] ; } ;",
                true);
        String use = "int h(enum state s) { return s == BLOCKED; }\n";
        assertDeclined(TYPES + use, TYPES.replace("BLOCKED = 2", "BLOCKED = 3") + use,
                "a changed item defines a type, or is a directive or asm: enum state { RUNNING = 1 , BLOCKED = 2 } ;", true);
    }

    @Test
    void attributesBeforeATagOrAnEnumBodyHideNothing() throws Exception {
        // Xen writes "struct __packed dmi_eps {": the tag comes after the attribute.
        String packed = "struct __attribute__((__packed__)) eps { char a; %s b; };\nint f(struct eps *e) { return (int)e->b; }\n";
        assertDeclined(packed.formatted("int"), packed.formatted("long"),
                "a changed item defines a type, or is a directive or asm: struct __attribute__ ( ( __packed__ ) ) eps { char a ; int b ; } ;",
                true);
        String sized = "enum __attribute__((__packed__)) { K = %s };\nstruct s { int a[K]; };\nint g(struct s *p) { return p->a[0]; }\n";
        assertDeclined(sized.formatted("2"), sized.formatted("3"),
                "a type definition uses K, whose declaration may have changed: struct s { int a [ K ] ; } ;", true);
    }

    @Test
    void aTypeBuiltFromAChangedDeclarationIsDeclinedEvenThroughAnotherDeclaration() throws Exception {
        // The struct's member takes its type from g's, and g's from f's: f's prototype changes.
        String src = "%s f(void);\n__typeof__(f()) g(void);\nstruct holder { __typeof__(g()) value; };\nint use(struct holder *h) { return (int)h->value; }\n";
        assertDeclined(src.formatted("char"), src.formatted("long"),
                "a type definition uses g, whose declaration may have changed: struct holder { __typeof__ ( g ( ) ) value ; } ;", true);
    }

    @Test
    void aCpuFeatureAddedToTheAnonymousEnumAndTheAssemblerIsProvenAlikeUnlessATypeIsSizedByIt() throws Exception {
        // stable-4.17 0007's shape, seen from every later changeset's layout check.
        String features = "enum { F_A = 0*32+1, F_B = 1*32+3,%s };\nasm(\".equ F_A, 0*32+1\");\n%s";
        String use = "struct cpu { int caps[F_B]; };\nint f(struct cpu *c) { return c->caps[1]; }\n";
        assertProven(features.formatted("", "") + use,
                features.formatted(" F_NEW = 11*32+30,", "asm(\".equ F_NEW, 11*32+30\");\n") + use);
        assertDeclined(features.formatted("", "") + use, features.formatted("", "").replace("F_B = 1*32+3", "F_B = 1*32+4") + use,
                "a type definition uses F_B, whose declaration may have changed: struct cpu { int caps [ F_B ] ; } ;", true);
    }

    @Test
    void anonymousTypesInChangedCodeAndChangedDataNameNoTypeAndAreProvenAlike() throws Exception {
        // Xen's ARRAY_SIZE: sizeof(struct { _Static_assert(...); }) in every other function.
        String arraySize = "int t[4];\nint f(int i) { return i < (int)(sizeof(t) / sizeof(t[0]) + sizeof(struct { _Static_assert(1, \"x\"); })) ? t[i] : %s; }\n";
        assertProven(TYPES + arraySize.formatted("0"), TYPES + arraySize.formatted("-1"));
        assertProven("int f(void) { struct { int a; } s = { 1 }; return s.a; }\n",
                "int f(void) { struct { long a; } s = { 1 }; return (int)s.a; }\n");
        assertProven(TYPES + "int table[2];\n", TYPES + "int table[3];\n");
        // A function named like a struct's tag: tags are another name space.
        String same = "struct op { int cmd; };\nint op(struct op *o) { return o->cmd + %s; }\n";
        assertProven(same.formatted("1"), same.formatted("2"));
    }

    @Test
    void aNamedLocalTypeAnEnumReachedThroughAnotherAndAPragmaAreDeclined() throws Exception {
        assertDeclined("int f(void) { struct local { int a; } s = { 1 }; return s.a; }\n",
                "int f(void) { struct local { long a; } s = { 1 }; return (int)s.a; }\n",
                "a changed item defines a type, or is a directive or asm: int f ( void ) { struct local { int a ; } s = { 1 } ; return s . a ; }",
                true);
        String chain = "enum { K = %s };\nenum { N = K + 1 };\nstruct s { int a[N]; };\nint g(struct s *p) { return p->a[0]; }\n";
        assertDeclined(chain.formatted("2"), chain.formatted("3"),
                "a type definition uses N, whose declaration may have changed: struct s { int a [ N ] ; } ;", true);
        assertEquals(Optional.of("a changed item defines a type, or is a directive or asm: #pragma pack(1)"),
                LayoutTextProof.whyNot(preprocess("#pragma pack(1)\nstruct s { char a; int b; };\n"),
                        preprocess("struct s { char a; int b; };\n")));
    }
}
