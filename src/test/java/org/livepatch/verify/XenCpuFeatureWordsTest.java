package org.livepatch.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.testsupport.XenTree;
import org.livepatch.xen.XenSymbolTable;

/**
 * NCAPINTS read from the real xen-syms of the three built trees ({@code tests/xen/xen-tree ref}
 * puts 4.20.4 and 4.22.0 next to 4.17.5), compared with what the tree's own headers make it:
 * {@code FEATURESET_NR_ENTRIES} from the generated {@code xen/include/xen/lib/x86/cpuid-autogen.h},
 * plus the synthetic and bug words of asm/cpufeatures.h (one each in 4.17.5 and 4.20.4; in 4.22.0
 * 33 synthetic features make two words and 22 bug identifiers one).
 */
@Tag("xen")
class XenCpuFeatureWordsTest {
    private static final Pattern ENTRIES = Pattern.compile("#define FEATURESET_NR_ENTRIES (\\d+)");

    private static void check(String tree, int synthAndBugWords, HypervisorRules rules) throws Exception {
        Path root = XenTree.root().getParent().resolve(tree);
        Path syms = root.resolve("xen/xen-syms");
        Path autogen = root.resolve("xen/include/xen/lib/x86/cpuid-autogen.h");
        XenTree.require(Files.isRegularFile(syms) && Files.isRegularFile(autogen), root + " holds no built xen-syms and cpuid-autogen.h");
        Matcher m = ENTRIES.matcher(Files.readString(autogen));
        assertEquals(true, m.find(), autogen.toString());
        int expected = Integer.parseInt(m.group(1)) + synthAndBugWords;
        CpuFeatureWords w = CpuFeatureWords.of(XenSymbolTable.load(syms), rules);
        assertEquals(new CpuFeatureWords(expected, "cleared_caps and forced_caps in xen-syms"), w, tree);
        // The release's record is the fallback for a xen-syms that does not tell: it must agree with the real build.
        assertEquals(expected, rules.capabilityWords(), tree);
    }

    @Test
    void eachBuiltTreeGivesTheNcapintsOfItsHeaders() throws Exception {
        check("xen-4.17.5", 2, HypervisorRules.XEN_4_17);
        check("xen-4.20.4", 2, HypervisorRules.XEN_4_20);
        check("xen-4.22.0", 3, HypervisorRules.XEN_4_22);
    }
}
