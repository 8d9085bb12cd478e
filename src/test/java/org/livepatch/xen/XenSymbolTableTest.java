package org.livepatch.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.Elf;
import org.livepatch.payload.FuncLayout;
import org.livepatch.testsupport.LinkFixture;

/** Lookups in a small image built from C: globals, weak, statics of the same name, a file compiled twice, the version. */
class XenSymbolTableTest {
    static LinkFixture fx;
    static XenSymbolTable xen;
    static Map<String, List<Long>> nm;

    @BeforeAll
    static void build() throws Exception {
        fx = LinkFixture.shared();
        xen = XenSymbolTable.load(fx.xenSyms());
        nm = LinkFixture.nm(fx.xenSyms());
    }

    @Test
    void globalsResolveToNmAddresses() throws Exception {
        for (String g : List.of("shared_counter", "patch_me", "bump", "tiny", "xen_major_version", "dup_get_1", "dup_get_2")) {
            assertEquals(nm.get(g), List.of(xen.global(g).address()), g);
        }
        assertEquals(85, xen.global("patch_me").size());
    }

    @Test
    void weakDefinitionsCountAsGlobalsAsInXensRuntimeTable() throws Exception {
        XenSymbol w = xen.global("weak_hook");
        assertEquals(Elf.STB_WEAK, w.bind());
        assertEquals(nm.get("weak_hook"), List.of(w.address()));
        assertEquals("weak_hook", w.runtimeName(), "nm prints W (upper case): no file prefix in Xen's table");
    }

    @Test
    void staticOfAnotherFileIsFoundThroughItsFile() throws Exception {
        XenSymbol d = xen.local("other.c", "dup_counter");
        assertEquals("other.c#dup_counter", d.runtimeName());
        assertEquals(d, xen.resolve("other.c#dup_counter"));
        assertTrue(nm.get("dup_counter").contains(d.address()), "address is one of nm's three dup_counter");
    }

    @Test
    void fileCompiledTwiceMakesItsStaticAmbiguousNamingBothCandidates() {
        var e = assertThrows(SymbolLookupException.Ambiguous.class, () -> xen.local("dup.c", "dup_counter"));
        assertEquals(2, e.candidates().size());
        List<Long> addrs = e.candidates().stream().map(XenSymbol::address).sorted().toList();
        List<Long> expected = nm.get("dup_counter").stream().filter(a -> {
            try {
                return a != xen.local("other.c", "dup_counter").address();
            } catch (SymbolLookupException x) {
                throw new AssertionError(x);
            }
        }).sorted().toList();
        assertEquals(expected, addrs);
        String msg = e.getMessage();
        assertTrue(msg.contains("dup.c#dup_counter is ambiguous"), msg);
        assertTrue(msg.contains("0x" + Long.toHexString(addrs.get(0))) && msg.contains("0x" + Long.toHexString(addrs.get(1))), msg);
        assertTrue(msg.startsWith(fx.xenSyms().toString() + ": "), msg);
    }

    @Test
    void unknownNamesSayWhereTheSameNameLives() throws Exception {
        var e = assertThrows(SymbolLookupException.Unknown.class, () -> xen.global("dup_counter"));
        assertTrue(e.getMessage().contains("symbol dup_counter not found"), e.getMessage());
        assertTrue(e.getMessage().contains("other.c#dup_counter"), e.getMessage());
        var e2 = assertThrows(SymbolLookupException.Unknown.class, () -> xen.resolve("nosuch.c#dup_counter"));
        assertTrue(e2.getMessage().contains("nosuch.c#dup_counter not found"), e2.getMessage());
        assertTrue(xen.find("no_such_symbol").isEmpty());
    }

    @Test
    void versionIsDecodedFromCodeWithEndbr() throws Exception {
        HypervisorVersion v = xen.version();
        assertEquals(new HypervisorVersion(4, 17, ".5"), v);
        assertEquals(FuncLayout.V2, v.funcLayout());
        assertEquals(FuncLayout.V1, new HypervisorVersion(4, 13, "").funcLayout());
        assertThrows(XenSymsException.class, () -> new HypervisorVersion(4, 6, "").funcLayout());
    }

    @Test
    void buildIdAndExtentsComeFromTheImage() throws Exception {
        assertEquals(LinkFixture.readelfBuildId(fx.xenSyms()), xen.requireBuildId().toHex());
        // patch_me is 85 bytes; the next symbol (tiny) starts at the next 16-byte boundary.
        XenSymbol p = xen.global("patch_me");
        assertEquals(xen.global("tiny").address() - p.address(), xen.extentOf(p));
        assertEquals("f30f1efa", xen.bytesAt(p.address(), 4).orElseThrow().toHex(), "ENDBR64 at the function's start");
    }
}
