package org.livepatch.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.payload.FuncLayout;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/** Lookups in the real Xen 4.17.5 {@code xen-syms}, checked against nm and readelf; timings printed. */
@Tag("xen")
class XenSymbolTableXenTest {

    @Test
    void everyGlobalAndEveryDuplicatedStaticResolvesToNmsAddress() throws Exception {
        Path syms = XenTree.xenSyms();
        long t0 = System.nanoTime();
        ElfFile elf = ElfReader.read(syms);
        long t1 = System.nanoTime();
        XenSymbolTable xen = XenSymbolTable.of(elf);
        long t2 = System.nanoTime();

        Map<String, List<Long>> nm = LinkFixture.nm(syms);
        Map<String, List<String>> types = LinkFixture.nmTypes(syms);
        int globals = 0;
        for (var e : types.entrySet()) {
            for (int i = 0; i < e.getValue().size(); i++) {
                String t = e.getValue().get(i);
                if (Character.isUpperCase(t.charAt(0)) && !t.equals("U") && !t.equals("A")) {
                    assertEquals(nm.get(e.getKey()).get(i), xen.global(e.getKey()).address(), e.getKey());
                    globals++;
                }
            }
        }
        assertTrue(globals > 2500, "globals checked: " + globals);

        // Statics whose name occurs in several files: each file's one is found through its file.
        List<LinkFixture.Local> locals = LinkFixture.readelfLocals(syms);
        Map<String, List<LinkFixture.Local>> byName = new HashMap<>();
        locals.forEach(l -> byName.computeIfAbsent(l.name(), k -> new ArrayList<>()).add(l));
        int dupNames = 0;
        int dupChecked = 0;
        for (var e : byName.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            dupNames++;
            List<Long> ours = new ArrayList<>();
            for (LinkFixture.Local l : e.getValue()) {
                XenSymbol x = xen.local(l.file(), l.name());
                assertEquals(l.address(), x.address(), l.file() + "#" + l.name());
                assertEquals(x, xen.resolve(l.file() + "#" + l.name()));
                ours.add(x.address());
                dupChecked++;
            }
            assertEquals(nm.get(e.getKey()).stream().sorted().toList(), ours.stream().sorted().toList(), "nm's addresses of " + e.getKey());
        }
        assertTrue(dupNames > 50, "duplicated static names: " + dupNames);
        assertEquals(17, xen.named("cpu_callback").size());
        assertEquals(nm.get("virtual_region_lock"), List.of(xen.resolve("common/virtual_region.c#virtual_region_lock").address()));

        // Timing, for the record (not asserted): index once, O(1) lookups.
        List<String> names = locals.stream().map(l -> l.file() + "#" + l.name()).toList();
        long t3 = System.nanoTime();
        long sink = 0;
        int rounds = 200;
        for (int r = 0; r < rounds; r++) {
            for (String n : names) {
                try {
                    sink += xen.resolve(n).address();
                } catch (SymbolLookupException.Ambiguous ignored) {
                    // none in this build; counted by the loop above
                }
            }
        }
        long t4 = System.nanoTime();
        System.out.printf("[bench] xen-syms %d bytes, %d symbols indexed: read %.1f ms, index %.1f ms; %d lookups in %.1f ms (%.0f ns each) [%d]%n",
                elf.sections().stream().mapToLong(s -> s.data().length()).sum(), xen.size(), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (long) rounds * names.size(), (t4 - t3) / 1e6, (double) (t4 - t3) / ((long) rounds * names.size()), sink & 1);
        System.out.printf("[bench] checked %d globals and %d statics of %d duplicated names against nm%n", globals, dupChecked, dupNames);
    }

    @Test
    void versionAndBuildIdOfTheRealHypervisor() throws Exception {
        XenSymbolTable xen = XenSymbolTable.load(XenTree.xenSyms());
        HypervisorVersion v = xen.version();
        assertEquals(new HypervisorVersion(4, 17, ".5"), v, "xen_major_version/xen_minor_version end in jmp __x86_return_thunk here");
        assertEquals(FuncLayout.V2, v.funcLayout());
        assertEquals(LinkFixture.readelfBuildId(XenTree.xenSyms()), xen.requireBuildId().toHex());
    }
}
