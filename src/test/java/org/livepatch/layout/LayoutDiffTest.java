package org.livepatch.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.elf.ElfReader;
import org.livepatch.testsupport.Tools;

/**
 * Type layouts read from what gcc writes for small C units, compared: the expected values are
 * C's layout rules (an int is 4 bytes, a pointer 8 on x86-64, fields in declaration order), not
 * anything our reader computed.
 */
class LayoutDiffTest {

    private static TypeLayouts compile(Path dir, String name, String source) throws Exception {
        Files.writeString(dir.resolve(name + ".c"), source);
        Path o = dir.resolve(name + ".o");
        // Relative source name, as Xen's build compiles: the file table then names it so.
        Tools.run(dir, "gcc", "-O2", "-g", "-gdwarf-4", "-fno-var-tracking", "-c", name + ".c", "-o", o.toString());
        return TypeLayouts.of(DwarfReader.read(ElfReader.read(o)));
    }

    private static Map<String, LayoutChange> diff(Path dir, String before, String after) throws Exception {
        List<LayoutChange> changes = LayoutDiff.compare("x.o", compile(dir, "before", before), compile(dir, "after", after));
        return changes.stream().collect(Collectors.toMap(LayoutChange::type, c -> c));
    }

    private static final String BASE = """
            struct inner { int i; };
            struct s {
                int a;
                union { int x; long y; } u;
                unsigned int f:3, g:5;
                char name[16];
                struct { short p, q; };
            };
            typedef struct { int k; } anon_t;
            enum colour { RED, GREEN, BLUE };
            int use(struct s *p, anon_t *t, enum colour c) { return p->a + t->k + c; }
            """;

    @Test
    void theLayoutOfOneUnitIsReadAsCLaysItOut(@TempDir Path tmp) throws Exception {
        TypeLayouts t = compile(tmp, "base", BASE);
        TypeLayouts.TypeLayout s = t.types().get("struct s").get(0);
        assertEquals(40, s.size());
        assertEquals("base.c", s.file());
        Map<String, TypeLayouts.Field> f = s.fields().stream().collect(Collectors.toMap(TypeLayouts.Field::path, x -> x));
        assertEquals(0, f.get("a").offset());
        assertEquals(8, f.get("u").offset());
        assertEquals(8, f.get("u.y").offset(), "anonymous union flattened at its absolute offset");
        assertEquals(8, f.get("u.y").size());
        assertEquals(3, f.get("f").bitSize());
        assertEquals(5, f.get("g").bitSize());
        assertEquals("char[16]", f.get("name").type());
        // x86-64 ABI: the 8 bits of f and g take one byte of their unsigned int, and a char array
        // may start in the next byte of that same unit.
        assertEquals(17, f.get("name").offset());
        assertEquals(34, f.get("p").offset(), "members of an anonymous struct member keep their own names");
        assertEquals(36, f.get("q").offset());
        assertEquals(4, t.types().get("anon_t").get(0).size(), "a typedef names its anonymous struct");
        assertEquals(List.of(0L, 1L, 2L), t.types().get("enum colour").get(0).fields().stream().map(TypeLayouts.Field::offset).toList());
        assertEquals(java.util.Set.of("use"), t.users().get("struct s"));
        assertEquals(java.util.Set.of("use"), t.users().get("anon_t"));
        assertTrue(!t.types().containsKey("struct inner") || t.users().get("struct inner") == null, "unused: no users");
    }

    @Test
    void changesInsideAnonymousMembersBitFieldsArraysTypedefsAndEnumsAreFound(@TempDir Path tmp) throws Exception {
        String after = BASE.replace("union { int x; long y; } u;", "union { int x; long y; long z[2]; } u;")
                .replace("unsigned int f:3, g:5;", "unsigned int f:4, g:5;")
                .replace("typedef struct { int k; }", "typedef struct { int k, l; }")
                .replace("enum colour { RED, GREEN, BLUE };", "enum colour { RED, YELLOW, GREEN, BLUE };");
        Map<String, LayoutChange> d = diff(tmp, BASE, after);
        assertEquals(java.util.Set.of("struct s", "anon_t", "enum colour"), d.keySet());
        String s = d.get("struct s").toString();
        assertTrue(s.contains("field 'u.z' added at offset 8"), s);
        assertTrue(s.contains("size 40 -> 48"), s);
        assertTrue(d.get("struct s").fields().contains("u.z"), d.get("struct s").fields().toString());
        assertTrue(s.contains("used by use (in x.o)"), s);
        assertTrue(d.get("anon_t").toString().contains("field 'l' added at offset 4"), d.get("anon_t").toString());
        String e = d.get("enum colour").toString();
        assertTrue(e.contains("enumerator 'GREEN' value 1 -> 2") && e.contains("enumerator 'BLUE' value 2 -> 3"), e);

        Map<String, LayoutChange> bits = diff(tmp, BASE, BASE.replace("unsigned int f:3, g:5;", "unsigned int f:4, g:5;"));
        String b = bits.get("struct s").toString();
        assertTrue(b.contains("field 'f' width 3 bits -> 4 bits"), b);
        // 9 bits now need two bytes: g moves within the word, name to the next byte.
        assertTrue(b.contains("2 field(s) moved (g offset 16 bits"), b);
        assertTrue(b.contains("name offset 17 -> 18"), b);
        Map<String, LayoutChange> array = diff(tmp, BASE, BASE.replace("char name[16];", "char name[24];"));
        assertTrue(array.get("struct s").toString().contains("field 'name' char[16] (16 bytes) -> char[24] (24 bytes)"), array.toString());
    }

    @Test
    void newTypesAppendedEnumeratorsAndCodeChangesAreNotLayoutChanges(@TempDir Path tmp) throws Exception {
        String after = BASE.replace("enum colour { RED, GREEN, BLUE };", "enum colour { RED, GREEN, BLUE, BLACK };")
                .replace("return p->a + t->k + c;", "struct fresh { long n; } f = { p->a }; return f.n + t->k + c;");
        assertEquals(Map.of(), diff(tmp, BASE, after));
    }
}
